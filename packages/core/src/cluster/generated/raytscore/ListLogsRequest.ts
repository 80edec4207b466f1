// Original file: proto/node.proto


export interface ListLogsRequest {
  'glob'?: (string);
}

export interface ListLogsRequest__Output {
  'glob': (string);
}
