import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ActorCreationSpec as _raytscore_ActorCreationSpec, ActorCreationSpec__Output as _raytscore_ActorCreationSpec__Output } from './raytscore/ActorCreationSpec.js';
import type { ActorInfo as _raytscore_ActorInfo, ActorInfo__Output as _raytscore_ActorInfo__Output } from './raytscore/ActorInfo.js';
import type { ActorList as _raytscore_ActorList, ActorList__Output as _raytscore_ActorList__Output } from './raytscore/ActorList.js';
import type { ActorOptions as _raytscore_ActorOptions, ActorOptions__Output as _raytscore_ActorOptions__Output } from './raytscore/ActorOptions.js';
import type { ActorTaskSpec as _raytscore_ActorTaskSpec, ActorTaskSpec__Output as _raytscore_ActorTaskSpec__Output } from './raytscore/ActorTaskSpec.js';
import type { Arg as _raytscore_Arg, Arg__Output as _raytscore_Arg__Output } from './raytscore/Arg.js';
import type { Bundle as _raytscore_Bundle, Bundle__Output as _raytscore_Bundle__Output } from './raytscore/Bundle.js';
import type { ClusterView as _raytscore_ClusterView, ClusterView__Output as _raytscore_ClusterView__Output } from './raytscore/ClusterView.js';
import type { Demand as _raytscore_Demand, Demand__Output as _raytscore_Demand__Output } from './raytscore/Demand.js';
import type { Empty as _raytscore_Empty, Empty__Output as _raytscore_Empty__Output } from './raytscore/Empty.js';
import type { FnDescriptor as _raytscore_FnDescriptor, FnDescriptor__Output as _raytscore_FnDescriptor__Output } from './raytscore/FnDescriptor.js';
import type { FnRef as _raytscore_FnRef, FnRef__Output as _raytscore_FnRef__Output } from './raytscore/FnRef.js';
import type { GcsClient as _raytscore_GcsClient, GcsDefinition as _raytscore_GcsDefinition } from './raytscore/Gcs.js';
import type { GcsEvent as _raytscore_GcsEvent, GcsEvent__Output as _raytscore_GcsEvent__Output } from './raytscore/GcsEvent.js';
import type { GetActorReply as _raytscore_GetActorReply, GetActorReply__Output as _raytscore_GetActorReply__Output } from './raytscore/GetActorReply.js';
import type { GetActorRequest as _raytscore_GetActorRequest, GetActorRequest__Output as _raytscore_GetActorRequest__Output } from './raytscore/GetActorRequest.js';
import type { HeartbeatReply as _raytscore_HeartbeatReply, HeartbeatReply__Output as _raytscore_HeartbeatReply__Output } from './raytscore/HeartbeatReply.js';
import type { HeartbeatRequest as _raytscore_HeartbeatRequest, HeartbeatRequest__Output as _raytscore_HeartbeatRequest__Output } from './raytscore/HeartbeatRequest.js';
import type { JobInfo as _raytscore_JobInfo, JobInfo__Output as _raytscore_JobInfo__Output } from './raytscore/JobInfo.js';
import type { JobList as _raytscore_JobList, JobList__Output as _raytscore_JobList__Output } from './raytscore/JobList.js';
import type { JobRef as _raytscore_JobRef, JobRef__Output as _raytscore_JobRef__Output } from './raytscore/JobRef.js';
import type { KvDelReply as _raytscore_KvDelReply, KvDelReply__Output as _raytscore_KvDelReply__Output } from './raytscore/KvDelReply.js';
import type { KvEntry as _raytscore_KvEntry, KvEntry__Output as _raytscore_KvEntry__Output } from './raytscore/KvEntry.js';
import type { KvGetReply as _raytscore_KvGetReply, KvGetReply__Output as _raytscore_KvGetReply__Output } from './raytscore/KvGetReply.js';
import type { KvKey as _raytscore_KvKey, KvKey__Output as _raytscore_KvKey__Output } from './raytscore/KvKey.js';
import type { KvKeysReply as _raytscore_KvKeysReply, KvKeysReply__Output as _raytscore_KvKeysReply__Output } from './raytscore/KvKeysReply.js';
import type { KvPutReply as _raytscore_KvPutReply, KvPutReply__Output as _raytscore_KvPutReply__Output } from './raytscore/KvPutReply.js';
import type { NodeInfo as _raytscore_NodeInfo, NodeInfo__Output as _raytscore_NodeInfo__Output } from './raytscore/NodeInfo.js';
import type { NodeRef as _raytscore_NodeRef, NodeRef__Output as _raytscore_NodeRef__Output } from './raytscore/NodeRef.js';
import type { PlacementGroupInfo as _raytscore_PlacementGroupInfo, PlacementGroupInfo__Output as _raytscore_PlacementGroupInfo__Output } from './raytscore/PlacementGroupInfo.js';
import type { PlacementGroupList as _raytscore_PlacementGroupList, PlacementGroupList__Output as _raytscore_PlacementGroupList__Output } from './raytscore/PlacementGroupList.js';
import type { PlacementGroupRef as _raytscore_PlacementGroupRef, PlacementGroupRef__Output as _raytscore_PlacementGroupRef__Output } from './raytscore/PlacementGroupRef.js';
import type { PlacementGroupSpec as _raytscore_PlacementGroupSpec, PlacementGroupSpec__Output as _raytscore_PlacementGroupSpec__Output } from './raytscore/PlacementGroupSpec.js';
import type { RefOwners as _raytscore_RefOwners, RefOwners__Output as _raytscore_RefOwners__Output } from './raytscore/RefOwners.js';
import type { RegisterActorReply as _raytscore_RegisterActorReply, RegisterActorReply__Output as _raytscore_RegisterActorReply__Output } from './raytscore/RegisterActorReply.js';
import type { RegisterNodeReply as _raytscore_RegisterNodeReply, RegisterNodeReply__Output as _raytscore_RegisterNodeReply__Output } from './raytscore/RegisterNodeReply.js';
import type { SchedulingStrategy as _raytscore_SchedulingStrategy, SchedulingStrategy__Output as _raytscore_SchedulingStrategy__Output } from './raytscore/SchedulingStrategy.js';
import type { TaskSpec as _raytscore_TaskSpec, TaskSpec__Output as _raytscore_TaskSpec__Output } from './raytscore/TaskSpec.js';
import type { Value as _raytscore_Value, Value__Output as _raytscore_Value__Output } from './raytscore/Value.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raytscore: {
    ActorCreationSpec: MessageTypeDefinition<_raytscore_ActorCreationSpec, _raytscore_ActorCreationSpec__Output>
    ActorInfo: MessageTypeDefinition<_raytscore_ActorInfo, _raytscore_ActorInfo__Output>
    ActorList: MessageTypeDefinition<_raytscore_ActorList, _raytscore_ActorList__Output>
    ActorOptions: MessageTypeDefinition<_raytscore_ActorOptions, _raytscore_ActorOptions__Output>
    ActorTaskSpec: MessageTypeDefinition<_raytscore_ActorTaskSpec, _raytscore_ActorTaskSpec__Output>
    Arg: MessageTypeDefinition<_raytscore_Arg, _raytscore_Arg__Output>
    Bundle: MessageTypeDefinition<_raytscore_Bundle, _raytscore_Bundle__Output>
    ClusterView: MessageTypeDefinition<_raytscore_ClusterView, _raytscore_ClusterView__Output>
    Demand: MessageTypeDefinition<_raytscore_Demand, _raytscore_Demand__Output>
    Empty: MessageTypeDefinition<_raytscore_Empty, _raytscore_Empty__Output>
    FnDescriptor: MessageTypeDefinition<_raytscore_FnDescriptor, _raytscore_FnDescriptor__Output>
    FnRef: MessageTypeDefinition<_raytscore_FnRef, _raytscore_FnRef__Output>
    Gcs: SubtypeConstructor<typeof grpc.Client, _raytscore_GcsClient> & { service: _raytscore_GcsDefinition }
    GcsEvent: MessageTypeDefinition<_raytscore_GcsEvent, _raytscore_GcsEvent__Output>
    GetActorReply: MessageTypeDefinition<_raytscore_GetActorReply, _raytscore_GetActorReply__Output>
    GetActorRequest: MessageTypeDefinition<_raytscore_GetActorRequest, _raytscore_GetActorRequest__Output>
    HeartbeatReply: MessageTypeDefinition<_raytscore_HeartbeatReply, _raytscore_HeartbeatReply__Output>
    HeartbeatRequest: MessageTypeDefinition<_raytscore_HeartbeatRequest, _raytscore_HeartbeatRequest__Output>
    JobInfo: MessageTypeDefinition<_raytscore_JobInfo, _raytscore_JobInfo__Output>
    JobList: MessageTypeDefinition<_raytscore_JobList, _raytscore_JobList__Output>
    JobRef: MessageTypeDefinition<_raytscore_JobRef, _raytscore_JobRef__Output>
    KvDelReply: MessageTypeDefinition<_raytscore_KvDelReply, _raytscore_KvDelReply__Output>
    KvEntry: MessageTypeDefinition<_raytscore_KvEntry, _raytscore_KvEntry__Output>
    KvGetReply: MessageTypeDefinition<_raytscore_KvGetReply, _raytscore_KvGetReply__Output>
    KvKey: MessageTypeDefinition<_raytscore_KvKey, _raytscore_KvKey__Output>
    KvKeysReply: MessageTypeDefinition<_raytscore_KvKeysReply, _raytscore_KvKeysReply__Output>
    KvPutReply: MessageTypeDefinition<_raytscore_KvPutReply, _raytscore_KvPutReply__Output>
    NodeInfo: MessageTypeDefinition<_raytscore_NodeInfo, _raytscore_NodeInfo__Output>
    NodeRef: MessageTypeDefinition<_raytscore_NodeRef, _raytscore_NodeRef__Output>
    PlacementGroupInfo: MessageTypeDefinition<_raytscore_PlacementGroupInfo, _raytscore_PlacementGroupInfo__Output>
    PlacementGroupList: MessageTypeDefinition<_raytscore_PlacementGroupList, _raytscore_PlacementGroupList__Output>
    PlacementGroupRef: MessageTypeDefinition<_raytscore_PlacementGroupRef, _raytscore_PlacementGroupRef__Output>
    PlacementGroupSpec: MessageTypeDefinition<_raytscore_PlacementGroupSpec, _raytscore_PlacementGroupSpec__Output>
    RefOwners: MessageTypeDefinition<_raytscore_RefOwners, _raytscore_RefOwners__Output>
    RegisterActorReply: MessageTypeDefinition<_raytscore_RegisterActorReply, _raytscore_RegisterActorReply__Output>
    RegisterNodeReply: MessageTypeDefinition<_raytscore_RegisterNodeReply, _raytscore_RegisterNodeReply__Output>
    SchedulingStrategy: MessageTypeDefinition<_raytscore_SchedulingStrategy, _raytscore_SchedulingStrategy__Output>
    TaskSpec: MessageTypeDefinition<_raytscore_TaskSpec, _raytscore_TaskSpec__Output>
    Value: MessageTypeDefinition<_raytscore_Value, _raytscore_Value__Output>
  }
}

