/** Argument checks shared by the Dataset API. */
import { DataInvalidArgumentError } from './errors.js';

/** A function's name for operator names (`map(normalize)`), or `<lambda>`. */
export function fnName(fn: unknown): string {
  const n = (fn as { name?: string } | null)?.name;
  return n && n !== 'anonymous' ? n : '<lambda>';
}

/** `v` as a positive (or non-negative) integer, else a DataInvalidArgumentError naming `what`. */
export function positiveInt(v: unknown, what: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new DataInvalidArgumentError(
      `${what} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${String(v)}.`,
    );
  }
  return v;
}

/** Throws unless `fn` is a function (or a remote() function or class). */
export function checkFunction(fn: unknown, op: string): void {
  if (typeof fn !== 'function' && !(fn !== null && typeof fn === 'object' && 'remote' in fn)) {
    throw new DataInvalidArgumentError(`${op} needs a function, got ${fn === null ? 'null' : typeof fn}.`);
  }
}
