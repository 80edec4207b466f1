// Original file: proto/node.proto


export interface LogLine {
  'taskName'?: (string);
  'pid'?: (number);
  'stderr'?: (boolean);
  'text'?: (string);
}

export interface LogLine__Output {
  'taskName': (string);
  'pid': (number);
  'stderr': (boolean);
  'text': (string);
}
