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

/** The policy an agent without a mapping goes to, and the one policy of a single-agent algorithm (RLlib's `DEFAULT_POLICY_ID`). */
export const DEFAULT_POLICY_ID = 'default_policy';

/**
 * Maps an agent to the id of the policy that acts for it (RLlib's `policy_mapping_fn`). It is
 * called for each agent when the agent first appears in an episode; `episodeIndex` counts the
 * episodes an env runner started (0, 1, 2, ..., each runner counting its own), so
 * `(id, ep) => ...` can change the mapping from one episode to the next.
 */
export type PolicyMappingFn = (agentId: string, episodeIndex: number) => string;

/** Multi-agent training (RLlib's `multi_agent()`). */
export interface MultiAgentOptions {
  /** The policies' ids, e.g. `['p0', 'p1']`; each has its own networks and learner. */
  policies: string[];
  /**
   * Which policy acts for an agent (required with several policies; with one, every agent maps
   * to it). It runs in the env runners (worker threads) and is saved in checkpoints as its source
   * text (`fn.toString()`), rebuilt there with `new Function`, so it must be **self-contained**:
   * no variables, functions or imports from around it; write constants inline.
   */
  policyMappingFn?: PolicyMappingFn;
  /** The policies the learners update (default: all); the others keep their initial weights. */
  policiesToTrain?: string[];
}

/** The multi-agent settings as a config holds them: plain data, the mapping function as source text. */
export interface MultiAgentSettings {
  policies: string[];
  /** The source text of the mapping function (rebuilt with {@link compilePolicyMappingFn}). */
  policyMappingFn: string;
  policiesToTrain: string[];
}

const SELF_CONTAINED =
  'The function is sent to the env runners (and saved in checkpoints) as its source text and rebuilt there, ' +
  'so it must be self-contained: no variables, functions or imports from around it (write constants inline), ' +
  "e.g. (agentId, episodeIndex) => (agentId === 'agent_0' ? 'p0' : 'p1').";

/**
 * Rebuilds a policy mapping function from its source text (`fn.toString()`: an arrow function,
 * a function expression, or a method written in shorthand).
 * @throws RLlibInvalidArgumentError when the text is not a function's (native and bound functions have none).
 */
export function compilePolicyMappingFn(source: string): PolicyMappingFn {
  let fn: unknown;
  try {
    fn = new Function(`"use strict"; return (${source});`)();
  } catch {
    try {
      // A method in shorthand (`policyMappingFn(id) { ... }`) only parses inside an object literal.
      fn = Object.values(new Function(`"use strict"; return ({${source}});`)() as object)[0];
    } catch (e) {
      throw new RLlibInvalidArgumentError(
        `multiAgent().policyMappingFn cannot be rebuilt from its source text (${(e as Error).message}): ${source.slice(0, 80)}. ` +
          `Bound and native functions have no usable source; pass an arrow function or a function expression. ${SELF_CONTAINED}`,
      );
    }
  }
  if (typeof fn !== 'function')
    throw new RLlibInvalidArgumentError(
      `multiAgent().policyMappingFn's source text does not give a function: ${source.slice(0, 80)}. ${SELF_CONTAINED}`,
    );
  return fn as PolicyMappingFn;
}

/**
 * Calls a rebuilt mapping function, turning what goes wrong into a clear error: it threw (often
 * a variable it captured, which does not exist where it runs), or it returned an unknown id.
 */
export function mapAgent(
  fn: PolicyMappingFn,
  policies: readonly string[],
  agentId: string,
  episodeIndex: number,
): string {
  let p: unknown;
  try {
    p = fn(agentId, episodeIndex);
  } catch (e) {
    throw new RLlibInvalidArgumentError(
      `multiAgent().policyMappingFn threw when called as policyMappingFn('${agentId}', ${episodeIndex}): ${(e as Error)?.message ?? String(e)}. ${SELF_CONTAINED}`,
    );
  }
  if (typeof p !== 'string' || !policies.includes(p)) {
    throw new RLlibInvalidArgumentError(
      `multiAgent().policyMappingFn returned ${typeof p === 'string' ? `'${p}'` : String(p)} for agent '${agentId}' (episode ${episodeIndex}), ` +
        `which is not one of the policies: ${policies.join(', ')}. Return one of them, or list it in multiAgent({ policies }).`,
    );
  }
  return p;
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
    throw new RLlibInvalidArgumentError(
      `${what}: unknown option '${k}'.${near ? ` Did you mean '${near}'?` : ''} Options: ${allowed.join(', ')}.`,
    );
  }
}

export function positiveInt(v: unknown, what: string, zero = false): number {
  if (!Number.isInteger(v) || (v as number) < (zero ? 0 : 1))
    throw new RLlibInvalidArgumentError(`${what} must be an integer >= ${zero ? 0 : 1}, got ${JSON.stringify(v)}.`);
  return v as number;
}

export function positiveNumber(v: unknown, what: string, zero = true): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zero && v === 0))
    throw new RLlibInvalidArgumentError(`${what} must be a number ${zero ? '>= 0' : '> 0'}, got ${JSON.stringify(v)}.`);
  return v;
}

/** Checks `training().model` (hiddens: layer sizes; activation: 'relu' or 'tanh'). */
export function checkModel(m: ModelOptions): void {
  checkKeys(m, ['hiddens', 'activation'], 'training().model');
  if (
    m.hiddens !== undefined &&
    (!Array.isArray(m.hiddens) || m.hiddens.length === 0 || m.hiddens.some((h) => !Number.isInteger(h) || h < 1))
  ) {
    throw new RLlibInvalidArgumentError(
      `training().model.hiddens must be an array of layer sizes, e.g. [64, 64]; got ${JSON.stringify(m.hiddens)}.`,
    );
  }
  if (m.activation !== undefined && m.activation !== 'relu' && m.activation !== 'tanh')
    throw new RLlibInvalidArgumentError(
      `training().model.activation must be 'relu' or 'tanh', got ${JSON.stringify(m.activation)}.`,
    );
}

/** What every algorithm's config holds. */
export abstract class AlgorithmConfig<T extends Record<string, unknown>> {
  envName: string | undefined;
  envConfig: Record<string, unknown> = {};
  runners: Required<EnvRunnersOptions> = { numEnvRunners: 2, numEnvsPerEnvRunner: 1, numCpusPerEnvRunner: 1 };
  learnerOpts: Required<LearnersOptions> = { numLearners: 0, numCpusPerLearner: 1 };
  evaluationOpts: Required<EvaluationOptions> = { evaluationInterval: 0, evaluationDuration: 10 };
  seed = 0;
  /** Set by multiAgent(); undefined: one policy (a multi-agent env's agents then share `default_policy`). */
  multiAgentOpts: MultiAgentSettings | undefined;
  abstract readonly algoName: string;
  abstract train: T;

  /** The environment: a registered name (built-ins: CartPole-v1, MountainCar-v0, Acrobot-v1, Pendulum-v1), and its config. */
  environment(env: string, opts: { envConfig?: Record<string, unknown> } = {}): this {
    if (typeof env !== 'string' || !env)
      throw new RLlibInvalidArgumentError(
        `environment() takes a registered env name, e.g. 'CartPole-v1'; got ${JSON.stringify(env)}. Register your own with registerEnv(name, creator).`,
      );
    checkKeys(opts, ['envConfig'], 'environment()');
    this.envName = env;
    this.envConfig = { ...(opts.envConfig ?? {}) };
    return this;
  }

  envRunners(opts: EnvRunnersOptions): this {
    checkKeys(opts, ENV_RUNNER_KEYS, 'envRunners()');
    if (opts.numEnvRunners !== undefined)
      this.runners.numEnvRunners = positiveInt(opts.numEnvRunners, 'envRunners().numEnvRunners');
    if (opts.numEnvsPerEnvRunner !== undefined)
      this.runners.numEnvsPerEnvRunner = positiveInt(opts.numEnvsPerEnvRunner, 'envRunners().numEnvsPerEnvRunner');
    if (opts.numCpusPerEnvRunner !== undefined)
      this.runners.numCpusPerEnvRunner = positiveNumber(opts.numCpusPerEnvRunner, 'envRunners().numCpusPerEnvRunner');
    return this;
  }

  learners(opts: LearnersOptions): this {
    checkKeys(opts, LEARNER_KEYS, 'learners()');
    if (opts.numLearners !== undefined)
      this.learnerOpts.numLearners = positiveInt(opts.numLearners, 'learners().numLearners', true);
    if (opts.numCpusPerLearner !== undefined)
      this.learnerOpts.numCpusPerLearner = positiveNumber(opts.numCpusPerLearner, 'learners().numCpusPerLearner');
    return this;
  }

  evaluation(opts: EvaluationOptions): this {
    checkKeys(opts, EVALUATION_KEYS, 'evaluation()');
    if (opts.evaluationInterval !== undefined)
      this.evaluationOpts.evaluationInterval = positiveInt(
        opts.evaluationInterval,
        'evaluation().evaluationInterval',
        true,
      );
    if (opts.evaluationDuration !== undefined)
      this.evaluationOpts.evaluationDuration = positiveInt(opts.evaluationDuration, 'evaluation().evaluationDuration');
    return this;
  }

  /**
   * Multi-agent training (RLlib's `multi_agent()`): the policies, which agent each acts for, and
   * which the learners update. Without it, every agent of a multi-agent env shares one policy,
   * `default_policy`. The mapping function must be self-contained (see {@link MultiAgentOptions}).
   *
   * @throws RLlibInvalidArgumentError for an unknown option, no or duplicate policy ids,
   *   `policiesToTrain` naming an unlisted policy, or a mapping function that is missing (with
   *   several policies), not a function, or cannot be rebuilt from its source. `build()` then
   *   calls the rebuilt function for the env's agents and fails if it throws or returns an
   *   unlisted id.
   *
   * @example
   * ```ts
   * new PPOConfig()
   *   .environment('MultiAgentCartPole', { envConfig: { numAgents: 2 } })
   *   .multiAgent({ policies: ['p0', 'p1'], policyMappingFn: (agentId) => (agentId === 'agent_0' ? 'p0' : 'p1') })
   *   .build();
   * ```
   */
  multiAgent(opts: MultiAgentOptions): this {
    checkKeys(opts, ['policies', 'policyMappingFn', 'policiesToTrain'], 'multiAgent()');
    const { policies, policyMappingFn, policiesToTrain } = opts;
    if (!Array.isArray(policies) || policies.length === 0) {
      throw new RLlibInvalidArgumentError(
        `multiAgent().policies must be a non-empty array of policy ids, e.g. ['p0', 'p1']; got ${JSON.stringify(policies)}.`,
      );
    }
    for (const p of policies) {
      if (typeof p !== 'string' || !p)
        throw new RLlibInvalidArgumentError(
          `multiAgent().policies: each policy id must be a non-empty string; got ${JSON.stringify(p)}.`,
        );
    }
    const dup = policies.find((p, i) => policies.indexOf(p) !== i);
    if (dup !== undefined)
      throw new RLlibInvalidArgumentError(`multiAgent().policies lists '${dup}' twice; policy ids must be unique.`);
    let source: string;
    if (policyMappingFn === undefined) {
      if (policies.length > 1) {
        throw new RLlibInvalidArgumentError(
          `multiAgent() needs a policyMappingFn with several policies (${policies.join(', ')}): ` +
            `(agentId, episodeIndex) => policyId, e.g. (agentId) => (agentId === 'agent_0' ? '${policies[0]}' : '${policies[1]}').`,
        );
      }
      source = `() => ${JSON.stringify(policies[0])}`;
    } else {
      if (typeof policyMappingFn !== 'function') {
        throw new RLlibInvalidArgumentError(
          `multiAgent().policyMappingFn must be a function (agentId, episodeIndex) => policyId; got ${typeof policyMappingFn}.`,
        );
      }
      source = policyMappingFn.toString();
      compilePolicyMappingFn(source);
    }
    let train = [...policies];
    if (policiesToTrain !== undefined) {
      if (!Array.isArray(policiesToTrain)) {
        throw new RLlibInvalidArgumentError(
          `multiAgent().policiesToTrain must be an array of policy ids (a subset of policies); got ${typeof policiesToTrain === 'function' ? 'a function' : JSON.stringify(policiesToTrain)}.`,
        );
      }
      const unknown = policiesToTrain.find((p) => !policies.includes(p));
      if (unknown !== undefined) {
        throw new RLlibInvalidArgumentError(
          `multiAgent().policiesToTrain: ${typeof unknown === 'string' ? `'${unknown}'` : JSON.stringify(unknown)} is not one of the policies (${policies.join(', ')}).`,
        );
      }
      train = policies.filter((p) => policiesToTrain.includes(p));
    }
    this.multiAgentOpts = { policies: [...policies], policyMappingFn: source, policiesToTrain: train };
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
      algo: this.algoName,
      env: this.envName,
      envConfig: this.envConfig,
      envRunners: this.runners,
      learners: this.learnerOpts,
      evaluation: this.evaluationOpts,
      seed: this.seed,
      training: this.train,
      ...(this.multiAgentOpts ? { multiAgent: this.multiAgentOpts } : {}),
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
    const ma = j.multiAgent as MultiAgentSettings | undefined;
    if (ma) compilePolicyMappingFn(ma.policyMappingFn);
    this.multiAgentOpts = ma
      ? { policies: [...ma.policies], policyMappingFn: ma.policyMappingFn, policiesToTrain: [...ma.policiesToTrain] }
      : undefined;
    return this;
  }

  /**
   * @internal A config is a Tune trainable: each trial builds the algorithm and trains it, the
   * trial's config overriding training options by name (`paramSpace: { lr: loguniform(...) }`).
   */
  get [Symbol.for('ray-ts.tune.trainable-spec')](): {
    trainable: unknown;
    resources: unknown;
    params: Record<string, unknown>;
  } {
    this.validate();
    const trial = trialTrainable;
    if (!trial)
      throw new RLlibInvalidArgumentError('Tune integration is not loaded: import @ray-ts/rllib (its index).');
    // The trial's own actor holds nothing; its runners and learners take their CPUs (captured in the trial's group).
    const bundles: Record<string, number>[] = [{}];
    for (let i = 0; i < this.runners.numEnvRunners; i++) bundles.push({ CPU: this.runners.numCpusPerEnvRunner });
    const learners = this.learnerActors();
    for (let i = 0; i < learners.count; i++) bundles.push({ CPU: learners.cpus });
    return { trainable: trial.fn, resources: trial.resources(bundles), params: { algoConfig: this.toJSON() } };
  }

  /**
   * The learner actors to start: one local learner without CPUs for numLearners 0. With
   * multiAgent(), that many per policy trained.
   */
  learnerActors(): { count: number; cpus: number } {
    const n = this.learnerOpts.numLearners;
    const per = this.multiAgentOpts ? this.multiAgentOpts.policiesToTrain.length : 1;
    return n === 0 ? { count: per, cpus: 0 } : { count: n * per, cpus: this.learnerOpts.numCpusPerLearner };
  }

  /** Checks the config is complete (an env is set). */
  validate(): void {
    if (!this.envName)
      throw new RLlibInvalidArgumentError(
        `${this.algoName}Config has no environment: call .environment('CartPole-v1') (or your registered env's name) before build().`,
      );
  }
}

let trialTrainable: { fn: unknown; resources: (bundles: Record<string, number>[]) => unknown } | undefined;
/** @internal Set by tune-trainable.ts. */
export function setTrialTrainable(t: { fn: unknown; resources: (bundles: Record<string, number>[]) => unknown }): void {
  trialTrainable = t;
}
