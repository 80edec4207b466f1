/**
 * The checkpoints a Tune trial or a Train run keeps on disk: each reported one is written whole
 * into its own `checkpoint_NNNNNN/` folder (atomic-files.ts) and becomes the latest; past
 * `numToKeep`, the worst of the others are dropped. One function for both libraries, so that they
 * rank and keep checkpoints the same way.
 */
import { writeDirAtomic } from './atomic-files.js';
import { Checkpoint } from './checkpoint.js';

/** A checkpoint kept on disk: its folder, the iteration it was taken at, its score for numToKeep. */
export interface KeptCheckpoint {
  dir: string;
  iteration: number;
  score: number | undefined;
}

/** Which checkpoints stay: Tune's and Train's `checkpointConfig`. */
export interface KeepPolicy {
  /** Checkpoints kept (default all); the latest always stays. */
  numToKeep?: number;
  /** Rank checkpoints by this reported metric (default: the iteration, so the oldest go first). */
  checkpointScoreAttribute?: string;
  /** `'max'` (default): higher scores are better. */
  checkpointScoreOrder?: 'min' | 'max';
}

/**
 * Writes checkpoint `cp` as folder `dir` and records it in `kept` as the latest. The folder is
 * written whole or not at all: one taken again at the same iteration (a rerun) replaces the older
 * one only once it is complete. Returns the saved checkpoint and the entries that fell out of
 * `policy.numToKeep` (the worst by `checkpointScoreAttribute`, else the oldest; never the latest),
 * already taken out of `kept`: the caller deletes their folders once nothing names them as the
 * checkpoint to resume from.
 */
export function keepCheckpoint(
  kept: KeptCheckpoint[],
  cp: { path?: string; data?: unknown },
  dir: string,
  iteration: number,
  metrics: Record<string, unknown>,
  policy: KeepPolicy | undefined,
): { saved: Checkpoint; dropped: KeptCheckpoint[] } {
  const source = Checkpoint.fromWire(cp)!;
  writeDirAtomic(dir, (tmp) => source.writeTo(tmp));
  const attr = policy?.checkpointScoreAttribute;
  // A checkpoint taken again at the same iteration replaces the older entry.
  const same = kept.findIndex((c) => c.dir === dir);
  if (same >= 0) kept.splice(same, 1);
  kept.push({ dir, iteration, score: attr ? (metrics[attr] as number | undefined) : iteration });
  const dropped: KeptCheckpoint[] = [];
  const keep = policy?.numToKeep;
  if (keep !== undefined && kept.length > keep) {
    const sign = (policy?.checkpointScoreOrder ?? 'max') === 'max' ? 1 : -1;
    // The latest always stays (it is what a restart resumes from); the worst of the others go.
    const candidates = kept.slice(0, -1).sort((a, b) => sign * ((a.score ?? -Infinity) - (b.score ?? -Infinity)));
    while (kept.length > keep && candidates.length > 0) {
      const worst = candidates.shift()!;
      kept.splice(kept.indexOf(worst), 1);
      dropped.push(worst);
    }
  }
  return { saved: new Checkpoint(dir, undefined), dropped };
}
