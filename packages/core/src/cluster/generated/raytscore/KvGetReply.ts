// Original file: proto/gcs.proto


export interface KvGetReply {
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
}

export interface KvGetReply__Output {
  'found': (boolean);
  'value': (Buffer);
}
