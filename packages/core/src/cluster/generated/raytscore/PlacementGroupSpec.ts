// Original file: proto/gcs.proto

import type { Bundle as _raytscore_Bundle, Bundle__Output as _raytscore_Bundle__Output } from '../raytscore/Bundle.js';

export interface PlacementGroupSpec {
  'placementGroupId'?: (string);
  'name'?: (string);
  'strategy'?: (string);
  'bundles'?: (_raytscore_Bundle)[];
  'jobId'?: (string);
  'namespace'?: (string);
}

export interface PlacementGroupSpec__Output {
  'placementGroupId': (string);
  'name': (string);
  'strategy': (string);
  'bundles': (_raytscore_Bundle__Output)[];
  'jobId': (string);
  'namespace': (string);
}
