/**
 * A trial's {@link Result} for the ResultGrid `fit()` returns: its config, metrics and history,
 * its latest checkpoint and the kept ones, ranked as `checkpointConfig` says.
 */
import fs from 'node:fs';
import { Checkpoint } from './checkpoint.js';
import { TuneInvalidArgumentError } from './errors.js';
import type { Result } from './result-grid.js';
import type { ExperimentStorage } from './storage.js';
import type { Trial } from './trial.js';
import type { CheckpointConfig } from './tuner-options.js';
import type { Mode, TrialResult } from './types.js';

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

/** The trial's result, with its kept checkpoints best first when a score attribute is set. */
export function resultOf(t: Trial, storage: ExperimentStorage, cc: CheckpointConfig | undefined): Result {
  const byIteration = new Map(t.results.map((r) => [r.trainingIteration, r]));
  const kept = (t.checkpoints ?? [])
    .filter((c) => fs.existsSync(c.dir))
    .map((c) => ({
      checkpoint: new Checkpoint(c.dir, undefined),
      metrics: byIteration.get(c.iteration),
      score: c.score,
    }));
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
    path: storage.trialDir(t.trialName),
  };
}
