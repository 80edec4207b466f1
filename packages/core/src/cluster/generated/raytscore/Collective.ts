// Original file: proto/node.proto


export interface Collective {
  'actorId'?: (string);
  'key'?: (string);
  'dtype'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface Collective__Output {
  'actorId': (string);
  'key': (string);
  'dtype': (string);
  'data': (Buffer);
}
