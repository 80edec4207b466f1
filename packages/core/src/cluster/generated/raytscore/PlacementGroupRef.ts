// Original file: proto/gcs.proto


export interface PlacementGroupRef {
  'placementGroupId'?: (string);
  'timeoutMs'?: (number | string);
}

export interface PlacementGroupRef__Output {
  'placementGroupId': (string);
  'timeoutMs': (number);
}
