// Original file: proto/node.proto

import type { ExecuteTask as _raytscore_ExecuteTask, ExecuteTask__Output as _raytscore_ExecuteTask__Output } from '../raytscore/ExecuteTask.js';
import type { TaskDone as _raytscore_TaskDone, TaskDone__Output as _raytscore_TaskDone__Output } from '../raytscore/TaskDone.js';
import type { CreateActor as _raytscore_CreateActor, CreateActor__Output as _raytscore_CreateActor__Output } from '../raytscore/CreateActor.js';
import type { ActorCall as _raytscore_ActorCall, ActorCall__Output as _raytscore_ActorCall__Output } from '../raytscore/ActorCall.js';
import type { KillActor as _raytscore_KillActor, KillActor__Output as _raytscore_KillActor__Output } from '../raytscore/KillActor.js';
import type { CancelTask as _raytscore_CancelTask, CancelTask__Output as _raytscore_CancelTask__Output } from '../raytscore/CancelTask.js';
import type { Borrow as _raytscore_Borrow, Borrow__Output as _raytscore_Borrow__Output } from '../raytscore/Borrow.js';
import type { FreeObjects as _raytscore_FreeObjects, FreeObjects__Output as _raytscore_FreeObjects__Output } from '../raytscore/FreeObjects.js';
import type { Collective as _raytscore_Collective, Collective__Output as _raytscore_Collective__Output } from '../raytscore/Collective.js';
import type { Spillback as _raytscore_Spillback, Spillback__Output as _raytscore_Spillback__Output } from '../raytscore/Spillback.js';
import type { WorkerLogs as _raytscore_WorkerLogs, WorkerLogs__Output as _raytscore_WorkerLogs__Output } from '../raytscore/WorkerLogs.js';

export interface PeerMessage {
  'executeTask'?: (_raytscore_ExecuteTask | null);
  'taskDone'?: (_raytscore_TaskDone | null);
  'createActor'?: (_raytscore_CreateActor | null);
  'actorCall'?: (_raytscore_ActorCall | null);
  'killActor'?: (_raytscore_KillActor | null);
  'cancelTask'?: (_raytscore_CancelTask | null);
  'borrow'?: (_raytscore_Borrow | null);
  'freeObjects'?: (_raytscore_FreeObjects | null);
  'collective'?: (_raytscore_Collective | null);
  'spillback'?: (_raytscore_Spillback | null);
  'workerLogs'?: (_raytscore_WorkerLogs | null);
  'msg'?: "executeTask"|"taskDone"|"createActor"|"actorCall"|"killActor"|"cancelTask"|"borrow"|"freeObjects"|"collective"|"spillback"|"workerLogs";
}

export interface PeerMessage__Output {
  'executeTask'?: (_raytscore_ExecuteTask__Output | null);
  'taskDone'?: (_raytscore_TaskDone__Output | null);
  'createActor'?: (_raytscore_CreateActor__Output | null);
  'actorCall'?: (_raytscore_ActorCall__Output | null);
  'killActor'?: (_raytscore_KillActor__Output | null);
  'cancelTask'?: (_raytscore_CancelTask__Output | null);
  'borrow'?: (_raytscore_Borrow__Output | null);
  'freeObjects'?: (_raytscore_FreeObjects__Output | null);
  'collective'?: (_raytscore_Collective__Output | null);
  'spillback'?: (_raytscore_Spillback__Output | null);
  'workerLogs'?: (_raytscore_WorkerLogs__Output | null);
  'msg'?: "executeTask"|"taskDone"|"createActor"|"actorCall"|"killActor"|"cancelTask"|"borrow"|"freeObjects"|"collective"|"spillback"|"workerLogs";
}
