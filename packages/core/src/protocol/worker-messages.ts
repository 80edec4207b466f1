/**
 * Messages between a node and its workers (threads via MessagePort, processes via IPC with
 * structured-clone serialization). Sent in batches: each post carries an array of messages.
 * Messages between nodes (the multi-node cluster) are defined in `proto/` instead.
 */
import type { WireError } from '../errors.js';
import type { ActorCreationSpec, ActorTaskSpec, KvOp, TaskContextData, TaskSpec } from './specs.js';
import type { MetricBatch } from './metrics.js';
import type { StoredValue } from './values.js';

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
  /**
   * The worker loaded its modules and listens (its first message, once): the node starts the
   * threads it prestarts after the first one then (worker-pool.ts). Its handle consumes it.
   */
  | { k: 'ready' }
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
  | { k: 'coll'; to: string; key: string; dtype: string; data: ArrayBufferView }
  /**
   * What one console call wrote (`err`: console.error or console.warn), for the driver of `jobId`:
   * the job of the task or actor that wrote it. `name` is that task's name; `taskId` and `actorId`
   * (when a task or actor call wrote it) place it in the worker's log file (worker-log-files.ts).
   */
  | { k: 'log'; jobId: string; name: string; err: boolean; text: string; taskId?: string; actorId?: string }
  /** The thread's user metrics that changed since its last batch (metrics/thread-metrics.ts). */
  | { k: 'metrics'; batch: MetricBatch }
  /** The worker's arena is full of blocks the node may free: it should collect its garbage now (arena.ts). */
  | { k: 'pressure' };

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
