/**
 * The Parzen estimators behind {@link TPESearch}: per-dimension kernel mixtures (truncated
 * Gaussians for numbers, smoothed frequencies for choices), as in Hyperopt and Optuna.
 *
 * Numbers are modelled in an internal space: the logarithm for log domains, the value itself
 * otherwise. Quantized and integer domains use the probability mass of the value's bin
 * (`value ± q/2`) instead of a density, so that l(x)/g(x) compares like with like.
 */
import { TuneInvalidArgumentError } from '../errors.js';
import { randomIndex, randomNormal, type Rng } from './rng.js';
import { CategoricalDomain, FloatDomain, IntegerDomain, NormalDomain, type Domain } from './space.js';

/** A numeric dimension in internal coordinates. */
export interface NumericDimension {
  readonly kind: 'numeric';
  readonly key: string;
  /** Internal bounds (log for log domains), widened by half a step for discrete domains; ±Infinity for randn. */
  readonly low: number;
  readonly high: number;
  readonly priorMu: number;
  /** Also the largest kernel width: the internal range, or sd for randn. */
  readonly priorSigma: number;
  readonly log: boolean;
  /** Spacing of the values (original units) for discrete domains. */
  readonly step: number | undefined;
  /** Smallest and largest valid values (original units). */
  readonly minValue: number;
  readonly maxValue: number;
  readonly integer: boolean;
  readonly domain: Domain;
}

/** A categorical dimension: its internal values are the indices of the choice's values. */
export interface CategoricalDimension {
  readonly kind: 'categorical';
  readonly key: string;
  readonly size: number;
  readonly domain: CategoricalDomain;
}

/** A dimension TPE models. */
export type Dimension = NumericDimension | CategoricalDimension;

/**
 * The model of one domain, or undefined for those TPE leaves to the resolver (sampleFrom).
 * @throws TuneInvalidArgumentError for a gridSearch, which TPE cannot expand (as Ray's searchers).
 */
export function dimensionOf(key: string, domain: Domain): Dimension | undefined {
  if (domain instanceof CategoricalDomain) {
    return { kind: 'categorical', key, size: domain.values.length, domain };
  }
  if (domain instanceof FloatDomain || domain instanceof IntegerDomain) {
    const log = domain.base !== undefined;
    const integer = domain instanceof IntegerDomain;
    const minValue = domain instanceof IntegerDomain ? domain.min : domain.lower;
    const maxValue = domain instanceof IntegerDomain ? domain.max : domain.upper;
    const step = domain.q;
    const half = (step ?? 0) / 2;
    const t = log ? Math.log : (v: number) => v;
    const low = t(minValue - half);
    const high = t(maxValue + half);
    return {
      kind: 'numeric',
      key,
      low,
      high,
      priorMu: (low + high) / 2,
      priorSigma: high - low,
      log,
      step,
      minValue,
      maxValue,
      integer,
      domain,
    };
  }
  if (domain instanceof NormalDomain) {
    return {
      kind: 'numeric',
      key,
      low: -Infinity,
      high: Infinity,
      priorMu: domain.mean,
      priorSigma: domain.sd,
      log: false,
      step: domain.q,
      minValue: -Infinity,
      maxValue: Infinity,
      integer: false,
      domain,
    };
  }
  if (domain.kind === 'grid') {
    throw new TuneInvalidArgumentError(
      `TPESearch cannot expand gridSearch at '${key}'. Use choice([...]) for TPE, or run the grid with BasicVariantGenerator.`,
    );
  }
  return undefined;
}

/** The internal coordinate of a config value, or undefined when it is not a valid value of the dimension. */
export function toInternal(dim: Dimension, value: unknown): number | undefined {
  if (dim.kind === 'categorical') {
    const index = dim.domain.indexOf(value);
    return index >= 0 ? index : undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const clamped = Math.min(dim.maxValue, Math.max(dim.minValue, value));
  return dim.log ? Math.log(clamped) : clamped;
}

/** The config value for an internal coordinate (rounded to the step, kept in range), and its canonical coordinate. */
export function fromInternal(dim: Dimension, x: number): { value: unknown; x: number } {
  if (dim.kind === 'categorical') return { value: dim.domain.values[x], x };
  let value = dim.log ? Math.exp(x) : x;
  if (dim.step !== undefined) value = roundStep(value, dim.step, dim.integer);
  value = Math.min(dim.maxValue, Math.max(dim.minValue, value));
  return { value, x: dim.log ? Math.log(value) : value };
}

function roundStep(value: number, step: number, integer: boolean): number {
  const rounded = Math.round(value / step) * step;
  return integer ? Math.round(rounded) : Number(rounded.toPrecision(15));
}

/** A kernel mixture over one dimension: component 0 is the prior, then one per observation. */
export interface NumericKernels {
  readonly kind: 'numeric';
  readonly mus: number[];
  readonly sigmas: number[];
  /** log of each truncated kernel's mass inside [low, high]. */
  readonly logZ: number[];
}

/** Category probabilities per component: component 0 is the uniform prior. */
export interface CategoricalKernels {
  readonly kind: 'categorical';
  readonly logProbs: number[][];
}

/** The kernels of one dimension. */
export type Kernels = NumericKernels | CategoricalKernels;

/** A Parzen estimator over all dimensions, with one weight per component. */
export interface ParzenEstimator {
  /** Normalized log weights; index 0 is the prior. */
  readonly logWeights: number[];
  /** Cumulative weights, to pick a component. */
  readonly cumulative: number[];
  readonly kernels: Kernels[];
}

/**
 * Fits an estimator to observations (internal coordinates per dimension; undefined where an
 * observation has no valid value, which then takes the prior's kernel).
 */
export function fitParzen(
  dims: readonly Dimension[],
  observations: readonly (readonly (number | undefined)[])[],
  priorWeight: number,
): ParzenEstimator {
  const n = observations.length;
  const weights = [priorWeight, ...observations.map(() => 1)];
  const total = weights.reduce((a, b) => a + b, 0);
  const logWeights = weights.map((w) => Math.log(w / total));
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w / total));
  const kernels = dims.map((dim, d): Kernels => {
    const xs = observations.map((o) => o[d]);
    return dim.kind === 'numeric' ? numericKernels(dim, xs) : categoricalKernels(dim, xs, priorWeight, n);
  });
  return { logWeights, cumulative, kernels };
}

function numericKernels(dim: NumericDimension, xs: readonly (number | undefined)[]): NumericKernels {
  const mus = [dim.priorMu, ...xs.map((x) => x ?? dim.priorMu)];
  const sigmas = mus.map(() => dim.priorSigma);
  // Bandwidth: the larger gap to a neighbouring centre (prior included), clipped as Hyperopt's "magic clip".
  const present = [0, ...xs.flatMap((x, i) => (x === undefined ? [] : [i + 1]))].sort((a, b) => mus[a] - mus[b]);
  const maxSigma = dim.priorSigma;
  const minSigma = dim.priorSigma / Math.min(100, 1 + present.length);
  for (let j = 0; j < present.length; j++) {
    const i = present[j];
    if (i === 0) continue;
    const left = j > 0 ? mus[i] - mus[present[j - 1]] : -Infinity;
    const right = j < present.length - 1 ? mus[present[j + 1]] - mus[i] : -Infinity;
    const gap = Math.max(left, right);
    sigmas[i] = Math.min(maxSigma, Math.max(minSigma, Number.isFinite(gap) ? gap : maxSigma));
  }
  const bounded = Number.isFinite(dim.low) || Number.isFinite(dim.high);
  const logZ = mus.map((mu, i) =>
    bounded ? Math.log(Math.max(1e-300, normalMass((dim.low - mu) / sigmas[i], (dim.high - mu) / sigmas[i]))) : 0,
  );
  return { kind: 'numeric', mus, sigmas, logZ };
}

function categoricalKernels(
  dim: CategoricalDimension,
  xs: readonly (number | undefined)[],
  priorWeight: number,
  n: number,
): CategoricalKernels {
  const uniform = new Array<number>(dim.size).fill(-Math.log(dim.size));
  // As Optuna: each observation puts weight 1 on its category plus a share of the prior on all.
  const fill = priorWeight / (n + 1);
  const rows = xs.map((x) => {
    if (x === undefined) return uniform;
    const norm = Math.log(1 + fill * dim.size);
    return uniform.map((_, k) => Math.log((k === x ? 1 : 0) + fill) - norm);
  });
  return { kind: 'categorical', logProbs: [uniform, ...rows] };
}

/** Picks a component index by weight. */
export function pickComponent(estimator: ParzenEstimator, rng: Rng): number {
  const u = rng.random();
  const i = estimator.cumulative.findIndex((c) => u < c);
  return i < 0 ? estimator.cumulative.length - 1 : i;
}

/** Draws an internal coordinate from component `i` of a dimension's kernels. */
export function sampleKernel(dim: Dimension, kernels: Kernels, i: number, rng: Rng): number {
  if (kernels.kind === 'categorical') {
    const probs = kernels.logProbs[i];
    let u = rng.random();
    for (let k = 0; k < probs.length; k++) {
      u -= Math.exp(probs[k]);
      if (u < 0) return k;
    }
    return randomIndex(rng, probs.length);
  }
  const numeric = dim as NumericDimension;
  const mu = kernels.mus[i];
  const sigma = kernels.sigmas[i];
  // Rejection: a kernel centred inside the bounds, no wider than them, keeps over a third of its mass there.
  for (let attempt = 0; attempt < 100; attempt++) {
    const x = mu + sigma * randomNormal(rng);
    if (x >= numeric.low && x <= numeric.high) return x;
  }
  return Math.min(numeric.high, Math.max(numeric.low, mu));
}

/** log of component `i`'s density (continuous) or bin mass (discrete) at canonical coordinate `x`. */
export function logKernel(dim: Dimension, kernels: Kernels, i: number, x: number): number {
  if (kernels.kind === 'categorical') return kernels.logProbs[i][x];
  const numeric = dim as NumericDimension;
  const mu = kernels.mus[i];
  const sigma = kernels.sigmas[i];
  if (numeric.step === undefined) {
    const z = (x - mu) / sigma;
    return -0.5 * z * z - Math.log(sigma) - LOG_SQRT_2PI - kernels.logZ[i];
  }
  const value = numeric.log ? Math.exp(x) : x;
  const t = numeric.log ? Math.log : (v: number) => v;
  const lo = Math.max(numeric.low, t(Math.max(value - numeric.step / 2, 0)));
  const hi = Math.min(numeric.high, t(value + numeric.step / 2));
  const mass = normalMass((lo - mu) / sigma, (hi - mu) / sigma);
  return Math.log(Math.max(1e-300, mass)) - kernels.logZ[i];
}

/** log of the estimator's marginal density (or mass) on one dimension. */
export function logMarginal(estimator: ParzenEstimator, d: number, dim: Dimension, x: number): number {
  return logSumExp(estimator.logWeights.map((w, i) => w + logKernel(dim, estimator.kernels[d], i, x)));
}

/** log of the estimator's joint density over all dimensions (kernels multiply within a component). */
export function logJoint(estimator: ParzenEstimator, dims: readonly Dimension[], xs: readonly number[]): number {
  return logSumExp(
    estimator.logWeights.map((w, i) =>
      dims.reduce((sum, dim, d) => sum + logKernel(dim, estimator.kernels[d], i, xs[d]), w),
    ),
  );
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log(sum(exp(values))), without overflow; -Infinity for an empty or all -Infinity list. */
export function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * P(a < Z < b) for a standard normal Z, accurate in the tails (complementary error function on
 * the side away from the mode).
 */
export function normalMass(a: number, b: number): number {
  if (!(b > a)) return 0;
  if (b - a < 1e-6) {
    const mid = (a + b) / 2;
    return (b - a) * Math.exp(-0.5 * mid * mid - LOG_SQRT_2PI);
  }
  if (a >= 0) return 0.5 * (erfc(a / Math.SQRT2) - erfc(b / Math.SQRT2));
  if (b <= 0) return 0.5 * (erfc(-b / Math.SQRT2) - erfc(-a / Math.SQRT2));
  return 1 - 0.5 * erfc(b / Math.SQRT2) - 0.5 * erfc(-a / Math.SQRT2);
}

/** The complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
