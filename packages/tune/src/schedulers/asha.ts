/**
 * Asynchronous successive halving (ASHA, Li et al. 2018), as Ray Tune's
 * `AsyncHyperBandScheduler` / `ASHAScheduler`: a trial that reaches a rung is stopped unless its
 * metric is in the top 1/reductionFactor of what the trials that reached that rung before it
 * had there. Nothing waits for anything: no trial is ever paused.
 */
import { SeededRng } from '@ray-ts/core';
import { TuneInvalidArgumentError } from '../errors.js';
import { restoreRng } from '../search/rng.js';
import type { Mode, SchedulerDecision, TrialInfo, TrialResult, TrialScheduler } from '../types.js';
import {
  MetricMode,
  checkNumber,
  checkSavedState,
  decodeNumber,
  encodeNumber,
  nanPercentile,
  readNumber,
  type JsonNumber,
} from './util.js';

const CONTINUE: SchedulerDecision = { action: 'CONTINUE' };
const STOP: SchedulerDecision = { action: 'STOP' };

/** Options of {@link ASHAScheduler} (Ray's names, in camelCase). All optional. */
export interface ASHASchedulerOptions {
  /**
   * The result field that measures training time: rungs, `gracePeriod` and `maxT` are in its
   * units. It should increase monotonically. Default `'trainingIteration'`.
   */
  timeAttr?: string;
  /** The metric to optimize; default: `tuneConfig.metric`. */
  metric?: string;
  /** Whether to minimize or maximize the metric; default: `tuneConfig.mode`. */
  mode?: Mode;
  /** Trials run at most this long (in `timeAttr` units); default 100. Must be > 0. */
  maxT?: number;
  /** Trials run at least this long before they can be stopped (the first rung); default 1. Must be > 0. */
  gracePeriod?: number;
  /** Only the top 1/reductionFactor of trials go past each rung, and rungs are this factor apart; default 4. Must be > 1. */
  reductionFactor?: number;
  /** Number of brackets (each starts its rungs reductionFactor times later than the one before); default 1. */
  brackets?: number;
  /** Whether trials are stopped on reaching `maxT`; default true. */
  stopLastTrials?: boolean;
  /** Seed for the (weighted random) choice of a new trial's bracket, when `brackets` > 1. */
  seed?: number;
}

/** {@link ASHASchedulerOptions} validated, with defaults filled in. */
export interface CompiledASHASchedulerOptions {
  readonly timeAttr: string;
  readonly metric: string | undefined;
  readonly mode: Mode | undefined;
  readonly maxT: number;
  readonly gracePeriod: number;
  readonly reductionFactor: number;
  readonly brackets: number;
  readonly stopLastTrials: boolean;
  readonly seed: number | undefined;
}

/**
 * Validates ASHA's options and fills in Ray's defaults.
 * @throws TuneInvalidArgumentError for a value out of range.
 */
export function compileASHASchedulerOptions(options: ASHASchedulerOptions = {}): CompiledASHASchedulerOptions {
  const name = 'ASHAScheduler';
  const maxT = checkNumber(
    name,
    'maxT',
    options.maxT ?? 100,
    (v) => v > 0 && Number.isFinite(v),
    'a finite number > 0',
  );
  const gracePeriod = checkNumber(
    name,
    'gracePeriod',
    options.gracePeriod ?? 1,
    (v) => v > 0 && Number.isFinite(v),
    'a finite number > 0',
  );
  const reductionFactor = checkNumber(
    name,
    'reductionFactor',
    options.reductionFactor ?? 4,
    (v) => v > 1 && Number.isFinite(v),
    'a finite number > 1',
  );
  const brackets = checkNumber(
    name,
    'brackets',
    options.brackets ?? 1,
    (v) => Number.isInteger(v) && v >= 1,
    'an integer >= 1',
  );
  return {
    timeAttr: options.timeAttr ?? 'trainingIteration',
    metric: options.metric,
    mode: options.mode,
    maxT,
    gracePeriod,
    reductionFactor,
    brackets,
    stopLastTrials: options.stopLastTrials ?? true,
    seed: options.seed,
  };
}

/** One rung: its milestone and the reward each trial had on reaching it. */
interface Rung {
  readonly milestone: number;
  readonly recorded: Map<string, number>;
}

/**
 * Ray's `_Bracket` of ASHA: rungs at `gracePeriod * rf^(s + k) < maxT`, kept latest first so the
 * rung a result belongs to is the first one whose milestone it reached.
 */
class Bracket {
  readonly rungs: Rung[] = [];

  constructor(
    minT: number,
    maxT: number,
    private readonly rf: number,
    s: number,
    private readonly stopLastTrials: boolean,
  ) {
    for (let m = minT * rf ** s; m < maxT; m *= rf) this.rungs.unshift({ milestone: m, recorded: new Map() });
  }

  /** The reward a trial needs at this rung: the (1 - 1/rf) quantile of those recorded there. */
  cutoff(recorded: Map<string, number>): number | undefined {
    if (recorded.size === 0) return undefined;
    return nanPercentile(recorded.values(), (1 - 1 / this.rf) * 100);
  }

  onResult(trialId: string, time: number, reward: number): SchedulerDecision {
    let action = CONTINUE;
    for (const { milestone, recorded } of this.rungs) {
      // Without stopLastTrials a trial may go past maxT: once it has a rung's record, the
      // decision for that rung (and the ones below it) was made.
      if (time >= milestone && recorded.has(trialId) && !this.stopLastTrials) break;
      if (time < milestone || recorded.has(trialId)) continue;
      const cutoff = this.cutoff(recorded);
      if (cutoff !== undefined && reward < cutoff) action = STOP;
      recorded.set(trialId, reward);
      break;
    }
    return action;
  }
}

/**
 * Ray Tune's `ASHAScheduler` (`AsyncHyperBandScheduler`): early stopping by asynchronous
 * successive halving.
 *
 * Rungs lie at `gracePeriod * reductionFactor^k` (for bracket s: `k >= s`), below `maxT`. The
 * first result of a trial at or past a rung's milestone is recorded there; the trial is stopped if
 * its metric is worse than the `1 - 1/reductionFactor` quantile (linear interpolation) of the
 * values recorded at that rung before it, i.e. it is not in the top 1/reductionFactor. A trial
 * that reaches `maxT` is stopped (it is complete) unless `stopLastTrials` is false. Results
 * without `timeAttr` or the metric are ignored (CONTINUE).
 *
 * With several brackets, a new trial joins bracket i with probability proportional to
 * e^(number of rungs of i), as Ray does.
 *
 * Milestones equal to `maxT` are left out (Ray computes the rung count with floating-point
 * logarithms, so whether it has one there depends on rounding; with `stopLastTrials` a trial
 * stops at `maxT` anyway).
 *
 * @example
 * ```ts
 * const scheduler = new ASHAScheduler({ maxT: 100, gracePeriod: 1, reductionFactor: 4 });
 * new Tuner(train, { paramSpace, tuneConfig: { metric: 'loss', mode: 'min', numSamples: 64, scheduler } });
 * ```
 */
export class ASHAScheduler implements TrialScheduler {
  /** The options in use, defaults filled in. */
  readonly options: CompiledASHASchedulerOptions;
  private readonly props: MetricMode;
  private readonly brackets: Bracket[];
  private readonly trialBracket = new Map<string, number>();
  private readonly rng: SeededRng;
  private numStopped = 0;

  /**
   * @param options see {@link ASHASchedulerOptions}.
   * @throws TuneInvalidArgumentError for an option out of range.
   */
  constructor(options: ASHASchedulerOptions = {}) {
    this.options = compileASHASchedulerOptions(options);
    const o = this.options;
    this.props = new MetricMode('ASHAScheduler', o.metric, o.mode);
    this.brackets = [];
    for (let s = 0; s < o.brackets; s++)
      this.brackets.push(new Bracket(o.gracePeriod, o.maxT, o.reductionFactor, s, o.stopLastTrials));
    this.rng = new SeededRng(o.seed);
  }

  /** Takes metric and mode from the Tuner unless the constructor got both. */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined): void {
    this.props.set(metric, mode);
  }

  /**
   * Assigns the trial to a bracket.
   * @throws TuneInvalidArgumentError when no metric or mode was given.
   */
  onTrialAdd(trial: TrialInfo): void {
    this.props.require();
    if (this.trialBracket.has(trial.trialId)) return;
    const sizes = this.brackets.map((b) => b.rungs.length);
    const max = Math.max(...sizes);
    const weights = sizes.map((n) => Math.exp(n - max));
    const total = weights.reduce((a, b) => a + b, 0);
    let index = 0;
    if (this.brackets.length > 1) {
      let u = this.rng.random() * total;
      while (index < weights.length - 1 && u >= weights[index]) u -= weights[index++];
    }
    this.trialBracket.set(trial.trialId, index);
  }

  /** STOP at `maxT` or below a rung's cutoff; CONTINUE otherwise. */
  onTrialResult(trial: TrialInfo, result: TrialResult): SchedulerDecision {
    const { metric } = this.props.require();
    const time = readNumber(result, this.options.timeAttr);
    const value = readNumber(result, metric);
    if (time === undefined || value === undefined) return CONTINUE;
    let action: SchedulerDecision;
    if (time >= this.options.maxT && this.options.stopLastTrials) {
      action = STOP;
    } else {
      if (!this.trialBracket.has(trial.trialId)) this.onTrialAdd(trial);
      action = this.brackets[this.trialBracket.get(trial.trialId)!].onResult(
        trial.trialId,
        time,
        this.props.sign() * value,
      );
    }
    if (action.action === 'STOP') this.numStopped++;
    return action;
  }

  /** Records the last result at its rung (it still counts for the cutoffs of later trials). */
  onTrialComplete(trial: TrialInfo, result: TrialResult | undefined): void {
    const index = this.trialBracket.get(trial.trialId);
    this.trialBracket.delete(trial.trialId);
    if (index === undefined || this.props.metric === undefined || this.props.mode === undefined) return;
    const time = readNumber(result, this.options.timeAttr);
    const value = readNumber(result, this.props.metric);
    if (time === undefined || value === undefined) return;
    this.brackets[index].onResult(trial.trialId, time, this.props.sign() * value);
  }

  /** Forgets the trial's bracket (what it recorded at rungs stays). */
  onTrialError(trial: TrialInfo): void {
    this.trialBracket.delete(trial.trialId);
  }

  /** How many times a result was answered with STOP. */
  get stoppedCount(): number {
    return this.numStopped;
  }

  /** The milestones of each bracket, latest first (for progress output and tests). */
  get rungMilestones(): number[][] {
    return this.brackets.map((b) => b.rungs.map((r) => r.milestone));
  }

  /** Metric, mode, the values recorded at every rung, each trial's bracket and the rng: JSON-safe. */
  save(): unknown {
    return {
      type: 'ASHAScheduler',
      version: 1,
      ...this.props.save(),
      rng: this.rng.getState(),
      numStopped: this.numStopped,
      brackets: this.brackets.map((b) =>
        b.rungs.map((r) => ({
          milestone: r.milestone,
          recorded: [...r.recorded].map(([id, v]) => [id, encodeNumber(v)]),
        })),
      ),
      trials: [...this.trialBracket],
    };
  }

  /**
   * Puts back a state from {@link save}.
   * @throws TuneInvalidArgumentError when it is another scheduler's, or its rungs do not match these options.
   */
  restore(state: unknown): void {
    const s = checkSavedState('ASHAScheduler', state);
    const brackets = s.brackets as { milestone: number; recorded: [string, JsonNumber][] }[][];
    const mismatch =
      !Array.isArray(brackets) ||
      brackets.length !== this.brackets.length ||
      brackets.some(
        (b, i) =>
          !Array.isArray(b) ||
          b.length !== this.brackets[i].rungs.length ||
          b.some((r, k) => r.milestone !== this.brackets[i].rungs[k].milestone),
      );
    if (mismatch) {
      throw new TuneInvalidArgumentError(
        "ASHAScheduler.restore(): the saved rungs do not match this scheduler's maxT, gracePeriod, reductionFactor and brackets. Restore with the options the experiment ran with.",
      );
    }
    this.props.restore(s);
    if (s.rng !== undefined) restoreRng(this.rng, s.rng);
    this.numStopped = typeof s.numStopped === 'number' ? s.numStopped : 0;
    brackets.forEach((b, i) =>
      b.forEach((r, k) => {
        const recorded = this.brackets[i].rungs[k].recorded;
        recorded.clear();
        for (const [id, v] of r.recorded) recorded.set(id, decodeNumber(v));
      }),
    );
    this.trialBracket.clear();
    for (const [id, index] of s.trials as [string, number][]) {
      if (index >= 0 && index < this.brackets.length) this.trialBracket.set(id, index);
    }
  }
}

/** Ray's other name for {@link ASHAScheduler}. */
export const AsyncHyperBandScheduler = ASHAScheduler;
/** Ray's other name for {@link ASHAScheduler}. */
export type AsyncHyperBandScheduler = ASHAScheduler;
