/**
 * Stoppers (Ray Tune's `ray.tune.stopper`): objects the runner asks, after every result, whether
 * that trial should stop (`shouldStop`, Ray's `__call__`), and, after every result and a few
 * times a second, whether the whole experiment should (`stopAll`). `runConfig.stop` takes one,
 * a `{ metric: value }` object, or a function; `tuneConfig.timeBudgetS` adds a
 * {@link TimeoutStopper}.
 */
import { TuneInvalidArgumentError } from './errors.js';
import type { Mode, TrialResult } from './types.js';

/**
 * Decides when trials, or the whole experiment, stop (Ray's `tune.Stopper`). Subclass it and
 * pass an instance as `runConfig.stop`.
 * @example
 * class StopOnNaN extends Stopper {
 *   shouldStop(_trialId: string, result: TrialResult) { return Number.isNaN(result.loss); }
 * }
 */
export abstract class Stopper {
  /**
   * Called with every result of every trial, before the scheduler sees it: true stops that trial
   * (TERMINATED). Ray's `__call__(trial_id, result)`.
   */
  abstract shouldStop(trialId: string, result: TrialResult): boolean;
  /**
   * Asked after every result and a few times a second while trials run: true ends the
   * experiment (running trials are stopped at their next report, TERMINATED; no new trial
   * starts). Default: never.
   */
  stopAll(): boolean {
    return false;
  }
}

/** Stops a trial when a function says so (what `runConfig.stop` does with a function). */
export class FunctionStopper extends Stopper {
  constructor(private readonly fn: (trialId: string, result: TrialResult) => boolean) {
    super();
    if (typeof fn !== 'function')
      throw new TuneInvalidArgumentError(`FunctionStopper takes a function (trialId, result) => boolean.`);
  }
  shouldStop(trialId: string, result: TrialResult): boolean {
    return this.fn(trialId, result) === true;
  }
}

/**
 * Stops a trial when any named result field reaches its value (`>=`), as `runConfig.stop` does
 * with an object: `{ trainingIteration: 10, accuracy: 0.95 }`.
 */
class CriteriaStopper extends Stopper {
  constructor(private readonly criteria: Readonly<Record<string, number>>) {
    super();
    for (const [k, v] of Object.entries(criteria)) {
      if (typeof v !== 'number' || Number.isNaN(v))
        throw new TuneInvalidArgumentError(
          `runConfig.stop.${k} must be a number (stop when the result's ${k} reaches it), got ${JSON.stringify(v)}.`,
        );
    }
  }
  shouldStop(_trialId: string, result: TrialResult): boolean {
    for (const [k, v] of Object.entries(this.criteria)) {
      const x = (result as Record<string, unknown>)[k];
      if (typeof x === 'number' && x >= v) return true;
    }
    return false;
  }
}

/**
 * Stops each trial at its `maxIter`-th iteration (Ray's `MaximumIterationStopper`). It reads
 * the result's `trainingIteration`, so a trial retried or restored from a checkpoint, which runs
 * the iterations after it again, still stops at `maxIter`.
 */
export class MaximumIterationStopper extends Stopper {
  constructor(private readonly maxIter: number) {
    super();
    if (!Number.isInteger(maxIter) || maxIter < 1)
      throw new TuneInvalidArgumentError(
        `MaximumIterationStopper(maxIter): maxIter must be an integer >= 1, got ${JSON.stringify(maxIter)}.`,
      );
  }
  shouldStop(_trialId: string, result: TrialResult): boolean {
    return result.trainingIteration >= this.maxIter;
  }
}

/** Options of {@link TrialPlateauStopper} (Ray's arguments, in camelCase). */
export interface TrialPlateauStopperOptions {
  /** The metric to watch. */
  metric: string;
  /** Stop when the standard deviation of the last `numResults` values is below this (default 0.01). */
  std?: number;
  /** How many of the latest results to compare (default 4). */
  numResults?: number;
  /** Never stop before this many results (default 4). */
  gracePeriod?: number;
  /** Only stop once the metric is at least this good (needs `mode`). */
  metricThreshold?: number;
  /** `'min'` or `'max'`: what "good" means for `metricThreshold`. */
  mode?: Mode;
}

/**
 * Stops a trial whose metric has stopped moving (Ray's `TrialPlateauStopper`): once it has
 * `gracePeriod` results, and the last `numResults` values of `metric` have a standard deviation
 * (population) below `std`, and, with `metricThreshold`, the latest value is at least that good.
 * @example new TrialPlateauStopper({ metric: 'loss', std: 0.001, numResults: 5, gracePeriod: 10 })
 */
export class TrialPlateauStopper extends Stopper {
  private readonly metric: string;
  private readonly std: number;
  private readonly numResults: number;
  private readonly gracePeriod: number;
  private readonly metricThreshold: number | undefined;
  private readonly mode: Mode | undefined;
  private readonly values = new Map<string, number[]>();
  private readonly counts = new Map<string, number>();

  constructor(options: TrialPlateauStopperOptions) {
    super();
    const o = options ?? ({} as TrialPlateauStopperOptions);
    if (typeof o.metric !== 'string' || o.metric === '')
      throw new TuneInvalidArgumentError(`TrialPlateauStopper needs { metric: '<result field>' }.`);
    this.metric = o.metric;
    this.std = o.std ?? 0.01;
    this.numResults = o.numResults ?? 4;
    this.gracePeriod = o.gracePeriod ?? 4;
    this.metricThreshold = o.metricThreshold;
    this.mode = o.mode;
    if (!(this.std >= 0)) throw new TuneInvalidArgumentError(`TrialPlateauStopper: std must be >= 0, got ${this.std}.`);
    for (const [k, v] of [
      ['numResults', this.numResults],
      ['gracePeriod', this.gracePeriod],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new TuneInvalidArgumentError(`TrialPlateauStopper: ${k} must be an integer >= 1, got ${v}.`);
    }
    if (this.mode !== undefined && this.mode !== 'min' && this.mode !== 'max')
      throw new TuneInvalidArgumentError(`TrialPlateauStopper: mode must be 'min' or 'max', got ${String(this.mode)}.`);
    if (this.metricThreshold !== undefined && this.mode === undefined)
      throw new TuneInvalidArgumentError(
        `TrialPlateauStopper: metricThreshold needs a mode ('min' or 'max'), to know which side of it is good.`,
      );
  }

  shouldStop(trialId: string, result: TrialResult): boolean {
    const v = (result as Record<string, unknown>)[this.metric];
    if (typeof v !== 'number') return false;
    const window = this.values.get(trialId) ?? [];
    window.push(v);
    if (window.length > this.numResults) window.shift();
    this.values.set(trialId, window);
    const n = (this.counts.get(trialId) ?? 0) + 1;
    this.counts.set(trialId, n);
    if (n < this.gracePeriod || window.length < this.numResults) return false;
    if (this.metricThreshold !== undefined) {
      if (this.mode === 'min' && v > this.metricThreshold) return false;
      if (this.mode === 'max' && v < this.metricThreshold) return false;
    }
    const mean = window.reduce((a, b) => a + b, 0) / window.length;
    const sd = Math.sqrt(window.reduce((a, b) => a + (b - mean) ** 2, 0) / window.length);
    return sd < this.std;
  }
}

/**
 * Ends the experiment after `timeoutS` seconds (Ray's `TimeoutStopper`; `tuneConfig.timeBudgetS`
 * is one). The clock starts at the experiment's start (the first `stopAll()` call).
 */
export class TimeoutStopper extends Stopper {
  private startedAt: number | undefined;

  constructor(
    private readonly timeoutS: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
    if (typeof timeoutS !== 'number' || !(timeoutS >= 0))
      throw new TuneInvalidArgumentError(
        `TimeoutStopper(timeoutS): timeoutS must be a number of seconds >= 0, got ${JSON.stringify(timeoutS)}.`,
      );
  }
  shouldStop(_trialId: string, _result: TrialResult): boolean {
    return false;
  }
  override stopAll(): boolean {
    this.startedAt ??= this.now();
    return this.now() - this.startedAt >= this.timeoutS * 1000;
  }
}

/**
 * Stops a trial when any of its stoppers would, and the experiment when any of them would
 * (Ray's `CombinedStopper`).
 * @example new CombinedStopper(new MaximumIterationStopper(100), new TrialPlateauStopper({ metric: 'loss' }))
 */
export class CombinedStopper extends Stopper {
  private readonly stoppers: readonly Stopper[];
  constructor(...stoppers: Stopper[]) {
    super();
    for (const s of stoppers) {
      if (!(s instanceof Stopper))
        throw new TuneInvalidArgumentError('CombinedStopper takes Stopper instances (subclasses of Stopper).');
    }
    this.stoppers = stoppers;
  }
  shouldStop(trialId: string, result: TrialResult): boolean {
    // Every stopper sees every result (stateful ones count them), as Ray's any() over a list.
    let stop = false;
    for (const s of this.stoppers) if (s.shouldStop(trialId, result)) stop = true;
    return stop;
  }
  override stopAll(): boolean {
    let stop = false;
    for (const s of this.stoppers) if (s.stopAll()) stop = true;
    return stop;
  }
}

/** What `runConfig.stop` takes. */
export type StopCriteria =
  Stopper | Readonly<Record<string, number>> | ((trialId: string, result: TrialResult) => boolean);

/**
 * @internal The one stopper of an experiment: `runConfig.stop` (an object, a function or a
 * Stopper) combined with a {@link TimeoutStopper} for `timeBudgetS`.
 */
export function compileStopper(stop: StopCriteria | undefined, timeBudgetS: number | undefined): Stopper | undefined {
  const parts: Stopper[] = [];
  if (stop instanceof Stopper) parts.push(stop);
  else if (typeof stop === 'function') parts.push(new FunctionStopper(stop));
  else if (stop !== undefined && stop !== null && typeof stop === 'object') parts.push(new CriteriaStopper(stop));
  else if (stop !== undefined)
    throw new TuneInvalidArgumentError(
      `runConfig.stop takes { field: value }, a function (trialId, result) => boolean, or a Stopper; got ${JSON.stringify(stop)}.`,
    );
  if (timeBudgetS !== undefined) {
    if (typeof timeBudgetS !== 'number' || !(timeBudgetS >= 0))
      throw new TuneInvalidArgumentError(
        `tuneConfig.timeBudgetS must be a number of seconds >= 0, got ${JSON.stringify(timeBudgetS)}.`,
      );
    parts.push(new TimeoutStopper(timeBudgetS));
  }
  return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : new CombinedStopper(...parts);
}
