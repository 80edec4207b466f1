/**
 * `Tuner`: runs an experiment. The driver-side trial runner asks the searcher for configs, runs
 * trials in parallel on reused worker actors (each with the trainable's resources), feeds every
 * result to the scheduler (which may stop, pause or clone trials), applies stop criteria, retries
 * failed trials from their last checkpoint, and writes the experiment's state as it goes so that
 * `Tuner.restore()` picks up after a crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  clusterResources,
  get,
  init,
  isInitialized,
  kill,
  placementGroup,
  portable,
  put,
  removePlacementGroup,
  type ActorHandle,
  type ObjectRef,
  type PlacementGroup,
} from '@ray-ts/core';
import { Checkpoint } from './checkpoint.js';
import { TuneInvalidArgumentError } from './errors.js';
import { ProgressReporter } from './progress.js';
import { ResultGrid, type Result } from './result-grid.js';
import { BasicVariantGenerator } from './search/basic-variant.js';
import { FIFOScheduler } from './schedulers/fifo.js';
import { ExperimentStorage, type ExperimentState, type TrialRecord } from './storage.js';
import { PlacementGroupFactory } from './placement-group-factory.js';
import {
  TrialWorker,
  unwrapTrainable,
  type TrialEvent,
  type TrialResources,
  type TrialWorkerMethods,
} from './trainable.js';
import {
  FINISHED,
  type Config,
  type Mode,
  type Searcher,
  type TrialInfo,
  type TrialResult,
  type TrialScheduler,
} from './types.js';

/** How trials are searched and scheduled (Ray's `TuneConfig`). */
export interface TuneConfig {
  /** The metric to optimize (needed by searchers like TPE, schedulers like ASHA, and getBestResult). */
  metric?: string;
  mode?: Mode;
  /** Trials to run (times the grid's size for grid search; default 1). */
  numSamples?: number;
  /** Proposes configs (default: random and grid search, `BasicVariantGenerator`). */
  searchAlg?: Searcher;
  /** Stops bad trials early (default: FIFO, never). */
  scheduler?: TrialScheduler;
  /** Trials at once (default: as many as the cluster's resources fit). */
  maxConcurrentTrials?: number;
  /** Stop the whole experiment after this many seconds. */
  timeBudgetS?: number;
  /** Run trials on the same worker actors one after another (default true; Ray's reuse_actors). */
  reuseActors?: boolean;
}

/** Checkpoints kept and taken. */
export interface CheckpointConfig {
  /** Checkpoints kept per trial (default all). */
  numToKeep?: number;
  /** Keep the best by this metric instead of the latest. */
  checkpointScoreAttribute?: string;
  checkpointScoreOrder?: Mode;
  /** Class trainables: checkpoint every this many iterations and at their last (default 0: only when a scheduler pauses them). */
  checkpointFrequency?: number;
}

/** Where results go and when trials stop (Ray's `RunConfig`). */
export interface RunConfig {
  /** The experiment's name (default `tune_<date>`). */
  name?: string;
  /** Folder of experiments (default `~/ray_ts_results`). */
  storagePath?: string;
  /** Stop a trial when a metric reaches a value (`{ trainingIteration: 10, accuracy: 0.95 }`), or when a function says so. */
  stop?: Record<string, number> | ((trialId: string, result: TrialResult) => boolean);
  checkpointConfig?: CheckpointConfig;
  /** Retries of a trial that throws, from its last checkpoint (default 0; -1 for unlimited). */
  failureConfig?: { maxFailures?: number };
  /** 0: silent; 1: a line per finished trial; 2: a live table on a terminal (default 1, 2 on a TTY). */
  verbose?: 0 | 1 | 2;
  /** Seconds between writes of experiment_state.json while results come in (default 2). */
  stateWriteIntervalS?: number;
}

/** Options of {@link Tuner}. */
export interface TunerOptions {
  paramSpace?: Config;
  tuneConfig?: TuneConfig;
  runConfig?: RunConfig;
}

interface Trial extends TrialRecord {
  results: TrialResult[];
  worker: ActorHandle<TrialWorkerMethods> | undefined;
  startedAt: number;
  lastReportAt: number;
  /** The scheduler asked for a restart from another trial's checkpoint. */
  exploit: { fromTrialId: string; config: Config } | undefined;
  /** A drive() runs it (its status may already say PAUSED or PENDING while its worker stops). */
  driving?: boolean;
  /** Checkpoints kept on disk, oldest first, with their score for numToKeep. */
  checkpoints?: KeptCheckpoint[];
}

/** A checkpoint kept on disk: its folder, the iteration it was taken at, its score for numToKeep. */
interface KeptCheckpoint {
  dir: string;
  iteration: number;
  score: number | undefined;
}

function bestCheckpoint(
  kept: { checkpoint: Checkpoint; metrics: TrialResult | undefined }[],
  metric: string,
  mode: Mode,
): Checkpoint | undefined {
  if (mode !== 'min' && mode !== 'max')
    throw new TuneInvalidArgumentError(`getBestCheckpoint: mode must be 'min' or 'max', got ${JSON.stringify(mode)}.`);
  let best: { checkpoint: Checkpoint; v: number } | undefined;
  for (const k of kept) {
    const v = (k.metrics as Record<string, unknown> | undefined)?.[metric];
    if (typeof v !== 'number' || Number.isNaN(v)) continue;
    if (!best || (mode === 'max' ? v > best.v : v < best.v)) best = { checkpoint: k.checkpoint, v };
  }
  return best?.checkpoint;
}

const info = (t: Trial): TrialInfo => ({
  trialId: t.trialId,
  config: t.config,
  status: t.status,
  lastResult: t.lastResult,
  results: t.results,
  hasCheckpoint: !!t.checkpoint,
});

function isClassTrainable(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/**
 * Runs a hyperparameter search: `fit()` returns a {@link ResultGrid}.
 * @example
 * const tuner = new Tuner(async (config, ctx) => {
 *   for (let i = 0; i < 10; i++) await ctx.report({ score: config.x * i });
 * }, { paramSpace: { x: uniform(0, 1) }, tuneConfig: { metric: 'score', mode: 'max', numSamples: 20 } });
 * const best = (await tuner.fit()).getBestResult();
 */
export class Tuner {
  private restored: ExperimentState | undefined;

  constructor(
    private readonly trainable: unknown,
    private readonly options: TunerOptions = {},
  ) {
    const t = unwrapTrainable(trainable).trainable;
    if (typeof t !== 'function' && !(t && typeof t === 'object' && 'fnRef' in t)) {
      throw new TuneInvalidArgumentError(
        'Tuner takes a trainable: a function (config, ctx) => ..., or a class extending Trainable.',
      );
    }
  }

  /** True when `dir` holds an experiment that {@link Tuner.restore} can resume. */
  static canRestore(dir: string): boolean {
    return ExperimentStorage.readState(dir) !== undefined;
  }

  /**
   * Resumes the experiment in `dir` (`storagePath/name`): finished trials are kept, unfinished
   * ones resume from their last checkpoint. Give the same trainable, and the same searcher and
   * scheduler kinds in `options.tuneConfig` (their state is read back into them).
   */
  static restore(dir: string, trainable: unknown, options: TunerOptions = {}): Tuner {
    const state = ExperimentStorage.readState(dir);
    if (!state)
      throw new TuneInvalidArgumentError(
        `No experiment to restore in ${dir} (no experiment_state.json). Check the path: storagePath/name.`,
      );
    if (!state.finishedSearch && options.paramSpace === undefined) {
      throw new TuneInvalidArgumentError(
        `Tuner.restore(${dir}) needs the experiment's paramSpace (and the same searcher and scheduler kinds in tuneConfig): ` +
          'its search had not finished, and the space is code (domains, functions) that is not stored.',
      );
    }
    const t = new Tuner(trainable, {
      ...options,
      runConfig: { ...options.runConfig, name: path.basename(dir), storagePath: path.dirname(dir) },
    });
    t.restored = state;
    return t;
  }

  /** Runs the experiment and returns every trial's result. */
  async fit(): Promise<ResultGrid> {
    if (!isInitialized()) await init();
    const runner = new TrialRunner(this.trainable, this.options, this.restored);
    return runner.run();
  }
}

class TrialRunner {
  private readonly trials: Trial[] = [];
  private readonly storage: ExperimentStorage;
  private readonly searcher: Searcher;
  private readonly scheduler: TrialScheduler;
  private readonly metric: string | undefined;
  private readonly mode: Mode | undefined;
  private readonly tune: TuneConfig;
  private readonly run_: RunConfig;
  private readonly idle = new Map<string, ActorHandle<TrialWorkerMethods>[]>();
  private readonly wakers: (() => void)[] = [];
  private suggested = 0;
  private finishedSearch = false;
  private lastStateWrite = 0;
  private readonly startedAt = Date.now();
  private readonly progress: ProgressReporter;
  private params: Record<string, ObjectRef<unknown>> | undefined;
  private readonly spec: ReturnType<typeof unwrapTrainable>;

  constructor(
    trainable: unknown,
    private readonly opts: TunerOptions,
    private readonly restored: ExperimentState | undefined,
  ) {
    this.tune = opts.tuneConfig ?? {};
    this.run_ = opts.runConfig ?? {};
    this.metric = this.tune.metric ?? restored?.metric;
    this.mode = this.tune.mode ?? restored?.mode;
    if (this.tune.mode !== undefined && this.tune.mode !== 'min' && this.tune.mode !== 'max') {
      throw new TuneInvalidArgumentError(
        `tuneConfig.mode must be 'min' or 'max', got ${JSON.stringify(this.tune.mode)}.`,
      );
    }
    const name = this.run_.name ?? `tune_${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const root = this.run_.storagePath ?? path.join(os.homedir(), 'ray_ts_results');
    this.storage = new ExperimentStorage(path.resolve(root, name));
    this.spec = unwrapTrainable(trainable);
    const numSamples = this.tune.numSamples ?? 1;
    if (!Number.isInteger(numSamples) || numSamples < 1)
      throw new TuneInvalidArgumentError(`tuneConfig.numSamples must be an integer >= 1, got ${numSamples}.`);
    this.searcher = this.tune.searchAlg ?? new BasicVariantGenerator();
    // A restored searcher keeps its own count unless numSamples is given again.
    if (!restored || this.tune.numSamples !== undefined) this.searcher.setNumSamples?.(numSamples);
    this.searcher.setSearchProperties(this.metric, this.mode, opts.paramSpace ?? {});
    this.scheduler = this.tune.scheduler ?? new FIFOScheduler();
    this.scheduler.setSearchProperties(this.metric, this.mode);
    const tty = process.stdout.isTTY === true;
    this.progress = new ProgressReporter(this.run_.verbose ?? (tty ? 2 : 1), this.metric);
    if (restored) this.restore(restored);
  }

  private restore(s: ExperimentState): void {
    this.suggested = s.suggested;
    this.finishedSearch = s.finishedSearch;
    if (s.searcher !== undefined) this.searcher.restore(s.searcher);
    if (s.scheduler !== undefined) this.scheduler.restore(s.scheduler);
    for (const r of s.trials) {
      const results = ExperimentStorage.readResults(this.storage.trialDir(r.trialName));
      const unfinished = r.status === 'RUNNING' || r.status === 'PENDING' || r.status === 'PAUSED';
      // A paused trial stays paused (its scheduler resumes it); a running one starts again.
      const status = r.status === 'PAUSED' ? 'PAUSED' : unfinished ? 'PENDING' : r.status;
      // An unfinished trial goes on from its checkpoint; results after that checkpoint are run again.
      const kept = unfinished ? results.filter((x) => x.trainingIteration <= r.checkpointIteration) : results;
      if (kept.length < results.length) this.storage.rewriteResults(r.trialName, kept);
      const last = kept.at(-1);
      this.trials.push({
        ...r,
        status,
        results: kept,
        lastResult: last,
        checkpoints: r.checkpoints?.filter((c) => fs.existsSync(c.dir)),
        timeOffsetS: unfinished ? (last?.timeTotalS ?? 0) : r.timeOffsetS,
        worker: undefined,
        startedAt: 0,
        lastReportAt: 0,
        exploit: undefined,
      });
    }
  }

  private get trialResources(): TrialResources {
    return this.spec.resources ?? { numCpus: 1, numGpus: 0 };
  }

  /** What one trial takes from the cluster, in resource names (CPU, GPU, custom). */
  private get trialNeeds(): Record<string, number> {
    const r = this.trialResources;
    if (r instanceof PlacementGroupFactory) return r.requiredResources;
    return { CPU: r.numCpus, GPU: r.numGpus, ...(r.resources ?? {}) };
  }

  /**
   * Trials at once: what the cluster's resources fit, at most maxConcurrentTrials. Never more than
   * fit: idle workers kept for reuse hold their resources, and a trial's new worker would wait on them.
   */
  private async capacity(): Promise<number> {
    const max = this.tune.maxConcurrentTrials;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
      throw new TuneInvalidArgumentError(`tuneConfig.maxConcurrentTrials must be an integer >= 1, got ${max}.`);
    }
    const total = await clusterResources();
    const need = this.trialNeeds;
    let n = Infinity;
    for (const [k, v] of Object.entries(need)) if (v > 0) n = Math.min(n, Math.floor((total[k] ?? 0) / v + 1e-9));
    if (n === 0) {
      const r = this.trialResources;
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

  async run(): Promise<ResultGrid> {
    const portableTrainable = portable(this.spec.trainable as never, 'Tuner');
    const isClass = portableTrainable.isClass || isClassTrainable(this.spec.trainable);
    if (this.spec.params) {
      this.params = {};
      for (const [k, v] of Object.entries(this.spec.params)) this.params[k] = put(v);
    }
    const limit = await this.capacity();
    const running = new Set<Trial>();
    const budgetMs = (this.tune.timeBudgetS ?? Infinity) * 1000;
    let outOfTime = false;
    this.progress.start(() => this.trials);
    try {
      for (;;) {
        if (!outOfTime && Date.now() - this.startedAt >= budgetMs) {
          outOfTime = true;
          for (const t of running) void this.stopTrial(t);
        }
        while (!outOfTime && running.size < limit) {
          const t = this.nextTrial(running.size === 0);
          if (!t) break;
          running.add(t);
          void this.drive(t, portableTrainable, isClass).finally(() => {
            running.delete(t);
            this.wake();
          });
        }
        if (running.size === 0) {
          const pending = this.trials.some((t) => t.status === 'PENDING' || t.status === 'PAUSED');
          if (outOfTime || (this.finishedSearch && !pending)) break;
          if (!pending && this.suggestionBlocked) {
            throw new TuneInvalidArgumentError(
              'The searcher suggests nothing while no trial runs: it would wait forever. Check its maxConcurrent or numSamples.',
            );
          }
        }
        await new Promise<void>((r) => {
          this.wakers.push(r);
          if (budgetMs !== Infinity) setTimeout(r, Math.max(10, budgetMs - (Date.now() - this.startedAt))).unref();
        });
      }
    } finally {
      this.progress.stop();
      this.writeState(true);
      for (const list of this.idle.values()) for (const w of list) void kill(w).catch(() => undefined);
      this.idle.clear();
    }
    this.progress.summary(this.trials, this.storage, Date.now() - this.startedAt);
    return new ResultGrid(
      this.trials.map((t) => this.resultOf(t)),
      this.metric,
      this.mode,
      this.storage.dir,
    );
  }

  private suggestionBlocked = false;

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  /** A paused or pending trial the scheduler picks, or a new one from the searcher. */
  private nextTrial(idle: boolean): Trial | undefined {
    // Pending trials are created ahead (up to maxPending), so schedulers see who waits
    // (PBT and the median rule pause trials to give waiting ones a turn).
    this.createPending();
    const waiting = this.trials.filter((t) => (t.status === 'PENDING' || t.status === 'PAUSED') && !t.driving);
    if (waiting.length > 0) {
      const chosen = this.scheduler.chooseTrialToRun?.(waiting.map(info));
      const pick = chosen
        ? waiting.find((t) => t.trialId === chosen.trialId)
        : waiting.find((t) => t.status === 'PENDING');
      if (pick) return pick;
    }
    const paused = waiting.filter((t) => t.status === 'PAUSED');
    if (idle && paused.length > 0 && (this.finishedSearch || this.suggestionBlocked)) {
      // Nothing runs and nothing new comes: a paused trial goes on rather than waiting forever.
      return paused[0];
    }
    return undefined;
  }

  /** Pending trials created ahead: 16 for the basic (non-adaptive) searcher, 1 for others. */
  private get maxPending(): number {
    return this.searcher instanceof BasicVariantGenerator ? 16 : 1;
  }

  private createPending(): void {
    this.suggestionBlocked = false;
    while (!this.finishedSearch && this.trials.filter((t) => t.status === 'PENDING').length < this.maxPending) {
      const trialId = `${String(this.suggested).padStart(5, '0')}`;
      const config = this.searcher.suggest(trialId);
      if (config === FINISHED) {
        this.finishedSearch = true;
        return;
      }
      if (config === undefined) {
        this.suggestionBlocked = true;
        return;
      }
      this.suggested++;
      const t: Trial = {
        trialId,
        trialName: `trial_${trialId}`,
        config,
        status: 'PENDING',
        numFailures: 0,
        checkpoint: undefined,
        checkpointIteration: 0,
        lastResult: undefined,
        error: undefined,
        timeOffsetS: 0,
        results: [],
        worker: undefined,
        startedAt: 0,
        lastReportAt: 0,
        exploit: undefined,
      };
      this.trials.push(t);
      this.storage.writeParams(t.trialName, config);
      this.scheduler.onTrialAdd(info(t));
    }
  }

  private workerKey(): string {
    return JSON.stringify(this.trialResources);
  }

  /**
   * A worker for a trial: an idle one with the same resources, or a new one. A placement group
   * trial gets a group of its own (reserved first) and a new worker in its bundle 0, capturing
   * what it submits into the group.
   */
  private async takeWorker(): Promise<{ worker: ActorHandle<TrialWorkerMethods>; group?: PlacementGroup }> {
    const r = this.trialResources;
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
    const list = this.idle.get(this.workerKey());
    const w = this.tune.reuseActors === false ? undefined : list?.pop();
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
  private releaseWorker(w: ActorHandle<TrialWorkerMethods>, clean: boolean, group: PlacementGroup | undefined): void {
    if (group) {
      void kill(w)
        .catch(() => undefined)
        .then(() => removePlacementGroup(group))
        .catch(() => undefined);
      return;
    }
    if (!clean || this.tune.reuseActors === false) {
      void kill(w).catch(() => undefined);
      return;
    }
    const key = this.workerKey();
    const list = this.idle.get(key) ?? [];
    list.push(w);
    this.idle.set(key, list);
  }

  private async stopTrial(t: Trial): Promise<void> {
    if (t.worker) await get(t.worker.stop.remote()).catch(() => false);
  }

  /** Runs a trial until it ends, pauses or fails. */
  private async drive(t: Trial, trainable: ReturnType<typeof portable>, isClass: boolean): Promise<void> {
    t.driving = true;
    try {
      await this.driveOnce(t, trainable, isClass);
    } finally {
      t.driving = false;
    }
  }

  private async driveOnce(t: Trial, trainable: ReturnType<typeof portable>, isClass: boolean): Promise<void> {
    if (t.exploit) {
      const from = this.trials.find((x) => x.trialId === t.exploit!.fromTrialId);
      if (from?.checkpoint) {
        const dst = this.storage.checkpointDir(t.trialName, t.results.at(-1)?.trainingIteration ?? 0) + '_exploit';
        fs.rmSync(dst, { recursive: true, force: true });
        fs.cpSync(from.checkpoint, dst, { recursive: true });
        t.checkpoint = dst;
        // It goes on from the clone, counting its own iterations on (none of its results are dropped).
        t.checkpointIteration = t.results.at(-1)?.trainingIteration ?? 0;
      }
      t.config = t.exploit.config;
      t.exploit = undefined;
      this.storage.writeParams(t.trialName, t.config);
    }
    t.status = 'RUNNING';
    t.startedAt = Date.now();
    t.lastReportAt = t.startedAt;
    // Iterations restart after the checkpoint: results past it are run again (and leave the files).
    const kept = t.checkpoint ? t.results.filter((r) => r.trainingIteration <= t.checkpointIteration) : [];
    if (kept.length < t.results.length) this.storage.rewriteResults(t.trialName, kept);
    t.results = kept;
    t.timeOffsetS = t.results.at(-1)?.timeTotalS ?? 0;
    this.writeState(false); // a start need not be written at once: a restore reruns a trial it did not see start
    let w: ActorHandle<TrialWorkerMethods> | undefined;
    let group: PlacementGroup | undefined;
    let clean = true;
    try {
      ({ worker: w, group } = await this.takeWorker());
      t.worker = w;
      await get(
        w.start.remote({
          trialId: t.trialId,
          trialName: t.trialName,
          trialDir: this.storage.trialDir(t.trialName),
          trainable,
          isClass,
          config: t.config,
          checkpoint: t.checkpoint ? { path: t.checkpoint } : undefined,
          params: this.params,
          checkpointFrequency: this.run_.checkpointConfig?.checkpointFrequency ?? 0,
          ...(group
            ? {
                placementGroup: {
                  id: group.id,
                  bundleSpecs: group.bundleSpecs.map((b) => ({ ...b })),
                  strategy: group.strategy,
                },
              }
            : {}),
        }),
      );
      for (;;) {
        const ev = await get(w.next.remote());
        const outcome = this.onEvent(t, ev);
        if (outcome === 'continue') continue;
        if (outcome !== 'ended') {
          // A paused class trainable saves now, to resume where it stopped.
          if (isClass && (t.status as string) === 'PAUSED' && t.lastResult) {
            const cp = await get(w.saveNow.remote(this.storage.trialDir(t.trialName)));
            if (cp) this.saveCheckpoint(t, cp, t.lastResult.trainingIteration, t.lastResult);
          }
          clean = await get(w.stop.remote());
        }
        break;
      }
    } catch (err) {
      // The worker died (or could not start): count it as a failure of the trial.
      clean = false;
      const e = err as Error;
      this.fail(t, { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: e?.stack ?? String(err) });
    } finally {
      t.worker = undefined;
      if (w) this.releaseWorker(w, clean, group);
      this.writeState(true);
      this.progress.trialEnded(t);
    }
  }

  /** Handles one worker event; says whether the trial goes on, ended by itself, or must be stopped. */
  private onEvent(t: Trial, ev: TrialEvent): 'continue' | 'ended' | 'stop' {
    if (ev.kind === 'done') {
      // The trainable returned: its last result is marked done (Ray's `done`).
      if (t.lastResult) {
        t.lastResult = { ...t.lastResult, done: true };
        t.results[t.results.length - 1] = t.lastResult;
      }
      this.complete(t, 'TERMINATED');
      return 'ended';
    }
    if (ev.kind === 'error') {
      this.fail(t, { name: ev.name, message: ev.message, stack: ev.stack });
      return 'ended';
    }
    const now = Date.now();
    const iteration = (t.results.at(-1)?.trainingIteration ?? 0) + 1;
    const result: TrialResult = {
      ...ev.metrics,
      trainingIteration: iteration,
      timeTotalS: t.timeOffsetS + (now - t.startedAt) / 1000,
      timeThisIterS: (now - t.lastReportAt) / 1000,
      trialId: t.trialId,
      timestamp: now,
    };
    t.lastReportAt = now;
    if (ev.checkpoint) this.saveCheckpoint(t, ev.checkpoint, iteration, result);
    t.results.push(result);
    t.lastResult = result;
    this.storage.appendResult(t.trialName, result);
    this.searcher.onTrialResult?.(t.trialId, result);
    if (this.shouldStop(t, result)) {
      this.complete(t, 'TERMINATED');
      return 'stop';
    }
    const d = this.scheduler.onTrialResult(info(t), result);
    this.stopAskedTrials();
    this.writeState(false);
    switch (d.action) {
      case 'CONTINUE':
        return 'continue';
      case 'STOP':
        this.complete(t, 'TERMINATED');
        return 'stop';
      case 'PAUSE':
        t.status = 'PAUSED';
        return 'stop';
      case 'EXPLOIT':
        t.status = 'PENDING';
        t.exploit = { fromTrialId: d.fromTrialId, config: d.config };
        return 'stop';
    }
  }

  /** Ends the paused trials the scheduler gave up on. */
  private stopAskedTrials(): void {
    for (const id of this.scheduler.takeTrialsToStop?.() ?? []) {
      const t = this.trials.find((x) => x.trialId === id);
      if (t && t.status === 'PAUSED') this.complete(t, 'TERMINATED');
    }
  }

  private shouldStop(t: Trial, r: TrialResult): boolean {
    const stop = this.run_.stop;
    if (!stop) return false;
    if (typeof stop === 'function') return stop(t.trialId, r) === true;
    for (const [k, v] of Object.entries(stop)) {
      const x = (r as Record<string, unknown>)[k];
      if (typeof x === 'number' && x >= v) return true;
    }
    return false;
  }

  private saveCheckpoint(
    t: Trial,
    cp: { path?: string; data?: unknown },
    iteration: number,
    result: TrialResult,
  ): void {
    const dir = this.storage.checkpointDir(t.trialName, iteration);
    fs.rmSync(dir, { recursive: true, force: true });
    Checkpoint.fromWire(cp)!.writeTo(dir);
    t.checkpoint = dir;
    t.checkpointIteration = iteration;
    const list = (t.checkpoints ??= []);
    const attr = this.run_.checkpointConfig?.checkpointScoreAttribute;
    // A checkpoint taken again at the same iteration (a rerun) replaces the older entry.
    const same = list.findIndex((c) => c.dir === dir);
    if (same >= 0) list.splice(same, 1);
    list.push({
      dir,
      iteration,
      score: attr ? ((result as Record<string, unknown>)[attr] as number | undefined) : iteration,
    });
    const keep = this.run_.checkpointConfig?.numToKeep;
    if (keep !== undefined && list.length > keep) {
      const order = this.run_.checkpointConfig?.checkpointScoreOrder ?? 'max';
      // The latest always stays (it is what the trial resumes from); the worst of the others go.
      const candidates = list
        .slice(0, -1)
        .sort((a, b) => ((a.score ?? -Infinity) - (b.score ?? -Infinity)) * (order === 'max' ? 1 : -1));
      while (list.length > keep && candidates.length > 0) {
        const worst = candidates.shift()!;
        fs.rmSync(worst.dir, { recursive: true, force: true });
        list.splice(list.indexOf(worst), 1);
      }
    }
  }

  private complete(t: Trial, status: 'TERMINATED' | 'ERROR'): void {
    t.status = status;
    this.scheduler.onTrialComplete(info(t), t.lastResult);
    this.searcher.onTrialComplete(t.trialId, t.lastResult, status === 'ERROR');
    this.stopAskedTrials();
  }

  private fail(t: Trial, error: { name: string; message: string; stack: string }): void {
    t.numFailures++;
    const max = this.run_.failureConfig?.maxFailures ?? 0;
    if (max < 0 || t.numFailures <= max) {
      t.status = 'PENDING'; // retried from its last checkpoint
      return;
    }
    t.error = error;
    this.scheduler.onTrialError?.(info(t));
    this.complete(t, 'ERROR');
  }

  /** experiment_state.json entries of ended trials, which no longer change (most of a big experiment). */
  private readonly endedJson = new WeakMap<Trial, string>();

  private trialJson(t: Trial): string {
    const cached = this.endedJson.get(t);
    if (cached !== undefined) return cached;
    const record: TrialRecord = {
      trialId: t.trialId,
      trialName: t.trialName,
      config: t.config,
      status: t.status,
      numFailures: t.numFailures,
      checkpoint: t.checkpoint,
      checkpointIteration: t.checkpointIteration,
      lastResult: t.lastResult,
      error: t.error,
      timeOffsetS: t.timeOffsetS,
      ...(t.checkpoints?.length ? { checkpoints: t.checkpoints } : {}),
    };
    const json = JSON.stringify(record);
    if ((t.status === 'TERMINATED' || t.status === 'ERROR') && !t.driving) this.endedJson.set(t, json);
    return json;
  }

  /**
   * Writes experiment_state.json: at most every stateWriteIntervalS while results come in, and at
   * once when a trial ends (so a restore never reruns an ended trial). Ended trials' entries are
   * serialized once, so a write costs the running trials, the searcher and the scheduler.
   */
  private writeState(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastStateWrite < (this.run_.stateWriteIntervalS ?? 2) * 1000) return;
    this.lastStateWrite = now;
    this.storage.writeState(
      {
        version: 1,
        name: path.basename(this.storage.dir),
        metric: this.metric,
        mode: this.mode,
        searcher: this.searcher.save(),
        scheduler: this.scheduler.save(),
        suggested: this.suggested,
        finishedSearch: this.finishedSearch,
        startedAt: this.restored?.startedAt ?? this.startedAt,
      },
      this.trials.map((t) => this.trialJson(t)),
    );
  }

  private resultOf(t: Trial): Result {
    const byIteration = new Map(t.results.map((r) => [r.trainingIteration, r]));
    const kept = (t.checkpoints ?? [])
      .filter((c) => fs.existsSync(c.dir))
      .map((c) => ({
        checkpoint: new Checkpoint(c.dir, undefined),
        metrics: byIteration.get(c.iteration),
        score: c.score,
      }));
    const cc = this.run_.checkpointConfig;
    if (cc?.checkpointScoreAttribute) {
      const sign = (cc.checkpointScoreOrder ?? 'max') === 'max' ? -1 : 1;
      kept.sort((a, b) => sign * ((a.score ?? -Infinity) - (b.score ?? -Infinity)));
    }
    return {
      trialId: t.trialId,
      config: t.config,
      metrics: t.lastResult,
      metricsHistory: t.results,
      checkpoint: t.checkpoint ? new Checkpoint(t.checkpoint, undefined) : undefined,
      bestCheckpoints: kept.map(({ checkpoint, metrics }) => ({ checkpoint, metrics })),
      getBestCheckpoint: (metric: string, mode: Mode) => bestCheckpoint(kept, metric, mode),
      error: t.error,
      path: this.storage.trialDir(t.trialName),
    };
  }
}
