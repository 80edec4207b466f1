// Original file: proto/gcs.proto

import type { JobInfo as _raytscore_JobInfo, JobInfo__Output as _raytscore_JobInfo__Output } from '../raytscore/JobInfo.js';

export interface JobList {
  'jobs'?: (_raytscore_JobInfo)[];
}

export interface JobList__Output {
  'jobs': (_raytscore_JobInfo__Output)[];
}
