/**
 * The seeded pseudo-random number generator of ray-ts: one algorithm for every library that
 * needs reproducible randomness (Data's shuffles and splits, Tune's searchers and schedulers,
 * RLlib's environments, exploration and replay), so a seed means the same thing everywhere.
 *
 * Algorithm: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes
 * PractRand), seeded through splitmix32 so that nearby seeds (`seed`, `seed + 1`, ...) give
 * unrelated streams. It does not reproduce numpy's streams: the same seed gives different numbers
 * than Python Ray, but the same numbers on every run, thread and machine.
 */
import { InvalidArgumentError } from './errors.js';

const TWO_POW_32 = 4294967296;

function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/**
 * The complete state of a {@link SeededRng}: plain data that survives `structuredClone` and
 * JSON, to save a stream in a checkpoint and continue it after a restore (`getState`/`setState`).
 */
export interface SeededRngState {
  /** The four 32-bit words of sfc32's state. */
  readonly s: readonly [number, number, number, number];
  /** The second normal sample of the last Box-Muller pair, not handed out yet. */
  readonly spare: number | null;
}

/**
 * A seeded pseudo-random number generator, for reproducible work: the same seed gives the same
 * numbers on every run, thread and machine. Data, Tune and RLlib draw all their seeded
 * randomness from it. Not for cryptography.
 *
 * @example
 * ```ts
 * import { SeededRng } from '@ray-ts/core';
 * const rng = new SeededRng(42);
 * rng.next();        // a float in [0, 1), the same on every run
 * rng.int(6) + 1;    // a die roll
 * const saved = rng.getState();
 * const again = new SeededRng();
 * again.setState(saved); // continues exactly where `rng` is
 * ```
 */
export class SeededRng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spare: number | null = null;

  /**
   * @param seed - Any finite number (integers up to 2^53 are used whole; other numbers through
   * their bits). Leave it out for a random seed (from `Math.random`).
   * @throws InvalidArgumentError when `seed` is not a finite number.
   */
  constructor(seed?: number) {
    this.seed(seed ?? randomSeed());
  }

  /**
   * Restarts the stream from `seed`: after `rng.seed(s)`, `rng` gives the same numbers as
   * `new SeededRng(s)`.
   * @throws InvalidArgumentError when `seed` is not a finite number.
   */
  seed(seed: number): void {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new InvalidArgumentError(
        `SeededRng seed must be a finite number, got ${String(seed)}. Pass an integer such as 0 or 42.`,
      );
    }
    let lo: number;
    let hi: number;
    if (Number.isInteger(seed) && Math.abs(seed) <= Number.MAX_SAFE_INTEGER) {
      lo = seed >>> 0;
      hi = Math.floor(seed / TWO_POW_32) >>> 0;
    } else {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, seed);
      hi = view.getUint32(0);
      lo = view.getUint32(4);
    }
    let st = lo ^ Math.imul(hi, 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    this.spare = null;
    // sfc32 wants a few rounds to mix its counter into the state.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed 32-bit unsigned integer (to seed another generator, for one). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float64 in [0, 1), with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * The same as {@link SeededRng.next}, under the name `Math.random` has: the generator fits
   * wherever a `{ random(): number }` source is taken (Tune's search spaces, for one).
   */
  random(): number {
    return this.next();
  }

  /** A uniform float64 in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /**
   * A uniform integer in [0, n), without modulo bias.
   * @throws InvalidArgumentError when `n` is not an integer in [1, 2^32].
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new InvalidArgumentError(`SeededRng.int(n) needs an integer n in [1, 2^32], got ${String(n)}.`);
    }
    // Rejection sampling: draws below `limit` map evenly onto [0, n).
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal sample (mean 0, standard deviation 1), by the Box-Muller transform. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An exponential sample with rate 1 (mean 1). */
  exponential(): number {
    return -Math.log(1 - this.next());
  }

  /** The generator's full state, plain data that survives `structuredClone` and JSON. */
  getState(): SeededRngState {
    return { s: [this.a, this.b, this.c, this.d], spare: this.spare };
  }

  /**
   * Restores a state from {@link SeededRng.getState}; the stream continues exactly from there.
   * @throws InvalidArgumentError when `state` is not such a state (four 32-bit integers and a
   * spare that is a number or null).
   */
  setState(state: SeededRngState): void {
    const s = (state as Partial<SeededRngState> | null)?.s;
    const spare = (state as Partial<SeededRngState> | null)?.spare;
    const isWord = (w: unknown) => Number.isInteger(w) && (w as number) >= -(2 ** 31) && (w as number) < TWO_POW_32;
    if (!Array.isArray(s) || s.length !== 4 || !s.every(isWord) || !(spare === null || typeof spare === 'number')) {
      throw new InvalidArgumentError(
        `SeededRng state must be an object from getState(), { s: [four 32-bit integers], spare: number | null }, ` +
          `got ${JSON.stringify(state) ?? String(state)}.`,
      );
    }
    [this.a, this.b, this.c, this.d] = s.map((w) => w | 0);
    this.spare = spare;
  }
}

/** A fresh random 32-bit seed (from `Math.random`), for work that was given none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * TWO_POW_32);
}
