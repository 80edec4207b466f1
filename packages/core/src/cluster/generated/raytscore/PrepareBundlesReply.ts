// Original file: proto/node.proto


export interface PrepareBundlesReply {
  'ok'?: (boolean);
  'reason'?: (string);
}

export interface PrepareBundlesReply__Output {
  'ok': (boolean);
  'reason': (string);
}
