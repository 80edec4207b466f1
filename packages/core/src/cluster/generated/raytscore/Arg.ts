// Original file: proto/common.proto

import type { Value as _raytscore_Value, Value__Output as _raytscore_Value__Output } from '../raytscore/Value.js';

export interface Arg {
  'ref'?: (string);
  'value'?: (_raytscore_Value | null);
  'arg'?: "ref"|"value";
}

export interface Arg__Output {
  'ref'?: (string);
  'value'?: (_raytscore_Value__Output | null);
  'arg'?: "ref"|"value";
}
