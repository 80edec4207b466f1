/**
 * Gymnasium's spaces: the sets that observations and actions live in. `Discrete`, `Box`,
 * `MultiDiscrete` and the composites `DictSpace` and `TupleSpace`, each with `sample(rng)`,
 * `contains(x)` and `shape`; `flatDim` and `flatten` turn any value into the flat Float32Array a
 * policy network takes; `spaceToJSON` / `spaceFromJSON` carry spaces between threads and files.
 */
import { SeededRng } from '@ray-ts/core';
import { RLlibInvalidArgumentError } from './errors.js';

/** A value of a Box space: Float32Array (what Box spaces produce), Float64Array or numbers. */
export type BoxValue = Float32Array | Float64Array | readonly number[];
/** A value of a MultiDiscrete space: one integer per component. */
export type MultiDiscreteValue = Int32Array | readonly number[];
/** A value of any space: an integer (Discrete), an array (Box, MultiDiscrete, Tuple) or a record (Dict). */
export type SpaceValue =
  number | BoxValue | MultiDiscreteValue | readonly SpaceValue[] | { readonly [key: string]: SpaceValue };

/** Any space (a discriminated union on `kind`). */
export type Space = Discrete | Box | MultiDiscrete | DictSpace | TupleSpace;

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

function isNumericArray(x: unknown): x is ArrayLike<number> {
  if (x instanceof Float32Array || x instanceof Float64Array || x instanceof Int32Array) return true;
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return true;
  return Array.isArray(x) && x.every((v) => typeof v === 'number');
}

function fmt(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => isInt(d) && d >= 1)) {
    throw new RLlibInvalidArgumentError(
      `${what}: shape must be an array of positive integers, got ${JSON.stringify(shape)}. Pass e.g. [4] or [2, 3].`,
    );
  }
}

/**
 * The integers `start, start + 1, ..., start + n - 1` (Gymnasium's `Discrete`). Values are plain
 * numbers; `flatten` one-hot encodes them.
 *
 * @example
 * ```ts
 * const actions = new Discrete(2);       // {0, 1}: CartPole's actions
 * actions.sample(new SeededRng(0));       // 0 or 1 (SeededRng from @ray-ts/core)
 * actions.contains(1);                    // true
 * ```
 */
export class Discrete {
  readonly kind = 'Discrete' as const;
  /** Gymnasium's shape of a Discrete value: a scalar, `[]`. */
  readonly shape: readonly number[] = [];

  /**
   * @param n - How many values (at least 1).
   * @param start - The smallest value (default 0).
   * @throws RLlibInvalidArgumentError when `n` is not a positive integer or `start` not an integer.
   */
  constructor(
    readonly n: number,
    readonly start = 0,
  ) {
    if (!isInt(n) || n < 1) {
      throw new RLlibInvalidArgumentError(`Discrete(n): n must be a positive integer, got ${String(n)}.`);
    }
    if (!isInt(start)) {
      throw new RLlibInvalidArgumentError(`Discrete(n, start): start must be an integer, got ${String(start)}.`);
    }
  }

  /** A uniformly random value; a freshly, randomly seeded generator when `rng` is left out. */
  sample(rng: SeededRng = new SeededRng()): number {
    return this.start + rng.int(this.n);
  }

  /** Whether `x` is an integer in `[start, start + n)`. */
  contains(x: unknown): x is number {
    return isInt(x) && x >= this.start && x < this.start + this.n;
  }

  toString(): string {
    return this.start === 0 ? `Discrete(${this.n})` : `Discrete(${this.n}, start=${this.start})`;
  }
}

/**
 * A box in R^shape, with a lower and upper bound per element that may be infinite (Gymnasium's
 * `Box` with `dtype=float32`). Values are Float32Arrays in row-major order; `contains` also
 * accepts Float64Arrays and number arrays. Bounds are stored as float32, as Gymnasium does.
 *
 * @example
 * ```ts
 * new Box(-2, 2, [1]);                               // Pendulum's torque
 * new Box([-4.8, -Infinity], [4.8, Infinity]);        // per-element bounds, shape [2]
 * ```
 */
export class Box {
  readonly kind = 'Box' as const;
  readonly shape: readonly number[];
  /** Per-element lower bounds (float32, may be -Infinity), length `size`. */
  readonly low: Float32Array;
  /** Per-element upper bounds (float32, may be Infinity), length `size`. */
  readonly high: Float32Array;
  /** The number of elements: the product of `shape`. */
  readonly size: number;

  /**
   * @param low - One lower bound for all elements, or one per element.
   * @param high - One upper bound for all elements, or one per element.
   * @param shape - Required when both bounds are numbers; otherwise defaults to `[length]` of the
   *   bound arrays (which must then have `product(shape)` elements).
   * @throws RLlibInvalidArgumentError when the shape is missing or invalid, bound arrays have the
   *   wrong length, a bound is NaN, or some `low > high`.
   */
  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape?: readonly number[]) {
    let resolved = shape;
    if (resolved === undefined) {
      if (typeof low !== 'number') resolved = [low.length];
      else if (typeof high !== 'number') resolved = [high.length];
      else {
        throw new RLlibInvalidArgumentError(
          `Box(${low}, ${high}): pass a shape when both bounds are numbers, e.g. new Box(${low}, ${high}, [3]).`,
        );
      }
    }
    checkShape(resolved, 'Box');
    this.shape = Object.freeze([...resolved]);
    this.size = resolved.reduce((a, b) => a * b, 1);
    this.low = this.bound(low, 'low');
    this.high = this.bound(high, 'high');
    for (let i = 0; i < this.size; i++) {
      if (!(this.low[i] <= this.high[i])) {
        throw new RLlibInvalidArgumentError(
          `Box: low[${i}] = ${this.low[i]} is above high[${i}] = ${this.high[i]}. Every low must be <= its high.`,
        );
      }
    }
  }

  private bound(b: number | ArrayLike<number>, which: string): Float32Array {
    if (typeof b === 'number') {
      if (Number.isNaN(b)) throw new RLlibInvalidArgumentError(`Box: ${which} is NaN; pass a number or +-Infinity.`);
      return new Float32Array(this.size).fill(b);
    }
    if (!isNumericArray(b) || b.length !== this.size) {
      throw new RLlibInvalidArgumentError(
        `Box: ${which} must be a number or an array of ${this.size} numbers (shape ${JSON.stringify(this.shape)}), ` +
          `got ${isNumericArray(b) ? `${b.length} numbers` : typeof b}.`,
      );
    }
    const out = Float32Array.from(b);
    if (out.some(Number.isNaN))
      throw new RLlibInvalidArgumentError(`Box: ${which} contains NaN; pass numbers or +-Infinity.`);
    return out;
  }

  /**
   * A random value, drawn as Gymnasium does per element: uniform where both bounds are finite,
   * `low + Exp(1)` or `high - Exp(1)` where one is, standard normal where neither is.
   */
  sample(rng: SeededRng = new SeededRng()): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i];
      const hi = this.high[i];
      const loFinite = Number.isFinite(lo);
      const hiFinite = Number.isFinite(hi);
      if (loFinite && hiFinite) out[i] = rng.uniform(lo, hi);
      else if (loFinite) out[i] = lo + rng.exponential();
      else if (hiFinite) out[i] = hi - rng.exponential();
      else out[i] = rng.normal();
      // Rounding to float32 may step just outside a bound; clamp back in.
      if (out[i] > hi) out[i] = hi;
      if (out[i] < lo) out[i] = lo;
    }
    return out;
  }

  /** Whether `x` is a numeric array of `size` elements, each within its bounds (NaN never is). */
  contains(x: unknown): x is BoxValue {
    if (typeof x === 'number' && this.size === 1 && this.shape.length === 0) {
      return x >= this.low[0] && x <= this.high[0];
    }
    if (!isNumericArray(x) || x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      if (!(x[i] >= this.low[i] && x[i] <= this.high[i])) return false;
    }
    return true;
  }

  /** Whether every bound is finite (`low` and `high`). */
  isBounded(): boolean {
    return this.low.every(Number.isFinite) && this.high.every(Number.isFinite);
  }

  toString(): string {
    const uniform = (a: Float32Array) => a.every((v) => v === a[0]);
    const b = (a: Float32Array) => (uniform(a) ? fmt(a[0]) : `[${Array.from(a, fmt).join(', ')}]`);
    return `Box(${b(this.low)}, ${b(this.high)}, (${this.shape.join(', ')}${this.shape.length === 1 ? ',' : ''}), float32)`;
  }
}

/**
 * A vector of independent discrete values, component `i` in `[0, nvec[i])` (Gymnasium's
 * `MultiDiscrete`). Samples are Int32Arrays; `flatten` concatenates one one-hot per component.
 */
export class MultiDiscrete {
  readonly kind = 'MultiDiscrete' as const;
  readonly nvec: readonly number[];
  readonly shape: readonly number[];

  /** @throws RLlibInvalidArgumentError when `nvec` is empty or holds a non-positive or non-integer count. */
  constructor(nvec: ArrayLike<number>) {
    if (!isNumericArray(nvec) || nvec.length === 0 || !Array.from(nvec).every((n) => isInt(n) && n >= 1)) {
      throw new RLlibInvalidArgumentError(
        `MultiDiscrete(nvec): nvec must be a non-empty array of positive integers, got ${JSON.stringify(
          isNumericArray(nvec) ? Array.from(nvec) : nvec,
        )}.`,
      );
    }
    this.nvec = Object.freeze(Array.from(nvec));
    this.shape = Object.freeze([this.nvec.length]);
  }

  sample(rng: SeededRng = new SeededRng()): Int32Array {
    return Int32Array.from(this.nvec, (n) => rng.int(n));
  }

  /** Whether `x` holds `nvec.length` integers with `0 <= x[i] < nvec[i]`. */
  contains(x: unknown): x is MultiDiscreteValue {
    if (!isNumericArray(x) || x.length !== this.nvec.length) return false;
    for (let i = 0; i < x.length; i++) if (!isInt(x[i]) || x[i] < 0 || x[i] >= this.nvec[i]) return false;
    return true;
  }

  toString(): string {
    return `MultiDiscrete([${this.nvec.join(', ')}])`;
  }
}

/**
 * A record of named sub-spaces (Gymnasium's `Dict`). Keys are kept sorted, as Gymnasium sorts a
 * plain dict's keys, so `flatten` concatenates the sub-values in sorted key order. Values are
 * plain objects with exactly these keys.
 */
export class DictSpace {
  readonly kind = 'Dict' as const;
  /** Composite spaces have no single shape (Gymnasium's `None`). */
  readonly shape = null;
  readonly spaces: Readonly<Record<string, Space>>;
  /** The keys, sorted. */
  readonly keys: readonly string[];

  /** @throws RLlibInvalidArgumentError when a value of `spaces` is not a space. */
  constructor(spaces: Record<string, Space>) {
    if (spaces === null || typeof spaces !== 'object' || Array.isArray(spaces)) {
      throw new RLlibInvalidArgumentError(
        `DictSpace(spaces): spaces must be a record of spaces, e.g. { pos: new Box(-1, 1, [2]) }.`,
      );
    }
    const keys = Object.keys(spaces).sort();
    for (const k of keys) {
      if (!isSpace(spaces[k])) {
        throw new RLlibInvalidArgumentError(
          `DictSpace: spaces['${k}'] is not a space (Discrete, Box, MultiDiscrete, DictSpace or TupleSpace).`,
        );
      }
    }
    this.keys = Object.freeze(keys);
    this.spaces = Object.freeze(Object.fromEntries(keys.map((k) => [k, spaces[k]])));
  }

  sample(rng: SeededRng = new SeededRng()): Record<string, SpaceValue> {
    return Object.fromEntries(this.keys.map((k) => [k, this.spaces[k].sample(rng)]));
  }

  /** Whether `x` is an object with exactly these keys, each value in its sub-space. */
  contains(x: unknown): x is Record<string, SpaceValue> {
    if (x === null || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x)) return false;
    const rec = x as Record<string, unknown>;
    const keys = Object.keys(rec);
    if (keys.length !== this.keys.length) return false;
    return this.keys.every((k) => Object.hasOwn(rec, k) && this.spaces[k].contains(rec[k]));
  }

  toString(): string {
    return `Dict(${this.keys.map((k) => `'${k}': ${this.spaces[k].toString()}`).join(', ')})`;
  }
}

/** An ordered tuple of sub-spaces (Gymnasium's `Tuple`); values are arrays, one element per sub-space. */
export class TupleSpace {
  readonly kind = 'Tuple' as const;
  /** Composite spaces have no single shape (Gymnasium's `None`). */
  readonly shape = null;
  readonly spaces: readonly Space[];

  /** @throws RLlibInvalidArgumentError when an element of `spaces` is not a space. */
  constructor(spaces: readonly Space[]) {
    if (!Array.isArray(spaces)) {
      throw new RLlibInvalidArgumentError(
        `TupleSpace(spaces): spaces must be an array of spaces, e.g. [new Discrete(2), new Box(0, 1, [3])].`,
      );
    }
    spaces.forEach((s, i) => {
      if (!isSpace(s)) throw new RLlibInvalidArgumentError(`TupleSpace: spaces[${i}] is not a space.`);
    });
    this.spaces = Object.freeze([...spaces]);
  }

  sample(rng: SeededRng = new SeededRng()): SpaceValue[] {
    return this.spaces.map((s) => s.sample(rng));
  }

  /** Whether `x` is an array with one value per sub-space, each in its sub-space. */
  contains(x: unknown): x is SpaceValue[] {
    return Array.isArray(x) && x.length === this.spaces.length && this.spaces.every((s, i) => s.contains(x[i]));
  }

  toString(): string {
    return `Tuple(${this.spaces.map((s) => s.toString()).join(', ')})`;
  }
}

/** Whether `x` is one of this module's spaces. */
export function isSpace(x: unknown): x is Space {
  return (
    x instanceof Discrete ||
    x instanceof Box ||
    x instanceof MultiDiscrete ||
    x instanceof DictSpace ||
    x instanceof TupleSpace
  );
}

/**
 * The length of `flatten(space, x)`: `n` for Discrete (one-hot), `size` for Box, `sum(nvec)` for
 * MultiDiscrete, the sum over sub-spaces for Dict and Tuple.
 */
export function flatDim(space: Space): number {
  switch (space.kind) {
    case 'Discrete':
      return space.n;
    case 'Box':
      return space.size;
    case 'MultiDiscrete':
      return space.nvec.reduce((a, b) => a + b, 0);
    case 'Dict':
      return space.keys.reduce((a, k) => a + flatDim(space.spaces[k]), 0);
    case 'Tuple':
      return space.spaces.reduce((a, s) => a + flatDim(s), 0);
  }
}

function writeFlat(space: Space, x: unknown, out: Float32Array, offset: number, path: string): number {
  switch (space.kind) {
    case 'Discrete': {
      if (!space.contains(x)) {
        throw new RLlibInvalidArgumentError(
          `flatten: value${path} = ${String(x)} is not in ${space.toString()}; pass an integer in [${space.start}, ${space.start + space.n}).`,
        );
      }
      out[offset + x - space.start] = 1;
      return offset + space.n;
    }
    case 'Box': {
      if (typeof x === 'number' && space.size === 1) {
        out[offset] = x;
        return offset + 1;
      }
      if (!isNumericArray(x) || x.length !== space.size) {
        throw new RLlibInvalidArgumentError(
          `flatten: value${path} must be an array of ${space.size} numbers for ${space.toString()}, got ${
            isNumericArray(x) ? `${x.length} numbers` : typeof x
          }.`,
        );
      }
      for (let i = 0; i < space.size; i++) out[offset + i] = x[i];
      return offset + space.size;
    }
    case 'MultiDiscrete': {
      if (!space.contains(x)) {
        throw new RLlibInvalidArgumentError(
          `flatten: value${path} is not in ${space.toString()}; pass ${space.nvec.length} integers, x[i] in [0, nvec[i]).`,
        );
      }
      let o = offset;
      for (let i = 0; i < space.nvec.length; i++) {
        out[o + x[i]] = 1;
        o += space.nvec[i];
      }
      return o;
    }
    case 'Dict': {
      if (x === null || typeof x !== 'object' || Array.isArray(x)) {
        throw new RLlibInvalidArgumentError(
          `flatten: value${path} must be an object with keys ${JSON.stringify(space.keys)} for ${space.toString()}.`,
        );
      }
      let o = offset;
      for (const k of space.keys) {
        if (!Object.hasOwn(x, k))
          throw new RLlibInvalidArgumentError(
            `flatten: value${path} has no key '${k}' required by ${space.toString()}.`,
          );
        o = writeFlat(space.spaces[k], (x as Record<string, unknown>)[k], out, o, `${path}.${k}`);
      }
      return o;
    }
    case 'Tuple': {
      if (!Array.isArray(x) || x.length !== space.spaces.length) {
        throw new RLlibInvalidArgumentError(
          `flatten: value${path} must be an array of ${space.spaces.length} values for ${space.toString()}.`,
        );
      }
      let o = offset;
      space.spaces.forEach((s, i) => {
        o = writeFlat(s, x[i], out, o, `${path}[${i}]`);
      });
      return o;
    }
  }
}

/**
 * Flattens a value of `space` into a Float32Array of length `flatDim(space)`, for feeding a policy
 * network: Discrete one-hot, Box as is (row-major), MultiDiscrete one one-hot per component,
 * Dict (sorted keys) and Tuple concatenated. Pass `out` (and `offset`) to write into an existing
 * buffer, e.g. one row of a batch.
 *
 * @throws RLlibInvalidArgumentError when `x` does not fit the space (a Discrete value out of
 *   range, a Box value of the wrong length, a missing Dict key), or `out` is too short.
 *
 * @example
 * ```ts
 * flatten(new Discrete(3), 1);   // Float32Array [0, 1, 0]
 * ```
 */
export function flatten(space: Space, x: unknown, out?: Float32Array, offset = 0): Float32Array {
  const dim = flatDim(space);
  const target = out ?? new Float32Array(dim);
  if (out !== undefined) {
    if (!isInt(offset) || offset < 0 || offset + dim > out.length) {
      throw new RLlibInvalidArgumentError(
        `flatten: out has ${out.length} elements, too few to write ${dim} at offset ${offset}.`,
      );
    }
    target.fill(0, offset, offset + dim);
  }
  writeFlat(space, x, target, offset, '');
  return target;
}

/** A bound that JSON can carry: a number or an infinity spelled out. */
export type JSONBound = number | 'inf' | '-inf';

/** A space as plain data (JSON- and `structuredClone`-safe), from {@link spaceToJSON}. */
export type SpaceJSON =
  | { type: 'Discrete'; n: number; start: number }
  | { type: 'Box'; low: JSONBound[]; high: JSONBound[]; shape: number[] }
  | { type: 'MultiDiscrete'; nvec: number[] }
  | { type: 'Dict'; spaces: Record<string, SpaceJSON> }
  | { type: 'Tuple'; spaces: SpaceJSON[] };

const toBound = (v: number): JSONBound => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);
const fromBound = (v: JSONBound): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

/**
 * A space as plain data, to send between threads or save to a file; {@link spaceFromJSON} makes
 * the space again. Class instances lose their methods when structured-cloned, so send this instead.
 */
export function spaceToJSON(space: Space): SpaceJSON {
  switch (space.kind) {
    case 'Discrete':
      return { type: 'Discrete', n: space.n, start: space.start };
    case 'Box':
      return {
        type: 'Box',
        low: Array.from(space.low, toBound),
        high: Array.from(space.high, toBound),
        shape: [...space.shape],
      };
    case 'MultiDiscrete':
      return { type: 'MultiDiscrete', nvec: [...space.nvec] };
    case 'Dict':
      return { type: 'Dict', spaces: Object.fromEntries(space.keys.map((k) => [k, spaceToJSON(space.spaces[k])])) };
    case 'Tuple':
      return { type: 'Tuple', spaces: space.spaces.map(spaceToJSON) };
  }
}

/**
 * Makes a space from {@link spaceToJSON}'s data.
 * @throws RLlibInvalidArgumentError when `json` is not a space's data.
 */
export function spaceFromJSON(json: SpaceJSON): Space {
  switch (json?.type) {
    case 'Discrete':
      return new Discrete(json.n, json.start);
    case 'Box':
      return new Box(json.low.map(fromBound), json.high.map(fromBound), json.shape);
    case 'MultiDiscrete':
      return new MultiDiscrete(json.nvec);
    case 'Dict':
      return new DictSpace(Object.fromEntries(Object.entries(json.spaces).map(([k, v]) => [k, spaceFromJSON(v)])));
    case 'Tuple':
      return new TupleSpace(json.spaces.map(spaceFromJSON));
    default:
      throw new RLlibInvalidArgumentError(
        `spaceFromJSON: ${JSON.stringify(json)?.slice(0, 200)} is not a space's data; pass what spaceToJSON returned.`,
      );
  }
}
