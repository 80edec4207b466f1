// Original file: proto/node.proto

import type { Long } from '@grpc/proto-loader';

export interface StreamLogRequest {
  'filename'?: (string);
  'actorId'?: (string);
  'taskId'?: (string);
  'pid'?: (number);
  'err'?: (boolean);
  'lines'?: (number | string | Long);
  'follow'?: (boolean);
  'hasOffset'?: (boolean);
  'offset'?: (number | string | Long);
}

export interface StreamLogRequest__Output {
  'filename': (string);
  'actorId': (string);
  'taskId': (string);
  'pid': (number);
  'err': (boolean);
  'lines': (number);
  'follow': (boolean);
  'hasOffset': (boolean);
  'offset': (number);
}
