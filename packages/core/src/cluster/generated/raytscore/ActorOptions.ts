// Original file: proto/common.proto

import type { SchedulingStrategy as _raytscore_SchedulingStrategy, SchedulingStrategy__Output as _raytscore_SchedulingStrategy__Output } from '../raytscore/SchedulingStrategy.js';

export interface ActorOptions {
  'name'?: (string);
  'namespace'?: (string);
  'detached'?: (boolean);
  'maxRestarts'?: (number);
  'maxTaskRetries'?: (number);
  'maxConcurrency'?: (number);
  'resources'?: ({[key: string]: number | string});
  'isolation'?: (string);
  'getIfExists'?: (boolean);
  'strategy'?: (_raytscore_SchedulingStrategy | null);
  'envVars'?: ({[key: string]: string});
}

export interface ActorOptions__Output {
  'name': (string);
  'namespace': (string);
  'detached': (boolean);
  'maxRestarts': (number);
  'maxTaskRetries': (number);
  'maxConcurrency': (number);
  'resources': ({[key: string]: number});
  'isolation': (string);
  'getIfExists': (boolean);
  'strategy': (_raytscore_SchedulingStrategy__Output | null);
  'envVars': ({[key: string]: string});
}
