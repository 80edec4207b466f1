/**
 * The trial runner's worker actors: how many trials the cluster fits at once, a worker for each
 * trial (an idle one of the same resources when actors are reused, or a new one; a placement group
 * of its own for a `PlacementGroupFactory` trainable), and their release or kill afterwards.
 */
import {
  clusterResources,
  kill,
  placementGroup,
  removePlacementGroup,
  type ActorHandle,
  type PlacementGroup,
} from '@ray-ts/core';
import { TuneInvalidArgumentError } from './errors.js';
import { PlacementGroupFactory } from './placement-group-factory.js';
import { TrialWorker, type TrialResources, type TrialWorkerMethods } from './trainable.js';

/** A worker taken for a trial, with the placement group it runs in, if any. */
export interface TakenWorker {
  worker: ActorHandle<TrialWorkerMethods>;
  group?: PlacementGroup;
}

/** The worker actors of one experiment, all with the trainable's resources. */
export class TrialWorkers {
  private readonly idle = new Map<string, ActorHandle<TrialWorkerMethods>[]>();

  /**
   * @param resources what one trial takes (the trainable's `withResources()`).
   * @param reuseActors keep a clean worker for the next trial (tuneConfig.reuseActors).
   */
  constructor(
    readonly resources: TrialResources,
    private readonly reuseActors: boolean,
  ) {}

  /** What one trial takes from the cluster, in resource names (CPU, GPU, custom). */
  private get needs(): Record<string, number> {
    const r = this.resources;
    if (r instanceof PlacementGroupFactory) return r.requiredResources;
    return { CPU: r.numCpus, GPU: r.numGpus, ...(r.resources ?? {}) };
  }

  /**
   * Trials at once: what the cluster's resources fit, at most `max` (maxConcurrentTrials). Never more
   * than fit: idle workers kept for reuse hold their resources, and a trial's new worker would wait on them.
   * @throws TuneInvalidArgumentError when `max` is not an integer >= 1, or no trial fits the cluster.
   */
  async capacity(max: number | undefined): Promise<number> {
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
      throw new TuneInvalidArgumentError(`tuneConfig.maxConcurrentTrials must be an integer >= 1, got ${max}.`);
    }
    const total = await clusterResources();
    const need = this.needs;
    let n = Infinity;
    for (const [k, v] of Object.entries(need)) if (v > 0) n = Math.min(n, Math.floor((total[k] ?? 0) / v + 1e-9));
    if (n === 0) {
      const r = this.resources;
      const what =
        r instanceof PlacementGroupFactory
          ? `bundles ${JSON.stringify(r.bundles)} (${JSON.stringify(need)} in all)`
          : JSON.stringify(r);
      throw new TuneInvalidArgumentError(
        `A trial needs ${what} but the cluster has ${JSON.stringify(total)}: no trial can run. Lower withResources() or add nodes.`,
      );
    }
    const fit = n === Infinity ? 16 : n;
    return max === undefined ? fit : Math.min(max, fit);
  }

  private key(): string {
    return JSON.stringify(this.resources);
  }

  /**
   * A worker for a trial: an idle one with the same resources, or a new one. A placement group
   * trial gets a group of its own (reserved first) and a new worker in its bundle 0, capturing
   * what it submits into the group.
   */
  async take(): Promise<TakenWorker> {
    const r = this.resources;
    if (r instanceof PlacementGroupFactory) {
      // An empty first bundle: the trainable holds nothing; the group is the other bundles.
      const emptyHead = Object.values(r.headBundle).every((v) => v === 0);
      const group = placementGroup(
        (emptyHead ? r.bundles.slice(1) : r.bundles).map((b) => ({ ...b })),
        { strategy: r.strategy },
      );
      try {
        await group.ready();
      } catch (err) {
        await removePlacementGroup(group).catch(() => undefined);
        throw err;
      }
      const { CPU = 0, GPU = 0, ...rest } = r.headBundle;
      const worker = TrialWorker.options({
        numCpus: CPU,
        ...(GPU ? { numGpus: GPU } : {}),
        ...(Object.keys(rest).length ? { resources: rest } : {}),
        isolation: 'thread',
        schedulingStrategy: {
          placementGroup: group,
          placementGroupBundleIndex: emptyHead ? -1 : 0,
          placementGroupCaptureChildTasks: true,
        },
      }).remote() as unknown as ActorHandle<TrialWorkerMethods>;
      return { worker, group };
    }
    const list = this.idle.get(this.key());
    const w = this.reuseActors ? list?.pop() : undefined;
    if (w) return { worker: w };
    return {
      worker: TrialWorker.options({
        numCpus: r.numCpus,
        ...(r.numGpus ? { numGpus: r.numGpus } : {}),
        ...(r.resources ? { resources: r.resources } : {}),
        isolation: 'thread',
      }).remote() as unknown as ActorHandle<TrialWorkerMethods>,
    };
  }

  /** Keeps a clean worker for the next trial; kills others, and a placement group trial's worker with its group. */
  release(w: ActorHandle<TrialWorkerMethods>, clean: boolean, group: PlacementGroup | undefined): void {
    if (group) {
      void kill(w)
        .catch(() => undefined)
        .then(() => removePlacementGroup(group))
        .catch(() => undefined);
      return;
    }
    if (!clean || !this.reuseActors) {
      void kill(w).catch(() => undefined);
      return;
    }
    const key = this.key();
    const list = this.idle.get(key) ?? [];
    list.push(w);
    this.idle.set(key, list);
  }

  /** Kills the idle workers (the experiment ended). */
  killIdle(): void {
    for (const list of this.idle.values()) for (const w of list) void kill(w).catch(() => undefined);
    this.idle.clear();
  }
}
