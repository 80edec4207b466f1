/**
 * A Tree-structured Parzen Estimator searcher (Bergstra et al. 2011; the algorithm of Hyperopt
 * and Optuna's TPESampler), in TypeScript.
 */
import { randomSeed, SeededRng, type SeededRngState } from '@ray-ts/core';
import { TuneInvalidArgumentError } from '../errors.js';
import { FINISHED, type Config, type Mode, type Searcher, type TrialResult } from '../types.js';
import {
  fitParzen,
  fromInternal,
  logJoint,
  logMarginal,
  pickComponent,
  sampleKernel,
  toInternal,
  dimensionOf,
  type Dimension,
} from './parzen.js';
import type { NumSamplesAware } from './concurrency-limiter.js';
import { restoreRng } from './rng.js';
import { cloneStructure, findDomains, presetValues, resolveSpace, setAtPath, type Path } from './resolve.js';
import { checkInteger, checkMode, checkNumber, checkPoints, checkSpace, checkState } from './validate.js';

/** Options of {@link TPESearch}; all optional. */
export interface TPESearchOptions {
  /** The search space; or leave it out and pass the Tuner's `paramSpace` (not both). */
  readonly space?: Config;
  /** The metric to optimize; or set it in the Tuner's TuneConfig. Required by suggest(). */
  readonly metric?: string;
  /** Whether lower (`'min'`) or higher (`'max'`) is better; or set it in TuneConfig. Required by suggest(). */
  readonly mode?: Mode;
  /** Configs to try first, possibly partial: keys they leave out are sampled at random. */
  readonly pointsToEvaluate?: readonly Config[];
  /** Random configs until this many trials have reported the metric; default 10. */
  readonly nStartupTrials?: number;
  /** Candidates drawn from the good density per suggestion; default 24. */
  readonly nEiCandidates?: number;
  /** Fraction of observed trials counted as good (at least one); default 0.25. In (0, 1). */
  readonly gamma?: number;
  /** Weight of the prior (the space's own distribution) in each density; default 1. */
  readonly priorWeight?: number;
  /**
   * Model the dimensions jointly (the default): each good or bad trial is one kernel over all
   * dimensions, as Optuna's `multivariate`, so candidates keep the combinations that worked and
   * the model sees interactions. `false` gives Hyperopt's independent TPE, one density per
   * dimension, which is cheaper but tends to lock onto a choice value that did well early (on
   * tpe.test.ts's objective, over 20 seeds: 11 lock-ins independently, 3 jointly).
   */
  readonly multivariate?: boolean;
  /**
   * Count running trials too, with their latest reported metric (from onTrialResult), until they
   * complete. Default false: only completed trials count.
   */
  readonly useIntermediateResults?: boolean;
  /** Seed of the random generator, for reproducible suggestions. Omitted: a random seed. */
  readonly seed?: number;
}

/** {@link TPESearchOptions} validated, with defaults filled in. */
export interface CompiledTPESearchOptions {
  readonly space: Config | undefined;
  readonly metric: string | undefined;
  readonly mode: Mode | undefined;
  readonly pointsToEvaluate: readonly Config[];
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  readonly gamma: number;
  readonly priorWeight: number;
  readonly multivariate: boolean;
  readonly useIntermediateResults: boolean;
  readonly seed: number;
}

const OWNER = 'TPESearch';
const STATE_VERSION = 1;

/**
 * Validates {@link TPESearchOptions} and fills in defaults.
 * @throws TuneInvalidArgumentError naming the bad option.
 */
export function compileTPESearchOptions(options: TPESearchOptions = {}): CompiledTPESearchOptions {
  if (options.metric !== undefined && (typeof options.metric !== 'string' || options.metric === '')) {
    throw new TuneInvalidArgumentError(`${OWNER}: metric must be a non-empty string, got ${String(options.metric)}.`);
  }
  return {
    space: options.space === undefined ? undefined : checkSpace(OWNER, options.space),
    metric: options.metric,
    mode: checkMode(OWNER, options.mode),
    pointsToEvaluate: checkPoints(OWNER, options.pointsToEvaluate),
    nStartupTrials: checkInteger(OWNER, 'nStartupTrials', options.nStartupTrials ?? 10, 0),
    nEiCandidates: checkInteger(OWNER, 'nEiCandidates', options.nEiCandidates ?? 24, 1),
    gamma: checkNumber(OWNER, 'gamma', options.gamma ?? 0.25, 0, 1, true),
    priorWeight: checkNumber(OWNER, 'priorWeight', options.priorWeight ?? 1, 0, Number.MAX_VALUE, true),
    multivariate: options.multivariate ?? true,
    useIntermediateResults: Boolean(options.useIntermediateResults),
    seed: options.seed ?? randomSeed(),
  };
}

/** A trial's parameters in internal coordinates, by dimension key (JSON-safe). */
type Params = Record<string, number>;

/** A completed trial: its parameters and metric value. */
interface Observation {
  readonly params: Params;
  readonly value: number;
}

interface SavedState {
  readonly searcher: typeof OWNER;
  readonly version: typeof STATE_VERSION;
  readonly metric: string | null;
  readonly mode: Mode | null;
  readonly rngState: SeededRngState;
  readonly pointsStarted: number;
  readonly suggested: number;
  readonly numSamples: number | null;
  readonly live: Record<string, Params>;
  readonly intermediate: Record<string, number>;
  readonly observations: Observation[];
}

interface Model {
  readonly space: Config;
  readonly dims: readonly Dimension[];
  readonly paths: readonly Path[];
}

/**
 * Suggests configs with a Tree-structured Parzen Estimator. The first `nStartupTrials` configs
 * are random; after that, the trials that reported the metric are split at the `gamma` quantile
 * into good and bad, a Parzen density is fitted to each (l(x) for good, g(x) for bad: per
 * dimension, Gaussian kernels in log space for log domains, bin masses for integer and quantized
 * domains, smoothed frequencies with a prior for choices; by default each trial's kernels are
 * joined into one, see `multivariate`), `nEiCandidates` candidates are drawn from l, and the
 * one with the highest l(x)/g(x) is suggested.
 *
 * Works with nested spaces (each domain is a dimension, keyed by its `a/b` path). Domains inside
 * a chosen value and sampleFrom values are resolved after TPE picks the rest. gridSearch is not
 * supported (use choice). It returns FINISHED after `numSamples` configs once the Tuner has set
 * it (see {@link TPESearch.setNumSamples}); combine it with {@link ConcurrencyLimiter} to bound parallel trials (suggestions made before results come
 * back are less informed).
 *
 * save() holds the observations, the live trials and the generator state, as JSON; restore()
 * into a searcher built with the same space continues the sequence.
 *
 * @example
 * ```ts
 * const searcher = new TPESearch({ metric: 'loss', mode: 'min', seed: 7 });
 * searcher.setSearchProperties(undefined, undefined, { x: uniform(-10, 10), lr: loguniform(1e-5, 1) });
 * const config = searcher.suggest('t1'); // random for the first 10 trials
 * searcher.onTrialComplete('t1', { ...result, loss: 0.3 }, false);
 * ```
 */
export class TPESearch implements Searcher, NumSamplesAware {
  private readonly options: CompiledTPESearchOptions;
  private readonly rng: SeededRng;
  private metric: string | undefined;
  private mode: Mode | undefined;
  private space: Config | undefined;
  private model: Model | undefined;
  private pointsStarted = 0;
  private suggested = 0;
  private numSamples: number | undefined;
  private live = new Map<string, Params>();
  private intermediate = new Map<string, number>();
  private observations: Observation[] = [];

  /** @throws TuneInvalidArgumentError for invalid options. */
  constructor(options: TPESearchOptions = {}) {
    this.options = compileTPESearchOptions(options);
    this.rng = new SeededRng(this.options.seed);
    this.metric = this.options.metric;
    this.mode = this.options.mode;
    this.space = this.options.space;
  }

  /**
   * Takes the metric, mode and param space from the Tuner. Values given to the constructor are
   * kept; giving a different one here too is an error, as is a non-empty param space when the
   * constructor got a space.
   * @throws TuneInvalidArgumentError on such a conflict, or for a bad mode or space.
   */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined, paramSpace: Config): void {
    checkMode(OWNER, mode);
    if (metric !== undefined && this.metric !== undefined && metric !== this.metric) {
      throw new TuneInvalidArgumentError(
        `${OWNER}: metric '${metric}' differs from the metric '${this.metric}' given to the searcher. Set it in one place.`,
      );
    }
    if (mode !== undefined && this.mode !== undefined && mode !== this.mode) {
      throw new TuneInvalidArgumentError(
        `${OWNER}: mode '${mode}' differs from the mode '${this.mode}' given to the searcher. Set it in one place.`,
      );
    }
    this.metric ??= metric;
    this.mode ??= mode;
    const hasSpace = paramSpace !== undefined && Object.keys(checkSpace(OWNER, paramSpace)).length > 0;
    if (this.options.space !== undefined) {
      if (hasSpace) {
        throw new TuneInvalidArgumentError(
          `${OWNER}: got a param space from the Tuner and a space in the searcher's options. Pass only one.`,
        );
      }
    } else {
      this.space = paramSpace;
      this.model = undefined;
    }
  }

  /**
   * Caps the number of suggestions (the Tuner calls it with `tuneConfig.numSamples`): suggest()
   * returns FINISHED after `n` configs, points to evaluate included. Without it, TPESearch
   * suggests without end.
   * @throws TuneInvalidArgumentError unless n is an integer >= 1.
   */
  setNumSamples(n: number): void {
    this.numSamples = checkInteger(OWNER, 'numSamples', n, 1);
  }

  /**
   * The next config: a point to evaluate, a random config during startup, then TPE's pick;
   * FINISHED once `numSamples` configs were suggested (see {@link TPESearch.setNumSamples}).
   * @throws TuneInvalidArgumentError without a space, metric or mode, for a gridSearch in the
   *   space, or for a point with keys not in the space.
   */
  suggest(trialId: string): Config | typeof FINISHED {
    const model = this.requireModel();
    if (this.numSamples !== undefined && this.suggested >= this.numSamples) return FINISHED;
    const config = cloneStructure(model.space);
    const params: Params = {};
    const values = new Map<number, unknown>();
    const covered = new Set<number>();

    const point = this.options.pointsToEvaluate[this.pointsStarted];
    if (point !== undefined) {
      this.pointsStarted++;
      for (const { path, key, value } of presetValues(model.space, point, `${OWNER} pointsToEvaluate`)) {
        setAtPath(config, path, cloneStructure(value));
        model.dims.forEach((dim, d) => {
          if (dim.key === key) {
            const x = toInternal(dim, value);
            if (x !== undefined) params[dim.key] = x;
          }
          if (dim.key === key || dim.key.startsWith(`${key}/`)) covered.add(d);
        });
      }
    } else {
      const observations = this.currentObservations();
      if (observations.length >= Math.max(1, this.options.nStartupTrials) && model.dims.length > 0) {
        const xs = this.tpeCandidate(model, observations);
        model.dims.forEach((dim, d) => {
          const { value, x } = fromInternal(dim, xs[d]);
          values.set(d, value);
          params[dim.key] = x;
        });
      }
    }
    model.dims.forEach((dim, d) => {
      if (covered.has(d) || values.has(d)) return;
      const value = dim.domain.sample(this.rng);
      const x = toInternal(dim, value);
      if (x !== undefined) params[dim.key] = x;
      values.set(d, value);
    });
    for (const [d, value] of values) setAtPath(config, model.paths[d], cloneStructure(value));
    const resolved = resolveSpace(config, this.rng, 'error');
    this.live.set(trialId, params);
    this.suggested++;
    return resolved;
  }

  /** With `useIntermediateResults`, records the trial's latest metric value. */
  onTrialResult(trialId: string, result: TrialResult): void {
    if (!this.options.useIntermediateResults || !this.live.has(trialId) || this.metric === undefined) return;
    const value = result[this.metric];
    if (typeof value === 'number' && Number.isFinite(value)) this.intermediate.set(trialId, value);
  }

  /**
   * Records the trial's final metric value as an observation. Errored trials, trials without a
   * finite metric value, and trials this searcher did not suggest are ignored.
   */
  onTrialComplete(trialId: string, result: TrialResult | undefined, error: boolean): void {
    const params = this.live.get(trialId);
    this.live.delete(trialId);
    this.intermediate.delete(trialId);
    if (params === undefined || error || result === undefined || this.metric === undefined) return;
    const value = result[this.metric];
    if (typeof value === 'number' && Number.isFinite(value)) this.observations.push({ params, value });
  }

  /** Observations, live trials and generator state, JSON-safe. */
  save(): SavedState {
    return {
      searcher: OWNER,
      version: STATE_VERSION,
      metric: this.metric ?? null,
      mode: this.mode ?? null,
      rngState: this.rng.getState(),
      pointsStarted: this.pointsStarted,
      suggested: this.suggested,
      numSamples: this.numSamples ?? null,
      live: Object.fromEntries(this.live),
      intermediate: Object.fromEntries(this.intermediate),
      observations: this.observations.map((o) => ({ params: { ...o.params }, value: o.value })),
    };
  }

  /**
   * Continues from a save(): observations are kept, live trials can still complete, and the
   * random sequence goes on where it stopped. Metric and mode are taken from the state when not
   * set on this searcher.
   * @throws TuneInvalidArgumentError when the state is not a TPESearch's.
   */
  restore(state: unknown): void {
    const s = checkState(OWNER, state, STATE_VERSION) as unknown as SavedState;
    this.metric ??= s.metric ?? undefined;
    this.mode ??= checkMode(OWNER, s.mode ?? undefined);
    restoreRng(this.rng, s.rngState);
    this.pointsStarted = s.pointsStarted;
    this.suggested = s.suggested;
    this.numSamples ??= s.numSamples ?? undefined;
    this.live = new Map(Object.entries(s.live));
    this.intermediate = new Map(Object.entries(s.intermediate));
    this.observations = s.observations.map((o) => ({ params: { ...o.params }, value: o.value }));
  }

  /** How many configs were suggested so far. */
  get suggestedCount(): number {
    return this.suggested;
  }

  /** How many trials reported the metric (completed ones). */
  get observationCount(): number {
    return this.observations.length;
  }

  private requireModel(): Model {
    if (this.space === undefined) {
      throw new TuneInvalidArgumentError(
        `${OWNER}: no search space. Pass { space } to TPESearch or a param space to the Tuner (setSearchProperties).`,
      );
    }
    if (this.metric === undefined || this.mode === undefined) {
      throw new TuneInvalidArgumentError(
        `${OWNER} needs a metric and a mode to tell good trials from bad: pass { metric, mode } to TPESearch or to the Tuner's TuneConfig.`,
      );
    }
    if (this.model === undefined) {
      const dims: Dimension[] = [];
      const paths: Path[] = [];
      for (const entry of findDomains(this.space)) {
        const dim = dimensionOf(entry.key, entry.domain);
        if (dim === undefined) continue;
        if (dims.some((d) => d.key === entry.key)) {
          throw new TuneInvalidArgumentError(
            `${OWNER}: two parameters share the key '${entry.key}'. Avoid '/' in config keys.`,
          );
        }
        dims.push(dim);
        paths.push(entry.path);
      }
      this.model = { space: this.space, dims, paths };
    }
    return this.model;
  }

  private currentObservations(): Observation[] {
    const observations = [...this.observations];
    for (const [trialId, value] of this.intermediate) {
      const params = this.live.get(trialId);
      if (params !== undefined) observations.push({ params, value });
    }
    return observations;
  }

  /** TPE's pick, in internal coordinates, one per dimension. */
  private tpeCandidate(model: Model, observations: readonly Observation[]): number[] {
    const sign = this.mode === 'max' ? -1 : 1;
    // Stable sort on the loss: ties keep the order of completion.
    const sorted = observations
      .map((o, i) => ({ o, i, loss: sign * o.value }))
      .sort((a, b) => a.loss - b.loss || a.i - b.i)
      .map((e) => e.o);
    const nGood = Math.min(sorted.length, Math.max(1, Math.ceil(this.options.gamma * sorted.length)));
    const rows = (set: readonly Observation[]) => set.map((o) => model.dims.map((dim) => o.params[dim.key]));
    const good = fitParzen(model.dims, rows(sorted.slice(0, nGood)), this.options.priorWeight);
    const bad = fitParzen(model.dims, rows(sorted.slice(nGood)), this.options.priorWeight);
    const canonical = (d: number, x: number) => fromInternal(model.dims[d], x).x;

    if (this.options.multivariate) {
      let best: number[] = [];
      let bestScore = -Infinity;
      for (let c = 0; c < this.options.nEiCandidates; c++) {
        const i = pickComponent(good, this.rng);
        const xs = model.dims.map((dim, d) => canonical(d, sampleKernel(dim, good.kernels[d], i, this.rng)));
        const score = logJoint(good, model.dims, xs) - logJoint(bad, model.dims, xs);
        if (best.length === 0 || score > bestScore) {
          best = xs;
          bestScore = score;
        }
      }
      return best;
    }
    return model.dims.map((dim, d) => {
      let best = NaN;
      let bestScore = -Infinity;
      for (let c = 0; c < this.options.nEiCandidates; c++) {
        const i = pickComponent(good, this.rng);
        const x = canonical(d, sampleKernel(dim, good.kernels[d], i, this.rng));
        const score = logMarginal(good, d, dim, x) - logMarginal(bad, d, dim, x);
        if (Number.isNaN(best) || score > bestScore) {
          best = x;
          bestScore = score;
        }
      }
      return best;
    });
  }
}
