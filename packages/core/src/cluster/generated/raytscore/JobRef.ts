// Original file: proto/gcs.proto


export interface JobRef {
  'jobId'?: (string);
}

export interface JobRef__Output {
  'jobId': (string);
}
