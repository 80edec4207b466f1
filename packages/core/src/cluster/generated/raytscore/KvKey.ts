// Original file: proto/gcs.proto


export interface KvKey {
  'namespace'?: (string);
  'key'?: (string);
}

export interface KvKey__Output {
  'namespace': (string);
  'key': (string);
}
