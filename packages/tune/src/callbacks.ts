/**
 * Callbacks (Ray Tune's `ray.tune.Callback`): hooks the runner calls as an experiment goes:
 * setup, a trial's start, each result, each checkpoint, its end (complete or error), a retry, and
 * the experiment's end. Loggers (loggers/) are callbacks; so is anything that forwards results to
 * a tracking service. Train's runs call the same hooks, as one trial each.
 */
import { TuneCallbackError } from './errors.js';
import type { Checkpoint } from './checkpoint.js';
import type { StopCriteria } from './stopper.js';
import type { Mode, TrialInfo, TrialResult } from './types.js';

/** A trial as callbacks see it: live (read it in the hook), never to be changed. */
export interface CallbackTrial extends TrialInfo {
  /** `trial_00000`: the trial's folder name. */
  readonly trialName: string;
  /** The trial's folder (absolute): `<storagePath>/<name>/<trialName>` (a Train run's folder for Train). */
  readonly path: string;
  /** Failures so far (retried ones included). */
  readonly numFailures: number;
  /** The error that ended the trial (status ERROR). */
  readonly error: { readonly name: string; readonly message: string; readonly stack: string } | undefined;
}

/** What {@link TuneCallback.setup} gets, once, before the first trial starts. */
export interface CallbackSetupInfo {
  /** `runConfig.stop`, as given. */
  readonly stop: StopCriteria | undefined;
  /** `tuneConfig.numSamples` (1 for a Train run). */
  readonly numSamples: number;
  /** The experiment's folder (`storagePath/name`); for Train, the folder of runs (`storagePath`). */
  readonly experimentPath: string;
  /** `runConfig.name`. */
  readonly experimentName: string;
  readonly metric: string | undefined;
  readonly mode: Mode | undefined;
}

/**
 * The hooks of a callback (Ray's `tune.Callback` methods, in camelCase), all optional. Pass
 * objects that have some of them, or subclasses of {@link Callback}, in `runConfig.callbacks`.
 *
 * `iteration` is the runner's step count (Ray's loop iteration), `trials` every trial so far,
 * `trial` the one the event is about. A hook may return a promise: Tune goes on without waiting
 * for it, runs each callback's hooks one at a time in order, and waits for all of them before
 * `fit()` resolves. A hook that throws or rejects stops the experiment; `fit()` then rejects with
 * a `TuneCallbackError`.
 */
export interface TuneCallback {
  /** Once, before the first trial starts (`fit()` waits for it). */
  setup?(info: CallbackSetupInfo): void | Promise<void>;
  /** A trial started (or started again: after a retry, a pause, or in a restored experiment). */
  onTrialStart?(iteration: number, trials: readonly CallbackTrial[], trial: CallbackTrial): void | Promise<void>;
  /** A trial reported a result (with `trainingIteration`, `timeTotalS`, ... added). */
  onTrialResult?(
    iteration: number,
    trials: readonly CallbackTrial[],
    trial: CallbackTrial,
    result: TrialResult,
  ): void | Promise<void>;
  /** A checkpoint of the trial was written (`checkpoint.path` is its folder). */
  onCheckpoint?(
    iteration: number,
    trials: readonly CallbackTrial[],
    trial: CallbackTrial,
    checkpoint: Checkpoint,
  ): void | Promise<void>;
  /** The trial ended: by itself, or stopped (by a stopper, a scheduler, the time budget). Status TERMINATED. */
  onTrialComplete?(iteration: number, trials: readonly CallbackTrial[], trial: CallbackTrial): void | Promise<void>;
  /** The trial failed for good (status ERROR, `trial.error` says why). */
  onTrialError?(iteration: number, trials: readonly CallbackTrial[], trial: CallbackTrial): void | Promise<void>;
  /** The trial failed and will be retried (within `failureConfig.maxFailures`). */
  onTrialRecover?(iteration: number, trials: readonly CallbackTrial[], trial: CallbackTrial): void | Promise<void>;
  /** Every trial has ended or stopped; the experiment's state is on disk. */
  onExperimentEnd?(trials: readonly CallbackTrial[]): void | Promise<void>;
}

/** The names of the hooks. */
export type CallbackHook = keyof TuneCallback;

/**
 * A base class for callbacks (Ray's `tune.Callback`): every hook does nothing; override the
 * ones you need.
 * @example
 * class PrintLoss extends Callback {
 *   override onTrialResult(_i: number, _trials: readonly CallbackTrial[], trial: CallbackTrial, result: TrialResult) {
 *     console.log(trial.trialName, result.trainingIteration, result.loss);
 *   }
 * }
 * new Tuner(train, { runConfig: { callbacks: [new PrintLoss()] } });
 */
export class Callback implements TuneCallback {
  setup(_info: CallbackSetupInfo): void | Promise<void> {}
  onTrialStart(_iteration: number, _trials: readonly CallbackTrial[], _trial: CallbackTrial): void | Promise<void> {}
  onTrialResult(
    _iteration: number,
    _trials: readonly CallbackTrial[],
    _trial: CallbackTrial,
    _result: TrialResult,
  ): void | Promise<void> {}
  onCheckpoint(
    _iteration: number,
    _trials: readonly CallbackTrial[],
    _trial: CallbackTrial,
    _checkpoint: Checkpoint,
  ): void | Promise<void> {}
  onTrialComplete(_iteration: number, _trials: readonly CallbackTrial[], _trial: CallbackTrial): void | Promise<void> {}
  onTrialError(_iteration: number, _trials: readonly CallbackTrial[], _trial: CallbackTrial): void | Promise<void> {}
  onTrialRecover(_iteration: number, _trials: readonly CallbackTrial[], _trial: CallbackTrial): void | Promise<void> {}
  onExperimentEnd(_trials: readonly CallbackTrial[]): void | Promise<void> {}
}

/** A callback's class name, or its place in `runConfig.callbacks` for a plain object. */
function callbackName(cb: TuneCallback, index: number): string {
  const n = (cb as object).constructor?.name;
  return n && n !== 'Object' ? n : `runConfig.callbacks[${index}]`;
}

/**
 * @internal Calls the hooks of an experiment's callbacks: each callback's hooks in order, one at
 * a time (a hook that returns a promise delays that callback's next hooks, not the runner); the
 * first that throws or rejects is kept (see {@link error}) and its callback gets no more calls.
 */
export class CallbackList {
  private readonly tails = new Map<TuneCallback, Promise<void>>();
  private readonly failed = new Set<TuneCallback>();
  private firstError: TuneCallbackError | undefined;
  private step = 0;

  /** @param onError called once, at the first failure (the runner stops the experiment). */
  constructor(
    readonly callbacks: readonly TuneCallback[],
    private readonly onError: () => void = () => {},
  ) {}

  /** The runner's step count, passed to hooks as `iteration`; each event counts one. */
  get iteration(): number {
    return this.step;
  }

  /** The first failure of a hook, if any. */
  get error(): TuneCallbackError | undefined {
    return this.firstError;
  }

  /** Calls `hook` of every callback that has it, with `args`. */
  call<H extends CallbackHook>(hook: H, ...args: Parameters<NonNullable<TuneCallback[H]>>): void {
    this.step++;
    for (const [index, cb] of this.callbacks.entries()) {
      const fn = cb[hook] as ((...a: unknown[]) => unknown) | undefined;
      if (typeof fn !== 'function' || this.failed.has(cb)) continue;
      const where = `${callbackName(cb, index)}.${hook}`;
      const about =
        hook === 'setup' || hook === 'onExperimentEnd' ? '' : ` for ${(args[2] as CallbackTrial).trialName}`;
      const tail = this.tails.get(cb);
      if (tail) {
        this.track(
          cb,
          tail
            .then(() => (this.failed.has(cb) ? undefined : fn.apply(cb, args)))
            .then(undefined, (err: unknown) => this.fail(cb, where + about, err)),
        );
        continue;
      }
      let r: unknown;
      try {
        r = fn.apply(cb, args);
      } catch (err) {
        this.fail(cb, where + about, err);
        continue;
      }
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        this.track(
          cb,
          (r as Promise<unknown>).then(
            () => undefined,
            (err: unknown) => this.fail(cb, where + about, err),
          ),
        );
      }
    }
  }

  /** Resolves once every hook called so far has returned (or rejected). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  private track(cb: TuneCallback, p: Promise<void>): void {
    this.tails.set(cb, p);
    void p.then(() => {
      if (this.tails.get(cb) === p) this.tails.delete(cb);
    });
  }

  private fail(cb: TuneCallback, where: string, err: unknown): void {
    this.failed.add(cb);
    if (this.firstError) return;
    const e = err as Error;
    this.firstError = new TuneCallbackError(
      `Callback ${where} threw ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}. The experiment stopped; ` +
        'fix the callback, then Tuner.restore() the experiment to go on.',
      { cause: err },
    );
    this.onError();
  }
}
