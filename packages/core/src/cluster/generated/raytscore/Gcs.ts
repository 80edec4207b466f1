// Original file: proto/gcs.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ActorInfo as _raytscore_ActorInfo, ActorInfo__Output as _raytscore_ActorInfo__Output } from '../raytscore/ActorInfo.js';
import type { ActorList as _raytscore_ActorList, ActorList__Output as _raytscore_ActorList__Output } from '../raytscore/ActorList.js';
import type { ClusterView as _raytscore_ClusterView, ClusterView__Output as _raytscore_ClusterView__Output } from '../raytscore/ClusterView.js';
import type { Empty as _raytscore_Empty, Empty__Output as _raytscore_Empty__Output } from '../raytscore/Empty.js';
import type { GcsEvent as _raytscore_GcsEvent, GcsEvent__Output as _raytscore_GcsEvent__Output } from '../raytscore/GcsEvent.js';
import type { GetActorReply as _raytscore_GetActorReply, GetActorReply__Output as _raytscore_GetActorReply__Output } from '../raytscore/GetActorReply.js';
import type { GetActorRequest as _raytscore_GetActorRequest, GetActorRequest__Output as _raytscore_GetActorRequest__Output } from '../raytscore/GetActorRequest.js';
import type { HeartbeatReply as _raytscore_HeartbeatReply, HeartbeatReply__Output as _raytscore_HeartbeatReply__Output } from '../raytscore/HeartbeatReply.js';
import type { HeartbeatRequest as _raytscore_HeartbeatRequest, HeartbeatRequest__Output as _raytscore_HeartbeatRequest__Output } from '../raytscore/HeartbeatRequest.js';
import type { JobInfo as _raytscore_JobInfo, JobInfo__Output as _raytscore_JobInfo__Output } from '../raytscore/JobInfo.js';
import type { JobList as _raytscore_JobList, JobList__Output as _raytscore_JobList__Output } from '../raytscore/JobList.js';
import type { JobRef as _raytscore_JobRef, JobRef__Output as _raytscore_JobRef__Output } from '../raytscore/JobRef.js';
import type { KvDelReply as _raytscore_KvDelReply, KvDelReply__Output as _raytscore_KvDelReply__Output } from '../raytscore/KvDelReply.js';
import type { KvEntry as _raytscore_KvEntry, KvEntry__Output as _raytscore_KvEntry__Output } from '../raytscore/KvEntry.js';
import type { KvGetReply as _raytscore_KvGetReply, KvGetReply__Output as _raytscore_KvGetReply__Output } from '../raytscore/KvGetReply.js';
import type { KvKey as _raytscore_KvKey, KvKey__Output as _raytscore_KvKey__Output } from '../raytscore/KvKey.js';
import type { KvKeysReply as _raytscore_KvKeysReply, KvKeysReply__Output as _raytscore_KvKeysReply__Output } from '../raytscore/KvKeysReply.js';
import type { KvPutReply as _raytscore_KvPutReply, KvPutReply__Output as _raytscore_KvPutReply__Output } from '../raytscore/KvPutReply.js';
import type { NodeInfo as _raytscore_NodeInfo, NodeInfo__Output as _raytscore_NodeInfo__Output } from '../raytscore/NodeInfo.js';
import type { NodeRef as _raytscore_NodeRef, NodeRef__Output as _raytscore_NodeRef__Output } from '../raytscore/NodeRef.js';
import type { PlacementGroupInfo as _raytscore_PlacementGroupInfo, PlacementGroupInfo__Output as _raytscore_PlacementGroupInfo__Output } from '../raytscore/PlacementGroupInfo.js';
import type { PlacementGroupList as _raytscore_PlacementGroupList, PlacementGroupList__Output as _raytscore_PlacementGroupList__Output } from '../raytscore/PlacementGroupList.js';
import type { PlacementGroupRef as _raytscore_PlacementGroupRef, PlacementGroupRef__Output as _raytscore_PlacementGroupRef__Output } from '../raytscore/PlacementGroupRef.js';
import type { PlacementGroupSpec as _raytscore_PlacementGroupSpec, PlacementGroupSpec__Output as _raytscore_PlacementGroupSpec__Output } from '../raytscore/PlacementGroupSpec.js';
import type { RegisterActorReply as _raytscore_RegisterActorReply, RegisterActorReply__Output as _raytscore_RegisterActorReply__Output } from '../raytscore/RegisterActorReply.js';
import type { RegisterNodeReply as _raytscore_RegisterNodeReply, RegisterNodeReply__Output as _raytscore_RegisterNodeReply__Output } from '../raytscore/RegisterNodeReply.js';

export interface GcsClient extends grpc.Client {
  CreatePlacementGroup(argument: _raytscore_PlacementGroupSpec, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  CreatePlacementGroup(argument: _raytscore_PlacementGroupSpec, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  CreatePlacementGroup(argument: _raytscore_PlacementGroupSpec, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  CreatePlacementGroup(argument: _raytscore_PlacementGroupSpec, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  createPlacementGroup(argument: _raytscore_PlacementGroupSpec, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  createPlacementGroup(argument: _raytscore_PlacementGroupSpec, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  createPlacementGroup(argument: _raytscore_PlacementGroupSpec, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  createPlacementGroup(argument: _raytscore_PlacementGroupSpec, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  
  FinishJob(argument: _raytscore_JobRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  FinishJob(argument: _raytscore_JobRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  FinishJob(argument: _raytscore_JobRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  FinishJob(argument: _raytscore_JobRef, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  finishJob(argument: _raytscore_JobRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  finishJob(argument: _raytscore_JobRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  finishJob(argument: _raytscore_JobRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  finishJob(argument: _raytscore_JobRef, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  
  GetActor(argument: _raytscore_GetActorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  GetActor(argument: _raytscore_GetActorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  GetActor(argument: _raytscore_GetActorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  GetActor(argument: _raytscore_GetActorRequest, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  getActor(argument: _raytscore_GetActorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  getActor(argument: _raytscore_GetActorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  getActor(argument: _raytscore_GetActorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  getActor(argument: _raytscore_GetActorRequest, callback: grpc.requestCallback<_raytscore_GetActorReply__Output>): grpc.ClientUnaryCall;
  
  GetClusterView(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  GetClusterView(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  GetClusterView(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  GetClusterView(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  getClusterView(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  getClusterView(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  getClusterView(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  getClusterView(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_ClusterView__Output>): grpc.ClientUnaryCall;
  
  GetPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  GetPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  GetPlacementGroup(argument: _raytscore_PlacementGroupRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  GetPlacementGroup(argument: _raytscore_PlacementGroupRef, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  getPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  getPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  getPlacementGroup(argument: _raytscore_PlacementGroupRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  getPlacementGroup(argument: _raytscore_PlacementGroupRef, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  
  Heartbeat(argument: _raytscore_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _raytscore_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _raytscore_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _raytscore_HeartbeatRequest, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _raytscore_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _raytscore_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _raytscore_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _raytscore_HeartbeatRequest, callback: grpc.requestCallback<_raytscore_HeartbeatReply__Output>): grpc.ClientUnaryCall;
  
  KvDel(argument: _raytscore_KvKey, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  KvDel(argument: _raytscore_KvKey, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  KvDel(argument: _raytscore_KvKey, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  KvDel(argument: _raytscore_KvKey, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  kvDel(argument: _raytscore_KvKey, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  kvDel(argument: _raytscore_KvKey, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  kvDel(argument: _raytscore_KvKey, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  kvDel(argument: _raytscore_KvKey, callback: grpc.requestCallback<_raytscore_KvDelReply__Output>): grpc.ClientUnaryCall;
  
  KvGet(argument: _raytscore_KvKey, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  KvGet(argument: _raytscore_KvKey, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  KvGet(argument: _raytscore_KvKey, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  KvGet(argument: _raytscore_KvKey, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  kvGet(argument: _raytscore_KvKey, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  kvGet(argument: _raytscore_KvKey, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  kvGet(argument: _raytscore_KvKey, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  kvGet(argument: _raytscore_KvKey, callback: grpc.requestCallback<_raytscore_KvGetReply__Output>): grpc.ClientUnaryCall;
  
  KvKeys(argument: _raytscore_KvKey, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  KvKeys(argument: _raytscore_KvKey, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  KvKeys(argument: _raytscore_KvKey, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  KvKeys(argument: _raytscore_KvKey, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  kvKeys(argument: _raytscore_KvKey, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  kvKeys(argument: _raytscore_KvKey, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  kvKeys(argument: _raytscore_KvKey, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  kvKeys(argument: _raytscore_KvKey, callback: grpc.requestCallback<_raytscore_KvKeysReply__Output>): grpc.ClientUnaryCall;
  
  KvPut(argument: _raytscore_KvEntry, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  KvPut(argument: _raytscore_KvEntry, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  KvPut(argument: _raytscore_KvEntry, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  KvPut(argument: _raytscore_KvEntry, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  kvPut(argument: _raytscore_KvEntry, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  kvPut(argument: _raytscore_KvEntry, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  kvPut(argument: _raytscore_KvEntry, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  kvPut(argument: _raytscore_KvEntry, callback: grpc.requestCallback<_raytscore_KvPutReply__Output>): grpc.ClientUnaryCall;
  
  ListActors(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  ListActors(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  ListActors(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  ListActors(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  listActors(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  listActors(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  listActors(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  listActors(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_ActorList__Output>): grpc.ClientUnaryCall;
  
  ListJobs(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  ListJobs(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  listJobs(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_JobList__Output>): grpc.ClientUnaryCall;
  
  ListPlacementGroups(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  ListPlacementGroups(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  ListPlacementGroups(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  ListPlacementGroups(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  listPlacementGroups(argument: _raytscore_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  listPlacementGroups(argument: _raytscore_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  listPlacementGroups(argument: _raytscore_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  listPlacementGroups(argument: _raytscore_Empty, callback: grpc.requestCallback<_raytscore_PlacementGroupList__Output>): grpc.ClientUnaryCall;
  
  RegisterActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  RegisterActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  RegisterActor(argument: _raytscore_ActorInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  RegisterActor(argument: _raytscore_ActorInfo, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  registerActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  registerActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  registerActor(argument: _raytscore_ActorInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  registerActor(argument: _raytscore_ActorInfo, callback: grpc.requestCallback<_raytscore_RegisterActorReply__Output>): grpc.ClientUnaryCall;
  
  RegisterJob(argument: _raytscore_JobInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  RegisterJob(argument: _raytscore_JobInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  RegisterJob(argument: _raytscore_JobInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  RegisterJob(argument: _raytscore_JobInfo, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  registerJob(argument: _raytscore_JobInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  registerJob(argument: _raytscore_JobInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  registerJob(argument: _raytscore_JobInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  registerJob(argument: _raytscore_JobInfo, callback: grpc.requestCallback<_raytscore_JobInfo__Output>): grpc.ClientUnaryCall;
  
  RegisterNode(argument: _raytscore_NodeInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  RegisterNode(argument: _raytscore_NodeInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  RegisterNode(argument: _raytscore_NodeInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  RegisterNode(argument: _raytscore_NodeInfo, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  registerNode(argument: _raytscore_NodeInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  registerNode(argument: _raytscore_NodeInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  registerNode(argument: _raytscore_NodeInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  registerNode(argument: _raytscore_NodeInfo, callback: grpc.requestCallback<_raytscore_RegisterNodeReply__Output>): grpc.ClientUnaryCall;
  
  RemovePlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  RemovePlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  RemovePlacementGroup(argument: _raytscore_PlacementGroupRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  RemovePlacementGroup(argument: _raytscore_PlacementGroupRef, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  removePlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  removePlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  removePlacementGroup(argument: _raytscore_PlacementGroupRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  removePlacementGroup(argument: _raytscore_PlacementGroupRef, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  
  Subscribe(argument: _raytscore_NodeRef, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_GcsEvent__Output>;
  Subscribe(argument: _raytscore_NodeRef, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_GcsEvent__Output>;
  subscribe(argument: _raytscore_NodeRef, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_GcsEvent__Output>;
  subscribe(argument: _raytscore_NodeRef, options?: grpc.CallOptions): grpc.ClientReadableStream<_raytscore_GcsEvent__Output>;
  
  UnregisterNode(argument: _raytscore_NodeRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  UnregisterNode(argument: _raytscore_NodeRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  UnregisterNode(argument: _raytscore_NodeRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  UnregisterNode(argument: _raytscore_NodeRef, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  unregisterNode(argument: _raytscore_NodeRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  unregisterNode(argument: _raytscore_NodeRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  unregisterNode(argument: _raytscore_NodeRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  unregisterNode(argument: _raytscore_NodeRef, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  
  UpdateActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  UpdateActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  UpdateActor(argument: _raytscore_ActorInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  UpdateActor(argument: _raytscore_ActorInfo, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  updateActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  updateActor(argument: _raytscore_ActorInfo, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  updateActor(argument: _raytscore_ActorInfo, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  updateActor(argument: _raytscore_ActorInfo, callback: grpc.requestCallback<_raytscore_Empty__Output>): grpc.ClientUnaryCall;
  
  WaitPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  WaitPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  WaitPlacementGroup(argument: _raytscore_PlacementGroupRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  WaitPlacementGroup(argument: _raytscore_PlacementGroupRef, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  waitPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  waitPlacementGroup(argument: _raytscore_PlacementGroupRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  waitPlacementGroup(argument: _raytscore_PlacementGroupRef, options: grpc.CallOptions, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  waitPlacementGroup(argument: _raytscore_PlacementGroupRef, callback: grpc.requestCallback<_raytscore_PlacementGroupInfo__Output>): grpc.ClientUnaryCall;
  
}

export interface GcsHandlers extends grpc.UntypedServiceImplementation {
  CreatePlacementGroup: grpc.handleUnaryCall<_raytscore_PlacementGroupSpec__Output, _raytscore_PlacementGroupInfo>;
  
  FinishJob: grpc.handleUnaryCall<_raytscore_JobRef__Output, _raytscore_Empty>;
  
  GetActor: grpc.handleUnaryCall<_raytscore_GetActorRequest__Output, _raytscore_GetActorReply>;
  
  GetClusterView: grpc.handleUnaryCall<_raytscore_Empty__Output, _raytscore_ClusterView>;
  
  GetPlacementGroup: grpc.handleUnaryCall<_raytscore_PlacementGroupRef__Output, _raytscore_PlacementGroupInfo>;
  
  Heartbeat: grpc.handleUnaryCall<_raytscore_HeartbeatRequest__Output, _raytscore_HeartbeatReply>;
  
  KvDel: grpc.handleUnaryCall<_raytscore_KvKey__Output, _raytscore_KvDelReply>;
  
  KvGet: grpc.handleUnaryCall<_raytscore_KvKey__Output, _raytscore_KvGetReply>;
  
  KvKeys: grpc.handleUnaryCall<_raytscore_KvKey__Output, _raytscore_KvKeysReply>;
  
  KvPut: grpc.handleUnaryCall<_raytscore_KvEntry__Output, _raytscore_KvPutReply>;
  
  ListActors: grpc.handleUnaryCall<_raytscore_Empty__Output, _raytscore_ActorList>;
  
  ListJobs: grpc.handleUnaryCall<_raytscore_Empty__Output, _raytscore_JobList>;
  
  ListPlacementGroups: grpc.handleUnaryCall<_raytscore_Empty__Output, _raytscore_PlacementGroupList>;
  
  RegisterActor: grpc.handleUnaryCall<_raytscore_ActorInfo__Output, _raytscore_RegisterActorReply>;
  
  RegisterJob: grpc.handleUnaryCall<_raytscore_JobInfo__Output, _raytscore_JobInfo>;
  
  RegisterNode: grpc.handleUnaryCall<_raytscore_NodeInfo__Output, _raytscore_RegisterNodeReply>;
  
  RemovePlacementGroup: grpc.handleUnaryCall<_raytscore_PlacementGroupRef__Output, _raytscore_Empty>;
  
  Subscribe: grpc.handleServerStreamingCall<_raytscore_NodeRef__Output, _raytscore_GcsEvent>;
  
  UnregisterNode: grpc.handleUnaryCall<_raytscore_NodeRef__Output, _raytscore_Empty>;
  
  UpdateActor: grpc.handleUnaryCall<_raytscore_ActorInfo__Output, _raytscore_Empty>;
  
  WaitPlacementGroup: grpc.handleUnaryCall<_raytscore_PlacementGroupRef__Output, _raytscore_PlacementGroupInfo>;
  
}

export interface GcsDefinition extends grpc.ServiceDefinition {
  CreatePlacementGroup: MethodDefinition<_raytscore_PlacementGroupSpec, _raytscore_PlacementGroupInfo, _raytscore_PlacementGroupSpec__Output, _raytscore_PlacementGroupInfo__Output>
  FinishJob: MethodDefinition<_raytscore_JobRef, _raytscore_Empty, _raytscore_JobRef__Output, _raytscore_Empty__Output>
  GetActor: MethodDefinition<_raytscore_GetActorRequest, _raytscore_GetActorReply, _raytscore_GetActorRequest__Output, _raytscore_GetActorReply__Output>
  GetClusterView: MethodDefinition<_raytscore_Empty, _raytscore_ClusterView, _raytscore_Empty__Output, _raytscore_ClusterView__Output>
  GetPlacementGroup: MethodDefinition<_raytscore_PlacementGroupRef, _raytscore_PlacementGroupInfo, _raytscore_PlacementGroupRef__Output, _raytscore_PlacementGroupInfo__Output>
  Heartbeat: MethodDefinition<_raytscore_HeartbeatRequest, _raytscore_HeartbeatReply, _raytscore_HeartbeatRequest__Output, _raytscore_HeartbeatReply__Output>
  KvDel: MethodDefinition<_raytscore_KvKey, _raytscore_KvDelReply, _raytscore_KvKey__Output, _raytscore_KvDelReply__Output>
  KvGet: MethodDefinition<_raytscore_KvKey, _raytscore_KvGetReply, _raytscore_KvKey__Output, _raytscore_KvGetReply__Output>
  KvKeys: MethodDefinition<_raytscore_KvKey, _raytscore_KvKeysReply, _raytscore_KvKey__Output, _raytscore_KvKeysReply__Output>
  KvPut: MethodDefinition<_raytscore_KvEntry, _raytscore_KvPutReply, _raytscore_KvEntry__Output, _raytscore_KvPutReply__Output>
  ListActors: MethodDefinition<_raytscore_Empty, _raytscore_ActorList, _raytscore_Empty__Output, _raytscore_ActorList__Output>
  ListJobs: MethodDefinition<_raytscore_Empty, _raytscore_JobList, _raytscore_Empty__Output, _raytscore_JobList__Output>
  ListPlacementGroups: MethodDefinition<_raytscore_Empty, _raytscore_PlacementGroupList, _raytscore_Empty__Output, _raytscore_PlacementGroupList__Output>
  RegisterActor: MethodDefinition<_raytscore_ActorInfo, _raytscore_RegisterActorReply, _raytscore_ActorInfo__Output, _raytscore_RegisterActorReply__Output>
  RegisterJob: MethodDefinition<_raytscore_JobInfo, _raytscore_JobInfo, _raytscore_JobInfo__Output, _raytscore_JobInfo__Output>
  RegisterNode: MethodDefinition<_raytscore_NodeInfo, _raytscore_RegisterNodeReply, _raytscore_NodeInfo__Output, _raytscore_RegisterNodeReply__Output>
  RemovePlacementGroup: MethodDefinition<_raytscore_PlacementGroupRef, _raytscore_Empty, _raytscore_PlacementGroupRef__Output, _raytscore_Empty__Output>
  Subscribe: MethodDefinition<_raytscore_NodeRef, _raytscore_GcsEvent, _raytscore_NodeRef__Output, _raytscore_GcsEvent__Output>
  UnregisterNode: MethodDefinition<_raytscore_NodeRef, _raytscore_Empty, _raytscore_NodeRef__Output, _raytscore_Empty__Output>
  UpdateActor: MethodDefinition<_raytscore_ActorInfo, _raytscore_Empty, _raytscore_ActorInfo__Output, _raytscore_Empty__Output>
  WaitPlacementGroup: MethodDefinition<_raytscore_PlacementGroupRef, _raytscore_PlacementGroupInfo, _raytscore_PlacementGroupRef__Output, _raytscore_PlacementGroupInfo__Output>
}
