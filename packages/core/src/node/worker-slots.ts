/**
 * Task workers at work. A slot is a worker with the resources it holds and the tasks sent to it
 * in order. Short tasks of one shape are pipelined: sent to a busy worker before the task ahead
 * finishes, so the worker never waits for a round trip; they share the slot's resources and run
 * one after another. A task that waits in get/wait lends its CPU out meanwhile (blocking).
 */
import type { SchedulingStrategySpec } from '../options.js';
import type { TaskContextData } from '../protocol/specs.js';
import type { FnRef } from '../runtime/functions.js';
import type { StoredValue } from '../runtime/serialization.js';
import type { NodeContext } from './context.js';
import type { Allocation } from './resources.js';
import type { WorkerHandle } from './worker-handle.js';
import type { WorkerPool } from './worker-pool.js';
import { envVarsOf, transition, type TaskWork, type Work } from './work.js';

interface Slot {
  readonly works: TaskWork[];
  /** Undefined once every task left on the worker holds resources of its own. */
  alloc: Allocation | undefined;
  readonly shapeKey: string;
  /** Pending get/wait calls of its tasks; while any, the slot's CPUs are lent out. */
  blocked: number;
  cpuReleased: boolean;
}

/** Where a blocked task's CPU was lent from (to give it back): its own allocation, or its slot's. */
export type BlockToken = TaskWork | Slot | undefined;

/** The function as sent to a worker: by id once the worker has loaded it. */
export function fnFor(w: WorkerHandle, ref: FnRef): FnRef {
  if (w.knownFns.has(ref.id)) return { id: ref.id };
  w.knownFns.add(ref.id);
  return ref;
}

/**
 * The runtime context a task or actor sees on its worker. Its job is the one it was submitted in
 * (`jobId`, set on work from other nodes and from tasks), else this node's.
 */
export function taskContext(
  ctx: Pick<NodeContext, 'jobId' | 'nodeId'>,
  work: { id: string },
  name: string,
  alloc: Allocation | undefined,
  actorId?: string,
  strategy?: SchedulingStrategySpec,
  jobId?: string,
): TaskContextData {
  return {
    ...(strategy?.type === 'PLACEMENT_GROUP' && strategy.captureChildTasks
      ? { placementGroupId: strategy.placementGroupId }
      : {}),
    jobId: jobId || ctx.jobId,
    nodeId: ctx.nodeId,
    taskId: work.id,
    ...(actorId ? { actorId } : {}),
    name,
    assignedResources: (alloc?.amounts ?? {}) as Record<string, number>,
    gpuIds: alloc?.gpuIds ?? [],
  };
}

export class WorkerSlots {
  private readonly slots = new Map<WorkerHandle, Slot>();
  /** Moving average of each function's run time in ms, reported by workers (for pipelining). */
  private readonly fnMs = new Map<string, number>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly workers: Pick<WorkerPool, 'take' | 'release'>,
  ) {}

  /**
   * Runs a task holding `alloc`: on a thread whose tasks all wait in get (its thread is free), else
   * on an idle or new worker of its kind.
   */
  run(work: TaskWork, alloc: Allocation, args: StoredValue[], cuda: string | undefined): void {
    const host = work.isolation === 'thread' ? this.blockedWorker(work.shapeKey) : undefined;
    if (host) {
      work.alloc = alloc;
      this.send(work, host, args);
      return;
    }
    const w = this.workers.take(work.isolation, cuda, envVarsOf(work));
    this.slots.set(w, { works: [], alloc, shapeKey: work.shapeKey, blocked: 0, cpuReleased: false });
    this.send(work, w, args);
  }

  /** Sends a task to a worker that has a slot. */
  send(work: TaskWork, w: WorkerHandle, args: StoredValue[]): void {
    const slot = this.slots.get(w)!;
    slot.works.push(work);
    transition(work, 'running');
    work.attempts++;
    work.worker = w;
    work.seq = ++w.lastSeq;
    work.sentAt = performance.now();
    const times = this.ctx.placementTimes;
    if (times && work.queuedAt > 0) {
      times.task.observe(work.sentAt - work.queuedAt);
      work.queuedAt = 0;
    }
    work.runStartMs = Date.now();
    work.ranOn = w.id;
    const spec = work.task;
    const fn = fnFor(w, spec.fn);
    w.send({
      k: 'task',
      spec: fn === spec.fn ? spec : { ...spec, fn },
      args,
      ctx: taskContext(this.ctx, work, spec.name, work.alloc ?? slot.alloc, undefined, spec.strategy, spec.jobId),
      seq: work.seq,
    });
  }

  private blockedWorker(shapeKey: string): WorkerHandle | undefined {
    for (const [w, slot] of this.slots) {
      const allWaiting = slot.cpuReleased || (!slot.alloc && slot.works.every((x) => x.blocked > 0));
      if (allWaiting && slot.shapeKey === shapeKey && slot.works.length < this.ctx.config.pipelineDepth * 4) return w;
    }
    return undefined;
  }

  /**
   * A busy worker of the task's shape to send it to behind what it runs, if the task is short (by
   * its function's average) and so is everything queued there; the least loaded such worker.
   */
  pipelineTarget(work: TaskWork): WorkerHandle | undefined {
    const { pipelineDepth, pipelineMaxTaskMs: max } = this.ctx.config;
    if (pipelineDepth <= 1) return undefined;
    const ms = this.fnMs.get(work.task.fn.id);
    if (ms === undefined || ms > max) return undefined;
    const now = performance.now();
    let best: [WorkerHandle, Slot] | undefined;
    for (const entry of this.slots) {
      const slot = entry[1];
      if (!slot.alloc || slot.shapeKey !== work.shapeKey || slot.works.length >= pipelineDepth) continue;
      // Never queue behind a long task, known as such or running long now: a busy worker cannot
      // give queued tasks back (a synchronous task holds its thread), while another may be free soon.
      if (now - slot.works[0].sentAt > 5 * max) continue;
      if (!slot.works.every((x) => (this.fnMs.get(x.task.fn.id) ?? Infinity) <= max)) continue;
      if (!best || slot.works.length < best[1].works.length) best = entry;
    }
    return best?.[0];
  }

  /** Whether `w` runs `work` now (a done message for anything else is an actor call's). */
  runs(w: WorkerHandle, work: Work | undefined): work is TaskWork {
    return work !== undefined && work.kind === 'task' && work.worker === w;
  }

  /** The worker finished a task: its resources go back, and the worker too when it has no task left. */
  taskDone(w: WorkerHandle, work: TaskWork, ms: number | undefined): void {
    const slot = this.slots.get(w)!;
    const i = slot.works.indexOf(work);
    if (i >= 0) slot.works.splice(i, 1);
    if (ms !== undefined) {
      work.runStartMs = Date.now() - ms; // the worker's own measure: pipelined tasks wait there first
      const id = work.task.fn.id;
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
  }

  /**
   * A task worker died: its resources go back. Returns the tasks it had, none on a worker any
   * more, and the one it was running (from its status word for threads, else the first).
   */
  workerExited(w: WorkerHandle): { works: TaskWork[]; culprit: TaskWork | undefined } | undefined {
    const slot = this.slots.get(w);
    if (!slot) return undefined;
    this.slots.delete(w);
    this.releaseSlot(slot);
    const runningSeq = w.status ? Atomics.load(w.status, 0) : slot.works[0]?.seq;
    const culprit = slot.works.find((x) => x.seq === runningSeq) ?? slot.works[0];
    for (const work of slot.works) {
      work.worker = undefined;
      this.releaseWorkAlloc(work);
    }
    return { works: slot.works, culprit };
  }

  /** True if `work` is the task its worker runs now (not one pipelined behind it). */
  isRunningNow(work: TaskWork): boolean {
    return work.worker !== undefined && this.slots.get(work.worker)?.works[0] === work;
  }

  /** A task waiting in get/wait gives its CPUs back, so that the tasks it waits for can run. */
  block(work: Work | undefined): BlockToken {
    if (!work || work.kind !== 'task') return undefined;
    const pool = this.ctx.pool;
    if (work.alloc) {
      if (work.blocked++ === 0) {
        pool.releaseCpu(work.alloc);
        this.ctx.requestSchedule();
      }
      return work;
    }
    const w = work.worker;
    const slot = w && this.slots.get(w);
    if (!slot || !slot.alloc) return undefined;
    slot.blocked++;
    if (!slot.cpuReleased) {
      pool.releaseCpu(slot.alloc);
      slot.cpuReleased = true;
      this.ctx.requestSchedule();
    }
    return slot;
  }

  unblock(token: BlockToken): void {
    if (!token) return;
    const pool = this.ctx.pool;
    if ('id' in token) {
      if (token.blocked > 0 && --token.blocked === 0 && token.alloc) pool.reacquireCpu(token.alloc);
      return;
    }
    const slot = token;
    slot.blocked--;
    if (slot.blocked > 0 || !slot.cpuReleased || !slot.alloc) return;
    pool.reacquireCpu(slot.alloc);
    slot.cpuReleased = false;
  }

  private releaseWorkAlloc(work: TaskWork): void {
    const a = work.alloc;
    if (!a) return;
    work.alloc = undefined;
    if (work.blocked > 0) this.ctx.pool.release({ ...a, amounts: { ...a.amounts, CPU: 0 } });
    else this.ctx.pool.release(a);
    work.blocked = 0;
  }

  private releaseSlot(slot: Slot): void {
    const a = slot.alloc;
    if (!a) return;
    slot.alloc = undefined;
    if (slot.cpuReleased) {
      this.ctx.pool.release({ ...a, amounts: { ...a.amounts, CPU: 0 } });
      slot.cpuReleased = false;
    } else this.ctx.pool.release(a);
  }

  /** What each busy worker holds, for diagnosing a stuck job. */
  describe(): unknown[] {
    return [...this.slots].map(([w, s]) => ({
      worker: w.id,
      shape: s.shapeKey,
      blocked: s.blocked,
      cpuReleased: s.cpuReleased,
      works: s.works.map((x) => ({ name: x.task.name, blocked: x.blocked, ownAlloc: !!x.alloc })),
    }));
  }
}
