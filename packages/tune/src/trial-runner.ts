/**
 * The trial runner behind `Tuner.fit()`: asks the searcher for configs, runs trials in parallel on
 * reused worker actors (trial-workers.ts), feeds every result to the scheduler (which may stop,
 * pause or clone trials), applies stop criteria, retries failed trials from their last checkpoint
 * (trial-checkpoints.ts), and writes the experiment's state as it goes (state-writer.ts) so that
 * `Tuner.restore()` picks up after a crash.
 */
import os from 'node:os';
import path from 'node:path';
import { get, portable, put, type ActorHandle, type ObjectRef, type PlacementGroup } from '@ray-ts/core';
import { removeLeftovers } from './atomic-files.js';
import { CallbackList, type CallbackTrial } from './callbacks.js';
import { Checkpoint } from './checkpoint.js';
import { TuneInvalidArgumentError } from './errors.js';
import { withDefaultLoggers } from './loggers/index.js';
import { ProgressReporter } from './progress.js';
import { ResultGrid } from './result-grid.js';
import { BasicVariantGenerator } from './search/basic-variant.js';
import { FIFOScheduler } from './schedulers/fifo.js';
import { ExperimentStateWriter } from './state-writer.js';
import { compileStopper, type Stopper } from './stopper.js';
import { ExperimentStorage, type ExperimentState } from './storage.js';
import { unwrapTrainable, type TrialEvent, type TrialWorkerMethods } from './trainable.js';
import { callbackView, info, newTrial, restoredTrial, type Trial } from './trial.js';
import { applyExploit, saveCheckpoint } from './trial-checkpoints.js';
import { resultOf } from './trial-results.js';
import { TrialWorkers } from './trial-workers.js';
import type { RunConfig, TuneConfig, TunerOptions } from './tuner-options.js';
import { registerRun } from './run-registry.js';
import { FINISHED, type Mode, type Searcher, type TrialResult, type TrialScheduler } from './types.js';

/** How often the runner asks a stopper's stopAll() while trials run (it also asks after each result). */
const STOP_ALL_POLL_MS = 100;

function isClassTrainable(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/**
 * Runs one experiment in the driver (no controller actor): keeps up to `capacity` trials running,
 * creates pending trials ahead so schedulers see who waits, drives each trial through its worker's
 * report handshake, applies the scheduler's decisions and stop criteria, retries failures from
 * their last checkpoint, and writes the experiment's state as it goes.
 */
export class TrialRunner {
  private readonly trials: Trial[] = [];
  private readonly storage: ExperimentStorage;
  private readonly searcher: Searcher;
  private readonly scheduler: TrialScheduler;
  private readonly metric: string | undefined;
  private readonly mode: Mode | undefined;
  private readonly tune: TuneConfig;
  private readonly run_: RunConfig;
  private readonly workers: TrialWorkers;
  private readonly state: ExperimentStateWriter;
  private readonly wakers: (() => void)[] = [];
  private suggested = 0;
  private finishedSearch = false;
  private readonly startedAt = Date.now();
  private readonly progress: ProgressReporter;
  private params: Record<string, ObjectRef<unknown>> | undefined;
  private readonly spec: ReturnType<typeof unwrapTrainable>;
  private readonly stopper: Stopper | undefined;
  private readonly callbacks: CallbackList;
  /** What callbacks see of the trials, in the order of {@link trials}. */
  private readonly views: CallbackTrial[] = [];
  /** The experiment is ending: a stopper's stopAll(), or a callback failed. */
  private stopping = false;

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
    this.state = new ExperimentStateWriter(this.storage, this.run_.stateWriteIntervalS ?? 2);
    this.spec = unwrapTrainable(trainable);
    this.workers = new TrialWorkers(this.spec.resources ?? { numCpus: 1, numGpus: 0 }, this.tune.reuseActors !== false);
    const numSamples = this.tune.numSamples ?? 1;
    if (!Number.isInteger(numSamples) || numSamples < 1)
      throw new TuneInvalidArgumentError(`tuneConfig.numSamples must be an integer >= 1, got ${numSamples}.`);
    this.searcher = this.tune.searchAlg ?? new BasicVariantGenerator();
    // A restored searcher keeps its own count unless numSamples is given again.
    if (!restored || this.tune.numSamples !== undefined) this.searcher.setNumSamples?.(numSamples);
    this.searcher.setSearchProperties(this.metric, this.mode, opts.paramSpace ?? {});
    this.scheduler = this.tune.scheduler ?? new FIFOScheduler();
    this.scheduler.setSearchProperties(this.metric, this.mode);
    this.stopper = compileStopper(this.run_.stop, this.tune.timeBudgetS);
    const cbs: unknown = this.run_.callbacks ?? [];
    if (!Array.isArray(cbs) || cbs.some((c) => !c || typeof c !== 'object'))
      throw new TuneInvalidArgumentError(
        'runConfig.callbacks must be an array of callbacks: instances of Callback subclasses, or objects with hooks such as onTrialResult.',
      );
    this.callbacks = new CallbackList(withDefaultLoggers(cbs as CallbackList['callbacks']), () => this.wake());
    const tty = process.stdout.isTTY === true;
    this.progress = new ProgressReporter(this.run_.verbose ?? (tty ? 2 : 1), this.metric);
    if (restored) this.restore(restored);
  }

  private restore(s: ExperimentState): void {
    removeLeftovers(this.storage.dir); // temporary state files of writes cut short
    this.suggested = s.suggested;
    this.finishedSearch = s.finishedSearch;
    if (s.searcher !== undefined) this.searcher.restore(s.searcher);
    if (s.scheduler !== undefined) this.scheduler.restore(s.scheduler);
    for (const r of s.trials) this.addTrial(restoredTrial(r, this.storage));
  }

  private addTrial(t: Trial): void {
    this.trials.push(t);
    this.views.push(callbackView(t, this.storage.trialDir(t.trialName)));
  }

  private view(t: Trial): CallbackTrial {
    return callbackView(t, this.storage.trialDir(t.trialName));
  }

  async run(): Promise<ResultGrid> {
    const portableTrainable = portable(this.spec.trainable as never, 'Tuner');
    const isClass = portableTrainable.isClass || isClassTrainable(this.spec.trainable);
    if (this.spec.params) {
      this.params = {};
      for (const [k, v] of Object.entries(this.spec.params)) this.params[k] = put(v);
    }
    await registerRun('tune', path.basename(this.storage.dir), this.storage.dir);
    const limit = await this.workers.capacity(this.tune.maxConcurrentTrials);
    const running = new Set<Trial>();
    this.progress.start(() => this.trials);
    let stopped = false;
    try {
      this.callbacks.call('setup', {
        stop: this.run_.stop,
        numSamples: this.tune.numSamples ?? 1,
        experimentPath: this.storage.dir,
        experimentName: path.basename(this.storage.dir),
        metric: this.metric,
        mode: this.mode,
      });
      await this.callbacks.drain();
      for (;;) {
        if (!this.stopping && (this.callbacks.error || this.stopper?.stopAll())) this.stopping = true;
        if (this.stopping && !stopped) {
          stopped = true;
          for (const t of running) void this.stopTrial(t);
        }
        while (!this.stopping && running.size < limit) {
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
          if (this.stopping || (this.finishedSearch && !pending)) break;
          if (!pending && this.suggestionBlocked) {
            throw new TuneInvalidArgumentError(
              'The searcher suggests nothing while no trial runs: it would wait forever. Check its maxConcurrent or numSamples.',
            );
          }
        }
        await new Promise<void>((r) => {
          this.wakers.push(r);
          if (this.stopper) setTimeout(r, STOP_ALL_POLL_MS).unref();
        });
      }
    } finally {
      this.progress.stop();
      this.writeState(true);
      this.workers.killIdle();
      await this.state.flush();
      this.callbacks.call('onExperimentEnd', this.views);
      await this.callbacks.drain();
    }
    if (this.callbacks.error) throw this.callbacks.error;
    this.progress.summary(this.trials, this.storage, Date.now() - this.startedAt);
    return new ResultGrid(
      this.trials.map((t) => resultOf(t, this.storage, this.run_.checkpointConfig)),
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
      const t = newTrial(trialId, config);
      this.addTrial(t);
      this.storage.writeParams(t.trialName, config);
      this.scheduler.onTrialAdd(info(t));
    }
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
    if (t.exploit) applyExploit(this.storage, t, t.exploit, this.trials);
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
      ({ worker: w, group } = await this.workers.take());
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
      this.callbacks.call('onTrialStart', this.callbacks.iteration, this.views, this.view(t));
      // The experiment began to end while this trial was starting (the loop stopped only those with a worker).
      if (this.stopping) void this.stopTrial(t);
      for (;;) {
        const ev = await get(w.next.remote());
        const outcome = this.onEvent(t, ev);
        if (outcome === 'continue') continue;
        if (outcome !== 'ended') {
          // A paused class trainable saves now, to resume where it stopped.
          if (isClass && (t.status as string) === 'PAUSED' && t.lastResult) {
            const cp = await get(w.saveNow.remote(this.storage.trialDir(t.trialName)));
            if (cp) {
              saveCheckpoint(
                this.storage,
                this.run_.checkpointConfig,
                t,
                cp,
                t.lastResult.trainingIteration,
                t.lastResult,
              );
              this.checkpointed(t);
            }
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
      if (w) this.workers.release(w, clean, group);
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
    if (ev.checkpoint) saveCheckpoint(this.storage, this.run_.checkpointConfig, t, ev.checkpoint, iteration, result);
    t.results.push(result);
    t.lastResult = result;
    this.callbacks.call('onTrialResult', this.callbacks.iteration, this.views, this.view(t), result);
    if (ev.checkpoint) this.checkpointed(t);
    this.searcher.onTrialResult?.(t.trialId, result);
    if (this.stopper?.shouldStop(t.trialId, result) || this.stopAllNow()) {
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

  /** True once the experiment is ending (asks the stopper's stopAll() after each result). */
  private stopAllNow(): boolean {
    if (!this.stopping && (this.callbacks.error || this.stopper?.stopAll())) {
      this.stopping = true;
      this.wake();
    }
    return this.stopping;
  }

  private checkpointed(t: Trial): void {
    if (t.checkpoint)
      this.callbacks.call(
        'onCheckpoint',
        this.callbacks.iteration,
        this.views,
        this.view(t),
        new Checkpoint(t.checkpoint, undefined),
      );
  }

  private complete(t: Trial, status: 'TERMINATED' | 'ERROR'): void {
    t.status = status;
    this.scheduler.onTrialComplete(info(t), t.lastResult);
    this.searcher.onTrialComplete(t.trialId, t.lastResult, status === 'ERROR');
    this.callbacks.call(
      status === 'ERROR' ? 'onTrialError' : 'onTrialComplete',
      this.callbacks.iteration,
      this.views,
      this.view(t),
    );
    this.stopAskedTrials();
  }

  private fail(t: Trial, error: { name: string; message: string; stack: string }): void {
    t.numFailures++;
    const max = this.run_.failureConfig?.maxFailures ?? 0;
    if (max < 0 || t.numFailures <= max) {
      t.status = 'PENDING'; // retried from its last checkpoint
      this.callbacks.call('onTrialRecover', this.callbacks.iteration, this.views, this.view(t));
      return;
    }
    t.error = error;
    this.scheduler.onTrialError?.(info(t));
    this.complete(t, 'ERROR');
  }

  /** Writes experiment_state.json: throttled, unless `force` (see {@link ExperimentStateWriter}). */
  private writeState(force: boolean): void {
    this.state.write(
      force,
      () => ({
        version: 1,
        name: path.basename(this.storage.dir),
        metric: this.metric,
        mode: this.mode,
        searcher: this.searcher.save(),
        scheduler: this.scheduler.save(),
        suggested: this.suggested,
        finishedSearch: this.finishedSearch,
        startedAt: this.restored?.startedAt ?? this.startedAt,
      }),
      this.trials,
    );
  }
}
