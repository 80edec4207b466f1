// Original file: proto/common.proto


export interface SchedulingStrategy {
  'type'?: (string);
  'nodeId'?: (string);
  'soft'?: (boolean);
  'placementGroupId'?: (string);
  'bundleIndex'?: (number);
}

export interface SchedulingStrategy__Output {
  'type': (string);
  'nodeId': (string);
  'soft': (boolean);
  'placementGroupId': (string);
  'bundleIndex': (number);
}
