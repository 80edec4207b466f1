/**
 * Population based training (Jaderberg et al. 2017), as Ray Tune's `PopulationBasedTraining`:
 * every perturbation interval, a trial in the bottom quantile of the population restarts from the
 * checkpoint of a trial in the top quantile, with that trial's hyperparameters perturbed.
 */
import { SeededRng } from '@ray-ts/core';
import { TuneInvalidArgumentError } from '../errors.js';
import { randomIndex, restoreRng, type Rng } from '../search/rng.js';
import type { Config, Mode, SchedulerDecision, TrialInfo, TrialResult, TrialScheduler } from '../types.js';
import {
  MetricMode,
  WaitingTrials,
  checkNumber,
  checkSavedState,
  decodeNumber,
  encodeNumber,
  readNumber,
  type JsonNumber,
} from './util.js';

const CONTINUE: SchedulerDecision = { action: 'CONTINUE' };
const PAUSE: SchedulerDecision = { action: 'PAUSE' };

/**
 * Anything with a `sample(rng)` method: the search-space domains (`uniform`, `randint`,
 * `choice`...) fit. A domain with `kind: 'integer'` keeps perturbed values integral, one with
 * `kind: 'float'` or `'normal'` does not; a `choice`/`gridSearch` (a `values` array) is explored
 * like a list.
 */
export interface SampleableDomain {
  sample(rng: Rng, spec?: { config: Record<string, any> }): unknown;
  readonly kind?: string;
  readonly values?: readonly unknown[];
}

/**
 * How one hyperparameter is explored: a domain (resampled from), a list of values (resampled
 * from, or moved to a neighbour), or a function returning a new value (called with no argument).
 */
export type HyperparamMutation = SampleableDomain | readonly unknown[] | (() => unknown);

/** Mutations by config key; a nested object mutates the nested config of the same key. */
export interface HyperparamMutations {
  readonly [key: string]: HyperparamMutation | HyperparamMutations;
}

/** Options of {@link PopulationBasedTraining} (Ray's names, in camelCase). All optional but one of `hyperparamMutations` / `customExploreFn`. */
export interface PopulationBasedTrainingOptions {
  /** The result field that measures training time; default `'timeTotalS'` (seconds), as Ray. */
  timeAttr?: string;
  /** The metric to optimize; default: `tuneConfig.metric`. */
  metric?: string;
  /** Whether to minimize or maximize the metric; default: `tuneConfig.mode`. */
  mode?: Mode;
  /** A trial is considered for exploitation every this much time (in `timeAttr` units) since its last; default 60. Must be > 0. */
  perturbationInterval?: number;
  /** No perturbation before this time (in `timeAttr` units); default 0. */
  burnInPeriod?: number;
  /** How each hyperparameter is explored (see {@link HyperparamMutation}). */
  hyperparamMutations?: HyperparamMutations;
  /** The fraction of trials in the top and in the bottom quantile, from 0 to 0.5; default 0.25. */
  quantileFraction?: number;
  /** The probability that a hyperparameter is resampled rather than perturbed; default 0.25. */
  resampleProbability?: number;
  /** The factors a numeric hyperparameter is multiplied by when perturbed (one at random); default [1.2, 0.8]. */
  perturbationFactors?: readonly number[];
  /** Called with the explored config; returns the config to use (it may change it further). */
  customExploreFn?: (config: Config) => Config;
  /**
   * True (default): a result without `timeAttr` or the metric throws. False: such results are
   * ignored (CONTINUE).
   */
  requireAttrs?: boolean;
  /** Seed for the choice of the trial to clone and for exploration (a random seed by default). */
  seed?: number;
}

/** {@link PopulationBasedTrainingOptions} validated, with defaults filled in. */
export interface CompiledPopulationBasedTrainingOptions {
  readonly timeAttr: string;
  readonly metric: string | undefined;
  readonly mode: Mode | undefined;
  readonly perturbationInterval: number;
  readonly burnInPeriod: number;
  readonly hyperparamMutations: HyperparamMutations;
  readonly quantileFraction: number;
  readonly resampleProbability: number;
  readonly perturbationFactors: readonly number[];
  readonly customExploreFn: ((config: Config) => Config) | undefined;
  readonly requireAttrs: boolean;
  readonly seed: number | undefined;
}

const NAME = 'PopulationBasedTraining';

/**
 * Validates PBT's options and fills in Ray's defaults.
 * @throws TuneInvalidArgumentError for a value out of range, a mutation that is not a domain, list,
 *   function or nested object, or when neither `hyperparamMutations` nor `customExploreFn` is given.
 */
export function compilePopulationBasedTrainingOptions(
  options: PopulationBasedTrainingOptions = {},
): CompiledPopulationBasedTrainingOptions {
  const mutations = options.hyperparamMutations ?? {};
  checkMutations(mutations, '');
  if (Object.keys(mutations).length === 0 && options.customExploreFn === undefined) {
    throw new TuneInvalidArgumentError(
      `${NAME}: give hyperparamMutations (e.g. { lr: loguniform(1e-4, 1e-1) }) or customExploreFn: without either, there is nothing to explore.`,
    );
  }
  if (options.customExploreFn !== undefined && typeof options.customExploreFn !== 'function') {
    throw new TuneInvalidArgumentError(`${NAME}: customExploreFn must be a function (config) => config.`);
  }
  const factors = options.perturbationFactors ?? [1.2, 0.8];
  if (
    !Array.isArray(factors) ||
    factors.length === 0 ||
    factors.some((f) => typeof f !== 'number' || !Number.isFinite(f))
  ) {
    throw new TuneInvalidArgumentError(
      `${NAME}: perturbationFactors must be a non-empty array of finite numbers, got ${JSON.stringify(factors)}.`,
    );
  }
  return {
    timeAttr: options.timeAttr ?? 'timeTotalS',
    metric: options.metric,
    mode: options.mode,
    perturbationInterval: checkNumber(
      NAME,
      'perturbationInterval',
      options.perturbationInterval ?? 60,
      (v) => v > 0,
      'a number > 0',
    ),
    burnInPeriod: checkNumber(NAME, 'burnInPeriod', options.burnInPeriod ?? 0, (v) => v >= 0, 'a number >= 0'),
    hyperparamMutations: mutations,
    quantileFraction: checkNumber(
      NAME,
      'quantileFraction',
      options.quantileFraction ?? 0.25,
      (v) => v >= 0 && v <= 0.5,
      'between 0 and 0.5',
    ),
    resampleProbability: checkNumber(
      NAME,
      'resampleProbability',
      options.resampleProbability ?? 0.25,
      (v) => v >= 0 && v <= 1,
      'between 0 and 1',
    ),
    perturbationFactors: [...factors],
    customExploreFn: options.customExploreFn,
    requireAttrs: options.requireAttrs ?? true,
    seed: options.seed,
  };
}

function isDomain(x: unknown): x is SampleableDomain {
  return typeof x === 'object' && x !== null && typeof (x as { sample?: unknown }).sample === 'function';
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !isDomain(x);
}

function checkMutations(mutations: unknown, prefix: string): void {
  if (!isPlainObject(mutations)) {
    throw new TuneInvalidArgumentError(
      `${NAME}: hyperparamMutations${prefix ? ` at '${prefix}'` : ''} must be an object of key -> mutation.`,
    );
  }
  for (const [key, m] of Object.entries(mutations)) {
    const where = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(m)) {
      if (m.length === 0)
        throw new TuneInvalidArgumentError(
          `${NAME}: hyperparamMutations.${where} is an empty list; give the values it may take.`,
        );
    } else if (isPlainObject(m)) {
      checkMutations(m, where);
    } else if (!isDomain(m) && typeof m !== 'function') {
      throw new TuneInvalidArgumentError(
        `${NAME}: hyperparamMutations.${where} must be a search-space domain (uniform(...), choice(...)...), a list of values, ` +
          `a function returning a value, or a nested object of those; got ${m === null ? 'null' : typeof m}.`,
      );
    }
  }
}

/** The settings {@link explore} uses. */
export interface ExploreSettings {
  readonly resampleProbability: number;
  readonly perturbationFactors: readonly number[];
  readonly customExploreFn?: ((config: Config) => Config) | undefined;
}

/**
 * Ray's PBT `explore`: a copy of `config` with every key of `mutations` changed.
 * - list (or a `choice` domain): with probability `resampleProbability`, or when the current value
 *   is not in the list, a random element; otherwise the element one place left or right (at the
 *   ends it stays);
 * - domain or function: with probability `resampleProbability` a new sample (also when the current
 *   value is not a number); otherwise the value times one of `perturbationFactors` at random.
 *   Integers stay integers (truncated, as Ray's `int()`): for a domain when its `kind` is
 *   'integer'; for a function when the current value is an integer. Values are not clamped to the
 *   domain's range (as Ray);
 * - nested object: the same, inside `config[key]`.
 * Then `customExploreFn`, if any, gets the new config and returns the one to use.
 *
 * @throws TuneInvalidArgumentError when `customExploreFn` does not return an object.
 */
export function explore(config: Config, mutations: HyperparamMutations, settings: ExploreSettings, rng: Rng): Config {
  let next = exploreLevel(config, mutations, settings, rng, undefined);
  if (settings.customExploreFn) {
    next = settings.customExploreFn(next);
    if (!isPlainObject(next)) {
      throw new TuneInvalidArgumentError(
        `${NAME}: customExploreFn must return the new config object, got ${next === null ? 'null' : typeof next}.`,
      );
    }
  }
  return next;
}

function exploreLevel(
  config: Config,
  mutations: HyperparamMutations,
  s: ExploreSettings,
  rng: Rng,
  root: Config | undefined,
): Config {
  const next = deepCopy(config) as Config;
  const top = root ?? next;
  for (const [key, m] of Object.entries(mutations)) {
    const old = config[key];
    if (isPlainObject(m)) {
      next[key] = exploreLevel(isPlainObject(old) ? old : {}, m as HyperparamMutations, s, rng, top);
      continue;
    }
    const list = Array.isArray(m)
      ? (m as readonly unknown[])
      : isDomain(m) && Array.isArray(m.values) && (m.kind === 'categorical' || m.kind === 'grid')
        ? m.values
        : undefined;
    if (list) {
      const index = list.findIndex((v) => deepEqual(v, old));
      if (rng.random() < s.resampleProbability || index < 0) {
        next[key] = deepCopy(list[randomIndex(rng, list.length)]);
      } else {
        const shift = rng.random() < 0.5 ? -1 : 1;
        next[key] = deepCopy(list[Math.min(Math.max(index + shift, 0), list.length - 1)]);
      }
      continue;
    }
    const integral = isDomain(m) && typeof m.kind === 'string' ? m.kind === 'integer' : Number.isInteger(old);
    let value: unknown;
    if (rng.random() < s.resampleProbability || typeof old !== 'number') {
      value = isDomain(m) ? m.sample(rng, { config: top }) : (m as () => unknown)();
    } else {
      value = old * s.perturbationFactors[randomIndex(rng, s.perturbationFactors.length)];
    }
    if (integral && typeof value === 'number' && Number.isFinite(value)) value = Math.trunc(value);
    next[key] = value;
  }
  return next;
}

function deepCopy(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(deepCopy);
  if (isPlainObject(x) && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = deepCopy(v);
    return out;
  }
  return x;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** What PBT keeps of each trial (Ray's `_PBTTrialState`, plus the config and checkpoint flag it last saw). */
interface TrialState {
  /** metric * (+1 for max, -1 for min) at the last perturbation check; undefined before the first. */
  lastScore: number | undefined;
  lastPerturbationTime: number;
  lastTrainTime: number;
  config: Config;
  hasCheckpoint: boolean;
  finished: boolean;
}

/**
 * Ray Tune's `PopulationBasedTraining` (asynchronous mode).
 *
 * On a result at time t (`timeAttr`) >= `burnInPeriod`, once `perturbationInterval` has passed
 * since the trial's last perturbation: its score is recorded, and the live trials with a score
 * are ranked. The bottom `quantileFraction` (at least one, at most half, none with fewer than two
 * trials) are the lower quantile, the top as many the upper. A trial in the lower quantile gets
 * `{ action: 'EXPLOIT', fromTrialId, config }`: `fromTrialId` is a random upper-quantile trial and
 * `config` is {@link explore} of that trial's config. The runner restarts the trial from
 * `fromTrialId`'s latest checkpoint with `config`. That trial must have a checkpoint
 * (`TrialInfo.hasCheckpoint`, as last seen); if not, nothing is exploited. Otherwise the trial
 * CONTINUEs, or PAUSEs (as Ray) when other trials wait to run, so the population shares the
 * cluster; {@link chooseTrialToRun} then resumes the trial that trained least.
 *
 * After an exploit the trial takes over the cloned trial's last perturbation and train times (as
 * Ray, whose restored trial continues the clone's time).
 *
 * Not ported: Ray's `synch` mode, `log_config`, and filling missing mutated keys into a new
 * trial's config (here the first explore samples a key the config lacks). Ray checkpoints
 * upper-quantile trials at each perturbation; here checkpoints come from the trainable or the
 * runner's checkpoint frequency.
 *
 * @example
 * ```ts
 * const scheduler = new PopulationBasedTraining({
 *   timeAttr: 'trainingIteration',
 *   perturbationInterval: 5,
 *   hyperparamMutations: { lr: loguniform(1e-4, 1e-1), batch: [16, 32, 64, 128] },
 * });
 * new Tuner(train, { paramSpace, tuneConfig: { metric: 'acc', mode: 'max', numSamples: 8, scheduler } });
 * ```
 */
export class PopulationBasedTraining implements TrialScheduler {
  /** The options in use, defaults filled in. */
  readonly options: CompiledPopulationBasedTrainingOptions;
  private readonly props: MetricMode;
  private readonly trials = new Map<string, TrialState>();
  private readonly waiting = new WaitingTrials();
  private readonly rng: SeededRng;
  private numPerturbations = 0;

  /**
   * @param options see {@link PopulationBasedTrainingOptions}.
   * @throws TuneInvalidArgumentError for an invalid option (see {@link compilePopulationBasedTrainingOptions}).
   */
  constructor(options: PopulationBasedTrainingOptions = {}) {
    this.options = compilePopulationBasedTrainingOptions(options);
    this.props = new MetricMode(NAME, this.options.metric, this.options.mode);
    this.rng = new SeededRng(this.options.seed);
  }

  /** Takes metric and mode from the Tuner unless the constructor got both. */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined): void {
    this.props.set(metric, mode);
  }

  /**
   * Starts tracking the trial.
   * @throws TuneInvalidArgumentError when no metric or mode was given.
   */
  onTrialAdd(trial: TrialInfo): void {
    this.props.require();
    this.waiting.added(trial);
    if (!this.trials.has(trial.trialId)) this.trials.set(trial.trialId, newState(trial));
  }

  /**
   * EXPLOIT a bottom-quantile trial at its perturbation time; otherwise CONTINUE (PAUSE when
   * other trials wait to run).
   * @throws TuneInvalidArgumentError when the result lacks `timeAttr` or the metric and `requireAttrs` is true.
   */
  onTrialResult(trial: TrialInfo, result: TrialResult): SchedulerDecision {
    const { metric } = this.props.require();
    const id = trial.trialId;
    this.waiting.running(id);
    let state = this.trials.get(id);
    if (!state) this.trials.set(id, (state = newState(trial)));
    state.config = trial.config;
    state.hasCheckpoint = trial.hasCheckpoint;

    const time = readNumber(result, this.options.timeAttr);
    const value = readNumber(result, metric);
    if (time === undefined || value === undefined) {
      if (this.options.requireAttrs) {
        const missing = time === undefined ? this.options.timeAttr : metric;
        throw new TuneInvalidArgumentError(
          `${NAME}: the result of trial ${id} has no numeric '${missing}'. Report it in every result, ` +
            `or pass requireAttrs: false to ignore such results.`,
        );
      }
      return CONTINUE;
    }
    if (time < this.options.burnInPeriod) return CONTINUE;
    if (time - state.lastPerturbationTime < this.options.perturbationInterval) return CONTINUE;

    state.lastScore = this.props.sign() * value;
    state.lastTrainTime = time;
    state.lastPerturbationTime = time;

    const { lower, upper } = this.quantiles();
    const decision = this.waiting.othersWaiting(id) ? PAUSE : CONTINUE;
    if (lower.includes(id)) {
      const cloneId = upper[randomIndex(this.rng, upper.length)];
      const clone = this.trials.get(cloneId)!;
      if (clone.hasCheckpoint) {
        const config = explore(clone.config, this.options.hyperparamMutations, this.options, this.rng);
        state.config = config;
        state.lastPerturbationTime = clone.lastPerturbationTime;
        state.lastTrainTime = clone.lastTrainTime;
        this.numPerturbations++;
        this.waiting.paused(id);
        return { action: 'EXPLOIT', fromTrialId: cloneId, config };
      }
    }
    if (decision === PAUSE) this.waiting.paused(id);
    return decision;
  }

  /** Ray's `_quantiles`: live trials with a score, worst first; empty lists below two trials. */
  private quantiles(): { lower: string[]; upper: string[] } {
    const ranked = [...this.trials]
      .filter(([, s]) => s.lastScore !== undefined && !s.finished)
      .sort((a, b) => a[1].lastScore! - b[1].lastScore! || 0)
      .map(([id]) => id);
    if (ranked.length <= 1) return { lower: [], upper: [] };
    let n = Math.ceil(ranked.length * this.options.quantileFraction);
    if (n > ranked.length / 2) n = Math.floor(ranked.length / 2);
    return { lower: ranked.slice(0, n), upper: n === 0 ? [] : ranked.slice(-n) };
  }

  /** The trial leaves the population. */
  onTrialComplete(trial: TrialInfo, _result: TrialResult | undefined): void {
    this.ended(trial.trialId);
  }

  /** The trial leaves the population. */
  onTrialError(trial: TrialInfo): void {
    this.ended(trial.trialId);
  }

  private ended(trialId: string): void {
    this.waiting.ended(trialId);
    const state = this.trials.get(trialId);
    if (state) state.finished = true;
  }

  /**
   * As Ray: of the PENDING and PAUSED trials, the one with the least training time at its last
   * perturbation check (new trials first), so every trial gets its share of the cluster.
   */
  chooseTrialToRun(pending: readonly TrialInfo[]): TrialInfo | undefined {
    let chosen: TrialInfo | undefined;
    let least = Infinity;
    for (const t of pending) {
      if (t.status !== 'PENDING' && t.status !== 'PAUSED') continue;
      const time = this.trials.get(t.trialId)?.lastTrainTime ?? 0;
      if (time < least) {
        least = time;
        chosen = t;
      }
    }
    this.waiting.offered(pending, chosen);
    return chosen;
  }

  /** How many exploits this scheduler decided. */
  get perturbationCount(): number {
    return this.numPerturbations;
  }

  /** Every trial's scores, times, last config and checkpoint flag, and the rng: JSON-safe. */
  save(): unknown {
    return {
      type: NAME,
      version: 1,
      ...this.props.save(),
      rng: this.rng.getState(),
      numPerturbations: this.numPerturbations,
      trials: [...this.trials].map(([id, s]) => [
        id,
        {
          lastScore: s.lastScore === undefined ? null : encodeNumber(s.lastScore),
          lastPerturbationTime: encodeNumber(s.lastPerturbationTime),
          lastTrainTime: encodeNumber(s.lastTrainTime),
          config: s.config,
          hasCheckpoint: s.hasCheckpoint,
          finished: s.finished,
        },
      ]),
      waiting: this.waiting.save(),
    };
  }

  /**
   * Puts back a state from {@link save}.
   * @throws TuneInvalidArgumentError when it is another scheduler's.
   */
  restore(state: unknown): void {
    const s = checkSavedState(NAME, state);
    this.props.restore(s);
    if (s.rng !== undefined) restoreRng(this.rng, s.rng);
    this.numPerturbations = typeof s.numPerturbations === 'number' ? s.numPerturbations : 0;
    this.trials.clear();
    for (const [id, t] of s.trials as [string, SavedTrialState][]) {
      this.trials.set(id, {
        lastScore: t.lastScore === null ? undefined : decodeNumber(t.lastScore),
        lastPerturbationTime: decodeNumber(t.lastPerturbationTime),
        lastTrainTime: decodeNumber(t.lastTrainTime),
        config: t.config,
        hasCheckpoint: t.hasCheckpoint === true,
        finished: t.finished === true,
      });
    }
    this.waiting.restore(s.waiting);
  }
}

interface SavedTrialState {
  lastScore: JsonNumber | null;
  lastPerturbationTime: JsonNumber;
  lastTrainTime: JsonNumber;
  config: Config;
  hasCheckpoint: boolean;
  finished: boolean;
}

function newState(trial: TrialInfo): TrialState {
  return {
    lastScore: undefined,
    lastPerturbationTime: 0,
    lastTrainTime: 0,
    config: trial.config,
    hasCheckpoint: trial.hasCheckpoint,
    finished: trial.status === 'TERMINATED' || trial.status === 'ERROR',
  };
}
