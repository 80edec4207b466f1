/**
 * Errors of @ray-ts/rllib. All derive from core's `RayError`, so one `instanceof RayError` catches
 * every ray-ts failure.
 */
import { RayError } from '@ray-ts/core';

/**
 * Thrown when an RLlib API call gets an invalid argument, option or call order: a space with
 * bounds or sizes that do not make sense (`new Discrete(0)`, `new Box(1, 0, [2])`), a value that
 * does not belong to its space, an action outside an env's action space, an env name nobody
 * registered, `step()` before `reset()` or after the episode ended. The message names the
 * argument, what was given and what to do instead.
 */
export class RLlibInvalidArgumentError extends RayError {
  override readonly name: string = 'RLlibInvalidArgumentError';
}
