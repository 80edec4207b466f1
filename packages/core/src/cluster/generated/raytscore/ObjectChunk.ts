// Original file: proto/node.proto

import type { Value as _raytscore_Value, Value__Output as _raytscore_Value__Output } from '../raytscore/Value.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from '../raytscore/RefOwners.js';

export interface ObjectChunk {
  'header'?: (_raytscore_Value | null);
  'owners'?: (_raytscore_RefOwners | null);
  'data'?: (Buffer | Uint8Array | string);
  'shmPath'?: (string);
}

export interface ObjectChunk__Output {
  'header': (_raytscore_Value__Output | null);
  'owners': (_raytscore_RefOwners__Output | null);
  'data': (Buffer);
  'shmPath': (string);
}
