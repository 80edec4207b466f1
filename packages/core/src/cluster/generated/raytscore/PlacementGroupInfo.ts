// Original file: proto/gcs.proto

import type { PlacementGroupSpec as _raytscore_PlacementGroupSpec, PlacementGroupSpec__Output as _raytscore_PlacementGroupSpec__Output } from '../raytscore/PlacementGroupSpec.js';

export interface PlacementGroupInfo {
  'spec'?: (_raytscore_PlacementGroupSpec | null);
  'state'?: (string);
  'bundleNodes'?: (string)[];
  'reason'?: (string);
  'found'?: (boolean);
}

export interface PlacementGroupInfo__Output {
  'spec': (_raytscore_PlacementGroupSpec__Output | null);
  'state': (string);
  'bundleNodes': (string)[];
  'reason': (string);
  'found': (boolean);
}
