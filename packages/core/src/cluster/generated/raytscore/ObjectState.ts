// Original file: proto/node.proto

import type { Long } from '@grpc/proto-loader';

export interface ObjectState {
  'objectId'?: (string);
  'nodeId'?: (string);
  'ownerNodeId'?: (string);
  'size'?: (number | string | Long);
  'state'?: (string);
  'localRefs'?: (number);
  'pins'?: (number);
  'borrowers'?: (number);
}

export interface ObjectState__Output {
  'objectId': (string);
  'nodeId': (string);
  'ownerNodeId': (string);
  'size': (number);
  'state': (string);
  'localRefs': (number);
  'pins': (number);
  'borrowers': (number);
}
