/**
 * DataParallelTrainer: runs a training loop on a group of worker actors (one per
 * `scalingConfig.numWorkers`, reserved together in a placement group), joined in a collective
 * group so that they can keep their models in sync; collects their reports, saves checkpoints
 * under the run's folder, and restarts the group from the latest checkpoint when a worker fails.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  availableResources,
  collective,
  get,
  getRuntimeContext,
  init,
  isInitialized,
  kill,
  placementGroup,
  portable,
  removePlacementGroup,
  type ActorHandle,
  type PlacementGroup,
  type PlacementStrategy,
  type PortableFunction,
} from '@ray-ts/core';
import type { Dataset } from '@ray-ts/data';
import { Checkpoint, PlacementGroupFactory, type TrialResult, type TuneContext } from '@ray-ts/tune';
import { ExperimentStorage } from '@ray-ts/tune/internal';
import { TrainInvalidArgumentError, TrainingFailedError } from './errors.js';
import type { ReportEvent, TrainContext } from './session.js';
import { TrainWorker, type TrainWorkerMethods, type WorkerBatch } from './worker.js';

/** How many workers, with what (Ray's `ScalingConfig`). */
export interface ScalingConfig {
  /**
   * Workers in the group (default 1), or `{ min, max }` for elastic training: the group starts
   * with as many as the cluster fits (at least min), grows after a checkpointed report when
   * resources for more are free, and restarts smaller instead of failing when a worker or its
   * node is lost.
   */
  numWorkers?: number | { min: number; max: number };
  /** Give each worker a GPU (`resourcesPerWorker.GPU`, default 1); GPU workers run as processes with CUDA_VISIBLE_DEVICES. */
  useGpu?: boolean;
  /** Resources of each worker, by name (default `{ CPU: 1 }`, plus `GPU: 1` with useGpu). */
  resourcesPerWorker?: Record<string, number>;
  /** How the workers' bundles are placed over the nodes (default `'PACK'`). */
  placementStrategy?: PlacementStrategy;
  /** Run each worker on a thread of its own (default) or in a process of its own (default with useGpu). */
  isolation?: 'thread' | 'process';
}

/** Checkpoints kept (Ray's `CheckpointConfig`). */
export interface CheckpointConfig {
  /** Checkpoints kept (default all); the latest always stays. */
  numToKeep?: number;
  /** Rank checkpoints by this reported metric (default: the iteration, so the oldest go first). */
  checkpointScoreAttribute?: string;
  checkpointScoreOrder?: 'min' | 'max';
}

/** Where the run goes and how failures are handled (Ray's `RunConfig`). */
export interface RunConfig {
  /** The run's name: its folder under storagePath (default `train_<date>`). */
  name?: string;
  /** Default `~/ray_ts_results`. */
  storagePath?: string;
  checkpointConfig?: CheckpointConfig;
  /** Restarts of the group after a worker fails (default 0; -1: without limit). */
  failureConfig?: { maxFailures?: number };
  /** 0: silent; 1 (default): a line per report and per failure. */
  verbose?: 0 | 1;
}

/** Options of {@link DataParallelTrainer}. */
export interface DataParallelTrainerOptions<C extends Record<string, unknown>> {
  /** Given to the training loop of every worker. */
  trainLoopConfig?: C;
  scalingConfig?: ScalingConfig;
  runConfig?: RunConfig;
  /** Datasets split among the workers (Data's `streamingSplit(numWorkers, { equal: true })`): `getDatasetShard(name)`. */
  datasets?: Record<string, Dataset>;
  /** Start from this checkpoint (`getCheckpoint()` returns it on the first start). */
  resumeFromCheckpoint?: Checkpoint;
}

/** A failure of the group, as `Result.failures` lists them. */
export interface TrainFailure {
  /** The start of the group that failed (0: the first). */
  attempt: number;
  rank: number;
  nodeId: string;
  error: { name: string; message: string; stack: string };
  /** The checkpoint the next start resumed from (undefined: from scratch). */
  restartedFrom: string | undefined;
  /** `'error'`: the loop threw; `'died'`: the worker (or its node) died. Elastic runs do not count deaths against maxFailures. */
  kind: 'error' | 'died';
}

/** The outcome of `fit()` (Ray Train's `Result`). */
export interface Result {
  /** Rank 0's last report. */
  readonly metrics: TrialResult | undefined;
  /** Every report of rank 0, in order (after a restart, the steps after the checkpoint run again and replace theirs). */
  readonly metricsHistory: readonly TrialResult[];
  /** The latest checkpoint. */
  readonly checkpoint: Checkpoint | undefined;
  /** The kept checkpoints with their metrics: best first when checkpointScoreAttribute is set, else oldest first. */
  readonly bestCheckpoints: readonly { checkpoint: Checkpoint; metrics: TrialResult | undefined }[];
  /** Set when the run failed for good (after maxFailures restarts): a TrainingFailedError naming the worker, with its stack. */
  readonly error: TrainingFailedError | undefined;
  /** Failures the run went through (restarted or final). */
  readonly failures: readonly TrainFailure[];
  /** The run's folder. */
  readonly path: string;
  /** Workers of each start of the group, in order (elastic runs grow and shrink). */
  readonly groupSizes: readonly number[];
}

/** @internal What a trainer is, in a form that crosses to a Tune trial. */
export interface TrainerSpec {
  loop: PortableFunction;
  trainLoopConfig: Record<string, unknown>;
  scaling: Required<Pick<ScalingConfig, 'placementStrategy' | 'isolation'>> & {
    minWorkers: number;
    maxWorkers: number;
    resources: Record<string, number>;
  };
  run: RunConfig;
  datasets: Record<string, Dataset>;
  resumeFrom: { path?: string; data?: unknown } | undefined;
}

const SPEC = Symbol.for('ray-ts.tune.trainable-spec');

/**
 * Data-parallel training (Ray Train's `DataParallelTrainer`): `trainLoopPerWorker(config)` runs
 * on every worker; inside it, `getContext()`, `report()`, `getCheckpoint()`, `getDatasetShard()`
 * and `collective.*` with `{ groupName: getContext().collectiveGroup }`.
 * @example
 * const trainer = new DataParallelTrainer(trainLoop, {
 *   trainLoopConfig: { lr: 0.01, epochs: 3 },
 *   scalingConfig: { numWorkers: 2 },
 *   runConfig: { name: 'mlp', failureConfig: { maxFailures: 2 } },
 * });
 * const result = await trainer.fit();
 */
export class DataParallelTrainer<C extends Record<string, unknown> = Record<string, unknown>> {
  private readonly spec: TrainerSpec;

  constructor(trainLoopPerWorker: ((config: C) => unknown) | object, options: DataParallelTrainerOptions<C> = {}) {
    checkKeys(
      options as Record<string, unknown>,
      ['trainLoopConfig', 'scalingConfig', 'runConfig', 'datasets', 'resumeFromCheckpoint'],
      'DataParallelTrainer options',
    );
    const sc = options.scalingConfig ?? {};
    checkKeys(
      sc as Record<string, unknown>,
      ['numWorkers', 'useGpu', 'resourcesPerWorker', 'placementStrategy', 'isolation'],
      'scalingConfig',
    );
    const nw = sc.numWorkers ?? 1;
    const [minWorkers, maxWorkers] = typeof nw === 'object' && nw !== null ? [nw.min, nw.max] : [nw, nw];
    if (!Number.isInteger(minWorkers) || minWorkers < 1 || !Number.isInteger(maxWorkers) || maxWorkers < minWorkers) {
      throw new TrainInvalidArgumentError(
        `scalingConfig.numWorkers must be an integer >= 1, or { min, max } with 1 <= min <= max; got ${JSON.stringify(nw)}.`,
      );
    }
    const resources = { CPU: 1, ...(sc.useGpu ? { GPU: 1 } : {}), ...(sc.resourcesPerWorker ?? {}) };
    for (const [k, v] of Object.entries(resources)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new TrainInvalidArgumentError(
          `scalingConfig.resourcesPerWorker.${k} must be a number >= 0, got ${JSON.stringify(v)}.`,
        );
    }
    const rc = options.runConfig ?? {};
    checkKeys(
      rc as Record<string, unknown>,
      ['name', 'storagePath', 'checkpointConfig', 'failureConfig', 'verbose'],
      'runConfig',
    );
    const mf = rc.failureConfig?.maxFailures ?? 0;
    if (!Number.isInteger(mf) || mf < -1)
      throw new TrainInvalidArgumentError(
        `runConfig.failureConfig.maxFailures must be an integer >= -1, got ${JSON.stringify(mf)}.`,
      );
    if (options.resumeFromCheckpoint !== undefined && !(options.resumeFromCheckpoint instanceof Checkpoint)) {
      throw new TrainInvalidArgumentError(
        'resumeFromCheckpoint must be a Checkpoint (e.g. result.checkpoint, or Checkpoint.fromDirectory(dir)).',
      );
    }
    this.spec = {
      loop: portable(trainLoopPerWorker as never, 'DataParallelTrainer'),
      trainLoopConfig: { ...(options.trainLoopConfig ?? {}) },
      scaling: {
        minWorkers,
        maxWorkers,
        resources,
        placementStrategy: sc.placementStrategy ?? 'PACK',
        isolation: sc.isolation ?? (sc.useGpu ? 'process' : 'thread'),
      },
      run: rc,
      datasets: { ...(options.datasets ?? {}) },
      resumeFrom: options.resumeFromCheckpoint?.toWire(),
    };
  }

  /** Trains: resolves with the result, also when the run failed for good (then `result.error` says why). */
  async fit(): Promise<Result> {
    if (!isInitialized()) await init();
    const name = this.spec.run.name ?? `train_${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const root = path.resolve(this.spec.run.storagePath ?? path.join(os.homedir(), 'ray_ts_results'));
    return runTraining(this.spec, name, root, undefined);
  }

  /**
   * @internal A trainer is a Tune trainable: each trial runs one training group, in the trial's
   * placement group (bundle 0 for the trial's own actor, one bundle per worker).
   */
  get [SPEC](): { trainable: unknown; resources: PlacementGroupFactory; params: Record<string, unknown> } {
    // Loaded lazily: the trial function's module registers a remote function.
    // A trial reserves the most workers (elastic trials do not resize).
    const bundles = [
      { CPU: 0 },
      ...Array.from({ length: this.spec.scaling.maxWorkers }, () => ({ ...this.spec.scaling.resources })),
    ];
    return {
      trainable: trialTrainable(),
      resources: new PlacementGroupFactory(bundles, this.spec.scaling.placementStrategy),
      params: { trainerSpec: this.spec },
    };
  }
}

let trialFn: unknown;
/** @internal Set by tune-trainable.ts (which imports this module). */
export function setTrialTrainable(fn: unknown): void {
  trialFn = fn;
}
function trialTrainable(): unknown {
  if (!trialFn)
    throw new TrainInvalidArgumentError(
      'Tune integration is not loaded: import @ray-ts/train (its index) rather than its modules.',
    );
  return trialFn;
}

function checkKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  if (o === null || typeof o !== 'object') throw new TrainInvalidArgumentError(`${what} must be an object.`);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      const camel = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = allowed.includes(camel) ? ` Did you mean '${camel}'?` : '';
      throw new TrainInvalidArgumentError(`${what}: unknown option '${k}'.${hint} Options: ${allowed.join(', ')}.`);
    }
  }
}

interface Group {
  workers: ActorHandle<TrainWorkerMethods>[];
  where: { nodeId: string; pid: number }[];
  pg: PlacementGroup | undefined;
  collectiveGroup: string;
}

/**
 * @internal One training run: on the driver (`fit()`), or inside a Tune trial (`tune` given: its
 * reports go to the trial too, and the workers land in the trial's placement group).
 */
export async function runTraining(
  spec: TrainerSpec,
  name: string,
  root: string,
  tune: TuneContext | undefined,
): Promise<Result> {
  const storage = new ExperimentStorage(root);
  const dir = storage.trialDir(name);
  fs.mkdirSync(dir, { recursive: true });
  const verbose = spec.run.verbose ?? (tune ? 0 : 1);
  const log = (line: string) => {
    if (verbose > 0) console.log(`[train ${name}] ${line}`);
  };
  const maxFailures = spec.run.failureConfig?.maxFailures ?? 0;
  const cc = spec.run.checkpointConfig ?? {};
  const history: TrialResult[] = [];
  const kept: { dir: string; iteration: number; score: number | undefined }[] = [];
  const failures: TrainFailure[] = [];
  let latest: { dir: string; iteration: number } | undefined;
  let resumeFrom = spec.resumeFrom;
  const startedAt = Date.now();
  let error: TrainingFailedError | undefined;

  const groupSizes: number[] = [];
  const elastic = spec.scaling.minWorkers < spec.scaling.maxWorkers;
  let counted = 0;
  let grewFrom = 0;
  for (let attempt = 0; ; attempt++) {
    const group = await startGroup(spec, name, attempt, grewFrom + 1);
    grewFrom = 0;
    groupSizes.push(group.workers.length);
    if (attempt > 0 || elastic)
      log(
        `started ${group.workers.length} worker${group.workers.length === 1 ? '' : 's'}${elastic ? ` (elastic: ${spec.scaling.minWorkers} to ${spec.scaling.maxWorkers})` : ''}`,
      );
    // A restart runs the steps after its checkpoint again: their results go.
    const from = latest?.iteration ?? 0;
    if (history.length > from) {
      history.splice(from);
      storage.rewriteResults(name, history);
    }
    const outcome = await drive(
      spec,
      name,
      dir,
      group,
      attempt,
      resumeFrom,
      from,
      (iteration, metrics, checkpoint) => {
        const now = Date.now();
        const result: TrialResult = {
          ...metrics,
          trainingIteration: iteration,
          timeTotalS: (now - startedAt) / 1000,
          timestamp: now,
          trialId: name,
        } as TrialResult;
        let saved: Checkpoint | undefined;
        if (checkpoint) {
          const cdir = storage.checkpointDir(name, iteration);
          fs.rmSync(cdir, { recursive: true, force: true });
          saved = Checkpoint.fromWire(checkpoint)!.writeTo(cdir);
          latest = { dir: cdir, iteration };
          const score = cc.checkpointScoreAttribute
            ? (metrics[cc.checkpointScoreAttribute] as number | undefined)
            : iteration;
          kept.push({ dir: cdir, iteration, score });
          prune(kept, cc);
        }
        history.push(result);
        storage.appendResult(name, result);
        log(
          `iteration ${iteration}: ${formatMetrics(metrics)}${saved ? ` (checkpoint ${path.basename(saved.path!)})` : ''}`,
        );
        return saved;
      },
      tune,
    );
    await stopGroup(group);
    if (outcome.ok) break;
    if ('grow' in outcome) {
      grewFrom = group.workers.length;
      resumeFrom = { path: latest!.dir };
      log(`resources for more workers are free: restarting the group from ${path.basename(latest!.dir)} to grow it`);
      continue;
    }
    const f = outcome.failure;
    // Elastic runs go on with fewer workers when one dies; errors of the loop count either way.
    const counts = !(elastic && f.kind === 'died');
    const willRestart = !counts || maxFailures === -1 || counted < maxFailures;
    if (counts) counted++;
    failures.push({ ...f, attempt, restartedFrom: willRestart ? latest?.dir : undefined });
    if (!willRestart) {
      error = new TrainingFailedError(
        `Training failed: worker ${f.rank} (node ${f.nodeId}) ${f.error.name}: ${f.error.message}` +
          (maxFailures === 0
            ? '. Set runConfig.failureConfig.maxFailures to restart the group from its latest checkpoint.'
            : ` (after ${maxFailures} restarts).`) +
          `\nWorker ${f.rank}'s stack:\n${f.error.stack}`,
      );
      log(`failed for good: ${error.message}`);
      break;
    }
    resumeFrom = latest ? { path: latest.dir } : spec.resumeFrom;
    log(
      `worker ${f.rank} failed (${f.error.name}: ${f.error.message}); restarting the group from ${latest ? path.basename(latest.dir) : 'the start'} (restart ${failures.length}${maxFailures === -1 ? '' : ` of ${maxFailures}`})\n${f.error.stack}`,
    );
  }
  const byIteration = new Map(history.map((r) => [r.trainingIteration, r]));
  const best = kept
    .filter((k) => fs.existsSync(k.dir))
    .map((k) => ({
      checkpoint: new Checkpoint(k.dir, undefined),
      metrics: byIteration.get(k.iteration),
      score: k.score,
    }));
  if (cc.checkpointScoreAttribute) {
    const sign = (cc.checkpointScoreOrder ?? 'max') === 'max' ? -1 : 1;
    best.sort((a, b) => sign * ((a.score ?? -Infinity) - (b.score ?? -Infinity)));
  }
  return {
    metrics: history.at(-1),
    metricsHistory: history,
    checkpoint: latest ? new Checkpoint(latest.dir, undefined) : undefined,
    bestCheckpoints: best.map(({ checkpoint, metrics }) => ({ checkpoint, metrics })),
    error,
    failures,
    path: dir,
    groupSizes,
  };
}

function prune(kept: { dir: string; iteration: number; score: number | undefined }[], cc: CheckpointConfig): void {
  const keep = cc.numToKeep;
  if (keep === undefined || kept.length <= keep) return;
  const order = cc.checkpointScoreOrder ?? 'max';
  const candidates = kept
    .slice(0, -1)
    .sort((a, b) => ((a.score ?? -Infinity) - (b.score ?? -Infinity)) * (order === 'max' ? 1 : -1));
  while (kept.length > keep && candidates.length > 0) {
    const worst = candidates.shift()!;
    fs.rmSync(worst.dir, { recursive: true, force: true });
    kept.splice(kept.indexOf(worst), 1);
  }
}

function formatMetrics(m: Record<string, unknown>): string {
  return Object.entries(m)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, 6)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
    .join(' ');
}

async function startGroup(spec: TrainerSpec, name: string, attempt: number, atLeast = 0): Promise<Group> {
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

async function stopGroup(g: Group): Promise<void> {
  await Promise.all(g.workers.map((w) => kill(w).catch(() => undefined)));
  await collective.destroyCollectiveGroup(g.collectiveGroup).catch(() => undefined);
  if (g.pg) await removePlacementGroup(g.pg).catch(() => undefined);
}

type Outcome =
  { ok: true } | { ok: false; grow: true } | { ok: false; failure: Omit<TrainFailure, 'attempt' | 'restartedFrom'> };

/**
 * Starts the loop on every worker and gathers reports: report k is complete when every worker
 * made it; rank 0's metrics and the lowest rank's checkpoint go to `onReport`. The first worker
 * that throws or dies ends the attempt (the others are stopped by the caller).
 */
async function drive(
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
