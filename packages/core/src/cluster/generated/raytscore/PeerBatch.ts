// Original file: proto/node.proto

import type { PeerMessage as _raytscore_PeerMessage, PeerMessage__Output as _raytscore_PeerMessage__Output } from '../raytscore/PeerMessage.js';

export interface PeerBatch {
  'fromNode'?: (string);
  'messages'?: (_raytscore_PeerMessage)[];
}

export interface PeerBatch__Output {
  'fromNode': (string);
  'messages': (_raytscore_PeerMessage__Output)[];
}
