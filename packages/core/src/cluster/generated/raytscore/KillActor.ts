// Original file: proto/node.proto


export interface KillActor {
  'actorId'?: (string);
  'noRestart'?: (boolean);
}

export interface KillActor__Output {
  'actorId': (string);
  'noRestart': (boolean);
}
