/**
 * What a node of a multi-node cluster adds to the node manager, split by role. The cluster layer
 * (cluster/cluster-node.ts) implements them; an embedded node has none (`NodeContext.cluster` is
 * undefined) except the group directory, which its own bundles module implements.
 */
import type { ResourceSet, SchedulingStrategySpec } from '../options.js';
import type {
  ActorCreationSpec,
  ActorHandleData,
  ActorTaskSpec,
  ClusterInfo,
  KvOp,
  TaskSpec,
} from '../protocol/specs.js';
import type { StoredValue } from '../runtime/serialization.js';
import type { PlacementStrategy } from './placement.js';
import type { WorkerHandle } from './worker-handle.js';

/** A task's result as its owner records it: a value, or where another node keeps it. */
export type ResultValue = StoredValue | { t: 'remote'; location: string; size: number };

/**
 * Why no node of the cluster can run a request: a resource no node has enough of (with the
 * largest amount a node has), or (`together`) each resource is on some node but no node has all.
 */
export interface Missing {
  name: string;
  requested: number;
  total: number;
  together?: boolean;
}

/** Where work owned by this node runs. */
export type Placement =
  | { kind: 'here' }
  | { kind: 'node'; nodeId: string }
  /** Not now: for a node the autoscaler may start. */
  | { kind: 'wait'; reason: string }
  /** Never: no node can run it. */
  | { kind: 'infeasible'; reason: string };

/** A placement group as a node knows it (embedded clusters keep the whole table in the node). */
export interface GroupState {
  id: string;
  name: string;
  strategy: PlacementStrategy;
  bundles: ResourceSet[];
  state: 'PENDING' | 'CREATED' | 'REMOVED' | 'INFEASIBLE';
  bundleNodes: string[];
  reason: string;
}

/** Placement of work across the cluster, by this node's view of it. */
export interface Placer {
  /** Where queued work owned here runs (`localFits`: this node has room for it now). */
  place(resources: ResourceSet, strategy: SchedulingStrategySpec | undefined, localFits: boolean): Placement;
  /** Why no node of the cluster can ever run it (undefined: some node can, or may be started). */
  infeasible(resources: ResourceSet): Missing | undefined;
  /**
   * A node other than this one (and `except`) with room for the work now; it counts as taken
   * there until the next view. Undefined: none.
   */
  spillTarget(resources: ResourceSet, except: string): string | undefined;
  /** Whether the node is alive in this node's view. */
  isAlive(nodeId: string): boolean;
}

/** Messages to other nodes about tasks and objects. */
export interface PeerLink {
  forwardTask(nodeId: string, spec: TaskSpec, noSpill: boolean): void;
  /** Tells a task's owner to send it to `nodeId`: this node has forgotten it. */
  spillBack(origin: string, taskId: string, nodeId: string): void;
  cancelRemote(nodeId: string, taskId: string, force: boolean, recursive: boolean): void;
  sendTaskDone(
    origin: string,
    taskId: string,
    results: StoredValue[],
    producer: WorkerHandle | undefined,
    ms: number | undefined,
  ): void;
  /** Brings the bytes of objects held on other nodes to this one. */
  pull(ids: string[]): Promise<void>;
  /** Sends a collective message to actor `to` on whichever node hosts it. */
  sendCollective(to: string, key: string, dtype: string, data: ArrayBufferView): void;
}

/** The cluster-wide actor table: actors this node does not host. */
export interface ActorDirectory {
  createActor(spec: ActorCreationSpec): void;
  submitActorTask(spec: ActorTaskSpec): void;
  killActor(actorId: string, noRestart: boolean): Promise<void>;
  getActor(name: string, namespace: string): Promise<ActorHandleData | undefined>;
  namedActors(): Promise<{ name: string; namespace: string }[]>;
  /** Reports a change of an actor hosted here. */
  actorState(actorId: string, state: 'ALIVE' | 'DEAD' | 'RESTARTING', cause?: string): void;
}

/** Placement groups: the GCS's table on a cluster, the node's own on an embedded one. */
export interface GroupDirectory {
  /** The group as last known here (no round trip). */
  group(id: string): GroupState | undefined;
  createGroup(g: GroupState): Promise<void>;
  /** Waits until the group leaves PENDING, for up to `timeoutMs` (0: no limit; -1: answer now). */
  waitGroup(id: string, timeoutMs: number): Promise<GroupState | undefined>;
  removeGroup(id: string): Promise<void>;
  listGroups(): Promise<GroupState[]>;
}

/** What one console call of a worker wrote (several lines when its text has newlines). */
export interface WorkerLogLine {
  /** The task or actor call that wrote it ('worker' outside any). */
  name: string;
  /** The worker's process. */
  pid: number;
  /** console.error or console.warn: printed on stderr. */
  err: boolean;
  text: string;
}

/** Worker output of jobs whose driver runs on another node (Ray's log_to_driver). */
export interface LogLink {
  /**
   * Sends a line to the node of its job's driver: batched, bounded (dropped and counted when too
   * many wait), dropped for a finished job or one whose driver stays unknown.
   */
  forwardLog(jobId: string, line: WorkerLogLine): void;
}

/** Cluster-wide information and the internal key-value store (the GCS's). */
export interface ClusterDirectory {
  clusterInfo(): ClusterInfo;
  kv(op: KvOp): Promise<unknown>;
}

/** Everything a node of a multi-node cluster reaches the rest of the cluster through. */
export interface ClusterPorts {
  readonly placer: Placer;
  readonly peers: PeerLink;
  readonly actors: ActorDirectory;
  readonly groups: GroupDirectory;
  readonly directory: ClusterDirectory;
  readonly logs: LogLink;
}
