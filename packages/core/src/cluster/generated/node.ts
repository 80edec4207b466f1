import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ActorCall as _raytscore_ActorCall, ActorCall__Output as _raytscore_ActorCall__Output } from './raytscore/ActorCall.js';
import type { ActorCreationSpec as _raytscore_ActorCreationSpec, ActorCreationSpec__Output as _raytscore_ActorCreationSpec__Output } from './raytscore/ActorCreationSpec.js';
import type { ActorOptions as _raytscore_ActorOptions, ActorOptions__Output as _raytscore_ActorOptions__Output } from './raytscore/ActorOptions.js';
import type { ActorTaskSpec as _raytscore_ActorTaskSpec, ActorTaskSpec__Output as _raytscore_ActorTaskSpec__Output } from './raytscore/ActorTaskSpec.js';
import type { Arg as _raytscore_Arg, Arg__Output as _raytscore_Arg__Output } from './raytscore/Arg.js';
import type { Borrow as _raytscore_Borrow, Borrow__Output as _raytscore_Borrow__Output } from './raytscore/Borrow.js';
import type { Bundle as _raytscore_Bundle, Bundle__Output as _raytscore_Bundle__Output } from './raytscore/Bundle.js';
import type { BundleRequest as _raytscore_BundleRequest, BundleRequest__Output as _raytscore_BundleRequest__Output } from './raytscore/BundleRequest.js';
import type { CancelTask as _raytscore_CancelTask, CancelTask__Output as _raytscore_CancelTask__Output } from './raytscore/CancelTask.js';
import type { Collective as _raytscore_Collective, Collective__Output as _raytscore_Collective__Output } from './raytscore/Collective.js';
import type { CreateActor as _raytscore_CreateActor, CreateActor__Output as _raytscore_CreateActor__Output } from './raytscore/CreateActor.js';
import type { Empty as _raytscore_Empty, Empty__Output as _raytscore_Empty__Output } from './raytscore/Empty.js';
import type { ExecuteTask as _raytscore_ExecuteTask, ExecuteTask__Output as _raytscore_ExecuteTask__Output } from './raytscore/ExecuteTask.js';
import type { FnDescriptor as _raytscore_FnDescriptor, FnDescriptor__Output as _raytscore_FnDescriptor__Output } from './raytscore/FnDescriptor.js';
import type { FnRef as _raytscore_FnRef, FnRef__Output as _raytscore_FnRef__Output } from './raytscore/FnRef.js';
import type { FreeObjects as _raytscore_FreeObjects, FreeObjects__Output as _raytscore_FreeObjects__Output } from './raytscore/FreeObjects.js';
import type { KillActor as _raytscore_KillActor, KillActor__Output as _raytscore_KillActor__Output } from './raytscore/KillActor.js';
import type { ListLogsReply as _raytscore_ListLogsReply, ListLogsReply__Output as _raytscore_ListLogsReply__Output } from './raytscore/ListLogsReply.js';
import type { ListLogsRequest as _raytscore_ListLogsRequest, ListLogsRequest__Output as _raytscore_ListLogsRequest__Output } from './raytscore/ListLogsRequest.js';
import type { LogChunk as _raytscore_LogChunk, LogChunk__Output as _raytscore_LogChunk__Output } from './raytscore/LogChunk.js';
import type { LogFile as _raytscore_LogFile, LogFile__Output as _raytscore_LogFile__Output } from './raytscore/LogFile.js';
import type { LogLine as _raytscore_LogLine, LogLine__Output as _raytscore_LogLine__Output } from './raytscore/LogLine.js';
import type { NodeClient as _raytscore_NodeClient, NodeDefinition as _raytscore_NodeDefinition } from './raytscore/Node.js';
import type { ObjectChunk as _raytscore_ObjectChunk, ObjectChunk__Output as _raytscore_ObjectChunk__Output } from './raytscore/ObjectChunk.js';
import type { ObjectState as _raytscore_ObjectState, ObjectState__Output as _raytscore_ObjectState__Output } from './raytscore/ObjectState.js';
import type { PeerBatch as _raytscore_PeerBatch, PeerBatch__Output as _raytscore_PeerBatch__Output } from './raytscore/PeerBatch.js';
import type { PeerMessage as _raytscore_PeerMessage, PeerMessage__Output as _raytscore_PeerMessage__Output } from './raytscore/PeerMessage.js';
import type { PrepareBundlesReply as _raytscore_PrepareBundlesReply, PrepareBundlesReply__Output as _raytscore_PrepareBundlesReply__Output } from './raytscore/PrepareBundlesReply.js';
import type { PullRequest as _raytscore_PullRequest, PullRequest__Output as _raytscore_PullRequest__Output } from './raytscore/PullRequest.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from './raytscore/RefOwners.js';
import type { SchedulingStrategy as _raytscore_SchedulingStrategy, SchedulingStrategy__Output as _raytscore_SchedulingStrategy__Output } from './raytscore/SchedulingStrategy.js';
import type { Spillback as _raytscore_Spillback, Spillback__Output as _raytscore_Spillback__Output } from './raytscore/Spillback.js';
import type { StateReply as _raytscore_StateReply, StateReply__Output as _raytscore_StateReply__Output } from './raytscore/StateReply.js';
import type { StateRequest as _raytscore_StateRequest, StateRequest__Output as _raytscore_StateRequest__Output } from './raytscore/StateRequest.js';
import type { StreamLogRequest as _raytscore_StreamLogRequest, StreamLogRequest__Output as _raytscore_StreamLogRequest__Output } from './raytscore/StreamLogRequest.js';
import type { TaskDone as _raytscore_TaskDone, TaskDone__Output as _raytscore_TaskDone__Output } from './raytscore/TaskDone.js';
import type { TaskSpec as _raytscore_TaskSpec, TaskSpec__Output as _raytscore_TaskSpec__Output } from './raytscore/TaskSpec.js';
import type { TaskState as _raytscore_TaskState, TaskState__Output as _raytscore_TaskState__Output } from './raytscore/TaskState.js';
import type { Value as _raytscore_Value, Value__Output as _raytscore_Value__Output } from './raytscore/Value.js';
import type { WorkerLogs as _raytscore_WorkerLogs, WorkerLogs__Output as _raytscore_WorkerLogs__Output } from './raytscore/WorkerLogs.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raytscore: {
    ActorCall: MessageTypeDefinition<_raytscore_ActorCall, _raytscore_ActorCall__Output>
    ActorCreationSpec: MessageTypeDefinition<_raytscore_ActorCreationSpec, _raytscore_ActorCreationSpec__Output>
    ActorOptions: MessageTypeDefinition<_raytscore_ActorOptions, _raytscore_ActorOptions__Output>
    ActorTaskSpec: MessageTypeDefinition<_raytscore_ActorTaskSpec, _raytscore_ActorTaskSpec__Output>
    Arg: MessageTypeDefinition<_raytscore_Arg, _raytscore_Arg__Output>
    Borrow: MessageTypeDefinition<_raytscore_Borrow, _raytscore_Borrow__Output>
    Bundle: MessageTypeDefinition<_raytscore_Bundle, _raytscore_Bundle__Output>
    BundleRequest: MessageTypeDefinition<_raytscore_BundleRequest, _raytscore_BundleRequest__Output>
    CancelTask: MessageTypeDefinition<_raytscore_CancelTask, _raytscore_CancelTask__Output>
    Collective: MessageTypeDefinition<_raytscore_Collective, _raytscore_Collective__Output>
    CreateActor: MessageTypeDefinition<_raytscore_CreateActor, _raytscore_CreateActor__Output>
    Empty: MessageTypeDefinition<_raytscore_Empty, _raytscore_Empty__Output>
    ExecuteTask: MessageTypeDefinition<_raytscore_ExecuteTask, _raytscore_ExecuteTask__Output>
    FnDescriptor: MessageTypeDefinition<_raytscore_FnDescriptor, _raytscore_FnDescriptor__Output>
    FnRef: MessageTypeDefinition<_raytscore_FnRef, _raytscore_FnRef__Output>
    FreeObjects: MessageTypeDefinition<_raytscore_FreeObjects, _raytscore_FreeObjects__Output>
    KillActor: MessageTypeDefinition<_raytscore_KillActor, _raytscore_KillActor__Output>
    ListLogsReply: MessageTypeDefinition<_raytscore_ListLogsReply, _raytscore_ListLogsReply__Output>
    ListLogsRequest: MessageTypeDefinition<_raytscore_ListLogsRequest, _raytscore_ListLogsRequest__Output>
    LogChunk: MessageTypeDefinition<_raytscore_LogChunk, _raytscore_LogChunk__Output>
    LogFile: MessageTypeDefinition<_raytscore_LogFile, _raytscore_LogFile__Output>
    LogLine: MessageTypeDefinition<_raytscore_LogLine, _raytscore_LogLine__Output>
    Node: SubtypeConstructor<typeof grpc.Client, _raytscore_NodeClient> & { service: _raytscore_NodeDefinition }
    ObjectChunk: MessageTypeDefinition<_raytscore_ObjectChunk, _raytscore_ObjectChunk__Output>
    ObjectState: MessageTypeDefinition<_raytscore_ObjectState, _raytscore_ObjectState__Output>
    PeerBatch: MessageTypeDefinition<_raytscore_PeerBatch, _raytscore_PeerBatch__Output>
    PeerMessage: MessageTypeDefinition<_raytscore_PeerMessage, _raytscore_PeerMessage__Output>
    PrepareBundlesReply: MessageTypeDefinition<_raytscore_PrepareBundlesReply, _raytscore_PrepareBundlesReply__Output>
    PullRequest: MessageTypeDefinition<_raytscore_PullRequest, _raytscore_PullRequest__Output>
    RefOwners: MessageTypeDefinition<_raytscore_RefOwners, _raytscore_RefOwners__Output>
    SchedulingStrategy: MessageTypeDefinition<_raytscore_SchedulingStrategy, _raytscore_SchedulingStrategy__Output>
    Spillback: MessageTypeDefinition<_raytscore_Spillback, _raytscore_Spillback__Output>
    StateReply: MessageTypeDefinition<_raytscore_StateReply, _raytscore_StateReply__Output>
    StateRequest: MessageTypeDefinition<_raytscore_StateRequest, _raytscore_StateRequest__Output>
    StreamLogRequest: MessageTypeDefinition<_raytscore_StreamLogRequest, _raytscore_StreamLogRequest__Output>
    TaskDone: MessageTypeDefinition<_raytscore_TaskDone, _raytscore_TaskDone__Output>
    TaskSpec: MessageTypeDefinition<_raytscore_TaskSpec, _raytscore_TaskSpec__Output>
    TaskState: MessageTypeDefinition<_raytscore_TaskState, _raytscore_TaskState__Output>
    Value: MessageTypeDefinition<_raytscore_Value, _raytscore_Value__Output>
    WorkerLogs: MessageTypeDefinition<_raytscore_WorkerLogs, _raytscore_WorkerLogs__Output>
  }
}

