/**
 * The specs of work (tasks, actors, actor calls) and the cluster data that the driver, the nodes
 * and the workers exchange: plain data, importing nothing from the runtime. How they travel
 * between nodes is in cluster/wire.ts (protobuf); between a node and its workers, in
 * worker-messages.ts.
 */
import type { CompiledActorOptions, Isolation, ResourceSet, SchedulingStrategySpec } from '../options.js';
import type { FnRef, StoredValue } from './values.js';

/** A task argument: a top-level ObjectRef (resolved before the task runs) or an inline value. */
export type ArgSpec = { r: string } | { v: StoredValue };

export interface TaskSpec {
  taskId: string;
  name: string;
  fn: FnRef;
  args: ArgSpec[];
  returnIds: string[];
  resources: ResourceSet;
  maxRetries: number;
  retryExceptions: boolean | readonly string[];
  isolation: Isolation;
  /** The task that submitted this one, for recursive cancellation. */
  parentTaskId?: string;
  /** Where it runs, when not DEFAULT. */
  strategy?: SchedulingStrategySpec;
  /** The job that submitted it (set when it crosses nodes). */
  jobId?: string;
  /** Its runtime environment's variables (merged with its parent's); it runs on a worker started with them. */
  envVars?: Readonly<Record<string, string>>;
}

export interface ActorCreationSpec {
  actorId: string;
  className: string;
  cls: FnRef;
  args: ArgSpec[];
  options: CompiledActorOptions;
  methods: string[];
  /** True when the class has async methods (concurrency defaults to many). */
  hasAsyncMethods: boolean;
  /** The job that created it (set when it crosses nodes). */
  jobId?: string;
}

export interface ActorTaskSpec {
  taskId: string;
  actorId: string;
  method: string;
  name: string;
  args: ArgSpec[];
  returnIds: string[];
  parentTaskId?: string;
}

/** What an actor handle carries across threads. */
export interface ActorHandleData {
  actorId: string;
  className: string;
  methods: string[];
}

/** Context given to a task when it starts (returned by `getRuntimeContext()` inside it). */
export interface TaskContextData {
  /** The job of the work (its driver's), which its console output goes to. */
  jobId: string;
  nodeId: string;
  taskId: string;
  actorId?: string;
  name: string;
  assignedResources: Record<string, number>;
  gpuIds: number[];
  /** The placement group that captures this work's children (placementGroupCaptureChildTasks). */
  placementGroupId?: string;
}

/** An operation on the cluster's internal key-value store (in the GCS). */
export type KvOp =
  | { k: 'put'; namespace: string; key: string; value: Uint8Array; overwrite: boolean }
  | { k: 'get'; namespace: string; key: string }
  | { k: 'del'; namespace: string; key: string }
  | { k: 'keys'; namespace: string; prefix: string };

/** Answer of a `clusterInfo` request. */
export interface ClusterInfo {
  total: Record<string, number>;
  available: Record<string, number>;
  nodes: NodeInfo[];
}

/** A node as `nodes()` lists it. */
export interface NodeInfo {
  nodeId: string;
  alive: boolean;
  isHead: boolean;
  address: string;
  resources: Record<string, number>;
  /** Capacity of the node's object store, in bytes. */
  objectStoreBytes: number;
}

/** A task run or actor call as the timeline shows it (one bar on its worker's row). */
export interface TaskRun {
  taskId: string;
  name: string;
  state: string;
  nodeId: string;
  jobId: string;
  workerId: string;
  /** When it began running (epoch ms). */
  runStartMs: number;
  /** When it ended (epoch ms); 0 while it runs. */
  endMs: number;
  /** For an actor method call: the actor. */
  actorId?: string;
}
