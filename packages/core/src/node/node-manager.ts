/**
 * The node manager ("raylet") of one node: a facade over its parts, which it wires together.
 * - tasks.ts: the life of tasks (submission, completion, retries, cancellation, node loss);
 * - scheduler.ts over task-queue.ts: what runs when and where; worker-slots.ts: workers at work;
 * - dependencies.ts, object-waits.ts: arguments, get() and wait();
 * - actors.ts: the actor table; worker-pool.ts: the workers; object-store.ts: the objects;
 * - bundles.ts: placement group bundles; lineage.ts, task-records.ts, kv-store.ts.
 * In an embedded cluster it runs in the driver's thread, so the driver's calls reach it without
 * messages. On a multi-node cluster, the cluster layer attaches its ports (ports.ts).
 */
import type { RuntimeConfig } from '../config.js';
import { ignored } from '../log.js';
import { retryUntil } from '../retry.js';
import type {
  ActorCreationSpec,
  ActorHandleData,
  ActorTaskSpec,
  ArgSpec,
  ClusterInfo,
  KvOp,
  TaskSpec,
} from '../protocol/specs.js';
import type { StoredValue } from '../runtime/serialization.js';
import { ActorManager, type ActorHost } from './actors.js';
import { Bundles, LocalGroups } from './bundles.js';
import type { NodeContext } from './context.js';
import { Dependencies } from './dependencies.js';
import { cancelledValue, errorValue, unschedulable } from './failures.js';
import { LocalKv } from './kv-store.js';
import { Lineage } from './lineage.js';
import { ObjectStore, type ObjectStoreStats } from './object-store.js';
import { ObjectWaits } from './object-waits.js';
import { groupResources, isGroupResource } from './placement.js';
import type { ClusterPorts, GroupDirectory, ResultValue, WorkerLogLine } from './ports.js';
import { ResourcePool } from './resources.js';
import { Scheduler } from './scheduler.js';
import { TaskQueue } from './task-queue.js';
import { TaskRecords, type TaskRecord } from './task-records.js';
import { Tasks } from './tasks.js';
import type { WorkerHandle } from './worker-handle.js';
import { WorkerInbox } from './worker-inbox.js';
import { WorkerLogs, type WorkerConsoleLine } from './worker-logs.js';
import { logFilesIn } from './worker-log-files.js';
import { nodeWorkerPool, type WorkerPool } from './worker-pool.js';
import { WorkerSlots, fnFor, taskContext } from './worker-slots.js';
import { envVarsOf, type Work } from './work.js';
import { UserMetricsTable } from '../metrics/user-table.js';
import { PlacementTimes } from './placement-times.js';

export type { GroupState, ResultValue } from './ports.js';
export type { TaskRecord } from './task-records.js';

/** See {@link NodeManager.metricsState}. */
export interface NodeMetricsState {
  /** First attempts (`IsRetry="0"`) and actor calls, keyed `state + '\0' + name`. */
  tasks: Map<string, number>;
  /** Attempts after the first (`IsRetry="1"`), keyed the same. */
  retries: Map<string, number>;
  /** How long work waited here to be placed (undefined: metrics are off). */
  placement: PlacementTimes | undefined;
  actors: Map<string, number>;
  total: Record<string, number>;
  available: Record<string, number>;
  store: ObjectStoreStats;
  workers: number;
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
  /** This node's log directory (its workers' log files: worker-log-files.ts); none: no files. */
  logDir?: string;
  /** Its workers, started already (by `nodeWorkerPool`, with prestarting); default: a new pool. */
  workers?: WorkerPool;
}

export class NodeManager implements NodeContext {
  readonly nodeId: string;
  readonly jobId: string;
  readonly namespace: string;
  readonly config: RuntimeConfig;
  readonly store: ObjectStore;
  readonly pool: ResourcePool;
  readonly executes: boolean;
  private clusterPorts: ClusterPorts | undefined;
  private stopping = false;
  private scheduleQueued = false;
  private busyCount = 0;
  private keepAlive: NodeJS.Timeout | undefined;

  private readonly queue: TaskQueue;
  /** How long work waited to be placed here, while metrics are on (`ray_scheduler_placement_time_ms`). */
  readonly placementTimes: PlacementTimes | undefined;
  private readonly deps: Dependencies;
  private readonly records: TaskRecords;
  private readonly lineage: Lineage;
  private readonly bundles: Bundles;
  private readonly localGroups: LocalGroups;
  private readonly workers: WorkerPool;
  private readonly slots: WorkerSlots;
  /** @internal (for the worker inbox) */
  readonly tasks: Tasks;
  private readonly scheduler: Scheduler;
  private readonly waits: ObjectWaits;
  /** @internal (for the worker inbox) */
  readonly actors: ActorManager;
  private readonly inbox = new WorkerInbox(this);
  /** @internal Its workers' output; `logs.files`: their log files (log-wiring.ts reads them). */
  readonly logs: WorkerLogs;
  private readonly kvStore = new LocalKv();
  /** User metrics of this node's threads (its workers' batches, and its driver's), for /metrics. */
  readonly userMetrics = new UserMetricsTable();
  /** Actor calls run here for another node: task id -> that node. */
  private readonly forwardedCalls = new Map<string, string>();

  constructor(opts: NodeOptions) {
    this.nodeId = opts.nodeId;
    this.jobId = opts.jobId;
    this.namespace = opts.namespace;
    this.config = opts.config;
    this.executes = opts.executes ?? true;
    this.placementTimes = opts.config.metricsEnabled ? new PlacementTimes() : undefined;
    this.queue = new TaskQueue(this.placementTimes !== undefined);
    this.pool = new ResourcePool(opts.resources, opts.gpuIds);
    this.store = new ObjectStore(
      opts.objectStoreBytes,
      opts.config.inlineObjectMaxBytes,
      `${opts.config.spillDirectory}/${opts.nodeId}`,
      { fsync: opts.config.spillFsync },
    );
    this.logs = new WorkerLogs(this, undefined, logFilesIn(opts.logDir, opts.config));
    this.deps = new Dependencies(this);
    this.records = new TaskRecords(this);
    this.lineage = new Lineage(this.store, (args) => this.deps.unpin(args));
    this.bundles = new Bundles(this);
    this.localGroups = new LocalGroups(this, this.bundles, (id) => this.groupChanged(id));
    this.workers = opts.workers ?? nodeWorkerPool({ ...opts, cpus: opts.resources.CPU }, false);
    this.workers.bind({
      onMessage: (worker, msg) => this.inbox.message(worker, msg),
      onExit: (worker) => this.onWorkerExit(worker),
    });
    this.slots = new WorkerSlots(this, this.workers);
    this.actors = new ActorManager(this.actorHost(), opts.resources.CPU ?? 1);
    this.tasks = new Tasks(this, this.queue, {
      deps: this.deps,
      lineage: this.lineage,
      records: this.records,
      slots: this.slots,
      groups: () => this.groups(),
      actorDied: (actor, cause, error) => this.actors.actorDied(actor, cause, error, true),
      placeActor: (work, alloc, args, cuda) =>
        this.actors.placeActor(work.actor, this.workers.spawn(work.isolation, cuda, envVarsOf(work)), alloc, args),
    });
    this.scheduler = new Scheduler(this, this.queue, this.deps, this.slots, this.bundles, this.tasks);
    this.waits = new ObjectWaits(this, {
      block: (taskId) => this.slots.block(taskId ? this.queue.get(taskId) : undefined),
      unblock: (token) => this.slots.unblock(token as never),
    });
    this.store.onFree = (id) => this.lineage.release(id, (taskId) => this.queue.has(taskId));
    // Unread shared buffers a worker made go back to it, to be written again without page faults.
    this.store.onReturnBuffer = (producer, buf) => {
      const w = producer as WorkerHandle;
      if (!w.dead && w.kind === 'thread') w.send({ k: 'buffer', buf });
    };
    if (!opts.workers) this.workers.prestart(Math.min(opts.config.prestartWorkers, Math.ceil(opts.resources.CPU ?? 0)));
  }

  // ---------------------------------------------------------------- NodeContext
  get cluster(): ClusterPorts | undefined {
    return this.clusterPorts;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Makes this node part of a multi-node cluster (called once, by the cluster layer). */
  attachCluster(ports: ClusterPorts): void {
    this.clusterPorts = ports;
  }

  /** While work is outstanding the process must not exit (workers are unref'd). */
  busy(delta: number): void {
    this.busyCount += delta;
    if (this.busyCount > 0 && !this.keepAlive && !this.stopping) {
      this.keepAlive = setInterval(() => {}, 1 << 30);
    } else if (this.busyCount <= 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  requestSchedule(): void {
    if (this.scheduleQueued || this.stopping) return;
    this.scheduleQueued = true;
    queueMicrotask(() => {
      this.scheduleQueued = false;
      this.scheduler.schedule();
    });
  }

  /** What the actor table may use of this node. */
  private actorHost(): ActorHost {
    return {
      store: this.store,
      pool: this.pool,
      config: this.config,
      namespace: this.namespace,
      nodeId: this.nodeId,
      spawnThread: (envVars) => this.workers.spawn('thread', undefined, envVars),
      startCreation: (actor) => this.tasks.startCreation(actor),
      endCreation: (creation, cancelled) => this.tasks.endCreation(creation as Work, cancelled),
      busy: (d) => this.busy(d),
      requestSchedule: () => this.requestSchedule(),
      pinArgs: (a) => this.deps.pin(a),
      unpinArgs: (a) => this.deps.unpin(a),
      resolveArgs: (a) => this.deps.resolve(a),
      fetchRefs: (ids) =>
        this.cluster
          ? this.cluster.peers.pull(ids).then(
              () => undefined,
              (err: unknown) => errorValue(err),
            )
          : Promise.resolve(undefined),
      context: (work, name, alloc, actorId, strategy, jobId) =>
        taskContext(this, work, name, alloc, actorId, strategy, jobId),
      fnFor,
      unschedulable: (what, req, missing, taskId, actorId) =>
        unschedulable(this.nodeId, what, req, missing, taskId, actorId),
      cancelledValue,
      createReturns: (spec) => {
        if (this.forwardedCalls.has(spec.taskId)) return;
        // A call handed over by the cluster layer already has its entries (and their holders).
        for (const id of spec.returnIds) if (!this.store.has(id)) this.store.createPending(id);
      },
      finishReturns: (spec, result, producer) => {
        const origin = this.forwardedCalls.get(spec.taskId);
        if (origin !== undefined) {
          this.forwardedCalls.delete(spec.taskId);
          const list = Array.isArray(result) ? result : spec.returnIds.map(() => result);
          this.cluster?.peers.sendTaskDone(origin, spec.taskId, list, producer, undefined);
          return;
        }
        const ids = spec.returnIds;
        for (let i = 0; i < ids.length; i++)
          this.store.put(ids[i], Array.isArray(result) ? result[i] : result, producer);
      },
      actorState: (actorId, state, cause) => this.cluster?.actors.actorState(actorId, state, cause),
      recordCall: (spec, jobId, workerId, ms, ok) => this.records.callFinished(spec, jobId, workerId, ms, ok),
    };
  }

  // ---------------------------------------------------------------- tasks
  /** Accepts a task from the driver or a worker. */
  submitTask(spec: TaskSpec): void {
    this.tasks.submit(spec);
  }

  /** Runs a task for the node that owns it (multi-node); its results go back there. */
  executeForwarded(spec: TaskSpec, origin: string, noSpill = false): void {
    this.tasks.executeForwarded(spec, origin, noSpill);
  }

  /** Runs an actor call for the node that owns its results (multi-node). */
  executeForwardedCall(spec: ActorTaskSpec, origin: string): void {
    this.forwardedCalls.set(spec.taskId, origin);
    this.actors.submitActorTask(spec);
  }

  /** A forwarded task finished on another node (its TaskDone); false if it is not one of ours. */
  onRemoteTaskDone(taskId: string, results: ResultValue[], ms: number | undefined): boolean {
    return this.tasks.remoteDone(taskId, results, ms);
  }

  /** An executor sent owned work back (spillback): it goes to `target` (or is placed again). */
  spilledBack(taskId: string, from: string, target: string): void {
    this.tasks.spilledBack(taskId, from, target);
  }

  /** A node this one sent work to is gone: its tasks run again elsewhere, lost results are rebuilt. */
  nodeLost(nodeId: string, why: string): void {
    this.tasks.nodeLost(nodeId, why);
  }

  /** Stores a result owned here (a value, or where another node keeps it). */
  storeResult(id: string, v: ResultValue, producer?: WorkerHandle): void {
    this.tasks.storeResult(id, v, producer);
  }

  pinArgs(args: ArgSpec[]): void {
    this.deps.pin(args);
  }

  unpinArgs(args: ArgSpec[]): void {
    this.deps.unpin(args);
  }

  /** Cancels the task (or actor call) that makes `objectId`. */
  async cancel(objectId: string, force: boolean, recursive: boolean): Promise<void> {
    // A return value's id is its task's id plus its index (objects made by put have none).
    const dot = objectId.lastIndexOf('.');
    const taskId = dot > 0 ? objectId.slice(0, dot) : objectId;
    if (!this.tasks.cancel(taskId, force, recursive)) this.actors.cancelCall(taskId, force);
  }

  /** Called when the cluster view changed: queued work may fit elsewhere now. */
  viewChanged(): void {
    this.requestSchedule();
  }

  // ---------------------------------------------------------------- workers
  private onWorkerExit(w: WorkerHandle): void {
    for (const id of w.heldRefs) this.store.removeHolder(id);
    w.heldRefs.clear();
    this.logs.files?.workerExited(w.id);
    if (this.stopping) return;
    this.tasks.workerExited(w);
    this.actors.onWorkerExit(w);
    this.requestSchedule();
  }

  /**
   * Passes a collective message to the worker of actor `to`: here, or on its node (unless it came
   * from a peer). An actor still starting gets it once it runs; one unknown here and elsewhere
   * never does (its sender's operation times out, naming it).
   */
  deliverCollective(to: string, key: string, dtype: string, data: ArrayBufferView, fromPeer: boolean): void {
    const worker = this.actors.workerOf(to);
    if (worker) {
      worker.send({ k: 'coll', to, key, dtype, data }); // the common case: no retry loop to set up
      return;
    }
    retryUntil(
      { intervalMs: this.config.collectiveRetryMs, timeoutMs: this.config.collectiveDeliveryTimeoutMs },
      () => {
        const w = this.actors.workerOf(to);
        if (w) w.send({ k: 'coll', to, key, dtype, data });
        else if (this.actors.knows(to) && !this.actors.isDead(to))
          return false; // starting
        else if (this.cluster && !fromPeer) this.cluster.peers.sendCollective(to, key, dtype, data);
        return true;
      },
      { stopped: () => this.stopping },
    );
  }

  // ---------------------------------------------------------------- console output (see worker-logs.ts)
  /** @internal (for the worker inbox) What a console call of a worker wrote. */
  workerLog(w: WorkerHandle, m: WorkerConsoleLine): void {
    this.logs.fromWorker(w, m);
  }

  /** Console output of workers on the node at `origin` (its address) for this node's job, whose driver runs here. */
  workerLogsFromPeer(jobId: string, origin: string, lines: readonly WorkerLogLine[], dropped: number): void {
    this.logs.fromPeer(jobId, origin, lines, dropped);
  }

  // ---------------------------------------------------------------- actors (see actors.ts)
  /** Registers an actor and schedules its creation; returns an existing actor's id for getIfExists. */
  createActor(spec: ActorCreationSpec): string | undefined {
    if (this.cluster) {
      this.cluster.actors.createActor(spec);
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
    if (this.cluster && !this.actors.knows(spec.actorId)) this.cluster.actors.submitActorTask(spec);
    else this.actors.submitActorTask(spec);
  }

  killActor(actorId: string, noRestart: boolean): Promise<void> {
    if (this.cluster && !this.actors.knows(actorId)) return this.cluster.actors.killActor(actorId, noRestart);
    return this.actors.killActor(actorId, noRestart);
  }

  /** Named actors alive on the cluster (this node's, on an embedded one). */
  namedActors(): Promise<{ name: string; namespace: string }[]> {
    return this.cluster ? this.cluster.actors.namedActors() : Promise.resolve(this.actors.namedActors());
  }

  getActorByName(
    name: string,
    namespace: string | undefined,
  ): ActorHandleData | undefined | Promise<ActorHandleData | undefined> {
    const local = this.actors.getActorByName(name, namespace);
    if (local || !this.cluster) return local;
    return this.cluster.actors.getActor(name, namespace ?? this.namespace);
  }

  /** The job of a driver ended: its actors that are not detached end too. */
  killJobActors(jobId: string): void {
    for (const id of this.actors.actorsOfJob(jobId)) {
      this.actors.killActor(id, true).catch(ignored(`kill of actor ${id} whose job ${jobId} ended`));
    }
  }

  // ---------------------------------------------------------------- placement groups
  /** The placement groups: the cluster's (GCS) on a multi-node cluster, this node's on an embedded one. */
  groups(): GroupDirectory {
    return this.cluster?.groups ?? this.localGroups;
  }

  /** A placement group changed state: work waiting for it goes on (or fails). */
  groupChanged(id: string): void {
    this.tasks.groupChanged(id);
  }

  /** Reserves bundles of a group here, all or none; their renamed resources appear on the node. */
  reserveBundles(groupId: string, indexes: number[], bundles: Record<string, number>[]): boolean {
    return this.bundles.reserve(groupId, indexes, bundles);
  }

  returnBundles(groupId: string, indexes: number[]): void {
    this.bundles.release(groupId, indexes);
  }

  // ---------------------------------------------------------------- objects
  /** Stores a driver's value; throws ObjectStoreFullError (storing nothing) when no room can be made for it. */
  put(id: string, value: StoredValue): void {
    const err = this.store.put(id, value);
    if (err) {
      this.store.discard(id);
      throw err;
    }
  }

  addDriverRefs(idsToAdd: string[]): void {
    for (const id of idsToAdd) this.store.addHolder(id);
  }

  removeDriverRefs(idsToRemove: string[]): void {
    for (const id of idsToRemove) this.store.removeHolder(id);
  }

  /** Resolves when all `idsToGet` are ready, with their values (a lost object reads as ObjectLostError). */
  getValues(idsToGet: string[], timeoutMs: number | undefined, blockedTaskId?: string): Promise<StoredValue[]> {
    return this.waits.getValues(idsToGet, timeoutMs, blockedTaskId);
  }

  waitValues(
    idsToWait: string[],
    numReturns: number,
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<string[]> {
    return this.waits.waitValues(idsToWait, numReturns, timeoutMs, blockedTaskId);
  }

  // ---------------------------------------------------------------- cluster information
  clusterInfo(): ClusterInfo {
    if (this.cluster) return this.cluster.directory.clusterInfo();
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
    if (this.cluster) return this.cluster.directory.kv(op);
    return this.kvStore.apply(op);
  }

  /** Resources without placement groups' renamed ones. */
  userResources(r: Readonly<Record<string, number>>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k in r) if (!isGroupResource(k)) out[k] = r[k];
    return out;
  }

  /** True if `resources` fit beside the actors already queued here for resources (an owner placing another). */
  fitsBesideQueuedActors(resources: Record<string, number>): boolean {
    return this.queue.fitsBesideQueuedActors(resources, (r) => this.pool.fits(r));
  }

  /** Queued work by resource shape (the node's load, for `ray-ts status`). */
  load(): { shape: Record<string, number>; count: number }[] {
    return this.queue.load();
  }

  /** Tasks this node knows (running, queued, and recently finished), for the state API. */
  taskStates(): TaskRecord[] {
    return [...this.tasks.live(), ...this.records.finished];
  }

  /**
   * What the node's `/metrics` reads at scrape time (cluster/metrics-core.ts): tasks (queued and
   * running here, and ended here since start) and actors by Ray's state names, keyed
   * `state + '\0' + name`; resources; the store's figures.
   */
  metricsState(): NodeMetricsState {
    const { tasks, retries } = this.records.countsByState(this.tasks.live());
    this.actors.addCallStates(tasks);
    return {
      tasks,
      retries,
      placement: this.placementTimes,
      actors: this.actors.stateCounts(),
      total: this.userResources(this.pool.total),
      available: this.userResources(this.pool.availableResources()),
      store: this.store.stats(),
      workers: this.workers.size,
    };
  }

  /** What each busy worker holds and what waits, for diagnosing a stuck job. */
  debugDump(): unknown {
    return {
      slots: this.slots.describe(),
      queues: this.queue.describe(),
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
      works: this.queue.size,
      actors: this.actors.counts().actors,
      busy: this.busyCount,
    };
  }

  /** Stops every worker and drops all objects. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    await this.workers.stop();
    await this.logs.files?.flush();
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
