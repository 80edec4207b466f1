/**
 * Search-space primitives, as in Ray Tune (`tune.uniform`, `tune.choice`, `tune.grid_search`...).
 * Each is a {@link Domain} object placed anywhere in a param space (nested objects and arrays
 * included); everything else in the space is a constant that passes through to every config.
 *
 * @example
 * ```ts
 * const paramSpace = {
 *   lr: loguniform(1e-5, 1e-1),
 *   layers: randint(1, 5), // 1..4
 *   optimizer: choice(['adam', 'sgd']),
 *   batch: gridSearch([32, 64]),
 *   model: { width: qrandint(64, 512, 64), dropout: uniform(0, 0.5) },
 *   warmup: sampleFrom((spec) => spec.config.layers * 100),
 * };
 * ```
 */
import { TuneInvalidArgumentError } from '../errors.js';
import { randomIndex, randomNormal, type Rng } from './rng.js';

/**
 * What a {@link sampleFrom} function receives: `config` is the config being resolved, with the
 * values sampled so far (`spec.config.layers`, `spec.config.model.width`). Reading a value that is
 * not resolved yet defers the function until it is (a cycle throws).
 */
export interface SampleSpec {
  readonly config: Record<string, any>;
}

/** The kinds of {@link Domain}, for searchers that switch on them. */
export type DomainKind = 'float' | 'integer' | 'normal' | 'categorical' | 'grid' | 'function';

/**
 * A value to be sampled: the base of every search-space primitive. Subclasses are immutable and
 * validate their arguments when built.
 */
export abstract class Domain<T = unknown> {
  /** Which primitive family this is. */
  abstract readonly kind: DomainKind;
  /**
   * Draws one value.
   * @param rng the random source (a {@link SeededRng} for reproducible runs).
   * @param spec the partly resolved config; only {@link FunctionDomain} reads it.
   */
  abstract sample(rng: Rng, spec?: SampleSpec): T;
  /** Whether `value` is one this domain could produce (pointsToEvaluate are checked with it). */
  abstract isValid(value: unknown): boolean;
  /** How the domain was written, e.g. `loguniform(0.00001, 1)`, for messages. */
  abstract toString(): string;
}

/** A float range: {@link uniform}, {@link quniform}, {@link loguniform}, {@link qloguniform}. */
export class FloatDomain extends Domain<number> {
  readonly kind = 'float' as const;
  /**
   * @param lower inclusive lower bound.
   * @param upper upper bound (reachable only through quantization).
   * @param base set for a log-uniform distribution (the base of the logarithm).
   * @param q set for a quantized domain: values are rounded to multiples of q.
   */
  constructor(
    readonly lower: number,
    readonly upper: number,
    readonly base: number | undefined,
    readonly q: number | undefined,
    private readonly written: string,
  ) {
    super();
  }

  sample(rng: Rng): number {
    let value: number;
    if (this.base === undefined) {
      value = this.lower + (this.upper - this.lower) * rng.random();
    } else {
      const lo = Math.log(this.lower);
      const hi = Math.log(this.upper);
      value = Math.exp(lo + (hi - lo) * rng.random());
    }
    if (this.q !== undefined) value = roundToMultiple(value, this.q);
    return Math.min(this.upper, Math.max(this.lower, value));
  }

  isValid(value: unknown): boolean {
    return (
      typeof value === 'number' &&
      value >= this.lower &&
      value <= this.upper &&
      (this.q === undefined || isMultiple(value, this.q))
    );
  }

  toString(): string {
    return this.written;
  }
}

/**
 * An integer range: {@link randint}, {@link qrandint}, {@link lograndint}, {@link qlograndint}.
 * `min` and `max` are the smallest and largest values it can produce (both inclusive).
 */
export class IntegerDomain extends Domain<number> {
  readonly kind = 'integer' as const;
  /**
   * @param min smallest value produced.
   * @param max largest value produced.
   * @param base set for a log-uniform distribution.
   * @param q step: values are multiples of q (1 for plain integers).
   */
  constructor(
    readonly min: number,
    readonly max: number,
    readonly base: number | undefined,
    readonly q: number,
    private readonly written: string,
  ) {
    super();
  }

  sample(rng: Rng): number {
    if (this.base === undefined) {
      return this.min + this.q * randomIndex(rng, (this.max - this.min) / this.q + 1);
    }
    // As Ray: floor of a log-uniform draw over [min, upper), then rounded to the step.
    const lo = Math.log(this.min);
    const hi = Math.log(this.q === 1 ? this.max + 1 : this.max);
    let value = Math.floor(Math.exp(lo + (hi - lo) * rng.random()));
    if (this.q !== 1) value = Math.round(value / this.q) * this.q;
    return Math.min(this.max, Math.max(this.min, value));
  }

  isValid(value: unknown): boolean {
    return (
      typeof value === 'number' &&
      Number.isInteger(value) &&
      value >= this.min &&
      value <= this.max &&
      value % this.q === 0
    );
  }

  toString(): string {
    return this.written;
  }
}

/** A normal distribution: {@link randn}, {@link qrandn}. */
export class NormalDomain extends Domain<number> {
  readonly kind = 'normal' as const;
  constructor(
    readonly mean: number,
    readonly sd: number,
    readonly q: number | undefined,
    private readonly written: string,
  ) {
    super();
  }

  sample(rng: Rng): number {
    const value = this.mean + this.sd * randomNormal(rng);
    return this.q === undefined ? value : roundToMultiple(value, this.q);
  }

  isValid(value: unknown): boolean {
    return typeof value === 'number' && Number.isFinite(value) && (this.q === undefined || isMultiple(value, this.q));
  }

  toString(): string {
    return this.written;
  }
}

/** One of a list of values, uniformly: {@link choice}. Values may hold nested domains. */
export class CategoricalDomain<T = unknown> extends Domain<T> {
  readonly kind = 'categorical' as const;
  constructor(readonly values: readonly T[]) {
    super();
  }

  sample(rng: Rng): T {
    return this.values[randomIndex(rng, this.values.length)];
  }

  /** The position of `value` in `values` (deep equality for objects and arrays), or -1. */
  indexOf(value: unknown): number {
    return this.values.findIndex((v) => deepEqual(v, value));
  }

  isValid(value: unknown): boolean {
    return this.indexOf(value) >= 0;
  }

  toString(): string {
    return `choice(${describeValues(this.values)})`;
  }
}

/**
 * Every one of a list of values: {@link gridSearch}. The variant generator expands it into one
 * trial per value (a cartesian product across grid dimensions); sampled on its own, it picks a
 * value uniformly.
 */
export class GridSearchDomain<T = unknown> extends Domain<T> {
  readonly kind = 'grid' as const;
  constructor(readonly values: readonly T[]) {
    super();
  }

  sample(rng: Rng): T {
    return this.values[randomIndex(rng, this.values.length)];
  }

  isValid(value: unknown): boolean {
    return this.values.some((v) => deepEqual(v, value));
  }

  toString(): string {
    return `gridSearch(${describeValues(this.values)})`;
  }
}

/** A function of the partly resolved config: {@link sampleFrom}. */
export class FunctionDomain<T = unknown> extends Domain<T> {
  readonly kind = 'function' as const;
  constructor(readonly fn: (spec: SampleSpec, rng: Rng) => T) {
    super();
  }

  sample(rng: Rng, spec: SampleSpec = { config: {} }): T {
    return this.fn(spec, rng);
  }

  isValid(): boolean {
    return true;
  }

  toString(): string {
    return `sampleFrom(${this.fn.name || 'anonymous'})`;
  }
}

/**
 * A float sampled uniformly in [lower, upper).
 * @throws TuneInvalidArgumentError unless both are finite and lower < upper.
 */
export function uniform(lower: number, upper: number): FloatDomain {
  const written = `uniform(${lower}, ${upper})`;
  checkRange(written, lower, upper);
  return new FloatDomain(lower, upper, undefined, undefined, written);
}

/**
 * A float sampled uniformly in [lower, upper], rounded to a multiple of `q`.
 * @throws TuneInvalidArgumentError unless lower < upper are finite, q > 0, and both bounds are multiples of q.
 */
export function quniform(lower: number, upper: number, q: number): FloatDomain {
  const written = `quniform(${lower}, ${upper}, ${q})`;
  checkRange(written, lower, upper);
  checkQ(written, q, lower, upper);
  return new FloatDomain(lower, upper, undefined, q, written);
}

/**
 * A float whose logarithm is uniform: `lower * (upper / lower) ** U(0, 1)`. The base (10 by
 * default, as Ray) does not change the distribution; it is kept for parity.
 * @throws TuneInvalidArgumentError unless 0 < lower < upper are finite and base is a positive number other than 1.
 */
export function loguniform(lower: number, upper: number, base = 10): FloatDomain {
  const written = `loguniform(${lower}, ${upper}${base === 10 ? '' : `, ${base}`})`;
  checkLogRange(written, lower, upper, base);
  return new FloatDomain(lower, upper, base, undefined, written);
}

/**
 * A log-uniform float rounded to a multiple of `q`.
 * @throws TuneInvalidArgumentError as {@link loguniform}, and unless both bounds are multiples of q.
 */
export function qloguniform(lower: number, upper: number, q: number, base = 10): FloatDomain {
  const written = `qloguniform(${lower}, ${upper}, ${q}${base === 10 ? '' : `, ${base}`})`;
  checkLogRange(written, lower, upper, base);
  checkQ(written, q, lower, upper);
  return new FloatDomain(lower, upper, base, q, written);
}

/**
 * An integer sampled uniformly from lower (inclusive) to upper (exclusive, as Ray).
 * @throws TuneInvalidArgumentError unless both are integers and lower < upper.
 */
export function randint(lower: number, upper: number): IntegerDomain {
  const written = `randint(${lower}, ${upper})`;
  checkIntRange(written, lower, upper);
  return new IntegerDomain(lower, upper - 1, undefined, 1, written);
}

/**
 * An integer multiple of `q` sampled uniformly from lower to upper, both inclusive (as Ray's
 * `qrandint`).
 * @throws TuneInvalidArgumentError unless lower < upper and q are integers, q > 0, and both bounds are multiples of q.
 */
export function qrandint(lower: number, upper: number, q = 1): IntegerDomain {
  const written = `qrandint(${lower}, ${upper}, ${q})`;
  checkIntRange(written, lower, upper);
  checkIntQ(written, q, lower, upper);
  return new IntegerDomain(lower, upper, undefined, q, written);
}

/**
 * An integer whose logarithm is uniform, from lower (inclusive) to upper (exclusive).
 * @throws TuneInvalidArgumentError unless 0 < lower < upper are integers.
 */
export function lograndint(lower: number, upper: number, base = 10): IntegerDomain {
  const written = `lograndint(${lower}, ${upper}${base === 10 ? '' : `, ${base}`})`;
  checkIntRange(written, lower, upper);
  checkLogRange(written, lower, upper, base);
  return new IntegerDomain(lower, upper - 1, base, 1, written);
}

/**
 * A log-uniform integer rounded to a multiple of `q`, from lower to upper, both inclusive.
 * @throws TuneInvalidArgumentError as {@link lograndint}, and unless both bounds are multiples of q.
 */
export function qlograndint(lower: number, upper: number, q: number, base = 10): IntegerDomain {
  const written = `qlograndint(${lower}, ${upper}, ${q}${base === 10 ? '' : `, ${base}`})`;
  checkIntRange(written, lower, upper);
  checkLogRange(written, lower, upper, base);
  checkIntQ(written, q, lower, upper);
  return new IntegerDomain(lower, upper, base, q, written);
}

/**
 * A float from a normal distribution.
 * @throws TuneInvalidArgumentError unless mean is finite and sd is finite and positive.
 */
export function randn(mean = 0, sd = 1): NormalDomain {
  const written = `randn(${mean}, ${sd})`;
  checkNormal(written, mean, sd);
  return new NormalDomain(mean, sd, undefined, written);
}

/**
 * A normal float rounded to a multiple of `q`.
 * @throws TuneInvalidArgumentError as {@link randn}, and unless q is finite and positive.
 */
export function qrandn(mean: number, sd: number, q: number): NormalDomain {
  const written = `qrandn(${mean}, ${sd}, ${q})`;
  checkNormal(written, mean, sd);
  checkQ(written, q);
  return new NormalDomain(mean, sd, q, written);
}

/**
 * One of `values`, uniformly. Values can be anything, including objects holding other domains
 * (those are sampled in turn once the choice is made).
 * @throws TuneInvalidArgumentError when `values` is not a non-empty array.
 */
export function choice<T>(values: readonly T[]): CategoricalDomain<T> {
  checkValues('choice', values);
  return new CategoricalDomain([...values]);
}

/**
 * Every one of `values`: the variant generator runs the cartesian product of all grid
 * dimensions, each combination `numSamples` times.
 * @throws TuneInvalidArgumentError when `values` is not a non-empty array.
 */
export function gridSearch<T>(values: readonly T[]): GridSearchDomain<T> {
  checkValues('gridSearch', values);
  return new GridSearchDomain([...values]);
}

/**
 * A value computed from the rest of the config: `fn` gets `{ config }` (the config being
 * resolved, `spec.config.x`) and the searcher's seeded rng (use it rather than Math.random, for
 * reproducible runs). It may return another domain, which is sampled in turn.
 *
 * @example
 * ```ts
 * { a: randint(1, 10), b: sampleFrom((spec) => spec.config.a * 2) }
 * ```
 * @throws TuneInvalidArgumentError when `fn` is not a function.
 */
export function sampleFrom<T>(fn: (spec: SampleSpec, rng: Rng) => T): FunctionDomain<T> {
  if (typeof fn !== 'function') {
    throw new TuneInvalidArgumentError(`sampleFrom expects a function (spec) => value, got ${typeof fn}.`);
  }
  return new FunctionDomain(fn);
}

function checkFinite(written: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TuneInvalidArgumentError(`${written}: ${name} must be a finite number, got ${String(value)}.`);
  }
}

function checkRange(written: string, lower: number, upper: number): void {
  checkFinite(written, 'lower', lower);
  checkFinite(written, 'upper', upper);
  if (!(lower < upper)) {
    throw new TuneInvalidArgumentError(
      `${written}: lower must be less than upper. Pass the bounds in increasing order.`,
    );
  }
}

function checkLogRange(written: string, lower: number, upper: number, base: number): void {
  checkRange(written, lower, upper);
  if (!(lower > 0)) {
    throw new TuneInvalidArgumentError(`${written}: a log distribution needs lower > 0, got ${lower}.`);
  }
  checkFinite(written, 'base', base);
  if (!(base > 0) || base === 1) {
    throw new TuneInvalidArgumentError(`${written}: base must be a positive number other than 1, got ${base}.`);
  }
}

function checkIntRange(written: string, lower: number, upper: number): void {
  checkRange(written, lower, upper);
  if (!Number.isSafeInteger(lower) || !Number.isSafeInteger(upper)) {
    throw new TuneInvalidArgumentError(`${written}: bounds must be integers. Use uniform() for floats.`);
  }
}

function checkQ(written: string, q: number, lower?: number, upper?: number): void {
  checkFinite(written, 'q', q);
  if (!(q > 0)) throw new TuneInvalidArgumentError(`${written}: q must be positive, got ${q}.`);
  for (const [name, bound] of [
    ['lower', lower],
    ['upper', upper],
  ] as const) {
    if (bound !== undefined && !isMultiple(bound, q)) {
      throw new TuneInvalidArgumentError(
        `${written}: ${name} (${bound}) is not a multiple of q (${q}). Pick bounds that q divides, so quantized values stay in range.`,
      );
    }
  }
}

function checkIntQ(written: string, q: number, lower: number, upper: number): void {
  if (!Number.isSafeInteger(q) || q < 1) {
    throw new TuneInvalidArgumentError(`${written}: q must be a positive integer, got ${String(q)}.`);
  }
  checkQ(written, q, lower, upper);
}

function checkNormal(written: string, mean: number, sd: number): void {
  checkFinite(written, 'mean', mean);
  checkFinite(written, 'sd', sd);
  if (!(sd > 0)) throw new TuneInvalidArgumentError(`${written}: sd must be positive, got ${sd}.`);
}

function checkValues(fn: string, values: unknown): void {
  if (!Array.isArray(values) || values.length === 0) {
    throw new TuneInvalidArgumentError(
      `${fn} expects a non-empty array of values, got ${Array.isArray(values) ? 'an empty array' : typeof values}. Pass e.g. ${fn}([1, 2, 3]).`,
    );
  }
}

/** Whether `value` is an integer multiple of `q` (up to floating-point error). */
export function isMultiple(value: number, q: number): boolean {
  const ratio = value / q;
  return Math.abs(ratio - Math.round(ratio)) <= 1e-9 * Math.max(1, Math.abs(ratio));
}

/** `value` rounded to the nearest multiple of `q`, without float noise such as 0.30000000000000004. */
export function roundToMultiple(value: number, q: number): number {
  const rounded = Math.round(value / q) * q;
  const decimals = decimalPlaces(q);
  return decimals > 0 && decimals <= 100 ? Number(rounded.toFixed(decimals)) : rounded;
}

function decimalPlaces(q: number): number {
  const [mantissa, exponent] = q.toExponential().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** Structural equality for JSON-like values (plain objects, arrays, primitives); identity otherwise. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Whether `value` is a plain object (`{...}`), which the space resolver walks into. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describeValues(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map((v) => (typeof v === 'string' ? `'${v}'` : safeJson(v)));
  return `[${shown.join(', ')}${values.length > 5 ? ', ...' : ''}]`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
