// Original file: proto/common.proto


export interface RefOwners {
  'owners'?: ({[key: string]: string});
}

export interface RefOwners__Output {
  'owners': ({[key: string]: string});
}
