// Original file: proto/node.proto

import type { ActorTaskSpec as _raytscore_ActorTaskSpec, ActorTaskSpec__Output as _raytscore_ActorTaskSpec__Output } from '../raytscore/ActorTaskSpec.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from '../raytscore/RefOwners.js';

export interface ActorCall {
  'spec'?: (_raytscore_ActorTaskSpec | null);
  'owners'?: (_raytscore_RefOwners | null);
}

export interface ActorCall__Output {
  'spec': (_raytscore_ActorTaskSpec__Output | null);
  'owners': (_raytscore_RefOwners__Output | null);
}
