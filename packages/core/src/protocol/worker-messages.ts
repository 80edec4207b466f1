/**
 * Messages between a node and its workers (threads via MessagePort, processes via IPC with
 * structured-clone serialization). Sent in batches: each post carries an array of messages.
 * Messages between nodes (the multi-node cluster) are defined in `proto/` instead.
 */
import type { WireError } from '../errors.js';
import type { FnRef } from '../runtime/functions.js';
import type { CompiledActorOptions, Isolation, ResourceSet, SchedulingStrategySpec } from '../options.js';
import type { StoredValue } from '../runtime/serialization.js';

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

// ---- node -> worker ----
export type ToWorker =
  | {
      k: 'task';
      spec: TaskSpec;
      args: StoredValue[];
      ctx: TaskContextData;
      /** per-worker sequence number */ seq: number;
    }
  | { k: 'createActor'; spec: ActorCreationSpec; args: StoredValue[]; ctx: TaskContextData; maxConcurrency: number }
  | { k: 'actorCall'; spec: ActorTaskSpec; args: StoredValue[] }
  | { k: 'dropActor'; actorId: string }
  | { k: 'cancel'; taskId: string }
  /** A shared buffer this worker made, freed unread: reuse it for a value of the same size. */
  | { k: 'buffer'; buf: SharedArrayBuffer }
  | { k: 'reply'; reqId: number; ok: true; value: unknown }
  | { k: 'reply'; reqId: number; ok: false; error: WireError }
  /** A collective message for actor `to` of this worker (see collective.ts). */
  | { k: 'coll'; to: string; key: string; dtype: string; data: ArrayBufferView }
  | { k: 'exit' };

/** How a task ended, as reported by the worker. */
export type TaskOutcome =
  | { ok: true; results: StoredValue[] }
  | { ok: false; error: WireError; /** the user's error class name, for retryExceptions */ errorName: string };

// ---- worker -> node ----
export type FromWorker =
  | { k: 'done'; taskId: string; outcome: TaskOutcome; /** run time, for pipelining decisions */ ms?: number }
  | { k: 'actorReady'; actorId: string }
  | { k: 'actorFailed'; actorId: string; error: WireError }
  | { k: 'submitTask'; spec: TaskSpec }
  | { k: 'createActor'; spec: ActorCreationSpec }
  | { k: 'submitActorTask'; spec: ActorTaskSpec }
  | { k: 'put'; id: string; value: StoredValue }
  | { k: 'refs'; add: string[]; remove: string[] }
  | { k: 'req'; reqId: number; op: WorkerRequest }
  /** A collective message for actor `to`, wherever it runs. */
  | { k: 'coll'; to: string; key: string; dtype: string; data: ArrayBufferView };

/** Requests from a worker that the node answers with a `reply`. */
export type WorkerRequest =
  | { op: 'get'; ids: string[]; timeoutMs?: number; taskId?: string }
  | { op: 'wait'; ids: string[]; numReturns: number; timeoutMs?: number; taskId?: string }
  | { op: 'cancel'; objectId: string; force: boolean; recursive: boolean }
  | { op: 'kill'; actorId: string; noRestart: boolean; exited?: boolean }
  | { op: 'getActor'; name: string; namespace?: string }
  | { op: 'namedActors' }
  | { op: 'clusterInfo' }
  | { op: 'kv'; kv: KvOp };

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
