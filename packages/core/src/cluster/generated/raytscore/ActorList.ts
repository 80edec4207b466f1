// Original file: proto/gcs.proto

import type { ActorInfo as _raytscore_ActorInfo, ActorInfo__Output as _raytscore_ActorInfo__Output } from '../raytscore/ActorInfo.js';

export interface ActorList {
  'actors'?: (_raytscore_ActorInfo)[];
}

export interface ActorList__Output {
  'actors': (_raytscore_ActorInfo__Output)[];
}
