// Original file: proto/node.proto


export interface TaskState {
  'taskId'?: (string);
  'name'?: (string);
  'state'?: (string);
  'nodeId'?: (string);
  'ownerNodeId'?: (string);
  'actorId'?: (string);
  'jobId'?: (string);
  'resources'?: ({[key: string]: number | string});
  'startMs'?: (number | string);
  'endMs'?: (number | string);
  'error'?: (string);
  'runStartMs'?: (number | string);
  'workerId'?: (string);
}

export interface TaskState__Output {
  'taskId': (string);
  'name': (string);
  'state': (string);
  'nodeId': (string);
  'ownerNodeId': (string);
  'actorId': (string);
  'jobId': (string);
  'resources': ({[key: string]: number});
  'startMs': (number);
  'endMs': (number);
  'error': (string);
  'runStartMs': (number);
  'workerId': (string);
}
