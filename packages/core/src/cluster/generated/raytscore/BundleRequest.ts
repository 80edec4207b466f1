// Original file: proto/node.proto

import type { Bundle as _raytscore_Bundle, Bundle__Output as _raytscore_Bundle__Output } from '../raytscore/Bundle.js';

export interface BundleRequest {
  'placementGroupId'?: (string);
  'indexes'?: (number)[];
  'bundles'?: (_raytscore_Bundle)[];
}

export interface BundleRequest__Output {
  'placementGroupId': (string);
  'indexes': (number)[];
  'bundles': (_raytscore_Bundle__Output)[];
}
