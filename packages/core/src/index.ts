/**
 * @ray-ts/core: tasks, actors and objects on an embedded cluster (in this process) or a
 * multi-node cluster, with the same program.
 *
 * @example
 * import { init, remote, get, shutdown } from '@ray-ts/core';
 * await init();
 * const square = remote((x: number) => x * x);
 * console.log(await get([1, 2, 3].map((x) => square.remote(x)))); // [1, 4, 9]
 * await shutdown();
 *
 * @packageDocumentation
 */
import { setCoreNamespace } from './functions.js';
import * as self from './index.js';

export {
  init,
  shutdown,
  isInitialized,
  get,
  put,
  wait,
  cancel,
  kill,
  exitActor,
  getActor,
  listNamedActors,
  getRuntimeContext,
  getGpuIds,
  clusterResources,
  availableResources,
  nodes,
} from './api.js';
export type {
  InitOptions,
  RuntimeInfo,
  GetOptions,
  WaitOptions,
  CancelOptions,
  KillOptions,
  GetActorOptions,
  RuntimeContext,
} from './api.js';
export { remote, RemoteFunction, ActorClass, actorIdOf } from './remote.js';
export type { ActorHandle, ActorMethod, RemoteArgs, RemoteReturn, RefOr, MethodNames } from './remote.js';
export { ObjectRef } from './object-ref.js';
export type {
  TaskOptions,
  ActorOptions,
  ActorMethodOptions,
  Isolation,
  SchedulingStrategy,
  NodeAffinitySchedulingStrategy,
  PlacementGroupSchedulingStrategy,
  RuntimeEnv,
} from './options.js';
export { placementGroup, removePlacementGroup, getPlacementGroup, PlacementGroup } from './placement-group.js';
export type { PlacementGroupOptions, Bundle, PlacementStrategy } from './placement-group.js';
export { internalKv } from './kv.js';
export { collective, CollectiveTimeoutError } from './collective.js';
export { ActorPool, PoolEmptyError } from './actor-pool.js';
export type { PoolFn, PoolGetOptions } from './actor-pool.js';
export { Queue, QueueEmptyError, QueueFullError } from './queue.js';
export type { QueueOptions, QueueWaitOptions, QueueActor } from './queue.js';
export type { CollectiveArray, CollectiveOptions, ReduceOp } from './collective.js';
export { portable, PortableFunction } from './portable.js';
export { runCommand, runIfEntryScript } from './library-cli.js';
export type { CliProgram } from './library-cli.js';
export { markLibraryModule } from './functions.js';
export { withHugePages, hugePagesEnabled } from './huge-pages.js';
export type { KvOptions } from './kv.js';
export { listNodes, listActors, listTasks, listObjects, listPlacementGroups, listJobs } from './state-api.js';
export { timeline } from './timeline.js';
export type { TimelineOptions, TraceEvent } from './timeline.js';
export type { ListOptions, StateFilter, StateRow } from './state-api.js';
export type { NodeInfo } from './protocol.js';
export type { RuntimeConfig } from './config.js';
export {
  RayError,
  TaskError,
  ActorDiedError,
  GetTimeoutError,
  TaskCancelledError,
  ObjectLostError,
  OutOfMemoryError,
  WorkerCrashedError,
  NodeDiedError,
  UnschedulableError,
  InvalidArgumentError,
  SerializationError,
  RemoteCodeError,
  NotInitializedError,
} from './errors.js';

setCoreNamespace(self as unknown as Record<string, unknown>);
export { SeededRng, randomSeed, type SeededRngState } from './random.js';
