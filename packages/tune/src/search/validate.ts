/** Option checks shared by the searchers: each throws a TuneInvalidArgumentError naming the option. */
import { TuneInvalidArgumentError } from '../errors.js';
import type { Config, Mode } from '../types.js';
import { isPlainObject } from './space.js';

/** `value` if it is an integer >= `min`, else throws. */
export function checkInteger(owner: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TuneInvalidArgumentError(`${owner}: ${name} must be an integer >= ${min}, got ${String(value)}.`);
  }
  return value;
}

/** `value` if it is a finite number in the open or closed range given, else throws. */
export function checkNumber(
  owner: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
  open = false,
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (open ? value > min && value < max : value >= min && value <= max);
  if (!ok) {
    const range = open ? `between ${min} and ${max} (exclusive)` : `between ${min} and ${max}`;
    throw new TuneInvalidArgumentError(`${owner}: ${name} must be a number ${range}, got ${String(value)}.`);
  }
  return value as number;
}

/** `mode` if it is undefined, 'min' or 'max', else throws. */
export function checkMode(owner: string, mode: unknown): Mode | undefined {
  if (mode !== undefined && mode !== 'min' && mode !== 'max') {
    throw new TuneInvalidArgumentError(`${owner}: mode must be 'min' or 'max', got ${String(mode)}.`);
  }
  return mode;
}

/** A copy of `points` if it is an array of plain objects, else throws. */
export function checkPoints(owner: string, points: unknown): Config[] {
  if (points === undefined) return [];
  if (!Array.isArray(points) || !points.every((p) => isPlainObject(p))) {
    throw new TuneInvalidArgumentError(
      `${owner}: pointsToEvaluate must be an array of configs such as [{ lr: 0.01 }], got ${typeof points}.`,
    );
  }
  return [...(points as Config[])];
}

/** `space` if it is a plain object, else throws. */
export function checkSpace(owner: string, space: unknown): Config {
  if (!isPlainObject(space)) {
    throw new TuneInvalidArgumentError(
      `${owner}: the param space must be a plain object such as { lr: loguniform(1e-4, 1e-1) }, got ${typeof space}.`,
    );
  }
  return space;
}

/** Reads a saved state written by `owner`'s save(), checking its tag and version. */
export function checkState(owner: string, state: unknown, version: number): Record<string, unknown> {
  if (!isPlainObject(state) || state.searcher !== owner || state.version !== version) {
    throw new TuneInvalidArgumentError(
      `${owner}.restore: the state was not written by ${owner}.save() (version ${version}); restore with the searcher that saved it.`,
    );
  }
  return state;
}
