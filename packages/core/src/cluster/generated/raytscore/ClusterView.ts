// Original file: proto/gcs.proto

import type { NodeInfo as _raytscore_NodeInfo, NodeInfo__Output as _raytscore_NodeInfo__Output } from '../raytscore/NodeInfo.js';

export interface ClusterView {
  'nodes'?: (_raytscore_NodeInfo)[];
  'version'?: (number | string);
}

export interface ClusterView__Output {
  'nodes': (_raytscore_NodeInfo__Output)[];
  'version': (number);
}
