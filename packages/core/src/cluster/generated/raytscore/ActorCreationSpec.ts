// Original file: proto/common.proto

import type { FnRef as _raytscore_FnRef, FnRef__Output as _raytscore_FnRef__Output } from '../raytscore/FnRef.js';
import type { Arg as _raytscore_Arg, Arg__Output as _raytscore_Arg__Output } from '../raytscore/Arg.js';
import type { ActorOptions as _raytscore_ActorOptions, ActorOptions__Output as _raytscore_ActorOptions__Output } from '../raytscore/ActorOptions.js';

export interface ActorCreationSpec {
  'actorId'?: (string);
  'className'?: (string);
  'cls'?: (_raytscore_FnRef | null);
  'args'?: (_raytscore_Arg)[];
  'options'?: (_raytscore_ActorOptions | null);
  'methods'?: (string)[];
  'hasAsyncMethods'?: (boolean);
  'jobId'?: (string);
}

export interface ActorCreationSpec__Output {
  'actorId': (string);
  'className': (string);
  'cls': (_raytscore_FnRef__Output | null);
  'args': (_raytscore_Arg__Output)[];
  'options': (_raytscore_ActorOptions__Output | null);
  'methods': (string)[];
  'hasAsyncMethods': (boolean);
  'jobId': (string);
}
