/**
 * How API calls in a thread reach its node: directly on the driver of an embedded cluster, by
 * messages from a worker. One interface, so `get`, `put`, `remote` work the same everywhere.
 */
import type {
  ActorCreationSpec,
  ActorHandleData,
  ActorTaskSpec,
  ClusterInfo,
  KvOp,
  TaskContextData,
  TaskSpec,
} from '../protocol/specs.js';
import type { StoredValue } from '../protocol/values.js';

export interface CoreClient {
  readonly jobId: string;
  readonly nodeId: string;
  /** The worker this thread or process is; undefined on a driver. */
  readonly workerId?: string;
  readonly namespace: string;
  /** Values above this many bytes go to the object store (shared memory) instead of inline. */
  readonly inlineObjectMaxBytes: number;
  /** The task running in this context, if any (for nested submissions and blocking). */
  currentTask(): TaskContextData | undefined;
  submitTask(spec: TaskSpec): void;
  /** Registers an actor; returns the id of an existing actor when `getIfExists` found one. */
  createActor(spec: ActorCreationSpec): string | undefined;
  submitActorTask(spec: ActorTaskSpec): void;
  put(id: string, value: StoredValue): void;
  get(ids: string[], timeoutMs: number | undefined): Promise<StoredValue[]>;
  wait(ids: string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]>;
  cancel(objectId: string, force: boolean, recursive: boolean): Promise<void>;
  killActor(actorId: string, noRestart: boolean): Promise<void>;
  getActor(name: string, namespace: string | undefined): Promise<ActorHandleData | undefined>;
  /** Named actors alive on the cluster, with their namespaces. */
  namedActors(): Promise<{ name: string; namespace: string }[]>;
  clusterInfo(): Promise<ClusterInfo>;
  /** put: whether the key was new; get: the value or undefined; del: how many; keys: the keys. */
  kv(op: KvOp): Promise<unknown>;
  /** Sends a collective message to an actor (workers only: the driver is in no group). */
  sendCollective?(to: string, key: string, dtype: string, data: ArrayBufferView): void;
}
