// Original file: proto/node.proto


export interface Hello {
  'nodeId'?: (string);
  'address'?: (string);
  'version'?: (string);
}

export interface Hello__Output {
  'nodeId': (string);
  'address': (string);
  'version': (string);
}
