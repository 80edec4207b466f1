// Original file: proto/node.proto

import type { PeerMessage as _raytscore_PeerMessage, PeerMessage__Output as _raytscore_PeerMessage__Output } from '../raytscore/PeerMessage.js';
import type { Long } from '@grpc/proto-loader';

export interface PeerBatch {
  'fromNode'?: (string);
  'messages'?: (_raytscore_PeerMessage)[];
  'session'?: (string);
  'seq'?: (number | string | Long);
  'ack'?: (number | string | Long);
}

export interface PeerBatch__Output {
  'fromNode': (string);
  'messages': (_raytscore_PeerMessage__Output)[];
  'session': (string);
  'seq': (number);
  'ack': (number);
}
