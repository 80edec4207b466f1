// Original file: proto/common.proto

import type { FnRef as _raytscore_FnRef, FnRef__Output as _raytscore_FnRef__Output } from '../raytscore/FnRef.js';
import type { Arg as _raytscore_Arg, Arg__Output as _raytscore_Arg__Output } from '../raytscore/Arg.js';
import type { SchedulingStrategy as _raytscore_SchedulingStrategy, SchedulingStrategy__Output as _raytscore_SchedulingStrategy__Output } from '../raytscore/SchedulingStrategy.js';

export interface TaskSpec {
  'taskId'?: (string);
  'name'?: (string);
  'fn'?: (_raytscore_FnRef | null);
  'args'?: (_raytscore_Arg)[];
  'returnIds'?: (string)[];
  'resources'?: ({[key: string]: number | string});
  'maxRetries'?: (number);
  'retryAllExceptions'?: (boolean);
  'retryExceptionNames'?: (string)[];
  'isolation'?: (string);
  'parentTaskId'?: (string);
  'jobId'?: (string);
  'strategy'?: (_raytscore_SchedulingStrategy | null);
  'envVars'?: ({[key: string]: string});
}

export interface TaskSpec__Output {
  'taskId': (string);
  'name': (string);
  'fn': (_raytscore_FnRef__Output | null);
  'args': (_raytscore_Arg__Output)[];
  'returnIds': (string)[];
  'resources': ({[key: string]: number});
  'maxRetries': (number);
  'retryAllExceptions': (boolean);
  'retryExceptionNames': (string)[];
  'isolation': (string);
  'parentTaskId': (string);
  'jobId': (string);
  'strategy': (_raytscore_SchedulingStrategy__Output | null);
  'envVars': ({[key: string]: string});
}
