/**
 * The shapes Tune's parts agree on: results, trials as searchers and schedulers see them, and
 * the Searcher and TrialScheduler interfaces (plug your own in, as in Ray Tune).
 */

/** Metrics a trial reported once, plus what Tune adds (`trainingIteration`, `timeTotalS`, ...). */
export interface TrialResult {
  readonly [metric: string]: unknown;
  /** 1 for the first report of a trial, then 2, 3... */
  readonly trainingIteration: number;
  /** Seconds since the trial started (summed over restarts). */
  readonly timeTotalS: number;
  /** Seconds of this iteration. */
  readonly timeThisIterS: number;
  readonly trialId: string;
  /** Wall-clock time of the report (ms since the epoch). */
  readonly timestamp: number;
  /** Set on the last result of a trial that finished by itself. */
  readonly done?: boolean;
}

/** `'min'` or `'max'`: whether a lower or a higher metric is better. */
export type Mode = 'min' | 'max';

/** A config: the values sampled from the search space, nested as the space is. */
export type Config = Record<string, unknown>;

/** Status of a trial. */
export type TrialStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'TERMINATED' | 'ERROR';

/** A trial, as searchers and schedulers see it (read-only). */
export interface TrialInfo {
  readonly trialId: string;
  readonly config: Config;
  readonly status: TrialStatus;
  /** The last result, if any. */
  readonly lastResult: TrialResult | undefined;
  /** Every result so far, in order. */
  readonly results: readonly TrialResult[];
  /** True when the trial has a checkpoint to resume from. */
  readonly hasCheckpoint: boolean;
}

/** What a scheduler decides after a result. */
export type SchedulerDecision =
  | { readonly action: 'CONTINUE' }
  | { readonly action: 'STOP' }
  | { readonly action: 'PAUSE' }
  /**
   * Population based training: restart this trial from `fromTrialId`'s latest checkpoint with
   * `config` (the runner pauses the trial, copies the checkpoint and starts it again).
   */
  | { readonly action: 'EXPLOIT'; readonly fromTrialId: string; readonly config: Config };

/** Sentinel a searcher returns from suggest() when it will suggest nothing more. */
export const FINISHED = Symbol.for('ray-ts.tune.searcher.finished');

/**
 * Proposes configurations (Ray Tune's `Searcher`). The runner calls `suggest()` whenever it can
 * start a trial; `undefined` means "not now" (ask again later), {@link FINISHED} means "no more".
 */
export interface Searcher {
  /** Called once before the first suggest(): the metric to optimize, its mode and the search space. */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined, paramSpace: Config): void;
  suggest(trialId: string): Config | undefined | typeof FINISHED;
  /** The Tuner's `numSamples` (searchers that count their trials). */
  setNumSamples?(n: number): void;
  onTrialResult?(trialId: string, result: TrialResult): void;
  /** The trial ended: with its last result, or with an error. */
  onTrialComplete(trialId: string, result: TrialResult | undefined, error: boolean): void;
  /** State to write with the experiment (JSON-serializable), and to read back on restore. */
  save(): unknown;
  restore(state: unknown): void;
}

/** Decides, after each result, whether a trial goes on (Ray Tune's `TrialScheduler`). */
export interface TrialScheduler {
  setSearchProperties(metric: string | undefined, mode: Mode | undefined): void;
  onTrialAdd(trial: TrialInfo): void;
  onTrialResult(trial: TrialInfo, result: TrialResult): SchedulerDecision;
  onTrialComplete(trial: TrialInfo, result: TrialResult | undefined): void;
  onTrialError?(trial: TrialInfo): void;
  /**
   * Which of the pending or paused trials to run next. Undefined: the runner starts a PENDING
   * trial or a new one; a PAUSED trial runs again only when a scheduler returns it here.
   */
  chooseTrialToRun?(pending: readonly TrialInfo[]): TrialInfo | undefined;
  /** Ids of PAUSED trials to end now (HyperBand's losers of a halving); asked after each call. */
  takeTrialsToStop?(): readonly string[];
  save(): unknown;
  restore(state: unknown): void;
}
