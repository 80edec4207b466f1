// Original file: proto/gcs.proto


export interface KvKeysReply {
  'keys'?: (string)[];
}

export interface KvKeysReply__Output {
  'keys': (string)[];
}
