// Original file: proto/node.proto

import type { TaskSpec as _raytscore_TaskSpec, TaskSpec__Output as _raytscore_TaskSpec__Output } from '../raytscore/TaskSpec.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from '../raytscore/RefOwners.js';

export interface ExecuteTask {
  'spec'?: (_raytscore_TaskSpec | null);
  'owners'?: (_raytscore_RefOwners | null);
  'noSpill'?: (boolean);
}

export interface ExecuteTask__Output {
  'spec': (_raytscore_TaskSpec__Output | null);
  'owners': (_raytscore_RefOwners__Output | null);
  'noSpill': (boolean);
}
