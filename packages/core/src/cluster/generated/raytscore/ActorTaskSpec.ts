// Original file: proto/common.proto

import type { Arg as _raytscore_Arg, Arg__Output as _raytscore_Arg__Output } from '../raytscore/Arg.js';

export interface ActorTaskSpec {
  'taskId'?: (string);
  'actorId'?: (string);
  'method'?: (string);
  'name'?: (string);
  'args'?: (_raytscore_Arg)[];
  'returnIds'?: (string)[];
  'parentTaskId'?: (string);
}

export interface ActorTaskSpec__Output {
  'taskId': (string);
  'actorId': (string);
  'method': (string);
  'name': (string);
  'args': (_raytscore_Arg__Output)[];
  'returnIds': (string)[];
  'parentTaskId': (string);
}
