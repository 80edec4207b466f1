/**
 * What a training run ends with: `fit()`'s {@link Result} (metrics, checkpoints, failures) and
 * the failures of the worker group it went through.
 */
import type { Checkpoint, TrialResult } from '@ray-ts/tune';
import type { TrainingFailedError } from './errors.js';

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
