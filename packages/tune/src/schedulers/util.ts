/**
 * Helpers the trial schedulers share: the metric and mode they optimize, reading numbers out of
 * results, Ray's percentile and median, JSON-safe numbers for save(), and which trials wait to run.
 */
import { TuneInvalidArgumentError } from '../errors.js';
import type { Mode, TrialInfo, TrialResult } from '../types.js';

/**
 * The metric and mode of a scheduler: given to its constructor, or filled in later by
 * `setSearchProperties` (the Tuner's `tuneConfig`). As in Ray, values from the constructor win:
 * once both are set, `setSearchProperties` changes nothing.
 */
export class MetricMode {
  metric: string | undefined;
  mode: Mode | undefined;

  constructor(
    private readonly scheduler: string,
    metric: string | undefined,
    mode: Mode | undefined,
  ) {
    checkMode(scheduler, mode);
    if (metric !== undefined && (typeof metric !== 'string' || metric === '')) {
      throw new TuneInvalidArgumentError(`${scheduler}: metric must be a non-empty string, got ${String(metric)}.`);
    }
    this.metric = metric;
    this.mode = mode;
  }

  /** Ray's `set_search_properties`: fills what is missing; false when both were already set. */
  set(metric: string | undefined, mode: Mode | undefined): boolean {
    if (this.metric !== undefined && this.mode !== undefined) return false;
    checkMode(this.scheduler, mode);
    if (metric) this.metric = metric;
    if (mode) this.mode = mode;
    return true;
  }

  /**
   * The metric and mode, which the scheduler needs from here on.
   * @throws TuneInvalidArgumentError when either is missing.
   */
  require(): { metric: string; mode: Mode } {
    if (this.metric === undefined || this.mode === undefined) {
      throw new TuneInvalidArgumentError(
        `${this.scheduler} has no ${this.metric === undefined ? 'metric' : 'mode'} ` +
          `(metric: ${String(this.metric)}, mode: ${String(this.mode)}). Pass { metric, mode } to the ` +
          `${this.scheduler} constructor, or set metric and mode in the Tuner's tuneConfig.`,
      );
    }
    return { metric: this.metric, mode: this.mode };
  }

  /** +1 for 'max', -1 for 'min': multiplying a metric by it gives a reward where higher is better. */
  sign(): number {
    return this.require().mode === 'max' ? 1 : -1;
  }

  save(): { metric: string | null; mode: Mode | null } {
    return { metric: this.metric ?? null, mode: this.mode ?? null };
  }

  restore(state: { metric?: string | null; mode?: Mode | null }): void {
    if (typeof state.metric === 'string') this.metric = state.metric;
    if (state.mode === 'min' || state.mode === 'max') this.mode = state.mode;
  }
}

function checkMode(scheduler: string, mode: unknown): void {
  if (mode !== undefined && mode !== 'min' && mode !== 'max') {
    throw new TuneInvalidArgumentError(`${scheduler}: mode must be 'min' or 'max', got ${JSON.stringify(mode)}.`);
  }
}

/**
 * A number from a result: `result[key]`, or, for a key such as `'eval/loss'` that is not a
 * top-level field, the nested `result.eval.loss` (Ray flattens results with '/'). Undefined when
 * missing or not a number.
 */
export function readNumber(result: TrialResult | Record<string, unknown> | undefined, key: string): number | undefined {
  if (result === undefined || result === null) return undefined;
  const r = result as Record<string, unknown>;
  let value: unknown = r[key];
  if (value === undefined && key.includes('/')) {
    value = r;
    for (const part of key.split('/')) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[part];
    }
  }
  return typeof value === 'number' ? value : undefined;
}

/** numpy's `nanpercentile` with linear interpolation: NaN values are left out; NaN when none is left. */
export function nanPercentile(values: Iterable<number>, percent: number): number {
  const sorted = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = ((sorted.length - 1) * percent) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  if (lo === hi || sorted[lo] === sorted[hi]) return sorted[lo];
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** numpy's `median`: the middle value, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A number as JSON can hold it: NaN and the infinities become strings. */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** Encodes a number for JSON (see {@link decodeNumber}). */
export function encodeNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x === 0 ? 0 : x; // -0 would not survive JSON either
  if (Number.isNaN(x)) return 'NaN';
  return x > 0 ? 'Infinity' : '-Infinity';
}

/** Reads back a number written by {@link encodeNumber}. */
export function decodeNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  return NaN;
}

/**
 * Checks a saved state before restore() reads it.
 * @throws TuneInvalidArgumentError when it is not an object written by `type`'s save().
 */
export function checkSavedState(type: string, state: unknown): Record<string, any> {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new TuneInvalidArgumentError(
      `${type}.restore() expects the object its save() returned, got ${state === null ? 'null' : typeof state}.`,
    );
  }
  const s = state as Record<string, any>;
  if (s.type !== type) {
    throw new TuneInvalidArgumentError(
      `${type}.restore() got the state of ${JSON.stringify(s.type)}: restore an experiment with the scheduler class it ran with.`,
    );
  }
  if (s.version !== 1) {
    throw new TuneInvalidArgumentError(
      `${type}.restore(): unknown state version ${JSON.stringify(s.version)} (this version reads 1).`,
    );
  }
  return s;
}

/** Checks a numeric option. */
export function checkNumber(
  scheduler: string,
  name: string,
  value: number,
  test: (v: number) => boolean,
  expected: string,
): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !test(value)) {
    throw new TuneInvalidArgumentError(`${scheduler}: ${name} must be ${expected}, got ${String(value)}.`);
  }
  return value;
}

/**
 * Which trials wait to run (PENDING or PAUSED), as a scheduler can tell from its callbacks: Ray's
 * schedulers ask the runner (`get_live_trials()`), ours learn it from `onTrialAdd`, their own
 * PAUSE decisions, results (the reporting trial runs) and `chooseTrialToRun(pending)`, whose
 * argument is the runner's list of waiting trials.
 */
export class WaitingTrials {
  private readonly ids = new Set<string>();

  added(trial: TrialInfo): void {
    if (trial.status === 'PENDING' || trial.status === 'PAUSED') this.ids.add(trial.trialId);
  }

  running(trialId: string): void {
    this.ids.delete(trialId);
  }

  paused(trialId: string): void {
    this.ids.add(trialId);
  }

  ended(trialId: string): void {
    this.ids.delete(trialId);
  }

  /** The runner's list of waiting trials, and the one chosen to run (which no longer waits). */
  offered(pending: readonly TrialInfo[], chosen: TrialInfo | undefined): void {
    this.ids.clear();
    for (const t of pending) if (t.status === 'PENDING' || t.status === 'PAUSED') this.ids.add(t.trialId);
    if (chosen) this.ids.delete(chosen.trialId);
  }

  /** Whether a trial other than `trialId` waits to run. */
  othersWaiting(trialId: string): boolean {
    return this.ids.size > (this.ids.has(trialId) ? 1 : 0);
  }

  save(): string[] {
    return [...this.ids];
  }

  restore(ids: unknown): void {
    this.ids.clear();
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') this.ids.add(id);
  }
}

/** Ray's FIFO choice: the first PENDING trial, else the first PAUSED one. */
export function fifoChoice(pending: readonly TrialInfo[]): TrialInfo | undefined {
  return pending.find((t) => t.status === 'PENDING') ?? pending.find((t) => t.status === 'PAUSED');
}
