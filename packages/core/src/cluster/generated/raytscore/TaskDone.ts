// Original file: proto/node.proto

import type { Value as _raytscore_Value, Value__Output as _raytscore_Value__Output } from '../raytscore/Value.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from '../raytscore/RefOwners.js';

export interface TaskDone {
  'taskId'?: (string);
  'results'?: (_raytscore_Value)[];
  'owners'?: (_raytscore_RefOwners | null);
  'ms'?: (number | string);
}

export interface TaskDone__Output {
  'taskId': (string);
  'results': (_raytscore_Value__Output)[];
  'owners': (_raytscore_RefOwners__Output | null);
  'ms': (number);
}
