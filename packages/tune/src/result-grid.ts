/**
 * What `tuner.fit()` returns: one {@link Result} per trial, with the best one a call away.
 */
import { Checkpoint } from './checkpoint.js';
import { TuneInvalidArgumentError } from './errors.js';
import type { Config, Mode, TrialResult } from './types.js';

/** The outcome of one trial. */
export interface Result {
  readonly trialId: string;
  readonly config: Config;
  /** The last reported metrics (undefined if the trial never reported). */
  readonly metrics: TrialResult | undefined;
  /** Every reported result, in order (Ray's `metrics_dataframe`). */
  readonly metricsHistory: readonly TrialResult[];
  /** The trial's latest checkpoint (the one it would resume from). */
  readonly checkpoint: Checkpoint | undefined;
  /**
   * The checkpoints kept on disk (see `checkpointConfig.numToKeep`) with the metrics reported
   * with each: best first when `checkpointScoreAttribute` is set, else oldest first.
   */
  readonly bestCheckpoints: readonly { checkpoint: Checkpoint; metrics: TrialResult | undefined }[];
  /** The kept checkpoint whose reported `metric` is best (undefined if none reported it). */
  getBestCheckpoint(metric: string, mode: Mode): Checkpoint | undefined;
  /** The error that ended the trial, with its stack. */
  readonly error: { name: string; message: string; stack: string } | undefined;
  /** The trial's folder. */
  readonly path: string;
}

/** The results of an experiment. Iterate it, index it, or ask for the best. */
export class ResultGrid implements Iterable<Result> {
  /** @internal */
  constructor(
    private readonly results: Result[],
    private readonly metric: string | undefined,
    private readonly mode: Mode | undefined,
    /** The experiment's folder. */
    readonly experimentPath: string,
  ) {}

  get length(): number {
    return this.results.length;
  }

  get(i: number): Result {
    return this.results[i];
  }

  [Symbol.iterator](): Iterator<Result> {
    return this.results[Symbol.iterator]();
  }

  /** Trials that ended with an error. */
  get errors(): Result[] {
    return this.results.filter((r) => r.error);
  }

  get numErrors(): number {
    return this.errors.length;
  }

  /**
   * The best trial by `metric` and `mode` (default: the Tuner's). `scope` `'last'` compares each
   * trial's last result; `'all'` its best result over all iterations.
   */
  getBestResult(metric?: string, mode?: Mode, scope: 'last' | 'all' = 'last'): Result {
    const m = metric ?? this.metric;
    const md = mode ?? this.mode;
    if (!m || !md) {
      throw new TuneInvalidArgumentError(
        'getBestResult() needs a metric and a mode: pass them, or set tuneConfig { metric, mode } on the Tuner.',
      );
    }
    const better = (a: number, b: number) => (md === 'max' ? a > b : a < b);
    let best: Result | undefined;
    let bestValue = 0;
    for (const r of this.results) {
      const values = (scope === 'all' ? r.metricsHistory : r.metrics ? [r.metrics] : [])
        .map((x) => x[m])
        .filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
      if (values.length === 0) continue;
      const v = values.reduce((a, b) => (better(a, b) ? a : b));
      if (!best || better(v, bestValue)) {
        best = r;
        bestValue = v;
      }
    }
    if (!best)
      throw new TuneInvalidArgumentError(
        `No trial reported metric '${m}'. Reported: ${[...new Set(this.results.flatMap((r) => Object.keys(r.metrics ?? {})))].join(', ') || 'nothing'}.`,
      );
    return best;
  }
}
