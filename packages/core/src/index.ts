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
import { setCoreNamespace } from './runtime/functions.js';
import * as self from './index.js';

export { init, shutdown, isInitialized } from './api/init.js';
export type { InitOptions, RuntimeInfo } from './api/init.js';
export { get, put, wait, cancel } from './api/objects.js';
export type { GetOptions, WaitOptions, CancelOptions } from './api/objects.js';
export { kill, exitActor, getActor, listNamedActors } from './api/actors.js';
export type { KillOptions, GetActorOptions } from './api/actors.js';
export { getRuntimeContext, getGpuIds, clusterResources, availableResources, nodes } from './api/context.js';
export type { RuntimeContext } from './api/context.js';
export { resolveClusterAddress } from './runtime/cluster-address.js';
export { remote, RemoteFunction, ActorClass, actorIdOf } from './api/remote.js';
export type { ActorHandle, ActorMethod, RemoteArgs, RemoteReturn, RefOr, MethodNames } from './api/remote.js';
export { ObjectRef } from './runtime/object-ref.js';
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
export { placementGroup, removePlacementGroup, getPlacementGroup, PlacementGroup } from './api/placement-group.js';
export type { PlacementGroupOptions, Bundle, PlacementStrategy } from './api/placement-group.js';
export { internalKv } from './api/kv.js';
export { collective } from './api/collective.js';
export { ActorPool } from './api/actor-pool.js';
export type { PoolFn, PoolGetOptions } from './api/actor-pool.js';
export { Queue } from './api/queue.js';
export type { QueueOptions, QueueWaitOptions, QueueActor } from './api/queue.js';
export type { CollectiveArray, CollectiveOptions, ReduceOp } from './api/collective.js';
export { portable, PortableFunction } from './api/portable.js';
export { runCommand, runIfEntryScript } from './library-cli.js';
export type { CliProgram } from './library-cli.js';
export { markLibraryModule } from './runtime/functions.js';
export { withHugePages, hugePagesEnabled } from './runtime/huge-pages.js';
export type { KvOptions } from './api/kv.js';
export { listNodes, listActors, listTasks, listObjects, listPlacementGroups, listJobs } from './api/state.js';
export { listLogs, getLog } from './api/state.js';
export type { ListLogsOptions, GetLogOptions } from './api/state.js';
export { timeline } from './api/timeline.js';
export type { TimelineOptions, TraceEvent } from './api/timeline.js';
export type { ListOptions, StateFilter, StateRow } from './api/state.js';
export type { NodeInfo } from './protocol/specs.js';
export type { RuntimeConfig } from './config.js';
export {
  RayError,
  TaskError,
  ActorDiedError,
  GetTimeoutError,
  TaskCancelledError,
  ObjectLostError,
  ObjectStoreFullError,
  OutOfMemoryError,
  WorkerCrashedError,
  NodeDiedError,
  UnschedulableError,
  InvalidArgumentError,
  MetricsError,
  SerializationError,
  DeserializationError,
  RemoteCodeError,
  RuntimeEnvSetupError,
  NotInitializedError,
  CollectiveTimeoutError,
  PoolEmptyError,
  QueueEmptyError,
  QueueFullError,
  AuthenticationError,
  TlsError,
  GcsUnavailableError,
  LogNotFoundError,
  LogPathError,
  ClusterLaunchError,
} from './errors.js';

export { SeededRng, randomSeed, type SeededRngState } from './random.js';
export { getLogger } from './log.js';
export type { Logger, LogLevel, LogFields } from './log.js';
export { ProgressBar } from './progress.js';
export type { ProgressBarOptions, ProgressStream } from './progress.js';
export { Counter, Gauge, Histogram } from './metrics/user-metrics.js';
export type { HistogramOptions, MetricOptions, Tags } from './metrics/user-metrics.js';

setCoreNamespace(self as unknown as Record<string, unknown>);
