/**
 * Algorithm configs, built like RLlib's: `new PPOConfig().environment('CartPole-v1')
 * .envRunners({ numEnvRunners: 2 }).training({ lr: 3e-4 }).build()`. Each builder method checks
 * its options at once (a typo fails with the name it meant) and returns the config.
 */
import { RLlibInvalidArgumentError } from './env/errors.js';

/** Where samples come from (RLlib's `env_runners()`). */
export interface EnvRunnersOptions {
  /** Env runner actors sampling in parallel (default 2). */
  numEnvRunners?: number;
  /** Envs each runner steps in lockstep (default 1). */
  numEnvsPerEnvRunner?: number;
  /** CPUs per env runner (default 1). */
  numCpusPerEnvRunner?: number;
}

/** Learner actors (RLlib's `learners()`): gradients of several are averaged with collectives. */
export interface LearnersOptions {
  /**
   * Learner actors (default 0: one local learner, as RLlib's learner in the driver, which
   * reserves no CPU; here it is an actor on a thread of its own). With n >= 1, n learners of
   * numCpusPerLearner each average their gradients.
   */
  numLearners?: number;
  /** CPUs per learner when numLearners >= 1 (default 1). */
  numCpusPerLearner?: number;
}

/** Evaluation (RLlib's `evaluation()`): greedy episodes every `evaluationInterval` iterations. */
export interface EvaluationOptions {
  /** Evaluate every this many `train()` calls (default 0: only on `evaluate()`). */
  evaluationInterval?: number;
  /** Episodes per evaluation (default 10). */
  evaluationDuration?: number;
}

/** Model options (RLlib's `model` dict, fcnet part). */
export interface ModelOptions {
  /** Hidden layer sizes (default [64, 64]). */
  hiddens?: number[];
  /** Hidden activation (default 'tanh'). */
  activation?: 'tanh' | 'relu';
}

export const ENV_RUNNER_KEYS = ['numEnvRunners', 'numEnvsPerEnvRunner', 'numCpusPerEnvRunner'] as const;
export const LEARNER_KEYS = ['numLearners', 'numCpusPerLearner'] as const;
export const EVALUATION_KEYS = ['evaluationInterval', 'evaluationDuration'] as const;

/** Throws on keys not in `allowed`, suggesting the camelCase name for snake_case ones. */
export function checkKeys(o: object, allowed: readonly string[], what: string): void {
  if (o === null || typeof o !== 'object') throw new RLlibInvalidArgumentError(`${what} takes an object of options.`);
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    const camel = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const near = allowed.find((a) => a.toLowerCase() === camel.toLowerCase());
    throw new RLlibInvalidArgumentError(`${what}: unknown option '${k}'.${near ? ` Did you mean '${near}'?` : ''} Options: ${allowed.join(', ')}.`);
  }
}

export function positiveInt(v: unknown, what: string, zero = false): number {
  if (!Number.isInteger(v) || (v as number) < (zero ? 0 : 1)) throw new RLlibInvalidArgumentError(`${what} must be an integer >= ${zero ? 0 : 1}, got ${JSON.stringify(v)}.`);
  return v as number;
}

export function positiveNumber(v: unknown, what: string, zero = true): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zero && v === 0)) throw new RLlibInvalidArgumentError(`${what} must be a number ${zero ? '>= 0' : '> 0'}, got ${JSON.stringify(v)}.`);
  return v;
}

/** What every algorithm's config holds. */
export abstract class AlgorithmConfig<T extends Record<string, unknown>> {
  envName: string | undefined;
  envConfig: Record<string, unknown> = {};
  runners: Required<EnvRunnersOptions> = { numEnvRunners: 2, numEnvsPerEnvRunner: 1, numCpusPerEnvRunner: 1 };
  learnerOpts: Required<LearnersOptions> = { numLearners: 0, numCpusPerLearner: 1 };
  evaluationOpts: Required<EvaluationOptions> = { evaluationInterval: 0, evaluationDuration: 10 };
  seed = 0;
  abstract readonly algoName: string;
  abstract train: T;

  /** The environment: a registered name (built-ins: CartPole-v1, MountainCar-v0, Acrobot-v1, Pendulum-v1), and its config. */
  environment(env: string, opts: { envConfig?: Record<string, unknown> } = {}): this {
    if (typeof env !== 'string' || !env) throw new RLlibInvalidArgumentError(`environment() takes a registered env name, e.g. 'CartPole-v1'; got ${JSON.stringify(env)}. Register your own with registerEnv(name, creator).`);
    checkKeys(opts, ['envConfig'], 'environment()');
    this.envName = env;
    this.envConfig = { ...(opts.envConfig ?? {}) };
    return this;
  }

  envRunners(opts: EnvRunnersOptions): this {
    checkKeys(opts, ENV_RUNNER_KEYS, 'envRunners()');
    if (opts.numEnvRunners !== undefined) this.runners.numEnvRunners = positiveInt(opts.numEnvRunners, 'envRunners().numEnvRunners');
    if (opts.numEnvsPerEnvRunner !== undefined) this.runners.numEnvsPerEnvRunner = positiveInt(opts.numEnvsPerEnvRunner, 'envRunners().numEnvsPerEnvRunner');
    if (opts.numCpusPerEnvRunner !== undefined) this.runners.numCpusPerEnvRunner = positiveNumber(opts.numCpusPerEnvRunner, 'envRunners().numCpusPerEnvRunner');
    return this;
  }

  learners(opts: LearnersOptions): this {
    checkKeys(opts, LEARNER_KEYS, 'learners()');
    if (opts.numLearners !== undefined) this.learnerOpts.numLearners = positiveInt(opts.numLearners, 'learners().numLearners', true);
    if (opts.numCpusPerLearner !== undefined) this.learnerOpts.numCpusPerLearner = positiveNumber(opts.numCpusPerLearner, 'learners().numCpusPerLearner');
    return this;
  }

  evaluation(opts: EvaluationOptions): this {
    checkKeys(opts, EVALUATION_KEYS, 'evaluation()');
    if (opts.evaluationInterval !== undefined) this.evaluationOpts.evaluationInterval = positiveInt(opts.evaluationInterval, 'evaluation().evaluationInterval', true);
    if (opts.evaluationDuration !== undefined) this.evaluationOpts.evaluationDuration = positiveInt(opts.evaluationDuration, 'evaluation().evaluationDuration');
    return this;
  }

  /** Seeds envs, exploration and initial weights (default 0): the same seed gives the same run. */
  debugging(opts: { seed?: number }): this {
    checkKeys(opts, ['seed'], 'debugging()');
    if (opts.seed !== undefined) this.seed = positiveInt(opts.seed, 'debugging().seed', true);
    return this;
  }

  /** The algorithm's own options (see each config's `train` defaults). */
  training(opts: Partial<T>): this {
    checkKeys(opts, Object.keys(this.train), 'training()');
    this.checkTraining(opts);
    this.train = { ...this.train, ...opts };
    return this;
  }

  protected abstract checkTraining(opts: Partial<T>): void;

  /** A plain copy of the config (for checkpoints and Tune). */
  toJSON(): Record<string, unknown> {
    return {
      algo: this.algoName, env: this.envName, envConfig: this.envConfig, envRunners: this.runners, learners: this.learnerOpts,
      evaluation: this.evaluationOpts, seed: this.seed, training: this.train,
    };
  }

  /** @internal Restores a config written by toJSON(). */
  fromJSON(j: Record<string, unknown>): this {
    this.envName = j.env as string;
    this.envConfig = j.envConfig as Record<string, unknown>;
    this.runners = j.envRunners as Required<EnvRunnersOptions>;
    this.learnerOpts = j.learners as Required<LearnersOptions>;
    this.evaluationOpts = j.evaluation as Required<EvaluationOptions>;
    this.seed = j.seed as number;
    this.train = j.training as T;
    return this;
  }

  /**
   * @internal A config is a Tune trainable: each trial builds the algorithm and trains it, the
   * trial's config overriding training options by name (`paramSpace: { lr: loguniform(...) }`).
   */
  get [Symbol.for('ray-ts.tune.trainable-spec')](): { trainable: unknown; resources: unknown; params: Record<string, unknown> } {
    this.validate();
    const trial = trialTrainable;
    if (!trial) throw new RLlibInvalidArgumentError('Tune integration is not loaded: import @ray-ts/rllib (its index).');
    // The trial's own actor holds nothing; its runners and learners take their CPUs (captured in the trial's group).
    const bundles: Record<string, number>[] = [{}];
    for (let i = 0; i < this.runners.numEnvRunners; i++) bundles.push({ CPU: this.runners.numCpusPerEnvRunner });
    const learners = this.learnerActors();
    for (let i = 0; i < learners.count; i++) bundles.push({ CPU: learners.cpus });
    return { trainable: trial.fn, resources: trial.resources(bundles), params: { algoConfig: this.toJSON() } };
  }

  /** The learner actors to start: one local learner without CPUs for numLearners 0. */
  learnerActors(): { count: number; cpus: number } {
    const n = this.learnerOpts.numLearners;
    return n === 0 ? { count: 1, cpus: 0 } : { count: n, cpus: this.learnerOpts.numCpusPerLearner };
  }

  /** Checks the config is complete (an env is set). */
  validate(): void {
    if (!this.envName) throw new RLlibInvalidArgumentError(`${this.algoName}Config has no environment: call .environment('CartPole-v1') (or your registered env's name) before build().`);
  }
}

let trialTrainable: { fn: unknown; resources: (bundles: Record<string, number>[]) => unknown } | undefined;
/** @internal Set by tune-trainable.ts. */
export function setTrialTrainable(t: { fn: unknown; resources: (bundles: Record<string, number>[]) => unknown }): void {
  trialTrainable = t;
}
