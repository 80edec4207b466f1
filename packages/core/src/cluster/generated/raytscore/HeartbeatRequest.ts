// Original file: proto/gcs.proto

import type { NodeInfo as _raytscore_NodeInfo, NodeInfo__Output as _raytscore_NodeInfo__Output } from '../raytscore/NodeInfo.js';

export interface HeartbeatRequest {
  'node'?: (_raytscore_NodeInfo | null);
}

export interface HeartbeatRequest__Output {
  'node': (_raytscore_NodeInfo__Output | null);
}
