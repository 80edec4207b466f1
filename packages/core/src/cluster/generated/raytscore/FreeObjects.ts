// Original file: proto/node.proto


export interface FreeObjects {
  'objectIds'?: (string)[];
}

export interface FreeObjects__Output {
  'objectIds': (string)[];
}
