// Original file: proto/gcs.proto

import type { Demand as _raytscore_Demand, Demand__Output as _raytscore_Demand__Output } from '../raytscore/Demand.js';
import type { Long } from '@grpc/proto-loader';

export interface NodeInfo {
  'nodeId'?: (string);
  'address'?: (string);
  'isHead'?: (boolean);
  'isDriver'?: (boolean);
  'resourcesTotal'?: ({[key: string]: number | string});
  'resourcesAvailable'?: ({[key: string]: number | string});
  'state'?: (string);
  'pid'?: (number);
  'version'?: (string);
  'startTimeMs'?: (number | string);
  'load'?: (_raytscore_Demand)[];
  'objectStoreUsed'?: (number | string | Long);
  'objectStoreCapacity'?: (number | string | Long);
  'numObjects'?: (number);
  'numWorkers'?: (number);
  'jobId'?: (string);
  'labels'?: ({[key: string]: string});
  'credentialSha256'?: (string);
  'metricsAddress'?: (string);
}

export interface NodeInfo__Output {
  'nodeId': (string);
  'address': (string);
  'isHead': (boolean);
  'isDriver': (boolean);
  'resourcesTotal': ({[key: string]: number});
  'resourcesAvailable': ({[key: string]: number});
  'state': (string);
  'pid': (number);
  'version': (string);
  'startTimeMs': (number);
  'load': (_raytscore_Demand__Output)[];
  'objectStoreUsed': (number);
  'objectStoreCapacity': (number);
  'numObjects': (number);
  'numWorkers': (number);
  'jobId': (string);
  'labels': ({[key: string]: string});
  'credentialSha256': (string);
  'metricsAddress': (string);
}
