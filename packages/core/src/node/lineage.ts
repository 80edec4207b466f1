/**
 * Lineage (multi-node): tasks whose results live on other nodes are kept, with their arguments
 * pinned, while any of those results is alive here, so that a result lost with its node can be
 * made again by running the task again.
 */
import type { ResourceSet, SchedulingStrategySpec } from '../options.js';
import type { ArgSpec, TaskSpec } from '../protocol/specs.js';
import type { ObjectStore } from './object-store.js';
import type { TaskWork } from './work.js';

interface Entry {
  spec: TaskSpec;
  resources: ResourceSet;
  strategy: SchedulingStrategySpec | undefined;
  attempts: number;
  /** Its results still alive here. */
  live: Set<string>;
}

/** A task to run again: its lost results are pending again, its arguments still pinned by the lineage. */
export interface Rebuild {
  spec: TaskSpec;
  resources: ResourceSet;
  strategy: SchedulingStrategySpec | undefined;
  attempts: number;
}

export class Lineage {
  private readonly byTask = new Map<string, Entry>();
  /** Result id -> the task that made it. */
  private readonly taskOf = new Map<string, string>();

  constructor(
    private readonly store: Pick<ObjectStore, 'has' | 'locationOf' | 'resetPending'>,
    private readonly unpinArgs: (args: ArgSpec[]) => void,
  ) {}

  /**
   * Keeps (or, for a rebuild, keeps on) a finished task's lineage while its results are alive;
   * false if there is none to keep (the caller unpins the arguments then).
   */
  keep(work: TaskWork, resultsElsewhere: boolean): boolean {
    const spec = work.task;
    const prev = this.byTask.get(spec.taskId);
    if (!prev && !resultsElsewhere) return false;
    const live = new Set(spec.returnIds.filter((id) => this.store.has(id)));
    if (!live.size) {
      if (prev) this.byTask.delete(spec.taskId); // the caller drops the pins it held
      return false;
    }
    if (prev) {
      prev.attempts = work.attempts; // a rebuild ended: the pins taken the first time still stand
      prev.live = live;
      return true;
    }
    this.byTask.set(spec.taskId, {
      spec,
      resources: work.resources,
      strategy: work.strategy,
      attempts: work.attempts,
      live,
    });
    for (const id of live) this.taskOf.set(id, spec.taskId);
    return true;
  }

  /** A result was freed (`running`: whether its task is running again now). */
  release(id: string, running: (taskId: string) => boolean): void {
    const taskId = this.taskOf.get(id);
    if (taskId === undefined) return;
    this.taskOf.delete(id);
    const l = this.byTask.get(taskId);
    if (!l) return;
    l.live.delete(id);
    if (l.live.size === 0 && !running(taskId)) {
      this.byTask.delete(taskId);
      this.unpinArgs(l.spec.args);
    }
  }

  /**
   * Results owned here whose bytes were on a node that is gone: the tasks to run again (their
   * arguments were kept; lost arguments are rebuilt the same way first, as the new run waits for
   * them), while the task's retries last. Their lost results are pending again.
   */
  lostWith(nodeId: string, running: (taskId: string) => boolean): Rebuild[] {
    const out: Rebuild[] = [];
    for (const [taskId, l] of this.byTask) {
      const lost = [...l.live].filter((id) => this.store.locationOf(id) === nodeId);
      if (!lost.length || running(taskId)) continue;
      const spec = l.spec;
      if (spec.maxRetries !== -1 && l.attempts > spec.maxRetries) continue; // pulls report it lost
      for (const id of lost) this.store.resetPending(id);
      out.push({ spec, resources: l.resources, strategy: l.strategy, attempts: l.attempts });
    }
    return out;
  }
}
