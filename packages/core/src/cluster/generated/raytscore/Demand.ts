// Original file: proto/gcs.proto


export interface Demand {
  'shape'?: ({[key: string]: number | string});
  'count'?: (number);
  'infeasible'?: (boolean);
}

export interface Demand__Output {
  'shape': ({[key: string]: number});
  'count': (number);
  'infeasible': (boolean);
}
