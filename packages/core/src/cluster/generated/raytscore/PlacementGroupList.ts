// Original file: proto/gcs.proto

import type { PlacementGroupInfo as _raytscore_PlacementGroupInfo, PlacementGroupInfo__Output as _raytscore_PlacementGroupInfo__Output } from '../raytscore/PlacementGroupInfo.js';

export interface PlacementGroupList {
  'placementGroups'?: (_raytscore_PlacementGroupInfo)[];
}

export interface PlacementGroupList__Output {
  'placementGroups': (_raytscore_PlacementGroupInfo__Output)[];
}
