/**
 * A trial as the runner drives it: its record in experiment_state.json plus what lives only in
 * memory (its results, its worker, a pending exploit), made new from a searcher's config or
 * rebuilt from a restored experiment's record and result files.
 */
import fs from 'node:fs';
import type { ActorHandle } from '@ray-ts/core';
import { removeLeftovers } from './atomic-files.js';
import type { KeptCheckpoint } from './kept-checkpoints.js';
import { ExperimentStorage, type TrialRecord } from './storage.js';
import type { TrialWorkerMethods } from './trainable.js';
import type { CallbackTrial } from './callbacks.js';
import type { Config, TrialInfo, TrialResult } from './types.js';

/** A trial in the runner. */
export interface Trial extends TrialRecord {
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

/** What searchers and schedulers see of a trial. */
export const info = (t: Trial): TrialInfo => ({
  trialId: t.trialId,
  config: t.config,
  status: t.status,
  lastResult: t.lastResult,
  results: t.results,
  hasCheckpoint: !!t.checkpoint,
});

const views = new WeakMap<Trial, CallbackTrial>();

/** What callbacks see of a trial: a live, read-only view (one per trial), in the folder `path`. */
export function callbackView(t: Trial, path: string): CallbackTrial {
  let v = views.get(t);
  if (!v) {
    v = Object.freeze({
      get trialId() {
        return t.trialId;
      },
      get trialName() {
        return t.trialName;
      },
      get config() {
        return t.config;
      },
      get status() {
        return t.status;
      },
      get lastResult() {
        return t.lastResult;
      },
      get results() {
        return t.results;
      },
      get hasCheckpoint() {
        return !!t.checkpoint;
      },
      get numFailures() {
        return t.numFailures;
      },
      get error() {
        return t.error;
      },
      path,
    });
    views.set(t, v);
  }
  return v;
}

/** A new PENDING trial for a config the searcher suggested. */
export function newTrial(trialId: string, config: Config): Trial {
  return {
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
}

/** A trial of a restored experiment, from its record and the results it wrote. */
export function restoredTrial(r: TrialRecord, storage: ExperimentStorage): Trial {
  // A checkpoint write cut short leaves hidden temporary folders: the named checkpoints are whole.
  removeLeftovers(storage.trialDir(r.trialName));
  const results = ExperimentStorage.readResults(storage.trialDir(r.trialName));
  const unfinished = r.status === 'RUNNING' || r.status === 'PENDING' || r.status === 'PAUSED';
  // A paused trial stays paused (its scheduler resumes it); a running one starts again.
  const status = r.status === 'PAUSED' ? 'PAUSED' : unfinished ? 'PENDING' : r.status;
  // An unfinished trial goes on from its checkpoint; results after that checkpoint are run again.
  const kept = unfinished ? results.filter((x) => x.trainingIteration <= r.checkpointIteration) : results;
  if (kept.length < results.length) storage.rewriteResults(r.trialName, kept);
  const last = kept.at(-1);
  return {
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
  };
}
