/**
 * The life of tasks (and of the creations of actors that hold resources) on a node: submission
 * and feasibility, waiting for placement groups and arguments, completion with retries, worker
 * and node deaths, spillback, lineage rebuilds and cancellation. Scheduling itself is in
 * scheduler.ts, the workers' side in worker-slots.ts.
 */
import { NodeDiedError, UnschedulableError, type WireError } from '../errors.js';
import type { TaskSpec } from '../protocol/specs.js';
import type { TaskOutcome } from '../protocol/worker-messages.js';
import { storedError, type StoredValue } from '../runtime/serialization.js';
import type { ActorRecord } from './actors.js';
import type { NodeContext } from './context.js';
import type { Dependencies } from './dependencies.js';
import { cancelledValue, errorValue, unschedulable, wireErrorOf, workerDeathError } from './failures.js';
import type { Lineage } from './lineage.js';
import { groupResources } from './placement.js';
import type { GroupDirectory, ResultValue } from './ports.js';
import type { Allocation } from './resources.js';
import type { SchedulerHost } from './scheduler.js';
import type { TaskQueue } from './task-queue.js';
import type { TaskRecord, TaskRecords } from './task-records.js';
import type { WorkerHandle } from './worker-handle.js';
import type { WorkerSlots } from './worker-slots.js';
import { newWork, transition, type CreateWork, type TaskWork, type Work } from './work.js';

/** What the task side needs of the node's actors and workers. */
export interface TaskPeers {
  readonly deps: Dependencies;
  readonly lineage: Lineage;
  readonly records: TaskRecords;
  readonly slots: WorkerSlots;
  /** The placement groups (the cluster's, or the embedded node's own). */
  groups(): GroupDirectory;
  /** An actor's creation failed for good. */
  actorDied(actor: ActorRecord, cause: string, error: WireError): void;
  /** Places an actor on a new worker of its own. */
  placeActor(work: CreateWork, alloc: Allocation, args: StoredValue[], cuda: string | undefined): void;
}

export class Tasks implements SchedulerHost {
  /** Work waiting for its placement group to be created. */
  private readonly groupWaiters = new Map<string, Work[]>();
  /** Queues work whose arguments are ready (one function for all work: start() runs per task). */
  private readonly ready = (work: Work) => this.requeue(work);

  constructor(
    private readonly ctx: NodeContext,
    private readonly queue: TaskQueue,
    private readonly peers: TaskPeers,
  ) {}

  // ---------------------------------------------------------------- submission
  /** Accepts a task from the driver or a worker. */
  submit(spec: TaskSpec): void {
    for (const id of spec.returnIds) this.ctx.store.createPending(id);
    const work = this.add(spec);
    work.strategy = spec.strategy;
    if (spec.parentTaskId) {
      const parent = this.queue.get(spec.parentTaskId);
      if (parent) (parent.children ??= new Set()).add(spec.taskId);
    }
    const err = this.checkFeasible(work, `Task '${spec.name}' (${spec.taskId})`, spec.taskId);
    if (err === 'wait') return;
    if (err) {
      // Deferred: the caller makes its refs right after submitting, and they must hold the error.
      queueMicrotask(() => this.finish(work, err));
      return;
    }
    this.start(work);
  }

  /** Runs a task for the node that owns it (multi-node); its results go back there. */
  executeForwarded(spec: TaskSpec, origin: string, noSpill: boolean): void {
    const st = spec.strategy;
    const work = this.add(spec);
    work.origin = origin;
    work.noSpill = noSpill || st?.type === 'PLACEMENT_GROUP' || st?.type === 'NODE_AFFINITY';
    const missing = this.ctx.pool.missing(work.resources);
    if (missing) {
      const what = `Task '${spec.name}' (${spec.taskId})`;
      this.finish(work, unschedulable(this.ctx.nodeId, what, work.resources, missing, spec.taskId));
      return;
    }
    this.start(work);
  }

  /** A new task's work, its arguments pinned (`pin`: false when its lineage holds the pins). */
  private add(spec: TaskSpec, pin = true): TaskWork {
    const st = spec.strategy;
    const resources =
      st?.type === 'PLACEMENT_GROUP'
        ? groupResources(spec.resources, st.placementGroupId, st.bundleIndex)
        : spec.resources;
    const work = newWork(spec.taskId, { kind: 'task', task: spec }, spec.args, resources, spec.isolation) as TaskWork;
    this.track(work, pin);
    return work;
  }

  private track(work: Work, pin: boolean): void {
    this.queue.add(work);
    if (pin) this.peers.deps.pin(work.args);
    this.ctx.busy(1);
  }

  /** Schedules the creation of an actor that holds resources (its actor record holds the pins). */
  startCreation(actor: ActorRecord): CreateWork {
    const o = actor.spec.options;
    const work = newWork(
      `create:${actor.spec.actorId}:${actor.numRestarts}`,
      { kind: 'create', actor },
      actor.spec.args,
      o.resources,
      o.isolation === 'process' ? 'process' : 'thread',
    ) as CreateWork;
    this.track(work, false);
    work.strategy = o.strategy;
    // In a placement group: waits for the group to be created (see groupChanged).
    const err =
      o.strategy?.type === 'PLACEMENT_GROUP'
        ? this.checkFeasible(work, `Actor '${actor.spec.className}' (${actor.spec.actorId})`)
        : undefined;
    if (err === 'wait') return work;
    if (err) {
      queueMicrotask(() => this.peers.actorDied(actor, wireErrorOf(err).message, wireErrorOf(err)));
      return work;
    }
    this.start(work);
    return work;
  }

  /** Drops an actor creation's work: placed (`cancelled` false) or given up. */
  endCreation(work: Work, cancelled: boolean): void {
    this.queue.delete(work.id);
    if (work.state !== 'done') {
      this.ctx.busy(-1);
      transition(work, 'done');
    }
    if (cancelled) work.cancelled = true;
  }

  /** Error value if no node can ever run the work, 'wait' if it waits for its placement group. */
  private checkFeasible(work: Work, what: string, taskId?: string): StoredValue | 'wait' | undefined {
    const st = work.strategy;
    const { nodeId, cluster } = this.ctx;
    const unschedulableHere = (message: string) =>
      errorValue(new UnschedulableError(message, work.resources, { taskId, nodeId }));
    if (st?.type === 'PLACEMENT_GROUP') {
      const g = this.peers.groups().group(st.placementGroupId);
      if (!g || g.state === 'PENDING') {
        const list = this.groupWaiters.get(st.placementGroupId) ?? [];
        list.push(work);
        this.groupWaiters.set(st.placementGroupId, list);
        return 'wait';
      }
      if (g.state !== 'CREATED') {
        const why = g.state === 'REMOVED' ? 'removed' : `infeasible (${g.reason})`;
        return unschedulableHere(`${what} cannot run in placement group ${g.id}: the group is ${why}.`);
      }
      if (st.bundleIndex >= g.bundles.length) {
        return unschedulableHere(
          `${what} asks for bundle ${st.bundleIndex} of placement group ${g.id}, which has ${g.bundles.length} bundles.`,
        );
      }
    }
    if (st?.type === 'NODE_AFFINITY' && !st.soft && !cluster && st.nodeId !== nodeId) {
      return unschedulableHere(
        `${what} has a hard affinity to node ${st.nodeId}, which is not in this cluster (the only node is ${nodeId}). ` +
          `Use soft: true to run it elsewhere when the node is gone.`,
      );
    }
    const missing = cluster ? cluster.placer.infeasible(work.resources) : this.ctx.pool.missing(work.resources);
    if (missing) return unschedulable(nodeId, what, work.resources, missing, taskId);
    return undefined;
  }

  /** A placement group changed state: work waiting for it goes on (or fails). */
  groupChanged(id: string): void {
    const waiting = this.groupWaiters.get(id);
    if (!waiting) return;
    const g = this.peers.groups().group(id);
    if (!g || g.state === 'PENDING') return;
    this.groupWaiters.delete(id);
    for (const work of waiting) {
      if (work.state === 'done') continue;
      const what =
        work.kind === 'create'
          ? `Actor '${work.actor.spec.className}' (${work.actor.spec.actorId})`
          : `Task '${work.task.name}' (${work.id})`;
      const err = this.checkFeasible(work, what, work.kind === 'task' ? work.id : undefined);
      if (err === 'wait') continue;
      if (!err) this.start(work);
      else if (work.kind === 'create') this.peers.actorDied(work.actor, wireErrorOf(err).message, wireErrorOf(err));
      else this.finish(work, err);
    }
  }

  /** Waits for the work's ObjectRef arguments, then queues it for resources. */
  start(work: Work): void {
    this.peers.deps.waitFor(work, this.ready);
  }

  // ---------------------------------------------------------------- SchedulerHost
  requeue(work: Work): void {
    this.queue.enqueue(work);
    this.ctx.requestSchedule();
  }

  fail(work: Work, err: StoredValue, actorCause: string): void {
    if (work.kind === 'task') this.finish(work, err);
    else this.peers.actorDied(work.actor, actorCause || wireErrorOf(err).message, wireErrorOf(err));
  }

  startActor(work: CreateWork, alloc: Allocation, args: StoredValue[], cuda: string | undefined): void {
    this.peers.placeActor(work, alloc, args, cuda);
  }

  forget(work: TaskWork): void {
    transition(work, 'done');
    this.queue.delete(work.id);
    this.peers.deps.unpin(work.args);
    this.ctx.busy(-1);
  }

  // ---------------------------------------------------------------- completion
  /** Stores a task's results (or its error in every return) and drops its bookkeeping. */
  finish(work: Work, result: ResultValue | ResultValue[], producer?: WorkerHandle, ms?: number): void {
    if (work.state === 'done') return;
    transition(work, 'done');
    this.queue.delete(work.id);
    if (work.kind === 'task') {
      const { cluster, config } = this.ctx;
      const ids = work.task.returnIds;
      this.peers.records.taskFinished(work, Array.isArray(result) ? result[0] : result);
      if (work.origin !== undefined) {
        const list = (Array.isArray(result) ? result : ids.map(() => result)) as StoredValue[];
        cluster?.peers.sendTaskDone(work.origin, work.id, list, producer, ms);
      } else {
        for (let i = 0; i < ids.length; i++)
          this.storeResult(ids[i], Array.isArray(result) ? result[i] : result, producer);
      }
      if (work.task.parentTaskId) this.queue.get(work.task.parentTaskId)?.children?.delete(work.id);
      // Results that live on another node keep the task's lineage, and with it the pins of its arguments.
      const elsewhere =
        cluster !== undefined &&
        config.lineagePinning &&
        work.origin === undefined &&
        Array.isArray(result) &&
        result.some((r) => r.t === 'remote');
      if (!this.peers.lineage.keep(work, elsewhere)) this.peers.deps.unpin(work.args);
    }
    this.ctx.busy(-1);
  }

  storeResult(id: string, v: ResultValue, producer?: WorkerHandle): void {
    if (v.t === 'remote') this.ctx.store.putRemote(id, v.location, v.size);
    else this.ctx.store.put(id, v, producer);
  }

  /** A worker reported a task done; false if it was not a task running there (an actor call). */
  taskDone(w: WorkerHandle, taskId: string, outcome: TaskOutcome, ms: number | undefined): boolean {
    const work = this.queue.get(taskId);
    if (!this.peers.slots.runs(w, work)) return false;
    this.peers.slots.taskDone(w, work, ms);
    if (work.cancelled) this.finish(work, cancelledValue(work.id));
    else if (outcome.ok) this.finish(work, outcome.results, w, ms);
    else if (this.shouldRetryException(work, outcome.errorName)) this.start(work);
    else this.finish(work, storedError(outcome.error));
    this.ctx.requestSchedule();
    return true;
  }

  private shouldRetryException(work: TaskWork, errorName: string): boolean {
    const spec = work.task;
    const re = spec.retryExceptions;
    if (re === false || (Array.isArray(re) && !re.includes(errorName))) return false;
    return spec.maxRetries === -1 || work.attempts <= spec.maxRetries;
  }

  /** A task worker died: its tasks run again while retries last (the one it ran uses an attempt). */
  workerExited(w: WorkerHandle): void {
    const exited = this.peers.slots.workerExited(w);
    if (!exited) return;
    for (const work of exited.works) {
      const spec = work.task;
      if (work.cancelled) this.finish(work, cancelledValue(work.id));
      else if (work !== exited.culprit) {
        // Queued behind (or finished just before) the task that was running: no attempt used.
        work.attempts--;
        this.start(work);
      } else if (spec.maxRetries === -1 || work.attempts <= spec.maxRetries) this.start(work);
      else {
        const what = `Task '${spec.name}' (${spec.taskId})`;
        this.finish(work, errorValue(workerDeathError(this.ctx.nodeId, w, what, spec.taskId)));
      }
    }
  }

  // ---------------------------------------------------------------- other nodes
  /** A forwarded task finished on another node (its TaskDone); false if it is not one of ours. */
  remoteDone(taskId: string, results: ResultValue[], ms: number | undefined): boolean {
    const work = this.queue.get(taskId);
    if (!work || work.remote === undefined) return false;
    if (work.cancelled) this.finish(work, cancelledValue(work.id));
    else this.finish(work, results, undefined, ms);
    return true;
  }

  /** An executor sent owned work back (spillback): it goes to `target` (or is placed again). */
  spilledBack(taskId: string, from: string, target: string): void {
    const work = this.queue.get(taskId);
    if (!work || work.remote !== from || work.state !== 'running') return;
    work.remote = undefined;
    work.attempts--; // it never ran there
    work.spills++;
    work.spillTo = target;
    if (work.cancelled) this.finish(work, cancelledValue(work.id));
    else this.start(work);
  }

  /**
   * A node this one sent work to is gone (dead, or left): its tasks run again elsewhere while
   * retries last (the attempt counts, as a worker crash does), else fail with NodeDiedError.
   * Results owned here whose bytes were there are made again from their lineage.
   */
  nodeLost(nodeId: string, why: string): void {
    for (const work of [...this.queue.values()]) {
      if (work.remote !== nodeId || work.state !== 'running' || work.kind !== 'task') continue;
      work.remote = undefined;
      const spec = work.task;
      if (work.cancelled) this.finish(work, cancelledValue(work.id));
      else if (spec.maxRetries === -1 || work.attempts <= spec.maxRetries) this.start(work);
      else {
        const err = new NodeDiedError(
          `Task '${spec.name}' (${spec.taskId}) was running on node ${nodeId}, which ${why}; no retries were left (maxRetries ${spec.maxRetries}). ` +
            `Raise maxRetries to run it again elsewhere.`,
          { taskId: spec.taskId, nodeId },
        );
        this.finish(work, errorValue(err));
      }
    }
    for (const r of this.peers.lineage.lostWith(nodeId, (id) => this.queue.has(id))) {
      // The lineage holds the pins of its arguments: the new run takes none of its own.
      const work = this.add(r.spec, false);
      work.strategy = r.strategy;
      work.attempts = r.attempts;
      this.start(work);
    }
    this.ctx.requestSchedule();
  }

  // ---------------------------------------------------------------- cancellation
  /** Cancels a task known here; false if there is none with this id. */
  cancel(taskId: string, force: boolean, recursive: boolean): boolean {
    const work = this.queue.get(taskId);
    if (!work) return false;
    this.cancelWork(work, force, recursive);
    return true;
  }

  private cancelWork(work: Work, force: boolean, recursive: boolean): void {
    if (work.state === 'done' || work.kind !== 'task') return;
    const wasCancelled = work.cancelled;
    work.cancelled = true;
    if (recursive && work.children) {
      for (const child of [...work.children]) {
        const c = this.queue.get(child);
        if (c) this.cancelWork(c, force, recursive);
      }
    }
    if (work.state === 'waiting' || work.state === 'queued') {
      this.finish(work, cancelledValue(work.id));
      return;
    }
    if (work.remote !== undefined) {
      this.ctx.cluster?.peers.cancelRemote(work.remote, work.id, force, recursive);
      this.finish(work, cancelledValue(work.id));
      return;
    }
    // Running: the result reads as cancelled now; the worker stops it (force) or is asked to.
    if (wasCancelled && !force) return;
    for (const id of work.task.returnIds) this.ctx.store.put(id, cancelledValue(work.id));
    const w = work.worker;
    if (force && w && this.peers.slots.isRunningNow(work)) w.terminate('terminated', 'cancelled');
    else w?.send({ k: 'cancel', taskId: work.id });
  }

  /** Tasks this node knows now (running, queued, waiting), for the state API. */
  live(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const w of this.queue.values()) if (w.kind === 'task') out.push(this.peers.records.live(w));
    return out;
  }
}
