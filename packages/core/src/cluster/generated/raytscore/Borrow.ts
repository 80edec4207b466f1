// Original file: proto/node.proto


export interface Borrow {
  'objectId'?: (string);
  'node'?: (string);
  'delta'?: (number);
}

export interface Borrow__Output {
  'objectId': (string);
  'node': (string);
  'delta': (number);
}
