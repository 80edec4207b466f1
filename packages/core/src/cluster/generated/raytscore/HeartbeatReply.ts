// Original file: proto/gcs.proto


export interface HeartbeatReply {
  'known'?: (boolean);
}

export interface HeartbeatReply__Output {
  'known': (boolean);
}
