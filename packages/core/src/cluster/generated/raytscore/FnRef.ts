// Original file: proto/common.proto

import type { FnDescriptor as _raytscore_FnDescriptor, FnDescriptor__Output as _raytscore_FnDescriptor__Output } from '../raytscore/FnDescriptor.js';

export interface FnRef {
  'id'?: (string);
  'desc'?: (_raytscore_FnDescriptor | null);
}

export interface FnRef__Output {
  'id': (string);
  'desc': (_raytscore_FnDescriptor__Output | null);
}
