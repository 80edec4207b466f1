/**
 * Seeded randomness for search spaces and searchers: one small generator whose whole state is a
 * 32-bit integer, so a searcher's save() can write it as JSON and restore() can continue the
 * same sequence.
 */
import { TuneInvalidArgumentError } from '../errors.js';

/**
 * A source of uniform random numbers in [0, 1). Domains and searchers draw only through this
 * interface, so a test can pass a fixed sequence and `{ random: Math.random }` works too.
 */
export interface Rng {
  /** A uniform number in [0, 1). */
  random(): number;
}

/**
 * A seeded generator (mulberry32): fast, 2^32 period, and its state is one integer that
 * {@link SeededRng.getState} returns and {@link SeededRng.setState} puts back.
 *
 * @example
 * ```ts
 * const rng = new SeededRng(42);
 * uniform(0, 1).sample(rng); // the same value on every run
 * ```
 */
export class SeededRng implements Rng {
  private state: number;

  /**
   * @param seed any finite number (integers are the usual choice); omitted, a random seed is drawn.
   * @throws TuneInvalidArgumentError when `seed` is not a finite number.
   */
  constructor(seed?: number) {
    this.state = seed === undefined ? randomSeed() : seedToState(seed);
  }

  /** A uniform number in [0, 1). */
  random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform unsigned 32-bit integer, e.g. to seed another generator. */
  nextUint32(): number {
    return Math.floor(this.random() * 4294967296) >>> 0;
  }

  /** The generator's state, a 32-bit integer: JSON-safe. */
  getState(): number {
    return this.state;
  }

  /**
   * Puts back a state from {@link getState}; the sequence continues from there.
   * @throws TuneInvalidArgumentError when `state` is not an integer.
   */
  setState(state: number): void {
    if (!Number.isInteger(state)) {
      throw new TuneInvalidArgumentError(`SeededRng state must be an integer from getState(), got ${String(state)}.`);
    }
    this.state = state | 0;
  }
}

/** A random 32-bit seed, for when the user gives none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}

function seedToState(seed: number): number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new TuneInvalidArgumentError(
      `seed must be a finite number, got ${String(seed)}. Pass an integer such as 42.`,
    );
  }
  // Fold the high bits and any fraction in, so seeds that differ only there still differ.
  const whole = Math.floor(seed);
  const lo = whole >>> 0;
  const hi = Math.floor(whole / 4294967296) >>> 0;
  const frac = Math.floor((seed - whole) * 4294967296) >>> 0;
  return (lo ^ Math.imul(hi, 0x9e3779b9) ^ Math.imul(frac, 0x85ebca6b)) | 0;
}

/** A uniform integer in [0, n). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.random() * n));
}

/** A standard normal draw (Box-Muller; no cached spare, so the state stays one integer). */
export function randomNormal(rng: Rng): number {
  const u1 = 1 - rng.random(); // (0, 1]: log(0) is -Infinity
  const u2 = rng.random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
