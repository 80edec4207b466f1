/**
 * A trial's checkpoints on disk: each one a trainable reports is written whole to
 * `checkpoint_NNNNNN/` (kept-checkpoints.ts), kept in the trial's list and pruned to `numToKeep` by
 * score; PBT's exploit starts a trial from a copy of another trial's latest checkpoint.
 */
import fs from 'node:fs';
import { writeDirAtomic } from './atomic-files.js';
import { keepCheckpoint } from './kept-checkpoints.js';
import type { ExperimentStorage } from './storage.js';
import type { Trial } from './trial.js';
import type { CheckpointConfig } from './tuner-options.js';
import type { TrialResult } from './types.js';

/**
 * Writes a checkpoint the trainable reported at `iteration` and makes it the trial's latest; past
 * `numToKeep`, the worst of the older ones (by `checkpointScoreAttribute`, else the oldest) go,
 * once experiment_state.json no longer names them (after its next write).
 */
export function saveCheckpoint(
  storage: ExperimentStorage,
  config: CheckpointConfig | undefined,
  t: Trial,
  cp: { path?: string; data?: unknown },
  iteration: number,
  result: TrialResult,
): void {
  const dir = storage.checkpointDir(t.trialName, iteration);
  const { dropped } = keepCheckpoint((t.checkpoints ??= []), cp, dir, iteration, result, config);
  storage.keepDir(dir);
  t.checkpoint = dir;
  t.checkpointIteration = iteration;
  // The state on disk may still name a dropped one as the checkpoint to resume from.
  storage.removeAfterStateWrite(dropped.map((c) => c.dir));
}

/**
 * Applies the exploit the scheduler asked for: the trial takes the source trial's latest checkpoint
 * (a copy in its own folder) and the new config, and goes on from there.
 */
export function applyExploit(
  storage: ExperimentStorage,
  t: Trial,
  exploit: NonNullable<Trial['exploit']>,
  trials: readonly Trial[],
): void {
  const from = trials.find((x) => x.trialId === exploit.fromTrialId);
  if (from?.checkpoint) {
    const dst = storage.checkpointDir(t.trialName, t.results.at(-1)?.trainingIteration ?? 0) + '_exploit';
    writeDirAtomic(dst, (tmp) => fs.cpSync(from.checkpoint!, tmp, { recursive: true }));
    storage.keepDir(dst);
    t.checkpoint = dst;
    // It goes on from the clone, counting its own iterations on (none of its results are dropped).
    t.checkpointIteration = t.results.at(-1)?.trainingIteration ?? 0;
  }
  t.config = exploit.config;
  t.exploit = undefined;
  storage.writeParams(t.trialName, t.config);
}
