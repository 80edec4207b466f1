// Original file: proto/gcs.proto


export interface KvDelReply {
  'deleted'?: (number);
}

export interface KvDelReply__Output {
  'deleted': (number);
}
