// Original file: proto/gcs.proto

import type { NodeInfo as _raytscore_NodeInfo, NodeInfo__Output as _raytscore_NodeInfo__Output } from '../raytscore/NodeInfo.js';
import type { Demand as _raytscore_Demand, Demand__Output as _raytscore_Demand__Output } from '../raytscore/Demand.js';

export interface ClusterView {
  'nodes'?: (_raytscore_NodeInfo)[];
  'version'?: (number | string);
  'potentialNodes'?: (_raytscore_Demand)[];
}

export interface ClusterView__Output {
  'nodes': (_raytscore_NodeInfo__Output)[];
  'version': (number);
  'potentialNodes': (_raytscore_Demand__Output)[];
}
