/**
 * Errors of @ray-ts/train. All derive from core's `RayError`, so one `instanceof RayError` catches
 * every ray-ts failure.
 */
import { RayError } from '@ray-ts/core';

/** A Train API call got an invalid argument or option; the message says what to pass instead. */
export class TrainInvalidArgumentError extends RayError {
  override readonly name: string = 'TrainInvalidArgumentError';
}

/**
 * The training run failed: a worker threw or died more times than `failureConfig.maxFailures`
 * allows. `fit()` resolves with the result all the same (`result.error` holds this); the message
 * names the worker and its error, with the worker's stack.
 */
export class TrainingFailedError extends RayError {
  override readonly name: string = 'TrainingFailedError';
}
