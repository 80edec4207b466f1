/**
 * Algorithm: what `config.build()` returns (RLlib's `Algorithm`). `train()` runs one iteration
 * (sample with the env runners, update with the learners) and returns its result; `evaluate()`
 * plays greedy episodes; `save(dir)` / `Algorithm.fromCheckpoint(dir)` write and read its state;
 * `computeSingleAction(obs)` runs the policy in this thread; `stop()` ends its actors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { init, isInitialized, kill, type ActorHandle } from '@ray-ts/core';
import {
  compilePolicyMappingFn,
  DEFAULT_POLICY_ID,
  mapAgent,
  type AlgorithmConfig,
  type MultiAgentSettings,
  type PolicyMappingFn,
} from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { isMultiAgentEnv, type MultiAgentEnv } from './env/multi-agent.js';
import { makeEnv } from './env/registry.js';
import { flatDim, flatten, spaceToJSON, type Space } from './env/spaces.js';
import type { Env } from './env/types.js';
import { actionInfo, type ActionInfo, type EnvRunnerSpec } from './env-runner.js';
import { mlpDenseLayers, mlpForward, mlpParamCount, sampleCategorical, type MlpSpec } from './model.js';

/** A dense layer of an exported network. */
export type DenseLayer = ReturnType<typeof mlpDenseLayers>[number];

/** What `train()` returns (RLlib's result dict, in camelCase). */
export interface TrainResult {
  trainingIteration: number;
  /** Mean, min and max return of the last 100 episodes (NaN before the first ends). */
  episodeReturnMean: number;
  episodeReturnMin: number;
  episodeReturnMax: number;
  episodeLenMean: number;
  /** Episodes finished in this iteration. */
  numEpisodes: number;
  /**
   * Mean return of the episodes finished in this iteration (NaN if none). This is what RLlib 2.58
   * reports as `episode_return_mean`: its windowed means are cleared at every iteration, so its
   * window of 100 episodes holds one iteration's episodes. Noisier than `episodeReturnMean`.
   */
  iterationEpisodeReturnMean: number;
  numEnvStepsSampled: number;
  numEnvStepsSampledLifetime: number;
  numEnvStepsTrained: number;
  numEnvStepsTrainedLifetime: number;
  /** Seconds: this iteration, its sampling, its learning, and all iterations so far. */
  timeThisIterS: number;
  sampleTimeS: number;
  learnTimeS: number;
  timeTotalS: number;
  /** The learners' statistics; with several policies (multi-agent), keyed `policyId/stat`, e.g. `p0/policyLoss`. */
  learnerStats: Record<string, number>;
  /**
   * Multi-agent only: each policy's mean return over the last 100 episodes it acted in (the sum
   * of the rewards of the agents it acted for in an episode; RLlib's module episode returns).
   * `episodeReturnMean` and the others sum over all agents.
   */
  policyReturnMean?: Record<string, number>;
  /** Multi-agent only: each agent's mean return over the last 100 episodes it was in. */
  agentReturnMean?: Record<string, number>;
  /** Multi-agent only: agent steps sampled this iteration (each agent's step counts once). */
  numAgentStepsSampled?: number;
  /** The latest evaluation's results, when one ran in this iteration. */
  evaluation?: EvaluationResult;
}

export interface EvaluationResult {
  episodeReturnMean: number;
  episodeReturnMin: number;
  episodeReturnMax: number;
  episodeLenMean: number;
  numEpisodes: number;
  /** Multi-agent only: each policy's mean return over the evaluation's episodes. */
  policyReturnMean?: Record<string, number>;
}

/**
 * One policy: its id, the spaces of the agents it acts for, its networks, and where its weights
 * (policy network then value network) lie in the algorithm's flat weights.
 */
export interface PolicySetup {
  id: string;
  obsSpace: Space;
  obsDim: number;
  actionSpace: Space;
  action: ActionInfo;
  nets: { pi: MlpSpec; vf: MlpSpec };
  /** First float of the policy's weights in the flat weights, and their count. */
  offset: number;
  size: number;
}

/** The multi-agent setup of an algorithm: its policies (in listed order), the mapping, which are trained. */
export interface MultiAgentSetup {
  policies: PolicySetup[];
  /** The mapping function's source text, and the function rebuilt from it. */
  mappingSource: string;
  mappingFn: PolicyMappingFn;
  policiesToTrain: string[];
}

/** What a runner returns about episodes besides their returns and lengths (multi-agent runners). */
export interface EpisodeStats {
  returns: number[];
  lengths: number[];
  /** Per policy (per agent): the returns of the episodes it was in. */
  policyReturns?: Record<string, number[]>;
  agentReturns?: Record<string, number[]>;
}

/** The policy and value networks of an env's spaces. */
export function networks(
  obsDim: number,
  action: ReturnType<typeof actionInfo>,
  hiddens: number[],
  activation: 'tanh' | 'relu',
): { pi: MlpSpec; vf: MlpSpec } {
  const out = action.kind === 'categorical' ? action.n : 2 * action.dims;
  return {
    pi: { sizes: [obsDim, ...hiddens, out], activation },
    vf: { sizes: [obsDim, ...hiddens, 1], activation },
  };
}

/** What every algorithm's env runners can do besides sampling: play greedy episodes. */
export interface EvaluatingRunner {
  evaluate(
    weights: Float32Array,
    episodes: number,
    seed: number,
  ): { returns: number[]; lengths: number[]; policyReturns?: Record<string, number[]> };
}

const STATE_FILE = 'algorithm_state.json';

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
const WEIGHTS_FILE = 'weights.bin';

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
  protected readonly action: ReturnType<typeof actionInfo>;
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
        const first = this.policies[0];
        this.obsSpace = first.obsSpace;
        this.action = first.action;
        this.obsDim = first.obsDim;
        this.nets = first.nets;
      } else {
        this.obsSpace = env.observationSpace;
        this.action = actionInfo(env.actionSpace);
        this.obsDim = flatDim(this.obsSpace);
        this.nets = networks(this.obsDim, this.action, hiddens, activation);
        this.policies = [
          {
            id: DEFAULT_POLICY_ID,
            obsSpace: this.obsSpace,
            obsDim: this.obsDim,
            actionSpace: env.actionSpace,
            action: this.action,
            nets: this.nets,
            offset: 0,
            size: mlpParamCount(this.nets.pi) + mlpParamCount(this.nets.vf),
          },
        ];
      }
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
    const x = flatten(p.obsSpace, obs as never);
    if (x.length !== p.obsDim)
      throw new RLlibInvalidArgumentError(
        `computeSingleAction(): the observation has ${x.length} values, the observation space of policy '${p.id}' ${p.obsDim}.`,
      );
    const out = mlpForward(p.nets.pi, this.weights, p.offset, x, 1);
    const a = p.action;
    if (a.kind === 'categorical') return sampleCategorical(out, 0, a.n, Math.random(), opts.explore === true).action;
    const act = new Float32Array(a.dims);
    for (let d = 0; d < a.dims; d++) {
      const z = opts.explore
        ? Math.sqrt(-2 * Math.log(Math.random() + 1e-12)) * Math.cos(2 * Math.PI * Math.random())
        : 0;
      act[d] = Math.min(a.high[d], Math.max(a.low[d], out[d] + Math.exp(out[a.dims + d]) * z));
    }
    return act;
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

  /** Writes the algorithm's state (config, counters, weights, learner state) into `dir`; returns `dir`. */
  async save(dir: string): Promise<string> {
    await this.start();
    const out = path.resolve(dir);
    fs.mkdirSync(out, { recursive: true });
    const learner = await this.learnerState();
    const { weights, ...rest } = learner as { weights?: Float32Array };
    fs.writeFileSync(
      path.join(out, WEIGHTS_FILE),
      Buffer.from(
        (weights ?? this.weights!).buffer,
        (weights ?? this.weights!).byteOffset,
        (weights ?? this.weights!).byteLength,
      ),
    );
    fs.rmSync(path.join(out, ARRAYS_DIR), { recursive: true, force: true });
    fs.writeFileSync(
      path.join(out, STATE_FILE),
      JSON.stringify(
        {
          format: 'ray-ts-rllib-1',
          config: this.config.toJSON(),
          iteration: this.iteration,
          stepsSampled: this.stepsSampled,
          stepsTrained: this.stepsTrained,
          timeTotalS: this.timeTotalS,
          recentReturns: this.recentReturns,
          recentLengths: this.recentLengths,
          learner: externalizeArrays(rest, out, 'learner'),
          ...(this.multiAgent
            ? { recentPolicyReturns: this.recentPolicyReturns, recentAgentReturns: this.recentAgentReturns }
            : {}),
        },
        null,
        1,
      ),
    );
    return out;
  }

  /** @internal Reads what save() wrote. */
  async restoreFrom(dir: string): Promise<void> {
    const s = readState(dir);
    await this.start();
    const bytes = fs.readFileSync(path.join(dir, WEIGHTS_FILE));
    const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
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
    await this.setLearnerState({ ...(reviveArrays(s.learner, dir) as Record<string, unknown>), weights });
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

const ARRAYS_DIR = 'arrays';
const ARRAY_TYPES = { Float32Array, Float64Array, Int32Array, Uint8Array } as const;

/**
 * `v` with its typed arrays (a replay buffer's columns...) written as binary files under
 * `dir/arrays/` and replaced by references to them: JSON would spell each float out.
 */
function externalizeArrays(v: unknown, dir: string, key: string): unknown {
  if (ArrayBuffer.isView(v) && v.constructor.name in ARRAY_TYPES) {
    const file = `${key.replace(/[^\w.-]/g, '_')}.bin`;
    fs.mkdirSync(path.join(dir, ARRAYS_DIR), { recursive: true });
    fs.writeFileSync(path.join(dir, ARRAYS_DIR, file), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    return { $array: file, type: v.constructor.name };
  }
  if (Array.isArray(v)) return v.map((x, i) => externalizeArrays(x, dir, `${key}.${i}`));
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, externalizeArrays(x, dir, `${key}.${k}`)]));
  return v;
}

/** Reads back what {@link externalizeArrays} wrote. */
function reviveArrays(v: unknown, dir: string): unknown {
  if (Array.isArray(v)) return v.map((x) => reviveArrays(x, dir));
  if (v === null || typeof v !== 'object') return v;
  const ref = v as { $array?: string; type?: keyof typeof ARRAY_TYPES };
  if (typeof ref.$array === 'string' && ref.type && ref.type in ARRAY_TYPES) {
    const f = path.join(dir, ARRAYS_DIR, ref.$array);
    if (!fs.existsSync(f))
      throw new RLlibInvalidArgumentError(
        `Checkpoint ${dir} is incomplete: ${path.join(ARRAYS_DIR, ref.$array)} is missing. Copy the whole checkpoint folder.`,
      );
    const bytes = fs.readFileSync(f);
    return new ARRAY_TYPES[ref.type](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reviveArrays(x, dir)]));
}

/** @internal */
export function readState(dir: string): {
  config: Record<string, unknown>;
  iteration: number;
  stepsSampled: number;
  stepsTrained: number;
  timeTotalS: number;
  recentReturns: number[];
  recentLengths: number[];
  learner: unknown;
  recentPolicyReturns?: Record<string, number[]>;
  recentAgentReturns?: Record<string, number[]>;
} {
  const f = path.join(dir, STATE_FILE);
  if (!fs.existsSync(f))
    throw new RLlibInvalidArgumentError(
      `${dir} is not an algorithm checkpoint (no ${STATE_FILE}): pass a folder written by algo.save(dir).`,
    );
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Appends each key's new values to `recent`, keeping the last 100. */
function keepRecent(recent: Record<string, number[]>, add: Record<string, number[]> | undefined): void {
  for (const [k, xs] of Object.entries(add ?? {})) recent[k] = [...(recent[k] ?? []), ...xs].slice(-100);
}

/** Mapping episodes checked at build(): a mapping that depends on the episode shows its variety in a few. */
const CHECKED_EPISODES = [0, 1, 2, 3];

/**
 * The policies of a multi-agent env: each gets the spaces of the agents the mapping sends to it
 * (in episodes 0-3), which must agree; a policy no agent is sent to there takes the agents'
 * common spaces.
 */
function multiAgentSetup(
  opts: MultiAgentSettings | undefined,
  env: MultiAgentEnv,
  hiddens: number[],
  activation: 'tanh' | 'relu',
): MultiAgentSetup {
  const ma = opts ?? {
    policies: [DEFAULT_POLICY_ID],
    policyMappingFn: `() => '${DEFAULT_POLICY_ID}'`,
    policiesToTrain: [DEFAULT_POLICY_ID],
  };
  const fn = compilePolicyMappingFn(ma.policyMappingFn);
  const agents = env.possibleAgents;
  if (agents.length === 0)
    throw new RLlibInvalidArgumentError('The multi-agent env has no possibleAgents: list every agent id it can have.');
  const key = (a: string) => {
    const o = env.observationSpaces[a];
    const s = env.actionSpaces[a];
    if (!o || !s)
      throw new RLlibInvalidArgumentError(
        `The multi-agent env's agent '${a}' has no ${o ? 'action' : 'observation'} space: fill observationSpaces and actionSpaces for every possible agent.`,
      );
    return `${JSON.stringify(spaceToJSON(o))} ${JSON.stringify(spaceToJSON(s))}`;
  };
  const agentsOf = new Map<string, string[]>(ma.policies.map((p) => [p, []]));
  for (const ep of CHECKED_EPISODES) {
    for (const a of agents) {
      const list = agentsOf.get(mapAgent(fn, ma.policies, a, ep))!;
      if (!list.includes(a)) list.push(a);
    }
  }
  let offset = 0;
  const policies = ma.policies.map((id): PolicySetup => {
    let mapped = agentsOf.get(id)!;
    if (mapped.length === 0) {
      if (new Set(agents.map(key)).size > 1) {
        throw new RLlibInvalidArgumentError(
          `Policy '${id}' gets no agent from policyMappingFn in episodes ${CHECKED_EPISODES.join(', ')}, and the env's agents have different spaces, so its spaces are unknown. Map an agent to it, or remove it from multiAgent({ policies }).`,
        );
      }
      mapped = [agents[0]];
    }
    const other = mapped.find((a) => key(a) !== key(mapped[0]));
    if (other !== undefined) {
      throw new RLlibInvalidArgumentError(
        `Agents '${mapped[0]}' and '${other}' both map to policy '${id}' but have different spaces ` +
          `(${env.observationSpaces[mapped[0]].toString()} -> ${env.actionSpaces[mapped[0]].toString()} against ${env.observationSpaces[other].toString()} -> ${env.actionSpaces[other].toString()}). ` +
          `Map agents with different spaces to different policies.`,
      );
    }
    const obsSpace = env.observationSpaces[mapped[0]];
    const obsDim = flatDim(obsSpace);
    const actionSpace = env.actionSpaces[mapped[0]];
    const action = actionInfo(actionSpace);
    const nets = networks(obsDim, action, hiddens, activation);
    const size = mlpParamCount(nets.pi) + mlpParamCount(nets.vf);
    const p = { id, obsSpace, obsDim, actionSpace, action, nets, offset, size };
    offset += size;
    return p;
  });
  return { policies, mappingSource: ma.policyMappingFn, mappingFn: fn, policiesToTrain: [...ma.policiesToTrain] };
}
