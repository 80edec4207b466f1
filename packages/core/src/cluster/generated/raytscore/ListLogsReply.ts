// Original file: proto/node.proto

import type { LogFile as _raytscore_LogFile, LogFile__Output as _raytscore_LogFile__Output } from '../raytscore/LogFile.js';

export interface ListLogsReply {
  'files'?: (_raytscore_LogFile)[];
}

export interface ListLogsReply__Output {
  'files': (_raytscore_LogFile__Output)[];
}
