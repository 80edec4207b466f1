// Original file: proto/gcs.proto

import type { ActorInfo as _raytscore_ActorInfo, ActorInfo__Output as _raytscore_ActorInfo__Output } from '../raytscore/ActorInfo.js';

export interface RegisterActorReply {
  'ok'?: (boolean);
  'existing'?: (_raytscore_ActorInfo | null);
}

export interface RegisterActorReply__Output {
  'ok': (boolean);
  'existing': (_raytscore_ActorInfo__Output | null);
}
