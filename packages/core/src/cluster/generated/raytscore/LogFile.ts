// Original file: proto/node.proto

import type { Long } from '@grpc/proto-loader';

export interface LogFile {
  'name'?: (string);
  'sizeBytes'?: (number | string | Long);
  'mtimeMs'?: (number | string);
  'category'?: (string);
}

export interface LogFile__Output {
  'name': (string);
  'sizeBytes': (number);
  'mtimeMs': (number);
  'category': (string);
}
