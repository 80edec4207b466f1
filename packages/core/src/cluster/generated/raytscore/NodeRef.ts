// Original file: proto/gcs.proto


export interface NodeRef {
  'nodeId'?: (string);
}

export interface NodeRef__Output {
  'nodeId': (string);
}
