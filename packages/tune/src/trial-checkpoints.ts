/**
 * A trial's checkpoints on disk: each one a trainable reports is written to
 * `checkpoint_NNNNNN/`, kept in the trial's list and pruned to `numToKeep` by score; PBT's
 * exploit starts a trial from a copy of another trial's latest checkpoint.
 */
import fs from 'node:fs';
import { Checkpoint } from './checkpoint.js';
import type { ExperimentStorage } from './storage.js';
import type { Trial } from './trial.js';
import type { CheckpointConfig } from './tuner-options.js';
import type { TrialResult } from './types.js';

/**
 * Writes a checkpoint the trainable reported at `iteration` and makes it the trial's latest; past
 * `numToKeep`, the worst of the older ones (by `checkpointScoreAttribute`, else the oldest) go.
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
  fs.rmSync(dir, { recursive: true, force: true });
  Checkpoint.fromWire(cp)!.writeTo(dir);
  t.checkpoint = dir;
  t.checkpointIteration = iteration;
  const list = (t.checkpoints ??= []);
  const attr = config?.checkpointScoreAttribute;
  // A checkpoint taken again at the same iteration (a rerun) replaces the older entry.
  const same = list.findIndex((c) => c.dir === dir);
  if (same >= 0) list.splice(same, 1);
  list.push({
    dir,
    iteration,
    score: attr ? ((result as Record<string, unknown>)[attr] as number | undefined) : iteration,
  });
  const keep = config?.numToKeep;
  if (keep !== undefined && list.length > keep) {
    const order = config?.checkpointScoreOrder ?? 'max';
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
    fs.rmSync(dst, { recursive: true, force: true });
    fs.cpSync(from.checkpoint, dst, { recursive: true });
    t.checkpoint = dst;
    // It goes on from the clone, counting its own iterations on (none of its results are dropped).
    t.checkpointIteration = t.results.at(-1)?.trainingIteration ?? 0;
  }
  t.config = exploit.config;
  t.exploit = undefined;
  storage.writeParams(t.trialName, t.config);
}
