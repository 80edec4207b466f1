// Original file: proto/node.proto

import type { TaskState as _raytscore_TaskState, TaskState__Output as _raytscore_TaskState__Output } from '../raytscore/TaskState.js';
import type { ObjectState as _raytscore_ObjectState, ObjectState__Output as _raytscore_ObjectState__Output } from '../raytscore/ObjectState.js';

export interface StateReply {
  'tasks'?: (_raytscore_TaskState)[];
  'objects'?: (_raytscore_ObjectState)[];
}

export interface StateReply__Output {
  'tasks': (_raytscore_TaskState__Output)[];
  'objects': (_raytscore_ObjectState__Output)[];
}
