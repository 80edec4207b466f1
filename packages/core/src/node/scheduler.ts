/**
 * The node's scheduler: takes queued work, oldest first within each resource shape, and decides
 * for each in turn, stopping a shape at the first work that must wait:
 * 1. placement (multi-node, tasks owned here): here, another node (forward), later (a node the
 *    autoscaler may start: stop), or never (fail);
 * 2. argument locality (multi-node): arguments on other nodes are pulled first;
 * 3. allocation: resources free here run it now (dispatch);
 * 4. else pipelining a short task behind a busy worker of its shape, else spillback of work
 *    forwarded here to a node with room now; else the shape waits for resources.
 */
import { UnschedulableError } from '../errors.js';
import type { StoredValue } from '../runtime/serialization.js';
import type { Bundles } from './bundles.js';
import type { NodeContext } from './context.js';
import type { Dependencies } from './dependencies.js';
import { errorValue } from './failures.js';
import type { Placement, Placer } from './ports.js';
import type { Allocation } from './resources.js';
import type { Step, TaskQueue } from './task-queue.js';
import type { WorkerSlots } from './worker-slots.js';
import { transition, type CreateWork, type TaskWork, type Work } from './work.js';

/** After this many spillbacks, an owner's task runs where it is sent next, room or not (no ping-pong on stale views). */
export const MAX_SPILLS = 3;

/** What the scheduler needs from the rest of the node. */
export interface SchedulerHost {
  /** Fails work that cannot run: a task's returns get `err`; an actor's creation dies with `actorCause`. */
  fail(work: Work, err: StoredValue, actorCause: string): void;
  /** Starts an actor's creation on a new worker holding `alloc`. */
  startActor(work: CreateWork, alloc: Allocation, args: StoredValue[], cuda: string | undefined): void;
  /** Forgets work forwarded here that goes back to its owner (spillback). */
  forget(work: TaskWork): void;
  /** Queues work again (its arguments were pulled here meanwhile). */
  requeue(work: Work): void;
}

export class Scheduler {
  constructor(
    private readonly ctx: NodeContext,
    private readonly queue: TaskQueue,
    private readonly deps: Dependencies,
    private readonly slots: WorkerSlots,
    private readonly bundles: Pick<Bundles, 'withBundleGpus'>,
    private readonly host: SchedulerHost,
  ) {}

  /** One pass over every queue. */
  schedule(): void {
    this.queue.visit((work) => this.step(work));
  }

  private step(work: Work): Step {
    if (work.cancelled || work.state !== 'queued') return 'next';
    const cluster = this.ctx.cluster;
    // Only tasks are placed here: an actor's owner placed it on this node, and it waits here.
    if (cluster && work.origin === undefined && work.kind === 'task') {
      const p = this.placeOwned(work, cluster.placer);
      switch (p.kind) {
        case 'wait':
          return 'stop';
        case 'infeasible':
          this.failUnplaceable(work, p.reason);
          return 'next';
        case 'node':
          this.forward(work, p.nodeId);
          return 'next';
        case 'here':
          break;
      }
    }
    if (cluster && !this.argsLocal(work)) return 'next';
    const alloc = this.ctx.pool.tryAllocate(work.resources);
    if (alloc) {
      this.dispatch(work, alloc);
      return 'next';
    }
    return this.pipeline(work) || this.spill(work) ? 'next' : 'stop';
  }

  /** Where a task owned here runs: where a spillback said (if that node lives), else where the placer says. */
  private placeOwned(work: TaskWork, placer: Placer): Placement {
    const spillTo = work.spillTo;
    work.spillTo = undefined;
    if (spillTo !== undefined && placer.isAlive(spillTo))
      return spillTo === this.ctx.nodeId ? { kind: 'here' } : { kind: 'node', nodeId: spillTo };
    return placer.place(work.resources, work.strategy, this.ctx.executes && this.ctx.pool.fits(work.resources));
  }

  private failUnplaceable(work: Work, message: string): void {
    const err = errorValue(
      new UnschedulableError(message, work.resources, { taskId: work.id, nodeId: this.ctx.nodeId }),
    );
    this.host.fail(work, err, message);
  }

  /** Sends owned work to another node. */
  private forward(work: TaskWork, nodeId: string): void {
    transition(work, 'running');
    work.remote = nodeId;
    work.attempts++;
    this.ctx.cluster!.peers.forwardTask(nodeId, work.task, work.spills >= MAX_SPILLS);
  }

  private argsLocal(work: Work): boolean {
    return this.deps.local(
      work,
      (w) => this.host.requeue(w),
      (w, err) => this.host.fail(w, err, 'an argument of its constructor could not be fetched'),
    );
  }

  private dispatch(work: Work, alloc: Allocation): void {
    alloc = this.bundles.withBundleGpus(alloc, work.resources);
    const resolved = this.deps.resolve(work.args);
    if ('error' in resolved) {
      this.ctx.pool.release(alloc);
      this.host.fail(work, resolved.error, 'an argument of its constructor failed');
      return;
    }
    const cuda = work.isolation === 'process' && alloc.gpuIds.length ? alloc.gpuIds.join(',') : undefined;
    if (work.kind === 'task') {
      this.slots.run(work, alloc, resolved.values, cuda);
      return;
    }
    transition(work, 'running');
    work.attempts++;
    const times = this.ctx.placementTimes;
    if (times && work.queuedAt > 0) {
      times.actor.observe(performance.now() - work.queuedAt);
      work.queuedAt = 0;
    }
    this.host.startActor(work, alloc, resolved.values, cuda);
  }

  /** Sends a short task to a busy worker of the same shape, behind what it runs. */
  private pipeline(work: Work): boolean {
    if (work.kind !== 'task') return false;
    const w = this.slots.pipelineTarget(work);
    if (!w) return false;
    const resolved = this.deps.resolve(work.args);
    if ('error' in resolved) this.host.fail(work, resolved.error, '');
    else this.slots.send(work, w, resolved.values);
    return true;
  }

  /**
   * As Ray's raylets spill back: a task queued here for its owner elsewhere, which cannot run here
   * yet while another node has room now, goes back to its owner to run there (else it would wait
   * here for as long as this node's CPUs stay taken, by a long task or an actor, while others idle).
   */
  private spill(work: Work): boolean {
    const cluster = this.ctx.cluster;
    if (work.origin === undefined || work.kind !== 'task' || work.noSpill || !cluster) return false;
    const target = cluster.placer.spillTarget(work.resources, this.ctx.nodeId);
    if (target === undefined) return false;
    this.host.forget(work);
    cluster.peers.spillBack(work.origin, work.id, target);
    return true;
  }
}
