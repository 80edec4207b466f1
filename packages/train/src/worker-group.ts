/**
 * A training run's worker group: started in a placement group of its own (elastic runs: as many
 * workers as fit, at least min), joined in a collective group, driven through the training loop
 * with every worker's reports gathered in step, and stopped. Used by run-training.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  availableResources,
  collective,
  get,
  getRuntimeContext,
  kill,
  placementGroup,
  removePlacementGroup,
  type ActorHandle,
  type PlacementGroup,
} from '@ray-ts/core';
import type { Checkpoint, TuneContext } from '@ray-ts/tune';
import type { ReportEvent, TrainContext } from './session.js';
import type { TrainFailure } from './train-result.js';
import type { TrainerSpec } from './trainer-options.js';
import { TrainWorker, type TrainWorkerMethods, type WorkerBatch } from './worker.js';

/** A started group: its worker actors, where each runs, its placement group and collective group. */
export interface Group {
  workers: ActorHandle<TrainWorkerMethods>[];
  where: { nodeId: string; pid: number }[];
  pg: PlacementGroup | undefined;
  collectiveGroup: string;
}

export async function startGroup(spec: TrainerSpec, name: string, attempt: number, atLeast = 0): Promise<Group> {
  const { minWorkers, maxWorkers, resources, placementStrategy, isolation } = spec.scaling;
  const { CPU = 0, GPU = 0, ...custom } = resources;
  // Inside a Tune trial the trial's group captures the workers; on a driver they get a group of their own.
  const captured = getRuntimeContext().placementGroupId !== undefined;
  // Elastic: as many as fit now, at least min (the group then waits for them).
  const numWorkers =
    captured || minWorkers === maxWorkers
      ? maxWorkers
      : Math.min(maxWorkers, Math.max(minWorkers, atLeast, fitting(await availableResources(), resources)));
  let pg: PlacementGroup | undefined;
  let size = numWorkers;
  while (!captured) {
    pg = placementGroup(
      Array.from({ length: size }, () => ({ ...resources })),
      { strategy: placementStrategy },
    );
    // Elastic: a group that does not fit within 2 s (free resources were on a node that just
    // died, or are split over nodes) is tried one worker smaller, down to min (which waits).
    if (size === minWorkers || minWorkers === maxWorkers) {
      await pg.ready();
      break;
    }
    if (await pg.wait(2_000)) break;
    await removePlacementGroup(pg);
    size--;
  }
  const workers = Array.from(
    { length: size },
    (_, i) =>
      TrainWorker.options({
        numCpus: CPU,
        ...(GPU ? { numGpus: GPU } : {}),
        ...(Object.keys(custom).length ? { resources: custom } : {}),
        isolation,
        ...(pg ? { schedulingStrategy: { placementGroup: pg, placementGroupBundleIndex: i } } : {}),
      }).remote() as unknown as ActorHandle<TrainWorkerMethods>,
  );
  const where = await get(workers.map((w) => w.where.remote()));
  const collectiveGroup = `train-${name.replace(/[^\w.-]/g, '_').slice(0, 80)}-${randomUUID().slice(0, 8)}-${attempt}`;
  await collective.createCollectiveGroup(workers, { groupName: collectiveGroup });
  return { workers, where, pg, collectiveGroup };
}

/** True if one more worker can be reserved now: a probe group of one bundle, placed or not within 200 ms. */
async function roomForOneMore(spec: TrainerSpec): Promise<boolean> {
  if (fitting(await availableResources(), spec.scaling.resources) < 1) return false;
  const probe = placementGroup([{ ...spec.scaling.resources }]);
  try {
    return await probe.wait(200);
  } catch {
    return false;
  } finally {
    await removePlacementGroup(probe).catch(() => undefined);
  }
}

/** How many more workers of `resources` the free resources fit. */
function fitting(free: Record<string, number>, resources: Record<string, number>): number {
  let n = Infinity;
  for (const [k, v] of Object.entries(resources)) if (v > 0) n = Math.min(n, Math.floor((free[k] ?? 0) / v + 1e-9));
  return n === Infinity ? 1_000_000 : n;
}

export async function stopGroup(g: Group): Promise<void> {
  await Promise.all(g.workers.map((w) => kill(w).catch(() => undefined)));
  await collective.destroyCollectiveGroup(g.collectiveGroup).catch(() => undefined);
  if (g.pg) await removePlacementGroup(g.pg).catch(() => undefined);
}

export type Outcome =
  { ok: true } | { ok: false; grow: true } | { ok: false; failure: Omit<TrainFailure, 'attempt' | 'restartedFrom'> };

/**
 * Starts the loop on every worker and gathers reports: report k is complete when every worker
 * made it; rank 0's metrics and the lowest rank's checkpoint go to `onReport`. The first worker
 * that throws or dies ends the attempt (the others are stopped by the caller).
 */
export async function driveGroup(
  spec: TrainerSpec,
  name: string,
  dir: string,
  g: Group,
  attempt: number,
  checkpoint: { path?: string; data?: unknown } | undefined,
  startIteration: number,
  onReport: (
    iteration: number,
    metrics: Record<string, unknown>,
    checkpoint: { path?: string; data?: unknown } | undefined,
  ) => Checkpoint | undefined,
  tune: TuneContext | undefined,
): Promise<Outcome> {
  const n = g.workers.length;
  const nodes = [...new Set(g.where.map((w) => w.nodeId))];
  const shards: Record<string, unknown>[] = Array.from({ length: n }, () => ({}));
  for (const [dsName, ds] of Object.entries(spec.datasets)) {
    const its = await ds.streamingSplit(n, { equal: true });
    its.forEach((it, i) => (shards[i][dsName] = it));
  }
  await Promise.all(
    g.workers.map((w, rank) => {
      const node = g.where[rank].nodeId;
      const onNode = g.where
        .map((x, r) => [x.nodeId, r] as const)
        .filter(([id]) => id === node)
        .map(([, r]) => r);
      const context: TrainContext = {
        worldRank: rank,
        worldSize: n,
        localRank: onNode.indexOf(rank),
        localWorldSize: onNode.length,
        nodeRank: nodes.indexOf(node),
        experimentName: name,
        trialDir: dir,
        collectiveGroup: g.collectiveGroup,
        attempt,
      };
      return get(
        w.start.remote({ loop: spec.loop, config: spec.trainLoopConfig, context, checkpoint, shards: shards[rank] }),
      );
    }),
  );
  const canGrow = !tune && n < spec.scaling.maxWorkers && getRuntimeContext().placementGroupId === undefined;
  const pending = new Map<number, ReportEvent[]>();
  let reported = 0;
  let failed: Outcome | undefined;
  let stopAll: (() => void) | undefined;
  const stopped = new Promise<void>((r) => (stopAll = r));
  const pump = async (rank: number): Promise<void> => {
    const w = g.workers[rank];
    for (;;) {
      let batch: WorkerBatch;
      try {
        batch = await Promise.race([
          get(w.next.remote()),
          stopped.then(() => ({ reports: [], done: { ok: true } }) as WorkerBatch),
        ]);
      } catch (err) {
        const e = err as Error;
        failed ??= {
          ok: false,
          failure: {
            kind: 'died',
            rank,
            nodeId: g.where[rank].nodeId,
            error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: e?.stack ?? String(err) },
          },
        };
        stopAll!();
        return;
      }
      for (const ev of batch.reports) {
        const list = pending.get(ev.index) ?? [];
        list[rank] = ev;
        pending.set(ev.index, list);
        // Report k is complete once every worker made it.
        while (pending.get(reported)?.filter(Boolean).length === n) {
          const all = pending.get(reported)!;
          pending.delete(reported);
          reported++;
          const cp = all.find((e) => e.checkpoint)?.checkpoint;
          const saved = onReport(startIteration + reported, all[0].metrics, cp);
          if (tune) await tune.report(all[0].metrics, saved ? { checkpoint: saved } : {});
          // Elastic: right after a checkpoint, grow if more workers fit now (nothing is lost).
          if (saved && canGrow && !failed && (await roomForOneMore(spec))) {
            failed = { ok: false, grow: true };
            stopAll!();
          }
        }
      }
      if (batch.done) {
        if (!batch.done.ok && !failed) {
          const d = batch.done;
          failed = {
            ok: false,
            failure: {
              kind: 'error',
              rank,
              nodeId: g.where[rank].nodeId,
              error: { name: d.name, message: d.message, stack: d.stack },
            },
          };
          stopAll!();
        }
        return;
      }
    }
  };
  await Promise.all(g.workers.map((_, r) => pump(r)));
  return failed ?? { ok: true };
}
