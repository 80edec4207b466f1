/**
 * Synchronous HyperBand (Li et al. 2017), as Ray Tune's `HyperBandScheduler`: trials are grouped
 * in brackets; in a bracket every trial runs to the same milestone and waits (PAUSED) there until
 * all have, then the top 1/reductionFactor go on to a milestone reductionFactor times further and
 * the others are stopped.
 */
import { TuneInvalidArgumentError } from '../errors.js';
import type { Mode, SchedulerDecision, TrialInfo, TrialResult, TrialScheduler } from '../types.js';
import {
  MetricMode,
  checkNumber,
  checkSavedState,
  decodeNumber,
  encodeNumber,
  readNumber,
  type JsonNumber,
} from './util.js';

const CONTINUE: SchedulerDecision = { action: 'CONTINUE' };
const STOP: SchedulerDecision = { action: 'STOP' };
const PAUSE: SchedulerDecision = { action: 'PAUSE' };

/** Options of {@link HyperBandScheduler} (Ray's names, in camelCase). All optional. */
export interface HyperBandSchedulerOptions {
  /** The result field that measures training time (monotonic); default `'trainingIteration'`. */
  timeAttr?: string;
  /** The metric to optimize; default: `tuneConfig.metric`. */
  metric?: string;
  /** Whether to minimize or maximize the metric; default: `tuneConfig.mode`. */
  mode?: Mode;
  /**
   * The most a trial runs (in `timeAttr` units); default 81. It sets the brackets: there are
   * `round(log(maxT) / log(reductionFactor)) + 1` of them in a band.
   */
  maxT?: number;
  /** Only the top 1/reductionFactor go on at each halving; default 3. Must be > 1. */
  reductionFactor?: number;
  /**
   * Whether trials are stopped when their bracket's last milestone (`maxT`) is reached;
   * default true. False: they go on until they end by themselves.
   */
  stopLastTrials?: boolean;
}

/** {@link HyperBandSchedulerOptions} validated, with defaults filled in. */
export interface CompiledHyperBandSchedulerOptions {
  readonly timeAttr: string;
  readonly metric: string | undefined;
  readonly mode: Mode | undefined;
  readonly maxT: number;
  readonly reductionFactor: number;
  readonly stopLastTrials: boolean;
}

/**
 * Validates HyperBand's options and fills in Ray's defaults.
 * @throws TuneInvalidArgumentError for a value out of range.
 */
export function compileHyperBandSchedulerOptions(
  options: HyperBandSchedulerOptions = {},
): CompiledHyperBandSchedulerOptions {
  const name = 'HyperBandScheduler';
  return {
    timeAttr: options.timeAttr ?? 'trainingIteration',
    metric: options.metric,
    mode: options.mode,
    maxT: checkNumber(name, 'maxT', options.maxT ?? 81, (v) => v > 0 && Number.isFinite(v), 'a finite number > 0'),
    reductionFactor: checkNumber(
      name,
      'reductionFactor',
      options.reductionFactor ?? 3,
      (v) => v > 1 && Number.isFinite(v),
      'a finite number > 1',
    ),
    stopLastTrials: options.stopLastTrials ?? true,
  };
}

/** What a bracket keeps of a trial's last result. */
interface Seen {
  readonly time: number;
  /** The raw metric (NaN when the result had none). */
  readonly metric: number;
}

/** Ray's `_Bracket` of HyperBand. */
class Bracket {
  /** Live trials in the order added, with their last result (undefined before the first). */
  readonly live = new Map<string, Seen | undefined>();
  /** Paused trials promoted by the last halving, to be resumed. */
  readonly toUnpause = new Set<string>();
  n: number;
  r: number;
  cumulR: number;
  halves: number;
  totalWork: number;
  completedProgress = 0;

  constructor(
    readonly maxTrials: number,
    readonly initT: number,
    private readonly maxT: number,
    private readonly eta: number,
    readonly s: number,
    private readonly stopLastTrials: boolean,
  ) {
    this.n = maxTrials;
    this.r = initT;
    this.cumulR = initT;
    this.halves = s;
    this.totalWork = this.calculateTotalWork(maxTrials, initT, s);
  }

  add(trialId: string): void {
    this.live.set(trialId, undefined);
  }

  filled(): boolean {
    return this.live.size === this.n;
  }

  /** Every live trial reached the current milestone. */
  curIterDone(): boolean {
    for (const seen of this.live.values()) if ((seen?.time ?? 0) < this.cumulR) return false;
    return true;
  }

  finished(): boolean {
    if (!this.stopLastTrials) return false;
    return this.halves === 0 && this.curIterDone();
  }

  continueTrial(trialId: string): boolean {
    if (!this.stopLastTrials && this.halves === 0) return true;
    return (this.live.get(trialId)?.time ?? 0) < this.cumulR;
  }

  /** Moves to the next rung: the best `ceil(n / eta)` are good, the rest bad. */
  successiveHalving(sign: number): { good: string[]; bad: string[] } {
    if (this.halves === 0 && !this.stopLastTrials) return { good: [...this.live.keys()], bad: [] };
    this.halves -= 1;
    this.n = Math.ceil(this.n / this.eta);
    this.r = Math.trunc(Math.min(this.r * this.eta, this.maxT));
    this.cumulR = this.r;
    const reward = (id: string): number => {
      const v = sign * (this.live.get(id)?.metric ?? NaN);
      return Number.isNaN(v) ? -Infinity : v;
    };
    const sorted = [...this.live.keys()].sort((a, b) => reward(a) - reward(b) || 0);
    const cut = Math.max(0, sorted.length - this.n);
    return { good: sorted.slice(cut), bad: sorted.slice(0, cut) };
  }

  updateTrialStats(trialId: string, seen: Seen): void {
    const last = this.live.get(trialId)?.time ?? 0;
    this.completedProgress += seen.time - last;
    this.live.set(trialId, seen);
    this.toUnpause.delete(trialId);
  }

  cleanupTrial(trialId: string): void {
    this.live.delete(trialId);
    this.toUnpause.delete(trialId);
  }

  completionPercentage(): number {
    if (this.finished()) return 1;
    return this.totalWork > 0 ? Math.min(this.completedProgress / this.totalWork, 1) : 0;
  }

  private calculateTotalWork(n: number, r: number, s: number): number {
    let work = 0;
    const cumulative = r;
    for (let i = 0; i <= s; i++) {
      work += Math.trunc(n) * Math.trunc(r);
      n = Math.ceil(n / this.eta);
      r = Math.trunc(Math.min(r * this.eta, this.maxT - cumulative));
    }
    return work;
  }
}

/** Where a trial is: band index and bracket index in the band. */
interface Position {
  readonly band: number;
  readonly index: number;
}

/**
 * Ray Tune's `HyperBandScheduler`: synchronous successive halving over several brackets.
 *
 * Bands of `sMax + 1 = round(log(maxT) / log(eta)) + 1` brackets are filled in order, one trial
 * after another: bracket s (0, 1, ...) takes `ceil((sMax + 1) / (s + 1) * eta^s)` trials, which
 * first run to `floor(maxT / eta^s)` (eta = `reductionFactor`); when it is full, the next bracket
 * starts, and after the last, a new band. A bracket whose first milestone would be 0 is skipped.
 *
 * Decisions: a trial below its bracket's milestone CONTINUEs. One that reaches it PAUSEs while
 * other trials of its bracket have not; when the last one does (or the others end), the bracket
 * halves: the best `ceil(n / eta)` are promoted to a milestone eta times further (capped at
 * `maxT`), the others are stopped. The trial whose result completed the rung gets CONTINUE
 * (promoted) or STOP; promoted PAUSED trials are resumed through {@link chooseTrialToRun};
 * stopped PAUSED trials are handed to the runner by {@link takeTrialsToStop}. At the last
 * milestone (`maxT`) a trial is stopped, unless `stopLastTrials` is false.
 *
 * Contract with the trial runner:
 * - On PAUSE, the runner checkpoints the trial and stops its actor; the trial is PAUSED.
 * - The runner asks {@link chooseTrialToRun} (with every PENDING and PAUSED trial) whenever it
 *   can start one. The answer is a PENDING trial or a promoted PAUSED one, which the runner
 *   restarts from its checkpoint. Undefined means none of those: the runner may start a new
 *   PENDING trial or ask the searcher for one, but must not resume a PAUSED trial on its own.
 * - After each call into the scheduler, the runner calls {@link takeTrialsToStop} and ends the
 *   PAUSED trials it names (TERMINATED; `onTrialComplete` for them is a no-op here).
 *   A runner that does not: those trials stay PAUSED, `chooseTrialToRun` offers them once
 *   nothing else is left, and their first result is answered with STOP.
 *
 * Ray pauses a trial that reaches `maxT` until its whole bracket has, then stops them all; this
 * port stops it at once (the same outcome, without a checkpoint and restart).
 *
 * @example
 * ```ts
 * const scheduler = new HyperBandScheduler({ maxT: 81, reductionFactor: 3 });
 * new Tuner(train, { paramSpace, tuneConfig: { metric: 'acc', mode: 'max', numSamples: 143, scheduler } });
 * ```
 */
export class HyperBandScheduler implements TrialScheduler {
  /** The options in use, defaults filled in. */
  readonly options: CompiledHyperBandSchedulerOptions;
  private readonly props: MetricMode;
  private readonly sMax1: number;
  private bands: (Bracket | null)[][] = [[]];
  private current: Position | undefined;
  private bandIdx = 0;
  private readonly trialPosition = new Map<string, Position>();
  /** Trials stopped by a halving while not reporting: handed out by takeTrialsToStop(). */
  private readonly toStop = new Set<string>();
  /** Every trial this scheduler stopped (a late result of one gets STOP). */
  private readonly stopped = new Set<string>();
  private numStopped = 0;

  /**
   * @param options see {@link HyperBandSchedulerOptions}.
   * @throws TuneInvalidArgumentError for an option out of range.
   */
  constructor(options: HyperBandSchedulerOptions = {}) {
    this.options = compileHyperBandSchedulerOptions(options);
    this.props = new MetricMode('HyperBandScheduler', this.options.metric, this.options.mode);
    this.sMax1 = Math.round(Math.log(this.options.maxT) / Math.log(this.options.reductionFactor)) + 1;
  }

  /** Takes metric and mode from the Tuner unless the constructor got both. */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined): void {
    this.props.set(metric, mode);
  }

  private n0(s: number): number {
    return Math.ceil((this.sMax1 / (s + 1)) * this.options.reductionFactor ** s);
  }

  private r0(s: number): number {
    return Math.floor(this.options.maxT / this.options.reductionFactor ** s + 1e-9);
  }

  private bracketAt(p: Position | undefined): Bracket | undefined {
    return p === undefined ? undefined : (this.bands[p.band]?.[p.index] ?? undefined);
  }

  /**
   * Puts the trial in the current bracket, or in a new one when that is full.
   * @throws TuneInvalidArgumentError when no metric or mode was given.
   */
  onTrialAdd(trial: TrialInfo): void {
    this.props.require();
    if (this.trialPosition.has(trial.trialId)) return;
    let bracket = this.bracketAt(this.current);
    if (bracket === undefined || bracket.filled()) {
      for (;;) {
        if (this.bands[this.bandIdx].length === this.sMax1) {
          this.bands.push([]);
          this.bandIdx++;
        }
        const band = this.bands[this.bandIdx];
        const s = band.length;
        if (this.r0(s) === 0) {
          band.push(null);
          this.current = undefined;
          continue;
        }
        const o = this.options;
        bracket = new Bracket(this.n0(s), this.r0(s), o.maxT, o.reductionFactor, s, o.stopLastTrials);
        band.push(bracket);
        this.current = { band: this.bandIdx, index: band.length - 1 };
        break;
      }
    }
    bracket.add(trial.trialId);
    this.trialPosition.set(trial.trialId, this.current!);
  }

  /** CONTINUE below the milestone; at it, PAUSE until the rung is complete, then CONTINUE or STOP. */
  onTrialResult(trial: TrialInfo, result: TrialResult): SchedulerDecision {
    const { metric } = this.props.require();
    const id = trial.trialId;
    if (this.stopped.has(id)) {
      this.toStop.delete(id);
      return STOP;
    }
    const bracket = this.bracketAt(this.trialPosition.get(id));
    const time = readNumber(result, this.options.timeAttr);
    if (bracket === undefined || !bracket.live.has(id) || time === undefined) return CONTINUE;
    bracket.updateTrialStats(id, { time, metric: readNumber(result, metric) ?? NaN });
    if (bracket.continueTrial(id)) return CONTINUE;
    if (bracket.halves === 0 && this.options.stopLastTrials) {
      // The last milestone: nothing more to decide for this trial.
      bracket.cleanupTrial(id);
      this.markStopped(id, false);
      return STOP;
    }
    return this.processBracket(bracket, id);
  }

  /**
   * Halves the bracket if every live trial reached its milestone. Returns the decision for
   * `current` (the trial reporting, if any): PAUSE while the rung is not complete.
   */
  private processBracket(bracket: Bracket, current: string | undefined): SchedulerDecision {
    let action = PAUSE;
    // An empty bracket is left as is (Ray would halve it, shrinking it for no trial).
    while (bracket.live.size > 0 && bracket.curIterDone()) {
      if (bracket.finished()) {
        for (const id of [...bracket.live.keys()]) {
          bracket.cleanupTrial(id);
          this.markStopped(id, id !== current);
        }
        return STOP;
      }
      const { good, bad } = bracket.successiveHalving(this.props.sign());
      for (const id of bad) {
        bracket.cleanupTrial(id);
        this.markStopped(id, id !== current);
        if (id === current) action = STOP;
      }
      let anyContinues = false;
      for (const id of good) {
        if (!bracket.continueTrial(id)) continue; // already past the new milestone: halve again below
        anyContinues = true;
        if (id === current) action = CONTINUE;
        else bracket.toUnpause.add(id);
      }
      // Ray halves once per event; when every promoted trial is already past the new milestone,
      // no event would come (they all wait), so halve again now.
      if (anyContinues) break;
    }
    return action;
  }

  private markStopped(trialId: string, tellRunner: boolean): void {
    this.stopped.add(trialId);
    this.numStopped++;
    if (tellRunner) this.toStop.add(trialId);
  }

  /** The trial ended by itself or was stopped: it leaves its bracket, which may now halve. */
  onTrialComplete(trial: TrialInfo, _result: TrialResult | undefined): void {
    this.remove(trial.trialId);
  }

  /** The trial failed for good: it leaves its bracket, which may now halve. */
  onTrialError(trial: TrialInfo): void {
    this.remove(trial.trialId);
  }

  private remove(trialId: string): void {
    this.toStop.delete(trialId);
    const bracket = this.bracketAt(this.trialPosition.get(trialId));
    if (bracket === undefined || !bracket.live.has(trialId)) return;
    bracket.cleanupTrial(trialId);
    if (this.props.metric !== undefined && this.props.mode !== undefined) this.processBracket(bracket, undefined);
  }

  /**
   * The trial to run next, as Ray: brackets of the earliest band first, the least complete
   * bracket first, and in a bracket the first PENDING trial or PAUSED trial promoted by a
   * halving. Undefined when there is none: the runner must then not resume a PAUSED trial (it
   * waits for its rung), but may start a new one.
   */
  chooseTrialToRun(pending: readonly TrialInfo[]): TrialInfo | undefined {
    const byId = new Map(pending.map((t) => [t.trialId, t]));
    for (const band of this.bands) {
      const brackets = band
        .filter((b): b is Bracket => b !== null)
        .sort((a, b) => a.completionPercentage() - b.completionPercentage());
      for (const bracket of brackets) {
        for (const id of bracket.live.keys()) {
          const t = byId.get(id);
          if (t && (t.status === 'PENDING' || (t.status === 'PAUSED' && bracket.toUnpause.has(id)))) return t;
        }
      }
    }
    const unknown = pending.find((t) => t.status === 'PENDING' && !this.trialPosition.has(t.trialId));
    if (unknown) return unknown;
    // Trials to stop that the runner did not take with takeTrialsToStop(): resumed, they get STOP.
    return pending.find((t) => this.toStop.has(t.trialId));
  }

  /**
   * The PAUSED trials this scheduler stopped since the last call (the losers of a halving, the
   * last trials of a finished bracket): the runner ends each (status TERMINATED). Each id is
   * returned once.
   */
  takeTrialsToStop(): string[] {
    const ids = [...this.toStop];
    this.toStop.clear();
    return ids;
  }

  /** How many trials this scheduler stopped. */
  get stoppedCount(): number {
    return this.numStopped;
  }

  /** Every band's brackets: trial count, milestone and trials (for progress output and tests). */
  describeBrackets(): {
    band: number;
    index: number;
    maxTrials: number;
    milestone: number;
    halvesLeft: number;
    trials: string[];
  }[] {
    const out: {
      band: number;
      index: number;
      maxTrials: number;
      milestone: number;
      halvesLeft: number;
      trials: string[];
    }[] = [];
    this.bands.forEach((band, b) =>
      band.forEach((bracket, index) => {
        if (bracket) {
          out.push({
            band: b,
            index,
            maxTrials: bracket.n,
            milestone: bracket.cumulR,
            halvesLeft: bracket.halves,
            trials: [...bracket.live.keys()],
          });
        }
      }),
    );
    return out;
  }

  /** Every bracket's progress, trial positions and pending stops: JSON-safe. */
  save(): unknown {
    return {
      type: 'HyperBandScheduler',
      version: 1,
      ...this.props.save(),
      bands: this.bands.map((band) =>
        band.map((b) =>
          b === null
            ? null
            : {
                s: b.s,
                maxTrials: b.maxTrials,
                initT: b.initT,
                n: b.n,
                r: b.r,
                cumulR: b.cumulR,
                halves: b.halves,
                completedProgress: b.completedProgress,
                live: [...b.live].map(([id, seen]) => [
                  id,
                  seen === undefined ? null : [seen.time, encodeNumber(seen.metric)],
                ]),
                toUnpause: [...b.toUnpause],
              },
        ),
      ),
      current: this.current ?? null,
      bandIdx: this.bandIdx,
      trials: [...this.trialPosition].map(([id, p]) => [id, p.band, p.index]),
      toStop: [...this.toStop],
      stopped: [...this.stopped],
      numStopped: this.numStopped,
    };
  }

  /**
   * Puts back a state from {@link save}.
   * @throws TuneInvalidArgumentError when it is another scheduler's.
   */
  restore(state: unknown): void {
    const s = checkSavedState('HyperBandScheduler', state);
    if (!Array.isArray(s.bands) || s.bands.length === 0) {
      throw new TuneInvalidArgumentError(
        'HyperBandScheduler.restore(): the saved state has no bands; pass what save() returned.',
      );
    }
    this.props.restore(s);
    const o = this.options;
    this.bands = (s.bands as (SavedBracket | null)[][]).map((band) =>
      band.map((b) => {
        if (b === null) return null;
        const bracket = new Bracket(b.maxTrials, b.initT, o.maxT, o.reductionFactor, b.s, o.stopLastTrials);
        bracket.n = b.n;
        bracket.r = b.r;
        bracket.cumulR = b.cumulR;
        bracket.halves = b.halves;
        bracket.completedProgress = b.completedProgress;
        for (const [id, seen] of b.live)
          bracket.live.set(id, seen === null ? undefined : { time: seen[0], metric: decodeNumber(seen[1]) });
        for (const id of b.toUnpause) bracket.toUnpause.add(id);
        return bracket;
      }),
    );
    this.current =
      s.current === null || s.current === undefined ? undefined : { band: s.current.band, index: s.current.index };
    this.bandIdx = s.bandIdx;
    this.trialPosition.clear();
    for (const [id, band, index] of s.trials as [string, number, number][]) this.trialPosition.set(id, { band, index });
    this.toStop.clear();
    for (const id of s.toStop as string[]) this.toStop.add(id);
    this.stopped.clear();
    for (const id of s.stopped as string[]) this.stopped.add(id);
    this.numStopped = typeof s.numStopped === 'number' ? s.numStopped : 0;
  }
}

interface SavedBracket {
  s: number;
  maxTrials: number;
  initT: number;
  n: number;
  r: number;
  cumulR: number;
  halves: number;
  completedProgress: number;
  live: [string, [number, JsonNumber] | null][];
  toUnpause: string[];
}
