// Original file: proto/node.proto

import type { ActorCreationSpec as _raytscore_ActorCreationSpec, ActorCreationSpec__Output as _raytscore_ActorCreationSpec__Output } from '../raytscore/ActorCreationSpec.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from '../raytscore/RefOwners.js';

export interface CreateActor {
  'spec'?: (_raytscore_ActorCreationSpec | null);
  'owners'?: (_raytscore_RefOwners | null);
}

export interface CreateActor__Output {
  'spec': (_raytscore_ActorCreationSpec__Output | null);
  'owners': (_raytscore_RefOwners__Output | null);
}
