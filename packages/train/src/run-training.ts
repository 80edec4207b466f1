/**
 * One training run, on the driver (`DataParallelTrainer.fit()`) or in a Tune trial: starts the
 * worker group (worker-group.ts), records every report and checkpoint under the run's folder,
 * restarts the group from the latest checkpoint when a worker fails (within maxFailures; elastic
 * runs also grow and shrink), and returns the {@link Result}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Checkpoint, type CallbackTrial, type TrialResult, type TrialStatus, type TuneContext } from '@ray-ts/tune';
import {
  CallbackList,
  ExperimentStorage,
  keepCheckpoint,
  removeDir,
  removeLeftovers,
  withDefaultLoggers,
  type KeptCheckpoint,
} from '@ray-ts/tune/internal';
import { TrainingFailedError } from './errors.js';
import type { Result, TrainFailure } from './train-result.js';
import type { TrainerSpec } from './trainer-options.js';
import { driveGroup, startGroup, stopGroup } from './worker-group.js';
import { getLogger, ProgressBar, type ProgressStream } from '@ray-ts/core';

const logger = getLogger('ray-ts.train');

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
  removeLeftovers(dir); // what checkpoint writes of an earlier run cut short left
  const verbose = spec.run.verbose ?? (tune ? 0 : 1);
  const bar = tune || verbose === 0 ? undefined : iterationBar(spec, name);
  const log = (line: string) => {
    if (verbose === 0) return;
    if (bar) bar.interrupt(() => logger.info(`${name}: ${line}`));
    else logger.info(`${name}: ${line}`);
  };
  const maxFailures = spec.run.failureConfig?.maxFailures ?? 0;
  const cc = spec.run.checkpointConfig ?? {};
  const history: TrialResult[] = [];
  const kept: KeptCheckpoint[] = [];
  const failures: TrainFailure[] = [];
  let latest: { dir: string; iteration: number } | undefined;
  let resumeFrom = spec.resumeFrom;
  const startedAt = Date.now();
  let error: TrainingFailedError | undefined;

  // A run is one trial to callbacks (Ray Train's RunConfig(callbacks)). In a Tune trial, the
  // Tuner's callbacks see it (in the driver); here only the JSON and CSV files of the run's folder.
  const callbacks = new CallbackList(
    tune
      ? withDefaultLoggers([], { tensorboard: false, metrics: false })
      : withDefaultLoggers(spec.run.callbacks ?? []),
  );
  const run = {
    status: 'RUNNING' as TrialStatus,
    numFailures: 0,
    error: undefined as TrainFailure['error'] | undefined,
  };
  const config = spec.trainLoopConfig;
  const view: CallbackTrial = Object.freeze({
    trialId: name,
    trialName: name,
    config,
    path: dir,
    get status() {
      return run.status;
    },
    get lastResult() {
      return history.at(-1);
    },
    get results() {
      return history;
    },
    get hasCheckpoint() {
      return latest !== undefined;
    },
    get numFailures() {
      return run.numFailures;
    },
    get error() {
      return run.error;
    },
  });
  const views = [view];
  callbacks.call('setup', {
    stop: undefined,
    numSamples: 1,
    experimentPath: root,
    experimentName: name,
    metric: undefined,
    mode: undefined,
  });
  await callbacks.drain();

  const groupSizes: number[] = [];
  const elastic = spec.scaling.minWorkers < spec.scaling.maxWorkers;
  let counted = 0;
  let grewFrom = 0;
  try {
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
      callbacks.call('onTrialStart', callbacks.iteration, views, view);
      const outcome = await driveGroup(
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
            // Written whole before it becomes the latest; the ones pruned are never the latest.
            const cdir = storage.checkpointDir(name, iteration);
            let dropped: KeptCheckpoint[];
            ({ saved, dropped } = keepCheckpoint(kept, checkpoint, cdir, iteration, metrics, cc));
            latest = { dir: cdir, iteration };
            for (const d of dropped) removeDir(d.dir);
          }
          history.push(result);
          bar?.update(iteration, formatMetrics(metrics, 3));
          callbacks.call('onTrialResult', callbacks.iteration, views, view, result);
          if (saved) callbacks.call('onCheckpoint', callbacks.iteration, views, view, saved);
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
        run.numFailures++;
        run.error = { name: error.name, message: error.message, stack: error.stack ?? error.message };
        break;
      }
      run.numFailures++;
      callbacks.call('onTrialRecover', callbacks.iteration, views, view);
      resumeFrom = latest ? { path: latest.dir } : spec.resumeFrom;
      log(
        `worker ${f.rank} failed (${f.error.name}: ${f.error.message}); restarting the group from ${latest ? path.basename(latest.dir) : 'the start'} (restart ${failures.length}${maxFailures === -1 ? '' : ` of ${maxFailures}`})\n${f.error.stack}`,
      );
    }
  } finally {
    bar?.close();
  }
  run.status = error ? 'ERROR' : 'TERMINATED';
  callbacks.call(error ? 'onTrialError' : 'onTrialComplete', callbacks.iteration, views, view);
  callbacks.call('onExperimentEnd', views);
  await callbacks.drain();
  // The run is over and on disk (its checkpoints too): a callback that failed fails fit().
  if (callbacks.error) throw callbacks.error;
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

function formatMetrics(m: Record<string, unknown>, most = 6): string {
  return Object.entries(m)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, most)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
    .join(' ');
}

/**
 * The iterations a run is expected to report, when its loop config says (`numEpochs`, `epochs`,
 * `num_epochs` or `numIterations`, as training loops commonly name it).
 */
export function expectedIterations(config: Record<string, unknown>): number | undefined {
  for (const key of ['numEpochs', 'epochs', 'num_epochs', 'numIterations']) {
    const v = config[key];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/**
 * @internal The bar of a run on the driver: its reports out of {@link expectedIterations}, with ETA,
 * on stderr when it is a terminal (RAY_TS_PROGRESS_BARS=0 turns it off).
 */
export function iterationBar(spec: TrainerSpec, name: string, stream?: ProgressStream): ProgressBar {
  return new ProgressBar({
    desc: `train ${name}`,
    total: expectedIterations(spec.trainLoopConfig),
    unit: 'iter',
    ...(stream ? { stream } : {}),
  });
}
