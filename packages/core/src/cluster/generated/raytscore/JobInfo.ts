// Original file: proto/gcs.proto


export interface JobInfo {
  'jobId'?: (string);
  'driverNodeId'?: (string);
  'state'?: (string);
  'startTimeMs'?: (number | string);
  'endTimeMs'?: (number | string);
  'driverPid'?: (number);
  'entrypoint'?: (string);
  'namespace'?: (string);
}

export interface JobInfo__Output {
  'jobId': (string);
  'driverNodeId': (string);
  'state': (string);
  'startTimeMs': (number);
  'endTimeMs': (number);
  'driverPid': (number);
  'entrypoint': (string);
  'namespace': (string);
}
