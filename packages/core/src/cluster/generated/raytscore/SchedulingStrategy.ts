// Original file: proto/common.proto


export interface SchedulingStrategy {
  'type'?: (string);
  'nodeId'?: (string);
  'soft'?: (boolean);
  'placementGroupId'?: (string);
  'bundleIndex'?: (number);
  'captureChildTasks'?: (boolean);
}

export interface SchedulingStrategy__Output {
  'type': (string);
  'nodeId': (string);
  'soft': (boolean);
  'placementGroupId': (string);
  'bundleIndex': (number);
  'captureChildTasks': (boolean);
}
