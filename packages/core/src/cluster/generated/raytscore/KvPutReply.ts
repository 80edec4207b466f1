// Original file: proto/gcs.proto


export interface KvPutReply {
  'added'?: (boolean);
}

export interface KvPutReply__Output {
  'added': (boolean);
}
