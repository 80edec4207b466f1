// Original file: proto/node.proto


export interface Spillback {
  'taskId'?: (string);
  'nodeId'?: (string);
}

export interface Spillback__Output {
  'taskId': (string);
  'nodeId': (string);
}
