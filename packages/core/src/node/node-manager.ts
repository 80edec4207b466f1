/**
 * The node manager ("raylet") of one node: object store, resource-based scheduling of tasks
 * (with pipelining of short ones), objects' readiness and waiting, cancellation, and the messages
 * of its workers. Actors live in actors.ts, the workers in worker-pool.ts. In an embedded cluster
 * it runs in the driver's thread, so the driver's calls reach it without messages.
 */
import {
  GetTimeoutError,
  NodeDiedError,
  ObjectLostError,
  OutOfMemoryError,
  RayError,
  TaskCancelledError,
  UnschedulableError,
  WorkerCrashedError,
  errorToWire,
  type WireError,
} from '../errors.js';
import type { RuntimeConfig } from '../config.js';
import { ObjectStore } from './object-store.js';
import { envKeyOf, type EnvVars, type ResourceSet } from '../options.js';
import type {
  KvOp,
  ActorCreationSpec,
  ActorHandleData,
  ActorTaskSpec,
  ArgSpec,
  ClusterInfo,
  FromWorker,
  TaskContextData,
  TaskSpec,
  WorkerRequest,
} from '../protocol/worker-messages.js';
import { ResourcePool, type Allocation } from './resources.js';
import { nestedRefs, storedError, type StoredValue } from '../runtime/serialization.js';
import type { WorkerHandle } from './worker-handle.js';
import { WorkerPool } from './worker-pool.js';
import { ActorManager, type ActorHost, type ActorRecord } from './actors.js';
import type { FnRef } from '../runtime/functions.js';
import { bundleResources, groupResources, isGroupResource, placeBundles, type PlacementStrategy } from './placement.js';
import type { SchedulingStrategySpec } from '../options.js';

/** After this many spillbacks, an owner's task runs where it is sent next, room or not (no ping-pong on stale views). */
const MAX_SPILLS = 3;

/** A task as the state API lists it. */
export interface TaskRecord {
  taskId: string;
  name: string;
  state: string;
  nodeId: string;
  owner: string;
  jobId: string;
  startMs: number;
  endMs: number;
  resources: ResourceSet;
  /** When its last attempt began running on a worker of this node (epoch ms); 0 if it has not run here. */
  runStartMs: number;
  /** For an actor method call: the actor. */
  actorId?: string;
  /** The worker that ran its last attempt here ('' if none). */
  workerId: string;
}

/** A task's result as its owner records it: a value, or where another node keeps it. */
export type ResultValue = StoredValue | { t: 'remote'; location: string; size: number };

/** A placement group as the node knows it (embedded clusters keep the whole table here). */
export interface GroupState {
  id: string;
  name: string;
  strategy: PlacementStrategy;
  bundles: ResourceSet[];
  state: 'PENDING' | 'CREATED' | 'REMOVED' | 'INFEASIBLE';
  bundleNodes: string[];
  reason: string;
}

/**
 * What a node of a multi-node cluster adds (cluster/cluster-node.ts): placement across nodes,
 * forwarding of work, object pulls, and the cluster-wide actor table. Undefined when embedded.
 */
export interface ClusterLink {
  /** Where queued work owned here runs: here, another node, or an error (no node can take it). */
  sendCollective(to: string, key: string, dtype: string, data: ArrayBufferView): void;
  place(
    resources: ResourceSet,
    strategy: SchedulingStrategySpec | undefined,
    localFits: boolean,
  ): string | { error: string } | { wait: string };
  /** Why no node of the cluster can ever run it (undefined: some node can). */
  infeasible(resources: ResourceSet): { name: string; requested: number; total: number } | undefined;
  forwardTask(nodeId: string, spec: TaskSpec, noSpill: boolean): void;
  /**
   * A node other than this one (and `except`) with room for the work now, by this node's view;
   * it counts as taken there until the next view. Undefined: none.
   */
  spillTarget(resources: ResourceSet, except: string): string | undefined;
  /** Tells a task's owner to send it to `nodeId`: this node has forgotten it. */
  spillBack(origin: string, taskId: string, nodeId: string): void;
  /** Whether the node is alive in this node's view. */
  isAlive(nodeId: string): boolean;
  cancelRemote(nodeId: string, taskId: string, force: boolean, recursive: boolean): void;
  sendTaskDone(
    origin: string,
    taskId: string,
    results: StoredValue[],
    producer: WorkerHandle | undefined,
    ms: number | undefined,
  ): void;
  /** Brings the bytes of `remote` objects to this node. */
  pull(ids: string[]): Promise<void>;
  createActor(spec: ActorCreationSpec): void;
  submitActorTask(spec: ActorTaskSpec): void;
  killActor(actorId: string, noRestart: boolean): Promise<void>;
  getActor(name: string, namespace: string): Promise<ActorHandleData | undefined>;
  namedActors(): Promise<{ name: string; namespace: string }[]>;
  actorState(actorId: string, state: 'ALIVE' | 'DEAD' | 'RESTARTING', cause?: string): void;
  group(id: string): GroupState | undefined;
  clusterInfo(): ClusterInfo;
  kv(op: KvOp): Promise<unknown>;
}

export interface NodeOptions {
  nodeId: string;
  jobId: string;
  namespace: string;
  resources: Record<string, number>;
  gpuIds: number[] | undefined;
  objectStoreBytes: number;
  config: RuntimeConfig;
  /** False for a driver's node in a multi-node cluster: it owns objects but runs nothing. */
  executes?: boolean;
}

/** A unit of scheduled work: a normal task, or the creation of an actor that holds resources. */
interface Work {
  readonly id: string;
  readonly kind: 'task' | 'create';
  readonly task: TaskSpec | undefined;
  readonly actor: ActorRecord | undefined;
  readonly args: ArgSpec[];
  readonly resources: ResourceSet;
  readonly isolation: 'thread' | 'process';
  readonly shapeKey: string;
  state: 'waiting' | 'queued' | 'running' | 'done';
  attempts: number;
  depsLeft: number;
  worker: WorkerHandle | undefined;
  /** Resources of a task sent to a worker whose own tasks all wait in get (held until it ends). */
  alloc: Allocation | undefined;
  /** Pending get/wait calls of this task while it holds `alloc` (its CPU is lent out meanwhile). */
  blocked: number;
  /** Sequence number on its worker (to tell which task was running if the worker dies). */
  seq: number;
  /** When it was sent to its worker (performance.now()). */
  sentAt: number;
  cancelled: boolean;
  children: Set<string> | undefined;
  /** Multi-node: the owner node this work runs for (its results go back there). */
  origin: string | undefined;
  /** Multi-node: the node this owned work was forwarded to. */
  remote: string | undefined;
  /** Multi-node, owned work: times executors sent it back (spillback), and where to send it next. */
  spills: number;
  spillTo: string | undefined;
  /** Multi-node, forwarded work: run it here even when another node has room first. */
  noSpill: boolean;
  strategy: SchedulingStrategySpec | undefined;
  startMs: number;
  /** When its last attempt was sent to a worker here (epoch ms), and that worker's id, for the timeline. */
  runStartMs?: number;
  ranOn?: string;
}

/**
 * A task worker at work: the resources it holds, and the tasks sent to it in order. Short tasks
 * of the same shape are pipelined: sent before the one ahead finishes, so the worker never waits
 * for a round trip; they share the slot's resources and run one after another.
 */
interface Slot {
  readonly works: Work[];
  /** Undefined once every task left on the worker holds resources of its own. */
  alloc: Allocation | undefined;
  readonly shapeKey: string;
  /** Pending get/wait calls of its tasks; while any, the slot's CPUs are lent out. */
  blocked: number;
  cpuReleased: boolean;
}

function shapeKeyOf(r: ResourceSet, isolation: string, envKey: string): string {
  let k = isolation;
  for (const name of Object.keys(r).sort()) k += `|${name}=${r[name]}`;
  // Work of another runtime environment never shares a worker (nor a pipeline) with this one.
  return envKey ? `${k}|env=${envKey}` : k;
}

/** The runtime environment's variables of a task or actor creation. */
function envVarsOf(work: { task?: TaskSpec; actor?: ActorRecord }): EnvVars | undefined {
  return work.task?.envVars ?? work.actor?.spec.options.envVars;
}

function fmtResources(r: ResourceSet): string {
  return (
    '{ ' +
    Object.entries(r)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') +
    ' }'
  );
}

export class NodeManager {
  readonly nodeId: string;
  readonly jobId: string;
  readonly namespace: string;
  readonly store: ObjectStore;
  readonly pool: ResourcePool;
  private readonly config: RuntimeConfig;
  private readonly works = new Map<string, Work>();
  /** Return object id -> the work or actor call producing it (while not done). */
  private readonly queues = new Map<string, Work[]>();
  private readonly actors: ActorManager;
  private readonly workers: WorkerPool;
  private readonly slots = new Map<WorkerHandle, Slot>();
  /** Moving average of each function's run time in ms, reported by workers (for pipelining). */
  private readonly fnMs = new Map<string, number>();
  private scheduleQueued = false;
  private busyCount = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly executes: boolean;
  /** Set when the node is part of a multi-node cluster. */
  cluster: ClusterLink | undefined;
  /** Actor calls run here for another node: task id -> that node. */
  private readonly forwardedCalls = new Map<string, string>();
  /** Placement groups of an embedded cluster; bundles reserved on this node (both modes). */
  private readonly groups = new Map<string, GroupState>();
  private readonly reserved = new Map<string, { alloc: Allocation; added: Record<string, number> }>();
  /** Works queued on a group that is being created. */
  private readonly groupWaiters = new Map<string, Work[]>();
  private readonly kvStore = new Map<string, Uint8Array>();
  /**
   * Lineage (multi-node): tasks whose results live on other nodes, kept (with their arguments
   * pinned) while any of those results is alive here, so that a result lost with its node can be
   * made again by running the task again.
   */
  private readonly lineage = new Map<
    string,
    {
      spec: TaskSpec;
      resources: ResourceSet;
      strategy: SchedulingStrategySpec | undefined;
      attempts: number;
      live: Set<string>;
    }
  >();
  private readonly lineageOf = new Map<string, string>();
  /** Recently finished tasks, for the state API. */
  readonly finishedTasks: TaskRecord[] = [];

  constructor(opts: NodeOptions) {
    this.nodeId = opts.nodeId;
    this.jobId = opts.jobId;
    this.namespace = opts.namespace;
    this.config = opts.config;
    this.executes = opts.executes ?? true;
    this.pool = new ResourcePool(opts.resources, opts.gpuIds);
    this.store = new ObjectStore(
      opts.objectStoreBytes,
      opts.config.inlineObjectMaxBytes,
      `${opts.config.spillDirectory}/${opts.nodeId}`,
    );
    this.actors = new ActorManager(this.actorHost(), opts.resources.CPU ?? 1);
    // Unread shared buffers a worker made go back to it, to be written again without page faults.
    this.store.onFree = (id) => this.releaseLineage(id);
    this.store.onReturnBuffer = (producer, buf) => {
      const w = producer as WorkerHandle;
      if (!w.dead && w.kind === 'thread') w.send({ k: 'buffer', buf });
    };
    this.workers = new WorkerPool({
      boot: {
        nodeId: this.nodeId,
        jobId: this.jobId,
        namespace: this.namespace,
        inlineObjectMaxBytes: this.config.inlineObjectMaxBytes,
        bufferPoolBytes: Math.min(1024 ** 3, Math.floor(this.store.capacityBytes / 8)),
      },
      heapMb: this.config.workerHeapMb,
      logToDriver: this.config.logToDriver,
      idleTimeoutMs: this.config.workerIdleTimeoutMs,
      keepThreads: Math.ceil(opts.resources.CPU ?? 1),
      onMessage: (worker, msg) => this.onWorkerMessage(worker, msg),
      onExit: (worker) => this.onWorkerExit(worker),
    });
    this.workers.prestart(Math.min(opts.config.prestartWorkers, Math.ceil(opts.resources.CPU ?? 0)));
  }

  /** What the actor table may use of this node. */
  private actorHost(): ActorHost {
    return {
      store: this.store,
      pool: this.pool,
      config: this.config,
      namespace: this.namespace,
      nodeId: this.nodeId,
      spawnThread: () => this.workers.spawn('thread', undefined),
      startCreation: (actor) => {
        const o = actor.spec.options;
        const work = this.newWork(
          `create:${actor.spec.actorId}:${actor.numRestarts}`,
          'create',
          undefined,
          actor,
          actor.spec.args,
          o.resources,
          o.isolation === 'process' ? 'process' : 'thread',
        );
        work.strategy = o.strategy;
        this.unpinArgs(actor.spec.args); // the actor record holds the pins
        // In a placement group: waits for the group to be created (see groupChanged).
        const err =
          o.strategy?.type === 'PLACEMENT_GROUP'
            ? this.checkFeasible(work, `Actor '${actor.spec.className}' (${actor.spec.actorId})`)
            : undefined;
        if (err === 'wait') return work;
        if (err) {
          const e = (err as { e: WireError }).e;
          queueMicrotask(() => this.actors.actorDied(actor, e.message, e, true));
          return work;
        }
        this.startWork(work);
        return work;
      },
      endCreation: (creation, cancelled) => {
        const work = creation as Work;
        this.works.delete(work.id);
        if (work.state !== 'done') this.busy(-1);
        work.state = 'done';
        if (cancelled) work.cancelled = true;
      },
      busy: (d) => this.busy(d),
      requestSchedule: () => this.requestSchedule(),
      pinArgs: (a) => this.pinArgs(a),
      unpinArgs: (a) => this.unpinArgs(a),
      resolveArgs: (a) => this.resolveArgs(a),
      fetchRefs: (ids) =>
        this.cluster
          ? this.cluster.pull(ids).then(
              () => undefined,
              (err: unknown) => storedError(errorToWire(err)),
            )
          : Promise.resolve(undefined),
      context: (work, name, alloc, actorId, strategy) => this.context(work, name, alloc, actorId, strategy),
      fnFor: (w, ref) => this.fnFor(w, ref),
      unschedulable: (what, req, missing, taskId, actorId) => this.unschedulable(what, req, missing, taskId, actorId),
      cancelledValue: (taskId) => this.cancelledValue(taskId),
      createReturns: (spec) => {
        if (this.forwardedCalls.has(spec.taskId)) return;
        // A call handed over by the cluster layer already has its entries (and their holders).
        for (const id of spec.returnIds) if (!this.store.has(id)) this.store.createPending(id);
      },
      finishReturns: (spec, result, producer) => {
        const origin = this.forwardedCalls.get(spec.taskId);
        if (origin !== undefined) {
          this.forwardedCalls.delete(spec.taskId);
          this.cluster?.sendTaskDone(
            origin,
            spec.taskId,
            Array.isArray(result) ? result : spec.returnIds.map(() => result),
            producer,
            undefined,
          );
          return;
        }
        const ids = spec.returnIds;
        for (let i = 0; i < ids.length; i++)
          this.store.put(ids[i], Array.isArray(result) ? result[i] : result, producer);
      },
      actorState: (actorId, state, cause) => this.cluster?.actorState(actorId, state, cause),
      recordCall: (spec, jobId, workerId, ms, ok) => this.recordCall(spec, jobId, workerId, ms, ok),
    };
  }

  // ---------------------------------------------------------------- keep-alive
  /** While work is outstanding the process must not exit (workers are unref'd). */
  private busy(delta: number): void {
    this.busyCount += delta;
    if (this.busyCount > 0 && !this.keepAlive && !this.stopped) {
      this.keepAlive = setInterval(() => {}, 1 << 30);
    } else if (this.busyCount <= 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  // ---------------------------------------------------------------- workers
  private fnFor(w: WorkerHandle, ref: FnRef): FnRef {
    if (w.knownFns.has(ref.id)) return { id: ref.id };
    w.knownFns.add(ref.id);
    return ref;
  }

  // ---------------------------------------------------------------- submission
  /** Accepts a task from the driver or a worker. */
  submitTask(spec: TaskSpec): void {
    for (const id of spec.returnIds) this.store.createPending(id);
    const st = spec.strategy;
    const resources =
      st?.type === 'PLACEMENT_GROUP'
        ? groupResources(spec.resources, st.placementGroupId, st.bundleIndex)
        : spec.resources;
    const work = this.newWork(spec.taskId, 'task', spec, undefined, spec.args, resources, spec.isolation);
    work.strategy = st;
    if (spec.parentTaskId) {
      const parent = this.works.get(spec.parentTaskId);
      if (parent) (parent.children ??= new Set()).add(spec.taskId);
    }
    const err = this.checkFeasible(work, `Task '${spec.name}' (${spec.taskId})`, spec.taskId);
    if (err === 'wait') return;
    if (err) {
      // Deferred: the caller makes its refs right after submitting, and they must hold the error.
      queueMicrotask(() => this.finishWork(work, err));
      return;
    }
    this.startWork(work);
  }

  /** Runs a task for the node that owns it (multi-node); its results go back there. */
  executeForwarded(spec: TaskSpec, origin: string, noSpill = false): void {
    const st = spec.strategy;
    const resources =
      st?.type === 'PLACEMENT_GROUP'
        ? groupResources(spec.resources, st.placementGroupId, st.bundleIndex)
        : spec.resources;
    const work = this.newWork(spec.taskId, 'task', spec, undefined, spec.args, resources, spec.isolation);
    work.origin = origin;
    work.noSpill = noSpill || st?.type === 'PLACEMENT_GROUP' || st?.type === 'NODE_AFFINITY';
    const missing = this.pool.missing(resources);
    if (missing) {
      this.finishWork(
        work,
        this.unschedulable(`Task '${spec.name}' (${spec.taskId})`, resources, missing, spec.taskId),
      );
      return;
    }
    this.startWork(work);
  }

  /** Runs an actor call for the node that owns its results (multi-node). */
  executeForwardedCall(spec: ActorTaskSpec, origin: string): void {
    this.forwardedCalls.set(spec.taskId, origin);
    this.actors.submitActorTask(spec);
  }

  /** Error value if no node can ever run the work, 'wait' if it waits for its placement group. */
  private checkFeasible(work: Work, what: string, taskId?: string): StoredValue | 'wait' | undefined {
    const st = work.strategy;
    if (st?.type === 'PLACEMENT_GROUP') {
      const g = this.cluster ? this.cluster.group(st.placementGroupId) : this.groups.get(st.placementGroupId);
      if (!g || g.state === 'PENDING') {
        const list = this.groupWaiters.get(st.placementGroupId) ?? [];
        list.push(work);
        this.groupWaiters.set(st.placementGroupId, list);
        return 'wait';
      }
      if (g.state !== 'CREATED') {
        return storedError(
          errorToWire(
            new UnschedulableError(
              `${what} cannot run in placement group ${g.id}: the group is ${g.state === 'REMOVED' ? 'removed' : `infeasible (${g.reason})`}.`,
              work.resources,
              { taskId, nodeId: this.nodeId },
            ),
          ),
        );
      }
      if (st.bundleIndex >= g.bundles.length) {
        return storedError(
          errorToWire(
            new UnschedulableError(
              `${what} asks for bundle ${st.bundleIndex} of placement group ${g.id}, which has ${g.bundles.length} bundles.`,
              work.resources,
              { taskId, nodeId: this.nodeId },
            ),
          ),
        );
      }
    }
    if (st?.type === 'NODE_AFFINITY' && !st.soft && !this.cluster && st.nodeId !== this.nodeId) {
      return storedError(
        errorToWire(
          new UnschedulableError(
            `${what} has a hard affinity to node ${st.nodeId}, which is not in this cluster (the only node is ${this.nodeId}). ` +
              `Use soft: true to run it elsewhere when the node is gone.`,
            work.resources,
            { taskId, nodeId: this.nodeId },
          ),
        ),
      );
    }
    const missing = this.cluster ? this.cluster.infeasible(work.resources) : this.pool.missing(work.resources);
    if (missing) return this.unschedulable(what, work.resources, missing, taskId);
    return undefined;
  }

  /** A placement group changed state: work waiting for it goes on (or fails). */
  groupChanged(id: string): void {
    const waiting = this.groupWaiters.get(id);
    if (!waiting) return;
    const g = this.cluster ? this.cluster.group(id) : this.groups.get(id);
    if (!g || g.state === 'PENDING') return;
    this.groupWaiters.delete(id);
    for (const work of waiting) {
      if (work.state === 'done') continue;
      if (work.kind === 'create') {
        const err = this.checkFeasible(work, `Actor '${work.actor!.spec.className}' (${work.actor!.spec.actorId})`);
        if (err === 'wait') continue;
        if (err)
          this.actors.actorDied(work.actor!, (err as { e: WireError }).e.message, (err as { e: WireError }).e, true);
        else this.startWork(work);
        continue;
      }
      const err = this.checkFeasible(work, `Task '${work.task!.name}' (${work.id})`, work.id);
      if (err === 'wait') continue;
      if (err) this.finishWork(work, err);
      else this.startWork(work);
    }
  }

  private unschedulable(
    what: string,
    req: ResourceSet,
    missing: { name: string; requested: number; total: number },
    taskId?: string,
    actorId?: string,
  ): StoredValue {
    const have = missing.total ? `${missing.total} ${missing.name}` : `no ${missing.name}`;
    const fix =
      missing.name === 'CPU'
        ? 'Lower numCpus or give the cluster more CPUs (init({ numCpus }))'
        : missing.name === 'GPU'
          ? 'Lower numGpus or start the cluster with GPUs (init({ numGpus }))'
          : `Lower it, or declare the resource on a node (init({ resources: { ${missing.name}: ${missing.requested} } }))`;
    return storedError(
      errorToWire(
        new UnschedulableError(
          `${what} asks for ${fmtResources(req)}, but no node can ever satisfy it: it needs ${missing.requested} ${missing.name} ` +
            `and the largest node has ${have}. ${fix}.`,
          req,
          { taskId, actorId, nodeId: this.nodeId },
        ),
      ),
    );
  }

  private newWork(
    id: string,
    kind: 'task' | 'create',
    task: TaskSpec | undefined,
    actor: ActorRecord | undefined,
    args: ArgSpec[],
    resources: ResourceSet,
    isolation: 'thread' | 'process',
    pin = true,
  ): Work {
    const work: Work = {
      id,
      kind,
      task,
      actor,
      args,
      resources,
      isolation,
      shapeKey: shapeKeyOf(resources, isolation, envKeyOf(envVarsOf({ task, actor }))),
      state: 'waiting',
      attempts: 0,
      depsLeft: 0,
      worker: undefined,
      alloc: undefined,
      blocked: 0,
      seq: 0,
      sentAt: 0,
      cancelled: false,
      children: undefined,
      origin: undefined,
      remote: undefined,
      strategy: undefined,
      startMs: Date.now(),
      spills: 0,
      spillTo: undefined,
      noSpill: false,
    };
    this.works.set(id, work);
    if (pin) this.pinArgs(args);
    this.busy(1);
    return work;
  }

  pinArgs(args: ArgSpec[]): void {
    for (const a of args) {
      if ('r' in a) this.store.pin(a.r);
      else for (const n of nestedRefs(a.v)) this.store.pin(n);
    }
  }

  unpinArgs(args: ArgSpec[]): void {
    for (const a of args) {
      if ('r' in a) this.store.unpin(a.r);
      else for (const n of nestedRefs(a.v)) this.store.unpin(n);
    }
  }

  /** Waits for the work's ObjectRef arguments, then queues it for resources. */
  private startWork(work: Work): void {
    work.state = 'waiting';
    let pending = 0;
    for (const a of work.args) {
      if ('r' in a && !this.store.isReady(a.r)) {
        if (!this.store.has(a.r)) continue; // lost: found at dispatch
        pending++;
        this.store.onReady(a.r, () => {
          if (--work.depsLeft === 0 && work.state === 'waiting' && !work.cancelled) this.enqueue(work);
        });
      }
    }
    work.depsLeft = pending;
    if (pending === 0) this.enqueue(work);
  }

  private enqueue(work: Work): void {
    work.state = 'queued';
    let q = this.queues.get(work.shapeKey);
    if (!q) this.queues.set(work.shapeKey, (q = []));
    q.push(work);
    this.requestSchedule();
  }

  private requestSchedule(): void {
    if (this.scheduleQueued || this.stopped) return;
    this.scheduleQueued = true;
    queueMicrotask(() => {
      this.scheduleQueued = false;
      this.schedule();
    });
  }

  private schedule(): void {
    for (const [key, q] of this.queues) {
      let i = 0;
      while (i < q.length) {
        const work = q[i];
        if (work.cancelled || work.state !== 'queued') {
          i++;
          continue;
        }
        // Only tasks are placed here: an actor's owner placed it on this node, and it waits here.
        if (this.cluster && !work.origin && work.kind === 'task') {
          const spillTo = work.spillTo;
          work.spillTo = undefined;
          const target =
            spillTo !== undefined && this.cluster.isAlive(spillTo)
              ? spillTo
              : this.cluster.place(work.resources, work.strategy, this.executes && this.pool.fits(work.resources));
          if (typeof target !== 'string' && 'wait' in target) break; // for a node the autoscaler may start
          if (typeof target !== 'string') {
            this.failUnplaceable(work, target.error);
            i++;
            continue;
          }
          if (target !== this.nodeId) {
            this.forward(work, target);
            i++;
            continue;
          }
        }
        if (this.cluster && !this.argsLocal(work)) {
          i++;
          continue;
        }
        const alloc = this.pool.tryAllocate(work.resources);
        if (alloc) this.dispatch(work, alloc);
        else if (!this.pipeline(work) && !this.spill(work)) break;
        i++;
      }
      if (i >= q.length) this.queues.delete(key);
      else if (i > 0) q.splice(0, i);
    }
  }

  private failUnplaceable(work: Work, message: string): void {
    const err = storedError(
      errorToWire(new UnschedulableError(message, work.resources, { taskId: work.id, nodeId: this.nodeId })),
    );
    if (work.kind === 'task') this.finishWork(work, err);
    else this.actors.actorDied(work.actor!, message, (err as { e: WireError }).e, true);
  }

  /** Sends owned work to another node. */
  private forward(work: Work, nodeId: string): void {
    work.state = 'running';
    work.remote = nodeId;
    work.attempts++;
    this.cluster!.forwardTask(nodeId, work.task!, work.spills >= MAX_SPILLS);
  }

  /**
   * As Ray's raylets spill back: a task queued here for its owner elsewhere, which cannot run here
   * yet while another node has room now, goes back to its owner to run there (else it would wait
   * here for as long as this node's CPUs stay taken, by a long task or an actor, while others idle).
   */
  private spill(work: Work): boolean {
    if (work.origin === undefined || work.kind !== 'task' || work.noSpill || !this.cluster) return false;
    const target = this.cluster.spillTarget(work.resources, this.nodeId);
    if (target === undefined) return false;
    work.state = 'done';
    this.works.delete(work.id);
    this.unpinArgs(work.args);
    this.busy(-1);
    this.cluster.spillBack(work.origin, work.id, target);
    return true;
  }

  /** An executor sent owned work back (spillback): it goes to `target` (or is placed again). */
  spilledBack(taskId: string, from: string, target: string): void {
    const work = this.works.get(taskId);
    if (!work || work.remote !== from || work.state !== 'running') return;
    work.remote = undefined;
    work.attempts--; // it never ran there
    work.spills++;
    work.spillTo = target;
    if (work.cancelled) this.finishWork(work, this.cancelledValue(work.id));
    else this.startWork(work);
  }

  /** True if the work's ref arguments are here; else pulls them and queues the work again after. */
  private argsLocal(work: Work): boolean {
    let missing: string[] | undefined;
    for (const a of work.args)
      if ('r' in a && this.store.has(a.r) && !this.store.isLocal(a.r) && this.store.isReady(a.r))
        (missing ??= []).push(a.r);
    if (!missing) return true;
    work.state = 'waiting';
    this.cluster!.pull(missing).then(
      () => {
        if (work.state === 'waiting' && !work.cancelled) this.enqueue(work);
      },
      (err: unknown) => {
        if (work.state === 'done') return;
        const e = storedError(errorToWire(err));
        if (work.kind === 'task') this.finishWork(work, e);
        else
          this.actors.actorDied(
            work.actor!,
            'an argument of its constructor could not be fetched',
            (e as { e: WireError }).e,
            true,
          );
      },
    );
    return false;
  }

  /** Resolves a work's arguments to stored values; returns the first dependency error instead, if any. */
  private resolveArgs(args: ArgSpec[]): { values: StoredValue[] } | { error: StoredValue } {
    const values: StoredValue[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if ('v' in a) values[i] = a.v;
      else {
        const v = this.store.get(a.r);
        if (!v) {
          return {
            error: storedError(
              errorToWire(
                new ObjectLostError(
                  `Object ${a.r}, argument ${i + 1}, is lost: no reference to it was left, so it was freed. Keep a ref to it until the task that takes it has been submitted.`,
                  { objectId: a.r, nodeId: this.nodeId },
                ),
              ),
            ),
          };
        }
        if (v.t === 'err') return { error: v };
        values[i] = v;
      }
    }
    return { values };
  }

  private context(
    work: { id: string },
    name: string,
    alloc: Allocation | undefined,
    actorId?: string,
    strategy?: SchedulingStrategySpec,
  ): TaskContextData {
    return {
      ...(strategy?.type === 'PLACEMENT_GROUP' && strategy.captureChildTasks
        ? { placementGroupId: strategy.placementGroupId }
        : {}),
      jobId: this.jobId,
      nodeId: this.nodeId,
      taskId: work.id,
      ...(actorId ? { actorId } : {}),
      name,
      assignedResources: (alloc?.amounts ?? {}) as Record<string, number>,
      gpuIds: alloc?.gpuIds ?? [],
    };
  }

  /**
   * Work in a placement group bundle that holds GPUs gets that bundle's GPU ids (the bundle's
   * reservation holds the devices; the work's allocation names them with no share of its own).
   */
  private withBundleGpus(alloc: Allocation, resources: ResourceSet): Allocation {
    if (alloc.gpuIds.length) return alloc;
    for (const k in resources) {
      if (!k.startsWith('GPU_') || !(resources[k] > 0)) continue;
      const m = /^GPU_(.+)_(\d+)$/.exec(k);
      let ids: number[] | undefined;
      if (m && this.reserved.has(`${m[1]}#${m[2]}`)) ids = this.reserved.get(`${m[1]}#${m[2]}`)!.alloc.gpuIds;
      else {
        // Any bundle of the group: the first reserved here with GPUs.
        const g = k.slice(4);
        for (const [key, r] of this.reserved)
          if (key.startsWith(`${g}#`) && r.alloc.gpuIds.length) {
            ids = r.alloc.gpuIds;
            break;
          }
      }
      if (ids?.length) {
        const n = Math.min(ids.length, Math.max(1, Math.ceil(resources[k] - 1e-9)));
        return { ...alloc, gpuIds: ids.slice(0, n), gpuShares: ids.slice(0, n).map(() => 0) };
      }
    }
    return alloc;
  }

  private dispatch(work: Work, alloc: Allocation): void {
    alloc = this.withBundleGpus(alloc, work.resources);
    const resolved = this.resolveArgs(work.args);
    if ('error' in resolved) {
      this.pool.release(alloc);
      if (work.kind === 'task') this.finishWork(work, resolved.error);
      else
        this.actors.actorDied(
          work.actor!,
          'an argument of its constructor failed',
          (resolved.error as { e: WireError }).e,
          true,
        );
      return;
    }
    const cuda = work.isolation === 'process' && alloc.gpuIds.length ? alloc.gpuIds.join(',') : undefined;
    if (work.kind === 'task') {
      const host = work.isolation === 'thread' ? this.blockedWorker(work.shapeKey) : undefined;
      if (host) {
        // Its tasks all wait in get: its thread is free, so it runs this one instead of a new thread.
        work.alloc = alloc;
        this.sendTask(work, host, resolved.values);
        return;
      }
      const w = this.workers.take(work.isolation, cuda, envVarsOf(work));
      this.slots.set(w, { works: [], alloc, shapeKey: work.shapeKey, blocked: 0, cpuReleased: false });
      this.sendTask(work, w, resolved.values);
    } else {
      work.state = 'running';
      work.attempts++;
      this.actors.placeActor(
        work.actor!,
        this.workers.spawn(work.isolation, cuda, envVarsOf(work)),
        alloc,
        resolved.values,
      );
    }
  }

  private sendTask(work: Work, w: WorkerHandle, args: StoredValue[]): void {
    const slot = this.slots.get(w)!;
    slot.works.push(work);
    work.state = 'running';
    work.attempts++;
    work.worker = w;
    work.seq = ++w.lastSeq;
    work.sentAt = performance.now();
    work.runStartMs = Date.now();
    work.ranOn = w.id;
    const spec = work.task!;
    const fn = this.fnFor(w, spec.fn);
    w.send({
      k: 'task',
      spec: fn === spec.fn ? spec : { ...spec, fn },
      args,
      ctx: this.context(work, spec.name, work.alloc ?? slot.alloc, undefined, spec.strategy),
      seq: work.seq,
    });
  }

  private blockedWorker(shapeKey: string): WorkerHandle | undefined {
    for (const [w, slot] of this.slots) {
      const allWaiting = slot.cpuReleased || (!slot.alloc && slot.works.every((x) => x.blocked > 0));
      if (allWaiting && slot.shapeKey === shapeKey && slot.works.length < this.config.pipelineDepth * 4) return w;
    }
    return undefined;
  }

  /** Sends a short task to a busy worker of the same shape, behind what it runs. */
  private pipeline(work: Work): boolean {
    if (work.kind !== 'task' || this.config.pipelineDepth <= 1) return false;
    const max = this.config.pipelineMaxTaskMs;
    const ms = this.fnMs.get(work.task!.fn.id);
    if (ms === undefined || ms > max) return false;
    const now = performance.now();
    let best: [WorkerHandle, Slot] | undefined;
    for (const entry of this.slots) {
      const slot = entry[1];
      if (!slot.alloc || slot.shapeKey !== work.shapeKey || slot.works.length >= this.config.pipelineDepth) continue;
      // Never queue behind a long task, known as such or running long now: a busy worker cannot
      // give queued tasks back (a synchronous task holds its thread), while another may be free soon.
      if (now - slot.works[0].sentAt > 5 * max) continue;
      if (!slot.works.every((x) => (this.fnMs.get(x.task!.fn.id) ?? Infinity) <= max)) continue;
      if (!best || slot.works.length < best[1].works.length) best = entry;
    }
    if (!best) return false;
    const resolved = this.resolveArgs(work.args);
    if ('error' in resolved) {
      this.finishWork(work, resolved.error);
      return true;
    }
    this.sendTask(work, best[0], resolved.values);
    return true;
  }

  // ---------------------------------------------------------------- task completion
  /** Stores a work's results (or its error in every return) and drops its bookkeeping. */
  private finishWork(work: Work, result: ResultValue | ResultValue[], producer?: WorkerHandle, ms?: number): void {
    if (work.state === 'done') return;
    work.state = 'done';
    this.works.delete(work.id);
    if (work.task) {
      const ids = work.task.returnIds;
      this.recordFinished(work, Array.isArray(result) ? result[0] : result);
      if (work.origin !== undefined) {
        const list = (Array.isArray(result) ? result : ids.map(() => result)) as StoredValue[];
        this.cluster?.sendTaskDone(work.origin, work.id, list, producer, ms);
      } else {
        for (let i = 0; i < ids.length; i++)
          this.storeResult(ids[i], Array.isArray(result) ? result[i] : result, producer);
      }
      if (work.task.parentTaskId) this.works.get(work.task.parentTaskId)?.children?.delete(work.id);
      // Results that live on another node keep the task's lineage, and with it the pins of its arguments.
      const elsewhere =
        this.cluster !== undefined &&
        this.config.lineagePinning &&
        work.origin === undefined &&
        Array.isArray(result) &&
        result.some((r) => r.t === 'remote');
      if (!this.keepLineage(work, elsewhere)) this.unpinArgs(work.args);
    }
    this.busy(-1);
  }

  storeResult(id: string, v: ResultValue, producer?: WorkerHandle): void {
    if (v.t === 'remote') this.store.putRemote(id, v.location, v.size);
    else this.store.put(id, v, producer);
  }

  private recordCall(
    spec: ActorTaskSpec,
    jobId: string | undefined,
    workerId: string,
    ms: number | undefined,
    ok: boolean,
  ): void {
    const end = Date.now();
    const start = ms === undefined ? end : end - ms;
    this.pushFinished({
      taskId: spec.taskId,
      name: spec.name,
      state: ok ? 'FINISHED' : 'FAILED',
      nodeId: this.nodeId,
      owner: this.nodeId,
      jobId: jobId ?? this.jobId,
      startMs: start,
      endMs: end,
      resources: {},
      runStartMs: start,
      workerId,
      actorId: spec.actorId,
    });
  }

  /** Keeps the last 5,000-10,000 finished tasks and calls (for listTasks and the timeline). */
  private pushFinished(rec: TaskRecord): void {
    const f = this.finishedTasks;
    f.push(rec);
    if (f.length > 10_000) f.splice(0, f.length - 5_000);
  }

  private recordFinished(work: Work, first: ResultValue | undefined): void {
    this.pushFinished({
      taskId: work.id,
      name: work.task!.name,
      state: work.cancelled ? 'CANCELLED' : first?.t === 'err' ? 'FAILED' : 'FINISHED',
      nodeId: work.remote ?? this.nodeId,
      owner: work.origin ?? this.nodeId,
      jobId: work.task!.jobId ?? this.jobId,
      startMs: work.startMs,
      endMs: Date.now(),
      resources: work.resources,
      runStartMs: work.remote ? 0 : (work.runStartMs ?? 0),
      workerId: work.remote ? '' : (work.ranOn ?? ''),
    });
  }

  /**
   * A node this one sent work to is gone (dead, or left): its tasks run again elsewhere while
   * retries last (the attempt counts, as a worker crash does), else fail with NodeDiedError.
   */
  nodeLost(nodeId: string, why: string): void {
    for (const work of [...this.works.values()]) {
      if (work.remote !== nodeId || work.state !== 'running' || !work.task) continue;
      work.remote = undefined;
      const spec = work.task;
      if (work.cancelled) this.finishWork(work, this.cancelledValue(work.id));
      else if (spec.maxRetries === -1 || work.attempts <= spec.maxRetries) this.startWork(work);
      else {
        this.finishWork(
          work,
          storedError(
            errorToWire(
              new NodeDiedError(
                `Task '${spec.name}' (${spec.taskId}) was running on node ${nodeId}, which ${why}; no retries were left (maxRetries ${spec.maxRetries}). ` +
                  `Raise maxRetries to run it again elsewhere.`,
                { taskId: spec.taskId, nodeId },
              ),
            ),
          ),
        );
      }
    }
    this.rebuildLost(nodeId);
    this.requestSchedule();
  }

  /**
   * Keeps (or, for a rebuild, keeps on) a finished task's lineage while its results are alive;
   * false if there is none to keep (the caller unpins the arguments then).
   */
  private keepLineage(work: Work, resultsElsewhere: boolean): boolean {
    const spec = work.task!;
    const prev = this.lineage.get(spec.taskId);
    if (!prev && !resultsElsewhere) return false;
    const live = new Set(spec.returnIds.filter((id) => this.store.has(id)));
    if (!live.size) {
      if (prev) this.lineage.delete(spec.taskId); // the caller drops the pins it held
      return false;
    }
    if (prev) {
      prev.attempts = work.attempts; // a rebuild ended: the pins taken the first time still stand
      prev.live = live;
      return true;
    }
    this.lineage.set(spec.taskId, {
      spec,
      resources: work.resources,
      strategy: work.strategy,
      attempts: work.attempts,
      live,
    });
    for (const id of live) this.lineageOf.set(id, spec.taskId);
    return true;
  }

  private releaseLineage(id: string): void {
    const taskId = this.lineageOf.get(id);
    if (taskId === undefined) return;
    this.lineageOf.delete(id);
    const l = this.lineage.get(taskId);
    if (!l) return;
    l.live.delete(id);
    if (l.live.size === 0 && !this.works.has(taskId)) {
      this.lineage.delete(taskId);
      this.unpinArgs(l.spec.args);
    }
  }

  /**
   * Results owned here whose bytes were on a node that is gone: run the tasks that made them
   * again (their arguments were kept; lost arguments are rebuilt the same way first, as the new
   * run waits for them), while the task's retries last.
   */
  private rebuildLost(nodeId: string): void {
    for (const [taskId, l] of this.lineage) {
      const lost = [...l.live].filter((id) => this.store.locationOf(id) === nodeId);
      if (!lost.length || this.works.has(taskId)) continue;
      const spec = l.spec;
      if (spec.maxRetries !== -1 && l.attempts > spec.maxRetries) continue; // pulls report it lost
      for (const id of lost) this.store.resetPending(id);
      // The lineage holds the pins of its arguments: the new run takes none of its own.
      const work = this.newWork(taskId, 'task', spec, undefined, spec.args, l.resources, spec.isolation, false);
      work.strategy = l.strategy;
      work.attempts = l.attempts;
      this.startWork(work);
    }
  }

  /** A forwarded task finished on another node (its TaskDone). */
  onRemoteTaskDone(taskId: string, results: ResultValue[], ms: number | undefined): boolean {
    const work = this.works.get(taskId);
    if (!work || work.remote === undefined) return false;
    if (work.cancelled) this.finishWork(work, this.cancelledValue(work.id));
    else this.finishWork(work, results, undefined, ms);
    return true;
  }

  private releaseWorkAlloc(work: Work): void {
    const a = work.alloc;
    if (!a) return;
    work.alloc = undefined;
    if (work.blocked > 0) this.pool.release({ ...a, amounts: { ...a.amounts, CPU: 0 } });
    else this.pool.release(a);
    work.blocked = 0;
  }

  private releaseSlot(slot: Slot): void {
    const a = slot.alloc;
    if (!a) return;
    slot.alloc = undefined;
    if (slot.cpuReleased) {
      this.pool.release({ ...a, amounts: { ...a.amounts, CPU: 0 } });
      slot.cpuReleased = false;
    } else this.pool.release(a);
  }

  private onTaskDone(
    w: WorkerHandle,
    taskId: string,
    outcome: Extract<FromWorker, { k: 'done' }>['outcome'],
    ms: number | undefined,
  ): void {
    const work = this.works.get(taskId);
    if (work && work.worker === w && work.kind === 'task') {
      const slot = this.slots.get(w)!;
      const i = slot.works.indexOf(work);
      if (i >= 0) slot.works.splice(i, 1);
      if (ms !== undefined) {
        work.runStartMs = Date.now() - ms; // the worker's own measure: pipelined tasks wait there first
        const id = work.task!.fn.id;
        const prev = this.fnMs.get(id);
        this.fnMs.set(id, prev === undefined ? ms : prev * 0.8 + ms * 0.2);
      }
      work.worker = undefined;
      this.releaseWorkAlloc(work);
      if (slot.works.length === 0) {
        this.slots.delete(w);
        this.releaseSlot(slot);
        this.workers.release(w);
      } else if (slot.alloc && slot.works.every((x) => x.alloc)) {
        // The tasks left brought resources of their own: the worker's first allocation is done.
        this.releaseSlot(slot);
      }
      if (work.cancelled) this.finishWork(work, this.cancelledValue(work.id));
      else if (outcome.ok) this.finishWork(work, outcome.results, w, ms);
      else if (this.shouldRetryException(work, outcome.errorName)) this.startWork(work);
      else this.finishWork(work, storedError(outcome.error));
      this.requestSchedule();
      return;
    }
    this.actors.onCallDone(w, taskId, outcome, ms);
  }

  private shouldRetryException(work: Work, errorName: string): boolean {
    const spec = work.task!;
    const re = spec.retryExceptions;
    if (re === false || (Array.isArray(re) && !re.includes(errorName))) return false;
    return spec.maxRetries === -1 || work.attempts <= spec.maxRetries;
  }

  private cancelledValue(taskId: string): StoredValue {
    return storedError(errorToWire(new TaskCancelledError(`Task ${taskId} was cancelled.`, { taskId })));
  }

  // ---------------------------------------------------------------- worker death
  private onWorkerExit(w: WorkerHandle): void {
    for (const id of w.heldRefs) this.store.removeHolder(id);
    w.heldRefs.clear();
    if (this.stopped) return;
    const slot = this.slots.get(w);
    if (slot) {
      this.slots.delete(w);
      this.releaseSlot(slot);
      // The task the worker was running when it died: from its status word (threads), else the first.
      const runningSeq = w.status ? Atomics.load(w.status, 0) : slot.works[0]?.seq;
      const culprit = slot.works.find((x) => x.seq === runningSeq) ?? slot.works[0];
      slot.works.forEach((work) => {
        work.worker = undefined;
        this.releaseWorkAlloc(work);
        const spec = work.task!;
        if (work.cancelled) this.finishWork(work, this.cancelledValue(work.id));
        else if (work !== culprit) {
          // Queued behind (or finished just before) the task that was running: no attempt used.
          work.attempts--;
          this.startWork(work);
        } else if (spec.maxRetries === -1 || work.attempts <= spec.maxRetries) this.startWork(work);
        else
          this.finishWork(
            work,
            storedError(errorToWire(this.workerDeathError(w, `Task '${spec.name}' (${spec.taskId})`, spec.taskId))),
          );
      });
    }
    this.actors.onWorkerExit(w);
    this.requestSchedule();
  }

  private workerDeathError(w: WorkerHandle, what: string, taskId: string): RayError {
    if (w.exitReason === 'oom') {
      return new OutOfMemoryError(
        `${what} ran out of memory: its worker exceeded its heap limit (${w.exitDetail}). ` +
          `Process less data per task, or raise the limit with RAY_TS_WORKER_HEAP_MB.`,
        { taskId, workerId: w.id, nodeId: this.nodeId },
      );
    }
    return new WorkerCrashedError(
      `${what} failed: its worker ${w.kind} died while running it (${w.exitDetail || 'exited'}), and no retries were left. ` +
        `Raise maxRetries to retry it.`,
      { taskId, workerId: w.id, nodeId: this.nodeId },
    );
  }

  // ---------------------------------------------------------------- actors (see actors.ts)
  /** Registers an actor and schedules its creation; returns an existing actor's id for getIfExists. */
  createActor(spec: ActorCreationSpec): string | undefined {
    if (this.cluster) {
      this.cluster.createActor(spec);
      return undefined;
    }
    return this.actors.createActor(inGroup(spec));
  }

  /** Creates an actor on this node (multi-node: placed here by its owner). */
  createLocalActor(spec: ActorCreationSpec): void {
    this.actors.createActorFromWorker(inGroup(spec));
  }

  /** True if the actor's record is on this node. */
  hostsActor(actorId: string): boolean {
    return this.actors.knows(actorId);
  }

  submitActorTask(spec: ActorTaskSpec): void {
    if (this.cluster && !this.actors.knows(spec.actorId)) this.cluster.submitActorTask(spec);
    else this.actors.submitActorTask(spec);
  }

  killActor(actorId: string, noRestart: boolean): Promise<void> {
    if (this.cluster && !this.actors.knows(actorId)) return this.cluster.killActor(actorId, noRestart);
    return this.actors.killActor(actorId, noRestart);
  }

  /** Named actors alive on the cluster (this node's, on an embedded one). */
  namedActors(): Promise<{ name: string; namespace: string }[]> {
    return this.cluster ? this.cluster.namedActors() : Promise.resolve(this.actors.namedActors());
  }

  getActorByName(
    name: string,
    namespace: string | undefined,
  ): ActorHandleData | undefined | Promise<ActorHandleData | undefined> {
    const local = this.actors.getActorByName(name, namespace);
    if (local || !this.cluster) return local;
    return this.cluster.getActor(name, namespace ?? this.namespace);
  }

  // ---------------------------------------------------------------- placement groups
  /** Creates a placement group on an embedded cluster (one node: every bundle goes here). */
  createGroupLocal(g: GroupState): void {
    this.groups.set(g.id, g);
    const r = placeBundles(g.strategy, g.bundles, [
      { nodeId: this.nodeId, total: this.pool.total, available: this.pool.availableResources() },
    ]);
    if (
      r.ok &&
      this.reserveBundles(
        g.id,
        g.bundles.map((_, i) => i),
        g.bundles,
      )
    ) {
      g.state = 'CREATED';
      g.bundleNodes = r.nodes;
    } else if (!r.ok && r.infeasible) {
      g.state = 'INFEASIBLE';
      g.reason = r.reason;
    } else {
      g.reason = r.ok ? 'waiting for resources' : r.reason;
      const retry = setInterval(() => {
        if (g.state !== 'PENDING' || this.stopped) clearInterval(retry);
        else if (
          this.reserveBundles(
            g.id,
            g.bundles.map((_, i) => i),
            g.bundles,
          )
        ) {
          clearInterval(retry);
          g.state = 'CREATED';
          g.bundleNodes = g.bundles.map(() => this.nodeId);
          this.groupChanged(g.id);
        }
      }, 20);
      retry.unref();
    }
    queueMicrotask(() => this.groupChanged(g.id));
  }

  removeGroupLocal(id: string): void {
    const g = this.groups.get(id);
    if (!g || g.state === 'REMOVED') return;
    const was = g.state;
    g.state = 'REMOVED';
    g.reason = 'removed with removePlacementGroup()';
    if (was === 'CREATED')
      this.returnBundles(
        id,
        g.bundles.map((_, i) => i),
      );
    this.groupChanged(id);
  }

  groupLocal(id: string): GroupState | undefined {
    return this.groups.get(id);
  }

  groupsLocal(): GroupState[] {
    return [...this.groups.values()];
  }

  /** Reserves bundles of a group here, all or none; their renamed resources appear on the node. */
  reserveBundles(groupId: string, indexes: number[], bundles: ResourceSet[]): boolean {
    const taken: Allocation[] = [];
    for (const b of bundles) {
      const a = this.pool.tryAllocate(b);
      if (!a) {
        for (const t of taken) this.pool.release(t);
        return false;
      }
      taken.push(a);
    }
    indexes.forEach((idx, i) => {
      const added = bundleResources(bundles[i], groupId, idx);
      this.pool.addResources(added);
      this.reserved.set(`${groupId}#${idx}`, { alloc: taken[i], added });
    });
    this.requestSchedule();
    return true;
  }

  returnBundles(groupId: string, indexes: number[]): void {
    for (const idx of indexes) {
      const r = this.reserved.get(`${groupId}#${idx}`);
      if (!r) continue;
      this.reserved.delete(`${groupId}#${idx}`);
      this.pool.removeResources(r.added);
      this.pool.release(r.alloc);
    }
    this.requestSchedule();
  }

  /** The job of a driver ended: its actors that are not detached end too. */
  killJobActors(jobId: string): void {
    for (const id of this.actors.actorsOfJob(jobId)) void this.actors.killActor(id, true);
  }

  /** Called when the cluster view changed: queued work may fit elsewhere now. */
  viewChanged(): void {
    this.requestSchedule();
  }

  // ---------------------------------------------------------------- objects
  put(id: string, value: StoredValue): void {
    this.store.put(id, value);
  }

  addDriverRefs(idsToAdd: string[]): void {
    for (const id of idsToAdd) this.store.addHolder(id);
  }

  removeDriverRefs(idsToRemove: string[]): void {
    for (const id of idsToRemove) this.store.removeHolder(id);
  }

  /** Resolves when all `idsToGet` are ready, with their values (a lost object reads as ObjectLostError). */
  getValues(idsToGet: string[], timeoutMs: number | undefined, blockedTaskId?: string): Promise<StoredValue[]> {
    if (this.cluster) {
      if (idsToGet.some((id) => this.store.has(id) && !this.store.isLocal(id)))
        return this.getRemote(idsToGet, timeoutMs, blockedTaskId);
    }
    const notReady = idsToGet.filter((id) => this.store.has(id) && !this.store.isReady(id));
    if (notReady.length === 0) return Promise.resolve(idsToGet.map((id) => this.valueOf(id)));
    return new Promise((resolve, reject) => {
      let left = notReady.length;
      const blocked = this.blockTask(blockedTaskId);
      this.busy(1);
      let timer: NodeJS.Timeout | undefined;
      const cancels: (() => void)[] = [];
      const done = () => {
        if (timer) clearTimeout(timer);
        this.unblockTask(blocked);
        this.busy(-1);
      };
      for (const id of notReady) {
        cancels.push(
          this.store.onReady(id, () => {
            if (--left === 0) {
              done();
              resolve(idsToGet.map((i) => this.valueOf(i)));
            }
          }),
        );
      }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          for (const c of cancels) c();
          done();
          const still = idsToGet.filter((id) => this.store.has(id) && !this.store.isReady(id));
          reject(
            new GetTimeoutError(
              `get() timed out after ${timeoutMs} ms: ${still.length} of ${idsToGet.length} objects not ready ` +
                `(${still.slice(0, 3).join(', ')}${still.length > 3 ? ', ...' : ''}).`,
              { objectId: still[0] },
            ),
          );
        }, timeoutMs);
      }
    });
  }

  /** get() of objects whose bytes are elsewhere or not made yet (multi-node): wait, pull, read. */
  private async getRemote(
    idsToGet: string[],
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<StoredValue[]> {
    const blocked = this.blockTask(blockedTaskId);
    this.busy(1);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    try {
      // Owned objects still pending here: wait until their task finishes (maybe elsewhere).
      const pending = idsToGet.filter((id) => this.store.has(id) && !this.store.isReady(id));
      if (pending.length) {
        await this.waitForReady(pending, deadline);
      }
      const fetch = idsToGet.filter((id) => this.store.has(id) && !this.store.isLocal(id));
      let timer: NodeJS.Timeout | undefined;
      const pulls = this.cluster!.pull(fetch);
      if (deadline !== undefined) {
        await Promise.race([
          pulls,
          new Promise<void>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new GetTimeoutError(
                    `get() timed out after ${timeoutMs} ms: ${fetch.length} objects are still being fetched from other nodes (${fetch.slice(0, 3).join(', ')}).`,
                    { objectId: fetch[0] },
                  ),
                ),
              Math.max(0, deadline - Date.now()),
            );
          }),
        ]).finally(() => clearTimeout(timer));
      } else await pulls;
      return idsToGet.map((id) => this.valueOf(id));
    } finally {
      this.unblockTask(blocked);
      this.busy(-1);
    }
  }

  private waitForReady(idsToWait: string[], deadline: number | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      let left = idsToWait.length;
      const cancels: (() => void)[] = [];
      let timer: NodeJS.Timeout | undefined;
      for (const id of idsToWait) {
        cancels.push(
          this.store.onReady(id, () => {
            if (--left === 0) {
              if (timer) clearTimeout(timer);
              resolve();
            }
          }),
        );
      }
      if (deadline !== undefined && left > 0) {
        timer = setTimeout(
          () => {
            for (const c of cancels) c();
            const still = idsToWait.filter((id) => this.store.has(id) && !this.store.isReady(id));
            reject(
              new GetTimeoutError(
                `get() timed out: ${still.length} of ${idsToWait.length} objects not ready (${still.slice(0, 3).join(', ')}).`,
                { objectId: still[0] },
              ),
            );
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  private valueOf(id: string): StoredValue {
    const v = this.store.get(id);
    if (v) return v;
    if (this.stopped) {
      return storedError(
        errorToWire(
          new ObjectLostError(`Object ${id} is gone: shutdown() stopped the cluster before it was ready.`, {
            objectId: id,
            nodeId: this.nodeId,
          }),
        ),
      );
    }
    return storedError(
      errorToWire(
        new ObjectLostError(
          `Object ${id} is lost: it was freed because no reference to it was left, or it never existed in this cluster.`,
          { objectId: id, nodeId: this.nodeId },
        ),
      ),
    );
  }

  /** A task waiting in get/wait gives its CPUs back, so that the tasks it waits for can run. */
  private blockTask(taskId: string | undefined): Slot | Work | undefined {
    if (!taskId) return undefined;
    const work = this.works.get(taskId);
    if (work?.alloc) {
      if (work.blocked++ === 0) {
        this.pool.releaseCpu(work.alloc);
        this.requestSchedule();
      }
      return work;
    }
    const w = work?.worker;
    const slot = w && this.slots.get(w);
    if (!slot || !slot.alloc) return undefined;
    slot.blocked++;
    if (!slot.cpuReleased) {
      this.pool.releaseCpu(slot.alloc);
      slot.cpuReleased = true;
      this.requestSchedule();
    }
    return slot;
  }

  private unblockTask(token: Slot | Work | undefined): void {
    if (!token) return;
    if ('id' in token) {
      if (token.blocked > 0 && --token.blocked === 0 && token.alloc) this.pool.reacquireCpu(token.alloc);
      return;
    }
    const slot = token;
    slot.blocked--;
    if (slot.blocked > 0 || !slot.cpuReleased || !slot.alloc) return;
    this.pool.reacquireCpu(slot.alloc);
    slot.cpuReleased = false;
  }

  waitValues(
    idsToWait: string[],
    numReturns: number,
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<string[]> {
    if (this.cluster) return this.waitLocal(idsToWait, numReturns, timeoutMs, blockedTaskId);
    const ready = () => idsToWait.filter((id) => !this.store.has(id) || this.store.isReady(id));
    const now = ready();
    if (now.length >= numReturns || timeoutMs === 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const blocked = this.blockTask(blockedTaskId);
      this.busy(1);
      let count = now.length;
      let finished = false;
      const cancels: (() => void)[] = [];
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        for (const c of cancels) c();
        if (timer) clearTimeout(timer);
        this.unblockTask(blocked);
        this.busy(-1);
        resolve(ready());
      };
      for (const id of idsToWait) {
        if (this.store.has(id) && !this.store.isReady(id)) {
          cancels.push(
            this.store.onReady(id, () => {
              if (++count >= numReturns) queueMicrotask(finish);
            }),
          );
        }
      }
      if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs);
    });
  }

  /** Resolves once the object's bytes are here (or it is known lost): waits, then pulls. */
  private whenLocal(id: string): Promise<void> {
    if (!this.store.has(id) || this.store.isLocal(id)) return Promise.resolve();
    if (!this.store.isReady(id))
      return new Promise<void>((r) => this.store.onReady(id, r)).then(() => this.whenLocal(id));
    return this.cluster!.pull([id]).catch(() => {});
  }

  /**
   * wait() on a multi-node cluster: an object counts as ready once its bytes are on this node
   * (Ray's fetch_local), so a borrowed ref is ready only when its owner has the value.
   */
  private waitLocal(
    idsToWait: string[],
    numReturns: number,
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<string[]> {
    const ready = () => idsToWait.filter((id) => !this.store.has(id) || this.store.isLocal(id));
    const now = ready();
    if (now.length >= numReturns || timeoutMs === 0) {
      // Not waited for, but fetched meanwhile (as Ray's wait does).
      for (const id of idsToWait) if (!now.includes(id)) void this.whenLocal(id);
      return Promise.resolve(now);
    }
    return new Promise((resolve) => {
      const blocked = this.blockTask(blockedTaskId);
      this.busy(1);
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        this.unblockTask(blocked);
        this.busy(-1);
        resolve(ready());
      };
      for (const id of idsToWait) {
        if (now.includes(id)) continue;
        void this.whenLocal(id).then(() => {
          if (!finished && ready().length >= numReturns) finish();
        });
      }
      if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs);
    });
  }

  // ---------------------------------------------------------------- cancellation
  async cancel(objectId: string, force: boolean, recursive: boolean): Promise<void> {
    // A return value's id is its task's id plus its index (objects made by put have none).
    const dot = objectId.lastIndexOf('.');
    const taskId = dot > 0 ? objectId.slice(0, dot) : objectId;
    const work = this.works.get(taskId);
    if (work) this.cancelWork(work, force, recursive);
    else this.actors.cancelCall(taskId, force);
  }

  private cancelWork(work: Work, force: boolean, recursive: boolean): void {
    if (work.state === 'done' || work.kind !== 'task') return;
    const wasCancelled = work.cancelled;
    work.cancelled = true;
    if (recursive && work.children) {
      for (const child of [...work.children]) {
        const c = this.works.get(child);
        if (c) this.cancelWork(c, force, recursive);
      }
    }
    if (work.state === 'waiting' || work.state === 'queued') {
      this.finishWork(work, this.cancelledValue(work.id));
      return;
    }
    if (work.remote !== undefined) {
      this.cluster?.cancelRemote(work.remote, work.id, force, recursive);
      this.finishWork(work, this.cancelledValue(work.id));
      return;
    }
    // Running: the result reads as cancelled now; the worker stops it (force) or is asked to.
    if (wasCancelled && !force) return;
    const ids = work.task!.returnIds;
    for (const id of ids) this.store.put(id, this.cancelledValue(work.id));
    const w = work.worker;
    if (force && w && this.slots.get(w)?.works[0] === work) w.terminate('terminated', 'cancelled');
    else w?.send({ k: 'cancel', taskId: work.id });
  }

  // ---------------------------------------------------------------- messages from workers
  private onWorkerMessage(w: WorkerHandle, m: FromWorker): void {
    switch (m.k) {
      case 'done':
        this.onTaskDone(w, m.taskId, m.outcome, m.ms);
        break;
      case 'refs':
        for (const id of m.add) {
          if (!w.heldRefs.has(id) && this.store.has(id)) {
            w.heldRefs.add(id);
            this.store.addHolder(id);
          }
        }
        for (const id of m.remove) {
          if (w.heldRefs.delete(id)) this.store.removeHolder(id);
        }
        break;
      case 'put':
        this.store.put(m.id, m.value, w);
        break;
      case 'submitTask':
        this.submitTask(m.spec);
        this.holdReturns(w, m.spec.returnIds);
        break;
      case 'createActor':
        if (this.cluster) this.cluster.createActor(m.spec);
        else this.actors.createActorFromWorker(m.spec);
        break;
      case 'submitActorTask':
        this.submitActorTask(m.spec);
        this.holdReturns(w, m.spec.returnIds);
        break;
      case 'actorReady':
        this.actors.onActorReady(m.actorId);
        break;
      case 'actorFailed':
        this.actors.onActorFailed(m.actorId, m.error);
        break;
      case 'coll':
        this.deliverCollective(m.to, m.key, m.dtype, m.data, false);
        break;
      case 'req':
        this.onRequest(m.op).then(
          (value) => w.send({ k: 'reply', reqId: m.reqId, ok: true, value }),
          (err: unknown) => w.send({ k: 'reply', reqId: m.reqId, ok: false, error: errorToWire(err) }),
        );
        break;
    }
  }

  /**
   * Passes a collective message to the worker of actor `to`: here, or on its node (unless it came
   * from a peer). An actor still starting gets it once it runs; one unknown here and elsewhere
   * never does (its sender's operation times out, naming it).
   */
  deliverCollective(to: string, key: string, dtype: string, data: ArrayBufferView, fromPeer: boolean, tries = 0): void {
    const w = this.actors.workerOf(to);
    if (w) {
      w.send({ k: 'coll', to, key, dtype, data });
      return;
    }
    if (this.actors.knows(to) && !this.actors.isDead(to)) {
      if (tries < 3000) setTimeout(() => this.deliverCollective(to, key, dtype, data, fromPeer, tries + 1), 20).unref();
      return;
    }
    if (this.cluster && !fromPeer) this.cluster.sendCollective(to, key, dtype, data);
  }

  /**
   * The submitter holds the refs it gets back from the moment it submits: its own "first ref"
   * message comes later and the task may finish (and its result be freed) before that.
   */
  private holdReturns(w: WorkerHandle, returnIds: string[]): void {
    for (const id of returnIds) {
      if (!w.heldRefs.has(id) && this.store.has(id)) {
        w.heldRefs.add(id);
        this.store.addHolder(id);
      }
    }
  }

  private async onRequest(r: WorkerRequest): Promise<unknown> {
    switch (r.op) {
      case 'get':
        return this.getValues(r.ids, r.timeoutMs, r.taskId);
      case 'wait':
        return this.waitValues(r.ids, r.numReturns, r.timeoutMs, r.taskId);
      case 'cancel':
        return this.cancel(r.objectId, r.force, r.recursive);
      case 'kill':
        return r.exited
          ? this.actors.killActor(r.actorId, true, 'it called exitActor()')
          : this.killActor(r.actorId, r.noRestart);
      case 'getActor':
        return this.getActorByName(r.name, r.namespace);
      case 'namedActors':
        return this.namedActors();
      case 'clusterInfo':
        return this.clusterInfo();
      case 'kv':
        return this.kv(r.kv);
    }
  }

  clusterInfo(): ClusterInfo {
    if (this.cluster) return this.cluster.clusterInfo();
    return {
      total: this.userResources(this.pool.total),
      available: this.userResources(this.pool.availableResources()),
      nodes: [
        {
          nodeId: this.nodeId,
          alive: true,
          isHead: true,
          address: 'embedded',
          resources: { ...this.pool.total },
          objectStoreBytes: this.store.stats().capacityBytes,
        },
      ],
    };
  }

  /** The internal key-value store: the GCS's on a cluster, this node's on an embedded one. */
  async kv(op: KvOp): Promise<unknown> {
    if (this.cluster) return this.cluster.kv(op);
    const key = `${op.namespace}\u0000${op.k === 'keys' ? op.prefix : op.key}`;
    switch (op.k) {
      case 'put': {
        const added = !this.kvStore.has(key);
        if (added || op.overwrite) this.kvStore.set(key, op.value.slice());
        return added;
      }
      case 'get':
        return this.kvStore.get(key)?.slice();
      case 'del':
        return this.kvStore.delete(key) ? 1 : 0;
      case 'keys':
        return [...this.kvStore.keys()].filter((k) => k.startsWith(key)).map((k) => k.slice(k.indexOf('\u0000') + 1));
    }
  }

  /** Resources without placement groups' renamed ones. */
  userResources(r: Readonly<Record<string, number>>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k in r) if (!isGroupResource(k)) out[k] = r[k];
    return out;
  }

  /** True if `resources` fit beside the actors already queued here for resources (an owner placing another). */
  fitsBesideQueuedActors(resources: ResourceSet): boolean {
    let need: Record<string, number> | undefined;
    for (const q of this.queues.values()) {
      for (const w of q) {
        if (w.kind !== 'create' || w.cancelled || (w.state !== 'queued' && w.state !== 'waiting')) continue;
        need ??= { ...resources };
        for (const k in w.resources) need[k] = (need[k] ?? 0) + w.resources[k];
      }
    }
    return this.pool.fits(need ?? resources);
  }

  /** Queued work by resource shape (the node's load, for `ray-ts status`). */
  load(): { shape: Record<string, number>; count: number }[] {
    const out = new Map<string, { shape: Record<string, number>; count: number }>();
    for (const q of this.queues.values()) {
      for (const w of q) {
        if (w.state !== 'queued') continue;
        const key = w.shapeKey;
        const e = out.get(key) ?? { shape: { ...w.resources }, count: 0 };
        e.count++;
        out.set(key, e);
      }
    }
    return [...out.values()];
  }

  /** Tasks this node knows (running, queued, and recently finished), for the state API. */
  taskStates(): TaskRecord[] {
    const live = [...this.works.values()]
      .filter((w) => w.kind === 'task')
      .map((w) => ({
        taskId: w.id,
        name: w.task!.name,
        state: w.state === 'running' ? 'RUNNING' : w.state === 'waiting' ? 'PENDING_ARGS' : 'PENDING_NODE',
        nodeId: w.remote ?? this.nodeId,
        owner: w.origin ?? this.nodeId,
        jobId: w.task!.jobId ?? this.jobId,
        startMs: w.startMs,
        endMs: 0,
        resources: w.resources,
        runStartMs: w.remote ? 0 : (w.runStartMs ?? 0),
        workerId: w.remote ? '' : (w.ranOn ?? ''),
      }));
    return [...live, ...this.finishedTasks];
  }

  /** What each busy worker holds and what waits, for diagnosing a stuck job. */
  debugDump(): unknown {
    return {
      slots: [...this.slots].map(([w, s]) => ({
        worker: w.id,
        shape: s.shapeKey,
        blocked: s.blocked,
        cpuReleased: s.cpuReleased,
        works: s.works.map((x) => ({ name: x.task?.name, blocked: x.blocked, ownAlloc: !!x.alloc })),
      })),
      queues: [...this.queues].map(([k, q]) => ({ shape: k, works: q.map((x) => `${x.task?.name}:${x.state}`) })),
      available: this.pool.availableResources(),
    };
  }

  /** Counts for tests and diagnostics. */
  debugState(): {
    workers: number;
    idleThreads: number;
    actorHosts: number;
    works: number;
    actors: number;
    busy: number;
  } {
    return {
      workers: this.workers.size,
      idleThreads: this.workers.idleThreadCount,
      actorHosts: this.actors.counts().actorHosts,
      works: this.works.size,
      actors: this.actors.counts().actors,
      busy: this.busyCount,
    };
  }

  /** Stops every worker and drops all objects. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    await this.workers.stop();
    this.store.clear();
  }
}

/** An actor in a placement group takes its resources out of its bundle's (renamed) ones. */
function inGroup(spec: ActorCreationSpec): ActorCreationSpec {
  const st = spec.options.strategy;
  if (st?.type !== 'PLACEMENT_GROUP') return spec;
  return {
    ...spec,
    options: {
      ...spec.options,
      resources: groupResources(spec.options.resources, st.placementGroupId, st.bundleIndex),
    },
  };
}
