// Original file: proto/common.proto

import type { Long } from '@grpc/proto-loader';

export interface Value {
  't'?: (string);
  'data'?: (Buffer | Uint8Array | string);
  'refs'?: (string)[];
  'special'?: (boolean);
  'ctor'?: (string);
  'location'?: (string);
  'size'?: (number | string | Long);
}

export interface Value__Output {
  't': (string);
  'data': (Buffer);
  'refs': (string)[];
  'special': (boolean);
  'ctor': (string);
  'location': (string);
  'size': (number);
}
