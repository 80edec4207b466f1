/**
 * The work a node knows (by id) and its queues for resources (one per resource shape, in
 * submission order). Pure bookkeeping: what runs where is decided by the scheduler.
 */
import type { ResourceSet } from '../options.js';
import { transition, type Work } from './work.js';

/** What the scheduler says after looking at one queued work: go on with the queue, or stop it. */
export type Step = 'next' | 'stop';

export class TaskQueue {
  private readonly works = new Map<string, Work>();
  /** Resource shape -> work queued for resources, oldest first (entries may be done or cancelled). */
  private readonly queues = new Map<string, Work[]>();

  /** `timed`: stamp each work's `queuedAt` (metrics are on: the scheduler's placement times). */
  constructor(private readonly timed = false) {}

  get size(): number {
    return this.works.size;
  }

  add(work: Work): void {
    this.works.set(work.id, work);
  }

  get(id: string): Work | undefined {
    return this.works.get(id);
  }

  has(id: string): boolean {
    return this.works.has(id);
  }

  /** Forgets the work (it stays in its queue until the scheduler passes it). */
  delete(id: string): void {
    this.works.delete(id);
  }

  values(): IterableIterator<Work> {
    return this.works.values();
  }

  /** Queues the work for resources behind the work of its shape. */
  enqueue(work: Work): void {
    transition(work, 'queued');
    if (this.timed) work.queuedAt = performance.now();
    let q = this.queues.get(work.shapeKey);
    if (!q) this.queues.set(work.shapeKey, (q = []));
    q.push(work);
  }

  /**
   * Visits queued work, shape by shape and oldest first. `step` is called for each entry (done or
   * cancelled ones too); 'stop' leaves that entry and the rest of its shape queued. Visited
   * entries leave their queue.
   */
  visit(step: (work: Work) => Step): void {
    for (const [key, q] of this.queues) {
      let i = 0;
      while (i < q.length && step(q[i]) === 'next') i++;
      if (i >= q.length) this.queues.delete(key);
      else if (i > 0) q.splice(0, i);
    }
  }

  /** True if `resources` fit (by `fits`) beside the actor creations queued or waiting here. */
  fitsBesideQueuedActors(resources: ResourceSet, fits: (r: ResourceSet) => boolean): boolean {
    let need: Record<string, number> | undefined;
    for (const q of this.queues.values()) {
      for (const w of q) {
        if (w.kind !== 'create' || w.cancelled || (w.state !== 'queued' && w.state !== 'waiting')) continue;
        need ??= { ...resources };
        for (const k in w.resources) need[k] = (need[k] ?? 0) + w.resources[k];
      }
    }
    return fits(need ?? resources);
  }

  /** Queued work by resource shape (the node's load, for `ray-ts status` and the autoscaler). */
  load(): { shape: Record<string, number>; count: number }[] {
    const out = new Map<string, { shape: Record<string, number>; count: number }>();
    for (const q of this.queues.values()) {
      for (const w of q) {
        if (w.state !== 'queued') continue;
        const e = out.get(w.shapeKey) ?? { shape: { ...w.resources }, count: 0 };
        e.count++;
        out.set(w.shapeKey, e);
      }
    }
    return [...out.values()];
  }

  /** The queues' entries by shape, for diagnostics. */
  describe(): { shape: string; works: string[] }[] {
    return [...this.queues].map(([k, q]) => ({
      shape: k,
      works: q.map((x) => `${x.kind === 'task' ? x.task.name : undefined}:${x.state}`),
    }));
  }
}
