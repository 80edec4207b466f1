// Original file: proto/gcs.proto


export interface KvEntry {
  'namespace'?: (string);
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'overwrite'?: (boolean);
}

export interface KvEntry__Output {
  'namespace': (string);
  'key': (string);
  'value': (Buffer);
  'overwrite': (boolean);
}
