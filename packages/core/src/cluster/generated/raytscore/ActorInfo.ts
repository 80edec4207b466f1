// Original file: proto/gcs.proto


export interface ActorInfo {
  'actorId'?: (string);
  'name'?: (string);
  'namespace'?: (string);
  'className'?: (string);
  'nodeId'?: (string);
  'ownerNodeId'?: (string);
  'jobId'?: (string);
  'state'?: (string);
  'detached'?: (boolean);
  'methods'?: (string)[];
  'numRestarts'?: (number);
  'deathCause'?: (string);
  'resources'?: ({[key: string]: number | string});
  'placementGroupId'?: (string);
  'maxTaskRetries'?: (number);
}

export interface ActorInfo__Output {
  'actorId': (string);
  'name': (string);
  'namespace': (string);
  'className': (string);
  'nodeId': (string);
  'ownerNodeId': (string);
  'jobId': (string);
  'state': (string);
  'detached': (boolean);
  'methods': (string)[];
  'numRestarts': (number);
  'deathCause': (string);
  'resources': ({[key: string]: number});
  'placementGroupId': (string);
  'maxTaskRetries': (number);
}
