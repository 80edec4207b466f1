/**
 * Algorithm: what `config.build()` returns (RLlib's `Algorithm`). `train()` runs one iteration
 * (sample with the env runners, update with the learners) and returns its result; `evaluate()`
 * plays greedy episodes; `save(dir)` / `Algorithm.fromCheckpoint(dir)` write and read its state;
 * `computeSingleAction(obs)` runs the policy in this thread; `stop()` ends its actors.
 */
import { init, isInitialized, kill, type ActorHandle } from '@ray-ts/core';
import type { AlgorithmConfig } from './algorithm-config.js';
import { readLearnerState, readState, readWeights, writeCheckpoint } from './algorithm-checkpoint.js';
import {
  keepRecent,
  mean,
  type EpisodeStats,
  type EvaluatingRunner,
  type EvaluationResult,
  type TrainResult,
} from './algorithm-results.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { isMultiAgentEnv, type MultiAgentEnv } from './env/multi-agent.js';
import { makeEnv } from './env/registry.js';
import type { Space } from './env/spaces.js';
import type { Env } from './env/types.js';
import type { ActionInfo, EnvRunnerSpec } from './env-runner.js';
import { mlpDenseLayers, type MlpSpec } from './model.js';
import {
  multiAgentSetup,
  policyAction,
  singleAgentPolicy,
  type DenseLayer,
  type MultiAgentSetup,
  type PolicySetup,
} from './policies.js';

/** Config makers by algorithm name, for fromCheckpoint (each algorithm's module registers its own). */
const configMakers = new Map<string, () => AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm }>();

/** @internal A config from its toJSON() form. */
export function makeConfig(
  j: Record<string, unknown>,
): AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm } {
  const make = configMakers.get(j.algo as string);
  if (!make)
    throw new RLlibInvalidArgumentError(`Unknown algorithm '${String(j.algo)}': import it from @ray-ts/rllib.`);
  return make().fromJSON(j);
}

/** A fresh config of the algorithm named `name` (PPO, DQN...), with its defaults. */
export function configFor(name: string): AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm } {
  const make = configMakers.get(name);
  if (!make)
    throw new RLlibInvalidArgumentError(`Unknown algorithm '${name}'. Known: ${[...configMakers.keys()].join(', ')}.`);
  return make();
}

/** @internal */
export function registerAlgorithm(
  name: string,
  make: () => AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm },
): void {
  configMakers.set(name, make);
}

/**
 * The base of every algorithm. Subclasses supply their runners, learners and training step.
 * Algorithms that train multi-agent envs set `static supportsMultiAgent = true` and read
 * `multiAgent`; for the others, `build()` on a multi-agent env (or with multiAgent()) fails.
 */
export abstract class Algorithm<
  C extends AlgorithmConfig<Record<string, unknown>> = AlgorithmConfig<Record<string, unknown>>,
> {
  protected runners: ActorHandle<EvaluatingRunner>[] = [];
  protected iteration = 0;
  protected stepsSampled = 0;
  protected stepsTrained = 0;
  protected timeTotalS = 0;
  protected recentReturns: number[] = [];
  protected recentLengths: number[] = [];
  /** Multi-agent: each policy's (agent's) returns of its last 100 episodes. */
  protected recentPolicyReturns: Record<string, number[]> = {};
  protected recentAgentReturns: Record<string, number[]> = {};
  protected weights: Float32Array | undefined;
  protected started = false;
  protected stopped = false;
  protected readonly obsSpace: Space;
  protected readonly action: ActionInfo;
  protected readonly obsDim: number;
  protected readonly nets: { pi: MlpSpec; vf: MlpSpec };
  /**
   * The policies (one, `default_policy`, for a single-agent env; the first policy's spaces and
   * networks are also `obsSpace`, `action` and `nets`).
   */
  protected readonly policies: PolicySetup[];
  /** Set for a multi-agent env (with or without `config.multiAgent()`). */
  protected readonly multiAgent: MultiAgentSetup | undefined;
  /** Whether this algorithm trains multi-agent envs (subclasses that do override it). */
  static readonly supportsMultiAgent: boolean = false;

  /** @internal Use `config.build()`. */
  constructor(readonly config: C) {
    config.validate();
    // The env's spaces, from one copy made here (this also checks the name is registered).
    const env = makeEnv<Env | MultiAgentEnv>(config.envName!, config.envConfig);
    const model = (config.train.model ?? {}) as { hiddens?: number[]; activation?: 'tanh' | 'relu' };
    const hiddens = model.hiddens ?? [64, 64];
    const activation = model.activation ?? 'tanh';
    try {
      if (isMultiAgentEnv(env) || config.multiAgentOpts) {
        if (!(new.target as unknown as { supportsMultiAgent?: boolean }).supportsMultiAgent) {
          throw new RLlibInvalidArgumentError(
            `${config.algoName} does not train multi-agent envs yet (${isMultiAgentEnv(env) ? `env '${config.envName}' is multi-agent` : 'multiAgent() was set'}). ` +
              `Use PPO for multi-agent training.`,
          );
        }
        if (!isMultiAgentEnv(env)) {
          throw new RLlibInvalidArgumentError(
            `multiAgent() needs a multi-agent env (a MultiAgentEnv, e.g. 'MultiAgentCartPole'), but env '${config.envName}' is single-agent. Remove multiAgent() to train it with one policy.`,
          );
        }
        this.multiAgent = multiAgentSetup(config.multiAgentOpts, env, hiddens, activation);
        this.policies = this.multiAgent.policies;
      } else {
        this.policies = [singleAgentPolicy(env, hiddens, activation)];
      }
      const first = this.policies[0];
      this.obsSpace = first.obsSpace;
      this.action = first.action;
      this.obsDim = first.obsDim;
      this.nets = first.nets;
    } finally {
      env.close?.();
    }
  }

  /** The policy `policyId` (default: the first), or a clear error naming the known ones. */
  protected policy(policyId: string | undefined, what: string): PolicySetup {
    if (policyId === undefined) return this.policies[0];
    const p = this.policies.find((q) => q.id === policyId);
    if (!p)
      throw new RLlibInvalidArgumentError(
        `${what}: unknown policy '${policyId}'; this algorithm's policies are ${this.policies.map((q) => q.id).join(', ')}.`,
      );
    return p;
  }

  protected runnerSpec(): EnvRunnerSpec {
    const t = this.config.train as { gamma?: number; lambda?: number };
    return {
      env: this.config.envName!,
      envConfig: this.config.envConfig,
      numEnvs: this.config.runners.numEnvsPerEnvRunner,
      seed: this.config.seed,
      pi: this.nets.pi,
      vf: this.nets.vf,
      gamma: t.gamma ?? 0.99,
      lambda: t.lambda ?? 1,
    };
  }

  /** Starts the actors on first use. */
  protected async start(): Promise<void> {
    if (this.stopped)
      throw new RLlibInvalidArgumentError(
        'This algorithm was stopped: build a new one (config.build()) or restore one (Algorithm.fromCheckpoint(dir)).',
      );
    if (this.started) return;
    if (!isInitialized()) await init();
    await this.checkFits();
    this.started = true;
    this.runners = this.createRunners();
    await this.startLearners();
  }

  /** Fails at once, saying what to lower, when the cluster could never hold the actors (they would wait forever). */
  protected async checkFits(): Promise<void> {
    const { clusterResources, getRuntimeContext } = await import('@ray-ts/core');
    if (getRuntimeContext().placementGroupId) return; // a Tune trial: its group was sized for this
    const r = this.config.runners;
    const l = this.config.learnerActors();
    const need = r.numEnvRunners * r.numCpusPerEnvRunner + l.count * l.cpus;
    const have = (await clusterResources()).CPU ?? 0;
    if (need > have + 1e-9) {
      throw new RLlibInvalidArgumentError(
        `${this.config.algoName} needs ${need} CPUs (${r.numEnvRunners} env runners × ${r.numCpusPerEnvRunner}` +
          `${l.cpus ? ` + ${l.count} learners × ${l.cpus}` : ''}) but the cluster has ${have}. ` +
          `Lower envRunners({ numEnvRunners, numCpusPerEnvRunner }) or learners({ numCpusPerLearner }), or add CPUs.`,
      );
    }
  }

  /** The algorithm's env runner actors (`numEnvRunners` of them). */
  protected abstract createRunners(): ActorHandle<EvaluatingRunner>[];
  /** Floats of the weights the runners read (checked when restoring). */
  protected abstract weightCount(): number;
  protected abstract startLearners(): Promise<void>;
  protected abstract stopLearners(): Promise<void>;
  /** One iteration's sampling and learning; returns its step counts, timings and learner stats. */
  protected abstract trainingStep(): Promise<{
    sampled: number;
    trained: number;
    episodes: EpisodeStats;
    sampleS: number;
    learnS: number;
    stats: Record<string, number>;
    agentSteps?: number;
  }>;
  /** The learners' state, for checkpoints. */
  protected abstract learnerState(): Promise<Record<string, unknown>>;
  protected abstract setLearnerState(s: Record<string, unknown>): Promise<void>;

  /** Runs one training iteration and returns its result. */
  async train(): Promise<TrainResult> {
    await this.start();
    const t0 = performance.now();
    const step = await this.trainingStep();
    this.iteration++;
    this.stepsSampled += step.sampled;
    this.stepsTrained += step.trained;
    this.recentReturns.push(...step.episodes.returns);
    this.recentLengths.push(...step.episodes.lengths);
    this.recentReturns = this.recentReturns.slice(-100);
    this.recentLengths = this.recentLengths.slice(-100);
    keepRecent(this.recentPolicyReturns, step.episodes.policyReturns);
    keepRecent(this.recentAgentReturns, step.episodes.agentReturns);
    const thisIter = (performance.now() - t0) / 1000;
    this.timeTotalS += thisIter;
    const result: TrainResult = {
      trainingIteration: this.iteration,
      episodeReturnMean: mean(this.recentReturns),
      episodeReturnMin: this.recentReturns.length ? Math.min(...this.recentReturns) : NaN,
      episodeReturnMax: this.recentReturns.length ? Math.max(...this.recentReturns) : NaN,
      episodeLenMean: mean(this.recentLengths),
      numEpisodes: step.episodes.returns.length,
      iterationEpisodeReturnMean: mean(step.episodes.returns),
      numEnvStepsSampled: step.sampled,
      numEnvStepsSampledLifetime: this.stepsSampled,
      numEnvStepsTrained: step.trained,
      numEnvStepsTrainedLifetime: this.stepsTrained,
      timeThisIterS: thisIter,
      sampleTimeS: step.sampleS,
      learnTimeS: step.learnS,
      timeTotalS: this.timeTotalS,
      learnerStats: step.stats,
    };
    if (this.multiAgent) {
      result.policyReturnMean = Object.fromEntries(
        this.multiAgent.policies.map((p) => [p.id, mean(this.recentPolicyReturns[p.id] ?? [])]),
      );
      result.agentReturnMean = Object.fromEntries(
        Object.entries(this.recentAgentReturns).map(([a, rs]) => [a, mean(rs)]),
      );
      if (step.agentSteps !== undefined) result.numAgentStepsSampled = step.agentSteps;
    }
    const every = this.config.evaluationOpts.evaluationInterval;
    if (every > 0 && this.iteration % every === 0) result.evaluation = await this.evaluate();
    return result;
  }

  /** Plays `evaluationDuration` greedy episodes on the env runners. */
  async evaluate(): Promise<EvaluationResult> {
    await this.start();
    const n = this.config.evaluationOpts.evaluationDuration;
    const per = Math.ceil(n / this.runners.length);
    const { get } = await import('@ray-ts/core');
    const parts = await get(
      this.runners.map((r, i) =>
        r.evaluate.remote(
          this.weights!,
          Math.min(per, Math.max(0, n - i * per)),
          1_000_000 + this.iteration * 1000 + i * per,
        ),
      ),
    );
    const returns = parts.flatMap((p) => p.returns);
    const lengths = parts.flatMap((p) => p.lengths);
    const out: EvaluationResult = {
      episodeReturnMean: mean(returns),
      episodeReturnMin: Math.min(...returns),
      episodeReturnMax: Math.max(...returns),
      episodeLenMean: mean(lengths),
      numEpisodes: returns.length,
    };
    if (this.multiAgent) {
      out.policyReturnMean = Object.fromEntries(
        this.multiAgent.policies.map((p) => [p.id, mean(parts.flatMap((q) => q.policyReturns?.[p.id] ?? []))]),
      );
    }
    return out;
  }

  /**
   * The policy's action for one observation, computed here (greedy unless `explore`).
   * `policyId` picks the policy of a multi-agent algorithm (default: the first listed).
   * @throws RLlibInvalidArgumentError before any weights exist, for an unknown `policyId`, or an
   *   observation that does not fit the policy's observation space.
   */
  computeSingleAction(obs: unknown, opts: { explore?: boolean; policyId?: string } = {}): number | Float32Array {
    const p = this.policy(opts.policyId, 'computeSingleAction()');
    if (!this.weights)
      throw new RLlibInvalidArgumentError(
        'computeSingleAction() needs weights: call train() first, or restore a checkpoint (Algorithm.fromCheckpoint(dir)).',
      );
    return policyAction(p, this.weights, obs, opts.explore === true);
  }

  /**
   * Copies of the policies' weights (RLlib's `get_weights()`), by policy id: each policy network's
   * then value network's, laid out as model.ts's flat weights. `policyIds` picks some (default: all).
   * Of a single-agent algorithm: `{ default_policy: all its weights }`.
   * @throws RLlibInvalidArgumentError before any weights exist, or for an unknown policy id.
   */
  getWeights(policyIds?: string[]): Record<string, Float32Array> {
    const ids = policyIds ?? this.policies.map((p) => p.id);
    const ps = ids.map((id) => this.policy(id, 'getWeights()'));
    if (!this.weights)
      throw new RLlibInvalidArgumentError(
        'getWeights() needs weights: call train() first, or restore a checkpoint (Algorithm.fromCheckpoint(dir)).',
      );
    const w = this.weights;
    return Object.fromEntries(
      ps.map((p) => [p.id, this.multiAgent ? w.slice(p.offset, p.offset + p.size) : w.slice()]),
    );
  }

  /**
   * The network that makes a policy's actions, as dense layers over its flattened observation,
   * and the name of its output (for {@link exportPolicyModel}). Default: the policy network,
   * whose output is the action distribution's inputs.
   */
  protected policyLayers(p: PolicySetup): { layers: DenseLayer[]; output: string } {
    return { layers: mlpDenseLayers(p.nets.pi, this.weights!, p.offset), output: 'action_dist_inputs' };
  }

  /**
   * Writes a policy's network as an ONNX model (RLlib's `export_policy_model`), to run with
   * onnxruntime (`@ray-ts/serve`'s ONNX deployments, Data's batch inference) without TensorFlow.
   * Its input `obs` is `[batch, obsDim]`, observations flattened as `flatten(space, obs)`. Its
   * output is named for what it holds:
   * - PPO: `action_dist_inputs`, the logits (Discrete: the greedy action is their argmax), or the
   *   means then log standard deviations (Box);
   * - DQN: `q_values` (the dueling heads already combined; the greedy action is their argmax);
   * - SAC: `action_dist_inputs`, means then log standard deviations before tanh (the greedy
   *   action is `tanh(mean)` scaled to the Box's bounds).
   *
   * @param opts.policyId which policy (multi-agent; default the first).
   * @throws RLlibInvalidArgumentError for an unknown policy id.
   * @example
   * const { path } = await algo.exportPolicyModel('./cartpole-policy.onnx');
   */
  async exportPolicyModel(
    file: string,
    opts: { policyId?: string } = {},
  ): Promise<{ path: string; bytes: number; inputName: string; outputName: string }> {
    const p = this.policy(opts.policyId, 'exportPolicyModel()');
    await this.start();
    const { layers, output } = this.policyLayers(p);
    const { exportDenseToOnnx } = await import('@ray-ts/train');
    const r = await exportDenseToOnnx({ layers }, file, {
      inputName: 'obs',
      outputName: output,
      graphName: `${this.config.algoName}_${p.id}`,
      producerName: '@ray-ts/rllib',
    });
    return { path: r.path, bytes: r.bytes, inputName: r.inputName, outputName: r.outputName };
  }

  /**
   * Writes the algorithm's state (config, counters, weights, learner state) as folder `dir`, whole
   * or not at all: saving again into the same folder replaces the previous checkpoint only once the
   * new one is complete, so a crash leaves one whole checkpoint there. Returns `dir`, resolved.
   * @throws RLlibInvalidArgumentError when `dir` holds files but no checkpoint (saving replaces it).
   */
  async save(dir: string): Promise<string> {
    await this.start();
    const { weights, ...learner } = (await this.learnerState()) as { weights?: Float32Array };
    return writeCheckpoint(dir, weights ?? this.weights!, {
      config: this.config.toJSON(),
      iteration: this.iteration,
      stepsSampled: this.stepsSampled,
      stepsTrained: this.stepsTrained,
      timeTotalS: this.timeTotalS,
      recentReturns: this.recentReturns,
      recentLengths: this.recentLengths,
      learner,
      ...(this.multiAgent
        ? { recentPolicyReturns: this.recentPolicyReturns, recentAgentReturns: this.recentAgentReturns }
        : {}),
    });
  }

  /** @internal Reads what save() wrote. */
  async restoreFrom(dir: string): Promise<void> {
    const s = readState(dir);
    await this.start();
    const weights = readWeights(dir);
    if (weights.length !== this.weightCount()) {
      throw new RLlibInvalidArgumentError(
        `Checkpoint ${dir} holds ${weights.length} weights, but this config's networks have ${this.weightCount()}.`,
      );
    }
    this.iteration = s.iteration;
    this.stepsSampled = s.stepsSampled;
    this.stepsTrained = s.stepsTrained;
    this.timeTotalS = s.timeTotalS;
    this.recentReturns = s.recentReturns;
    this.recentLengths = s.recentLengths;
    this.recentPolicyReturns = s.recentPolicyReturns ?? {};
    this.recentAgentReturns = s.recentAgentReturns ?? {};
    await this.setLearnerState({ ...readLearnerState(s, dir), weights });
    this.weights = weights;
  }

  /** An algorithm restored from `algo.save(dir)`: same config, weights, counters and learner state. */
  static async fromCheckpoint(dir: string): Promise<Algorithm> {
    const s = readState(dir);
    const algo = makeConfig(s.config).build();
    await algo.restoreFrom(dir);
    return algo;
  }

  /** Stops the env runners and learners. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.started) return;
    await Promise.all(this.runners.map((r) => kill(r).catch(() => undefined)));
    await this.stopLearners();
  }
}
