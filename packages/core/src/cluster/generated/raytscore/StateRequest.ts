// Original file: proto/node.proto


export interface StateRequest {
  'kind'?: (string);
}

export interface StateRequest__Output {
  'kind': (string);
}
