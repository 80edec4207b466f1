// Original file: proto/node.proto


export interface PullRequest {
  'objectId'?: (string);
  'requester'?: (string);
  'hostKey'?: (string);
}

export interface PullRequest__Output {
  'objectId': (string);
  'requester': (string);
  'hostKey': (string);
}
