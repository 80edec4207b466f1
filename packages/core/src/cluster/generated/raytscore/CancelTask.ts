// Original file: proto/node.proto


export interface CancelTask {
  'taskId'?: (string);
  'force'?: (boolean);
  'recursive'?: (boolean);
}

export interface CancelTask__Output {
  'taskId': (string);
  'force': (boolean);
  'recursive': (boolean);
}
