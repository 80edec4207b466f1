// Original file: proto/common.proto


export interface Bundle {
  'resources'?: ({[key: string]: number | string});
}

export interface Bundle__Output {
  'resources': ({[key: string]: number});
}
