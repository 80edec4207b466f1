// Original file: proto/gcs.proto

import type { ActorInfo as _raytscore_ActorInfo, ActorInfo__Output as _raytscore_ActorInfo__Output } from '../raytscore/ActorInfo.js';

export interface GetActorReply {
  'found'?: (boolean);
  'actor'?: (_raytscore_ActorInfo | null);
}

export interface GetActorReply__Output {
  'found': (boolean);
  'actor': (_raytscore_ActorInfo__Output | null);
}
