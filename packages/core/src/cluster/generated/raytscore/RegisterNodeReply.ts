// Original file: proto/gcs.proto


export interface RegisterNodeReply {
  'clusterId'?: (string);
  'headNodeId'?: (string);
}

export interface RegisterNodeReply__Output {
  'clusterId': (string);
  'headNodeId': (string);
}
