/**
 * Errors of @ray-ts/tune. All derive from core's `RayError`, so one `instanceof RayError` catches
 * every ray-ts failure.
 */
import { RayError } from '@ray-ts/core';

/**
 * Thrown when a Tune API call gets an invalid argument or option: a search-space primitive with
 * bounds that do not make sense (`uniform(1, 0)`, `choice([])`), a searcher option out of range,
 * a searcher used before it was given its search space, or a saved state it cannot read. The
 * message names the argument, what was given and what to pass instead.
 */
export class TuneInvalidArgumentError extends RayError {
  override readonly name: string = 'TuneInvalidArgumentError';
}

/**
 * Thrown by `fit()` when a callback of `runConfig.callbacks` threw or rejected: the experiment
 * stopped at that point (its state is written; `Tuner.restore()` goes on from there once the
 * callback is fixed). The message names the callback, the hook and the trial; `cause` is the
 * callback's error.
 */
export class TuneCallbackError extends RayError {
  override readonly name: string = 'TuneCallbackError';
}
