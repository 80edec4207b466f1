/**
 * The options of a Tune experiment, as `new Tuner(trainable, options)` takes them: how trials are
 * searched and scheduled (`TuneConfig`), and where results go and when trials stop (`RunConfig`).
 */
import type { TuneCallback } from './callbacks.js';
import type { StopCriteria } from './stopper.js';
import type { Mode, Searcher, TrialScheduler, Config } from './types.js';

/** How trials are searched and scheduled (Ray's `TuneConfig`). */
export interface TuneConfig {
  /** The metric to optimize (needed by searchers like TPE, schedulers like ASHA, and getBestResult). */
  metric?: string;
  mode?: Mode;
  /** Trials to run (times the grid's size for grid search; default 1). */
  numSamples?: number;
  /** Proposes configs (default: random and grid search, `BasicVariantGenerator`). */
  searchAlg?: Searcher;
  /** Stops bad trials early (default: FIFO, never). */
  scheduler?: TrialScheduler;
  /** Trials at once (default: as many as the cluster's resources fit). */
  maxConcurrentTrials?: number;
  /** Stop the whole experiment after this many seconds (a `TimeoutStopper` added to `runConfig.stop`). */
  timeBudgetS?: number;
  /** Run trials on the same worker actors one after another (default true; Ray's reuse_actors). */
  reuseActors?: boolean;
}

/** Checkpoints kept and taken. */
export interface CheckpointConfig {
  /** Checkpoints kept per trial (default all). */
  numToKeep?: number;
  /** Keep the best by this metric instead of the latest. */
  checkpointScoreAttribute?: string;
  checkpointScoreOrder?: Mode;
  /** Class trainables: checkpoint every this many iterations and at their last (default 0: only when a scheduler pauses them). */
  checkpointFrequency?: number;
}

/** Where results go and when trials stop (Ray's `RunConfig`). */
export interface RunConfig {
  /** The experiment's name (default `tune_<date>`). */
  name?: string;
  /** Folder of experiments (default `~/ray_ts_results`). */
  storagePath?: string;
  /**
   * When trials stop: an object stops a trial when any named result field reaches its value
   * (`{ trainingIteration: 10, accuracy: 0.95 }`); a function `(trialId, result) => boolean` when it
   * returns true; a `Stopper` (`MaximumIterationStopper`, `TrialPlateauStopper`, `TimeoutStopper`,
   * `CombinedStopper`, or your own) also decides when the whole experiment stops (`stopAll()`).
   */
  stop?: StopCriteria;
  /**
   * Callbacks called as the experiment goes (trial start, result, checkpoint, end, error...; see
   * `TuneCallback`). `JsonLoggerCallback`, `CSVLoggerCallback` and `TBXLoggerCallback` are added
   * unless one of that class is in the list.
   */
  callbacks?: readonly TuneCallback[];
  checkpointConfig?: CheckpointConfig;
  /** Retries of a trial that throws, from its last checkpoint (default 0; -1 for unlimited). */
  failureConfig?: { maxFailures?: number };
  /** 0: silent; 1: a line per finished trial; 2: a live table on a terminal (default 1, 2 on a TTY). */
  verbose?: 0 | 1 | 2;
  /** Seconds between writes of experiment_state.json while results come in (default 2). */
  stateWriteIntervalS?: number;
}

/** Options of `new Tuner()` and `Tuner.restore()`. */
export interface TunerOptions {
  paramSpace?: Config;
  tuneConfig?: TuneConfig;
  runConfig?: RunConfig;
}
