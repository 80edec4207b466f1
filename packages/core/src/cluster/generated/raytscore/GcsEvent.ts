// Original file: proto/gcs.proto

import type { ClusterView as _raytscore_ClusterView, ClusterView__Output as _raytscore_ClusterView__Output } from '../raytscore/ClusterView.js';
import type { JobInfo as _raytscore_JobInfo, JobInfo__Output as _raytscore_JobInfo__Output } from '../raytscore/JobInfo.js';
import type { ActorInfo as _raytscore_ActorInfo, ActorInfo__Output as _raytscore_ActorInfo__Output } from '../raytscore/ActorInfo.js';
import type { PlacementGroupInfo as _raytscore_PlacementGroupInfo, PlacementGroupInfo__Output as _raytscore_PlacementGroupInfo__Output } from '../raytscore/PlacementGroupInfo.js';

export interface GcsEvent {
  'view'?: (_raytscore_ClusterView | null);
  'job'?: (_raytscore_JobInfo | null);
  'actor'?: (_raytscore_ActorInfo | null);
  'placementGroup'?: (_raytscore_PlacementGroupInfo | null);
  'event'?: "view"|"job"|"actor"|"placementGroup";
}

export interface GcsEvent__Output {
  'view'?: (_raytscore_ClusterView__Output | null);
  'job'?: (_raytscore_JobInfo__Output | null);
  'actor'?: (_raytscore_ActorInfo__Output | null);
  'placementGroup'?: (_raytscore_PlacementGroupInfo__Output | null);
  'event'?: "view"|"job"|"actor"|"placementGroup";
}
