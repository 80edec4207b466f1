// Original file: proto/node.proto

import type { LogLine as _raytscore_LogLine, LogLine__Output as _raytscore_LogLine__Output } from '../raytscore/LogLine.js';

export interface WorkerLogs {
  'jobId'?: (string);
  'lines'?: (_raytscore_LogLine)[];
  'dropped'?: (number);
}

export interface WorkerLogs__Output {
  'jobId': (string);
  'lines': (_raytscore_LogLine__Output)[];
  'dropped': (number);
}
