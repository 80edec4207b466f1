/**
 * The median stopping rule (Golovin et al. 2017, Google Vizier), as Ray Tune's
 * `MedianStoppingRule`.
 */
import type { Mode, SchedulerDecision, TrialInfo, TrialResult, TrialScheduler } from '../types.js';
import {
  MetricMode,
  WaitingTrials,
  checkNumber,
  checkSavedState,
  decodeNumber,
  encodeNumber,
  fifoChoice,
  median,
  readNumber,
  type JsonNumber,
} from './util.js';

const CONTINUE: SchedulerDecision = { action: 'CONTINUE' };
const STOP: SchedulerDecision = { action: 'STOP' };
const PAUSE: SchedulerDecision = { action: 'PAUSE' };

/** Options of {@link MedianStoppingRule} (Ray's names, in camelCase). All optional. */
export interface MedianStoppingRuleOptions {
  /** The result field that measures training time; default `'timeTotalS'` (seconds). */
  timeAttr?: string;
  /** The metric to optimize; default: `tuneConfig.metric`. */
  metric?: string;
  /** Whether to minimize or maximize the metric; default: `tuneConfig.mode`. */
  mode?: Mode;
  /** No trial is stopped before this much time (in `timeAttr` units); default 60. */
  gracePeriod?: number;
  /** How many other trials must have reached the same time before the rule applies; default 3. */
  minSamplesRequired?: number;
  /**
   * When there are too few samples and other trials wait to run, a trial yields (PAUSE) only
   * after running at least this long since its last pause (in `timeAttr` units); default 0.
   */
  minTimeSliceS?: number;
  /** True (default): stop a trial the rule rejects. False: pause it (it may be resumed later and then runs on). */
  hardStop?: boolean;
}

/** {@link MedianStoppingRuleOptions} validated, with defaults filled in. */
export interface CompiledMedianStoppingRuleOptions {
  readonly timeAttr: string;
  readonly metric: string | undefined;
  readonly mode: Mode | undefined;
  readonly gracePeriod: number;
  readonly minSamplesRequired: number;
  readonly minTimeSliceS: number;
  readonly hardStop: boolean;
}

/**
 * Validates the rule's options and fills in Ray's defaults.
 * @throws TuneInvalidArgumentError for a value out of range.
 */
export function compileMedianStoppingRuleOptions(
  options: MedianStoppingRuleOptions = {},
): CompiledMedianStoppingRuleOptions {
  const name = 'MedianStoppingRule';
  return {
    timeAttr: options.timeAttr ?? 'timeTotalS',
    metric: options.metric,
    mode: options.mode,
    gracePeriod: checkNumber(
      name,
      'gracePeriod',
      options.gracePeriod ?? 60,
      (v) => v >= 0 && Number.isFinite(v),
      'a finite number >= 0',
    ),
    minSamplesRequired: checkNumber(
      name,
      'minSamplesRequired',
      options.minSamplesRequired ?? 3,
      (v) => Number.isInteger(v) && v >= 1,
      'an integer >= 1',
    ),
    minTimeSliceS: checkNumber(
      name,
      'minTimeSliceS',
      options.minTimeSliceS ?? 0,
      (v) => v >= 0 && Number.isFinite(v),
      'a finite number >= 0',
    ),
    hardStop: options.hardStop ?? true,
  };
}

/** One result, as the rule keeps it: time and metric. */
interface Point {
  readonly t: number;
  readonly m: number;
}

/**
 * Ray Tune's `MedianStoppingRule`: stops a trial whose best result so far is strictly worse than
 * the median of the other trials' running averages up to the same time.
 *
 * After each result at time t >= `gracePeriod` (in `timeAttr` units), the other trials whose
 * latest result is at t or later (finished ones included) are the samples; each one's running
 * average is the mean of its metric over its results with `gracePeriod <= time <= t`. With at
 * least `minSamplesRequired` samples, the trial is stopped (PAUSED if `hardStop` is false) when
 * its best metric so far is worse than their median. With fewer, it yields (PAUSE) if other trials
 * wait to run and it ran `minTimeSliceS` since its last pause, else CONTINUEs.
 *
 * A trial the rule paused without `hardStop` is never judged again (Ray falls back to FIFO for it).
 * Samples with no result in the window (no average) are left out; Ray would count them as NaN.
 *
 * PAUSED trials are resumed through {@link chooseTrialToRun} in FIFO order (PENDING first).
 *
 * @example
 * ```ts
 * const scheduler = new MedianStoppingRule({ gracePeriod: 10, minSamplesRequired: 3 });
 * new Tuner(train, { paramSpace, tuneConfig: { metric: 'loss', mode: 'min', numSamples: 20, scheduler } });
 * ```
 */
export class MedianStoppingRule implements TrialScheduler {
  /** The options in use, defaults filled in. */
  readonly options: CompiledMedianStoppingRuleOptions;
  private readonly props: MetricMode;
  private readonly results = new Map<string, Point[]>();
  private readonly lastPause = new Map<string, number>();
  private readonly stoppedTrials = new Set<string>();
  private readonly waiting = new WaitingTrials();

  /**
   * @param options see {@link MedianStoppingRuleOptions}.
   * @throws TuneInvalidArgumentError for an option out of range.
   */
  constructor(options: MedianStoppingRuleOptions = {}) {
    this.options = compileMedianStoppingRuleOptions(options);
    this.props = new MetricMode('MedianStoppingRule', this.options.metric, this.options.mode);
  }

  /** Takes metric and mode from the Tuner unless the constructor got both. */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined): void {
    this.props.set(metric, mode);
  }

  /**
   * Notes the trial as waiting to run.
   * @throws TuneInvalidArgumentError when no metric or mode was given.
   */
  onTrialAdd(trial: TrialInfo): void {
    this.props.require();
    this.waiting.added(trial);
  }

  /** STOP (or PAUSE) a trial worse than the median; PAUSE to yield when samples are too few. */
  onTrialResult(trial: TrialInfo, result: TrialResult): SchedulerDecision {
    const { metric, mode } = this.props.require();
    const id = trial.trialId;
    this.waiting.running(id);
    const time = readNumber(result, this.options.timeAttr);
    const value = readNumber(result, metric);
    if (time === undefined || value === undefined) return CONTINUE;
    if (this.stoppedTrials.has(id)) return CONTINUE;

    let points = this.results.get(id);
    if (!points) this.results.set(id, (points = []));
    points.push({ t: time, m: value });
    if (time < this.options.gracePeriod) return CONTINUE;

    const means: number[] = [];
    for (const [other, list] of this.results) {
      if (other === id || list.length === 0 || list[list.length - 1].t < time) continue;
      const mean = this.runningMean(list, time);
      if (!Number.isNaN(mean)) means.push(mean);
    }
    if (means.length < this.options.minSamplesRequired) {
      const last = this.lastPause.get(id) ?? -Infinity;
      if (time - last > this.options.minTimeSliceS && this.waiting.othersWaiting(id)) {
        this.lastPause.set(id, time);
        this.waiting.paused(id);
        return PAUSE;
      }
      return CONTINUE;
    }

    const mid = median(means);
    const best = mode === 'max' ? Math.max(...points.map((p) => p.m)) : Math.min(...points.map((p) => p.m));
    const worse = mode === 'max' ? best < mid : best > mid;
    if (!worse) return CONTINUE;
    this.stoppedTrials.add(id);
    if (this.options.hardStop) return STOP;
    this.waiting.paused(id);
    return PAUSE;
  }

  private runningMean(points: readonly Point[], time: number): number {
    let sum = 0;
    let n = 0;
    for (const p of points) {
      if (p.t >= this.options.gracePeriod && p.t <= time) {
        sum += p.m;
        n++;
      }
    }
    return n === 0 ? NaN : sum / n;
  }

  /** Keeps the trial's last result (it stays a sample for the others). */
  onTrialComplete(trial: TrialInfo, result: TrialResult | undefined): void {
    this.waiting.ended(trial.trialId);
    if (this.props.metric === undefined) return;
    const time = readNumber(result, this.options.timeAttr);
    const value = readNumber(result, this.props.metric);
    if (time === undefined || value === undefined) return;
    const points = this.results.get(trial.trialId) ?? [];
    const last = points[points.length - 1];
    // The runner passes the last reported result again: count it once.
    if (last === undefined || last.t !== time || !Object.is(last.m, value)) points.push({ t: time, m: value });
    this.results.set(trial.trialId, points);
  }

  /** The trial no longer waits to run. */
  onTrialError(trial: TrialInfo): void {
    this.waiting.ended(trial.trialId);
  }

  /** FIFO: the first PENDING trial, else the first PAUSED one (which resumes from its checkpoint). */
  chooseTrialToRun(pending: readonly TrialInfo[]): TrialInfo | undefined {
    const chosen = fifoChoice(pending);
    this.waiting.offered(pending, chosen);
    return chosen;
  }

  /** How many trials the rule stopped (or paused for good). */
  get stoppedCount(): number {
    return this.stoppedTrials.size;
  }

  /** Every trial's (time, metric) points, pauses and stops: JSON-safe. */
  save(): unknown {
    return {
      type: 'MedianStoppingRule',
      version: 1,
      ...this.props.save(),
      results: [...this.results].map(([id, points]) => [id, points.map((p) => [encodeNumber(p.t), encodeNumber(p.m)])]),
      lastPause: [...this.lastPause].map(([id, t]) => [id, encodeNumber(t)]),
      stopped: [...this.stoppedTrials],
      waiting: this.waiting.save(),
    };
  }

  /**
   * Puts back a state from {@link save}.
   * @throws TuneInvalidArgumentError when it is another scheduler's.
   */
  restore(state: unknown): void {
    const s = checkSavedState('MedianStoppingRule', state);
    this.props.restore(s);
    this.results.clear();
    for (const [id, points] of s.results as [string, [JsonNumber, JsonNumber][]][]) {
      this.results.set(
        id,
        points.map(([t, m]) => ({ t: decodeNumber(t), m: decodeNumber(m) })),
      );
    }
    this.lastPause.clear();
    for (const [id, t] of s.lastPause as [string, JsonNumber][]) this.lastPause.set(id, decodeNumber(t));
    this.stoppedTrials.clear();
    for (const id of s.stopped as string[]) this.stoppedTrials.add(id);
    this.waiting.restore(s.waiting);
  }
}
