// Original file: proto/node.proto


export interface LogChunk {
  'data'?: (string);
  'filename'?: (string);
}

export interface LogChunk__Output {
  'data': (string);
  'filename': (string);
}
