/**
 * The node manager ("raylet") of one node: object store, resource-based scheduling of tasks
 * (with pipelining of short ones), objects' readiness and waiting, cancellation, and the messages
 * of its workers. Actors live in actors.ts, the workers in worker-pool.ts. In an embedded cluster
 * it runs in the driver's thread, so the driver's calls reach it without messages.
 */
import {
  GetTimeoutError, ObjectLostError, OutOfMemoryError, RayError, TaskCancelledError, UnschedulableError,
  WorkerCrashedError, errorToWire, type WireError,
} from './errors.js';
import type { RuntimeConfig } from './config.js';
import { ObjectStore } from './object-store.js';
import type { ResourceSet } from './options.js';
import type {
  ActorCreationSpec, ActorHandleData, ActorTaskSpec, ArgSpec, ClusterInfo, FromWorker, TaskContextData,
  TaskSpec, WorkerRequest,
} from './protocol.js';
import { ResourcePool, type Allocation } from './resources.js';
import { nestedRefs, storedError, type StoredValue } from './serialization.js';
import type { WorkerHandle } from './worker-handle.js';
import { WorkerPool } from './worker-pool.js';
import { ActorManager, type ActorHost, type ActorRecord } from './actors.js';
import type { FnRef } from './functions.js';

export interface NodeOptions {
  nodeId: string;
  jobId: string;
  namespace: string;
  resources: Record<string, number>;
  gpuIds: number[] | undefined;
  objectStoreBytes: number;
  config: RuntimeConfig;
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

function shapeKeyOf(r: ResourceSet, isolation: string): string {
  let k = isolation;
  for (const name of Object.keys(r).sort()) k += `|${name}=${r[name]}`;
  return k;
}

function fmtResources(r: ResourceSet): string {
  return '{ ' + Object.entries(r).map(([k, v]) => `${k}: ${v}`).join(', ') + ' }';
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

  constructor(opts: NodeOptions) {
    this.nodeId = opts.nodeId;
    this.jobId = opts.jobId;
    this.namespace = opts.namespace;
    this.config = opts.config;
    this.pool = new ResourcePool(opts.resources, opts.gpuIds);
    this.store = new ObjectStore(
      opts.objectStoreBytes,
      opts.config.inlineObjectMaxBytes,
      `${opts.config.spillDirectory}/${opts.nodeId}`,
    );
    this.actors = new ActorManager(this.actorHost(), opts.resources.CPU ?? 1);
    // Unread shared buffers a worker made go back to it, to be written again without page faults.
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
        const work = this.newWork(`create:${actor.spec.actorId}:${actor.numRestarts}`, 'create', undefined, actor,
          actor.spec.args, o.resources, o.isolation);
        this.unpinArgs(actor.spec.args); // the actor record holds the pins
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
      context: (work, name, alloc, actorId) => this.context(work, name, alloc, actorId),
      fnFor: (w, ref) => this.fnFor(w, ref),
      unschedulable: (what, req, missing, taskId, actorId) => this.unschedulable(what, req, missing, taskId, actorId),
      cancelledValue: (taskId) => this.cancelledValue(taskId),
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
    const work = this.newWork(spec.taskId, 'task', spec, undefined, spec.args, spec.resources, spec.isolation);
    if (spec.parentTaskId) {
      const parent = this.works.get(spec.parentTaskId);
      if (parent) (parent.children ??= new Set()).add(spec.taskId);
    }
    const missing = this.pool.missing(spec.resources);
    if (missing) {
      // Deferred: the caller makes its refs right after submitting, and they must hold the error.
      const err = this.unschedulable(`Task '${spec.name}' (${spec.taskId})`, spec.resources, missing, spec.taskId);
      queueMicrotask(() => this.finishWork(work, err));
      return;
    }
    this.startWork(work);
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
      missing.name === 'CPU' ? 'Lower numCpus or give the cluster more CPUs (init({ numCpus }))'
        : missing.name === 'GPU' ? 'Lower numGpus or start the cluster with GPUs (init({ numGpus }))'
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
    id: string, kind: 'task' | 'create', task: TaskSpec | undefined, actor: ActorRecord | undefined,
    args: ArgSpec[], resources: ResourceSet, isolation: 'thread' | 'process',
  ): Work {
    const work: Work = {
      id, kind, task, actor, args, resources, isolation, shapeKey: shapeKeyOf(resources, isolation),
      state: 'waiting', attempts: 0, depsLeft: 0, worker: undefined, alloc: undefined, blocked: 0, seq: 0, sentAt: 0,
      cancelled: false, children: undefined,
    };
    this.works.set(id, work);
    this.pinArgs(args);
    this.busy(1);
    return work;
  }

  private pinArgs(args: ArgSpec[]): void {
    for (const a of args) {
      if ('r' in a) this.store.pin(a.r);
      else for (const n of nestedRefs(a.v)) this.store.pin(n);
    }
  }

  private unpinArgs(args: ArgSpec[]): void {
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
        const alloc = this.pool.tryAllocate(work.resources);
        if (alloc) this.dispatch(work, alloc);
        else if (!this.pipeline(work)) break;
        i++;
      }
      if (i >= q.length) this.queues.delete(key);
      else if (i > 0) q.splice(0, i);
    }
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
            error: storedError(errorToWire(new ObjectLostError(
              `Object ${a.r}, argument ${i + 1}, is lost: no reference to it was left, so it was freed. Keep a ref to it until the task that takes it has been submitted.`,
              { objectId: a.r, nodeId: this.nodeId },
            ))),
          };
        }
        if (v.t === 'err') return { error: v };
        values[i] = v;
      }
    }
    return { values };
  }

  private context(work: { id: string }, name: string, alloc: Allocation | undefined, actorId?: string): TaskContextData {
    return {
      jobId: this.jobId,
      nodeId: this.nodeId,
      taskId: work.id,
      ...(actorId ? { actorId } : {}),
      name,
      assignedResources: (alloc?.amounts ?? {}) as Record<string, number>,
      gpuIds: alloc?.gpuIds ?? [],
    };
  }

  private dispatch(work: Work, alloc: Allocation): void {
    const resolved = this.resolveArgs(work.args);
    if ('error' in resolved) {
      this.pool.release(alloc);
      if (work.kind === 'task') this.finishWork(work, resolved.error);
      else this.actors.actorDied(work.actor!, 'an argument of its constructor failed', (resolved.error as { e: WireError }).e, true);
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
      const w = this.workers.take(work.isolation, cuda);
      this.slots.set(w, { works: [], alloc, shapeKey: work.shapeKey, blocked: 0, cpuReleased: false });
      this.sendTask(work, w, resolved.values);
    } else {
      work.state = 'running';
      work.attempts++;
      this.actors.placeActor(work.actor!, this.workers.spawn(work.isolation, cuda), alloc, resolved.values);
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
    const spec = work.task!;
    const fn = this.fnFor(w, spec.fn);
    w.send({
      k: 'task',
      spec: fn === spec.fn ? spec : { ...spec, fn },
      args,
      ctx: this.context(work, spec.name, work.alloc ?? slot.alloc),
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
  private finishWork(work: Work, result: StoredValue | StoredValue[], producer?: WorkerHandle): void {
    if (work.state === 'done') return;
    work.state = 'done';
    this.works.delete(work.id);
    if (work.task) {
      const ids = work.task.returnIds;
      for (let i = 0; i < ids.length; i++) {
        this.store.put(ids[i], Array.isArray(result) ? result[i] : result, producer);
      }
      if (work.task.parentTaskId) this.works.get(work.task.parentTaskId)?.children?.delete(work.id);
      this.unpinArgs(work.args);
    }
    this.busy(-1);
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

  private onTaskDone(w: WorkerHandle, taskId: string, outcome: Extract<FromWorker, { k: 'done' }>['outcome'], ms: number | undefined): void {
    const work = this.works.get(taskId);
    if (work && work.worker === w && work.kind === 'task') {
      const slot = this.slots.get(w)!;
      const i = slot.works.indexOf(work);
      if (i >= 0) slot.works.splice(i, 1);
      if (ms !== undefined) {
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
      else if (outcome.ok) this.finishWork(work, outcome.results, w);
      else if (this.shouldRetryException(work, outcome.errorName)) this.startWork(work);
      else this.finishWork(work, storedError(outcome.error));
      this.requestSchedule();
      return;
    }
    this.actors.onCallDone(w, taskId, outcome);
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
        else this.finishWork(work, storedError(errorToWire(this.workerDeathError(w, `Task '${spec.name}' (${spec.taskId})`, spec.taskId))));
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
    return this.actors.createActor(spec);
  }

  submitActorTask(spec: ActorTaskSpec): void {
    this.actors.submitActorTask(spec);
  }

  killActor(actorId: string, noRestart: boolean): Promise<void> {
    return this.actors.killActor(actorId, noRestart);
  }

  getActorByName(name: string, namespace: string | undefined): ActorHandleData | undefined {
    return this.actors.getActorByName(name, namespace);
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
        cancels.push(this.store.onReady(id, () => {
          if (--left === 0) {
            done();
            resolve(idsToGet.map((i) => this.valueOf(i)));
          }
        }));
      }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          for (const c of cancels) c();
          done();
          const still = idsToGet.filter((id) => this.store.has(id) && !this.store.isReady(id));
          reject(new GetTimeoutError(
            `get() timed out after ${timeoutMs} ms: ${still.length} of ${idsToGet.length} objects not ready ` +
              `(${still.slice(0, 3).join(', ')}${still.length > 3 ? ', ...' : ''}).`,
            { objectId: still[0] },
          ));
        }, timeoutMs);
      }
    });
  }

  private valueOf(id: string): StoredValue {
    const v = this.store.get(id);
    if (v) return v;
    if (this.stopped) {
      return storedError(errorToWire(new ObjectLostError(
        `Object ${id} is gone: shutdown() stopped the cluster before it was ready.`,
        { objectId: id, nodeId: this.nodeId },
      )));
    }
    return storedError(errorToWire(new ObjectLostError(
      `Object ${id} is lost: it was freed because no reference to it was left, or it never existed in this cluster.`,
      { objectId: id, nodeId: this.nodeId },
    )));
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

  waitValues(idsToWait: string[], numReturns: number, timeoutMs: number | undefined, blockedTaskId?: string): Promise<string[]> {
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
          cancels.push(this.store.onReady(id, () => {
            if (++count >= numReturns) queueMicrotask(finish);
          }));
        }
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
        this.actors.createActorFromWorker(m.spec);
        break;
      case 'submitActorTask':
        this.actors.submitActorTask(m.spec);
        this.holdReturns(w, m.spec.returnIds);
        break;
      case 'actorReady':
        this.actors.onActorReady(m.actorId);
        break;
      case 'actorFailed':
        this.actors.onActorFailed(m.actorId, m.error);
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
        return this.actors.killActor(r.actorId, r.noRestart);
      case 'getActor':
        return this.actors.getActorByName(r.name, r.namespace);
      case 'clusterInfo':
        return this.clusterInfo();
    }
  }

  clusterInfo(): ClusterInfo {
    return {
      total: { ...this.pool.total },
      available: this.pool.availableResources(),
      nodes: [{ nodeId: this.nodeId, alive: true, isHead: true, address: 'embedded', resources: { ...this.pool.total } }],
    };
  }

  /** What each busy worker holds and what waits, for diagnosing a stuck job. */
  debugDump(): unknown {
    return {
      slots: [...this.slots].map(([w, s]) => ({
        worker: w.id, shape: s.shapeKey, blocked: s.blocked, cpuReleased: s.cpuReleased,
        works: s.works.map((x) => ({ name: x.task?.name, blocked: x.blocked, ownAlloc: !!x.alloc })),
      })),
      queues: [...this.queues].map(([k, q]) => ({ shape: k, works: q.map((x) => `${x.task?.name}:${x.state}`) })),
      available: this.pool.availableResources(),
    };
  }

  /** Counts for tests and diagnostics. */
  debugState(): { workers: number; idleThreads: number; actorHosts: number; works: number; actors: number; busy: number } {
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
