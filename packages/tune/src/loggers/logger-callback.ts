/**
 * The base of experiment loggers (Ray's `tune.logger.LoggerCallback`): a callback whose trial
 * hooks become three: a trial starts, reports a result, ends.
 */
import { Callback, type CallbackTrial } from '../callbacks.js';
import type { TrialResult } from '../types.js';

/**
 * A callback that logs trials (Ray's `LoggerCallback`): override `logTrialStart`,
 * `logTrialResult` and `logTrialEnd`. A logger writes into each trial's folder (`trial.path`),
 * and closes what it opened in `logTrialEnd` (or at the experiment's end, for trials left paused).
 */
export abstract class LoggerCallback extends Callback {
  /** The trial started (again, after a retry or a pause: `trial.results` is the history kept). */
  logTrialStart(_trial: CallbackTrial): void | Promise<void> {}
  /** The trial reported `result`. */
  logTrialResult(_iteration: number, _trial: CallbackTrial, _result: TrialResult): void | Promise<void> {}
  /** The trial ended; `failed` when it ended with an error. */
  logTrialEnd(_trial: CallbackTrial, _failed: boolean): void | Promise<void> {}

  override onTrialStart(
    _iteration: number,
    _trials: readonly CallbackTrial[],
    trial: CallbackTrial,
  ): void | Promise<void> {
    return this.logTrialStart(trial);
  }
  override onTrialResult(
    iteration: number,
    _trials: readonly CallbackTrial[],
    trial: CallbackTrial,
    result: TrialResult,
  ): void | Promise<void> {
    return this.logTrialResult(iteration, trial, result);
  }
  override onTrialComplete(
    _iteration: number,
    _trials: readonly CallbackTrial[],
    trial: CallbackTrial,
  ): void | Promise<void> {
    return this.logTrialEnd(trial, false);
  }
  override onTrialError(
    _iteration: number,
    _trials: readonly CallbackTrial[],
    trial: CallbackTrial,
  ): void | Promise<void> {
    return this.logTrialEnd(trial, true);
  }
}
