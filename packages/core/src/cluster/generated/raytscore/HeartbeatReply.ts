// Original file: proto/gcs.proto


export interface HeartbeatReply {
  'known'?: (boolean);
  'dead'?: (boolean);
}

export interface HeartbeatReply__Output {
  'known': (boolean);
  'dead': (boolean);
}
