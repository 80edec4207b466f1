/**
 * DQN (RLlib's `DQNConfig` / `DQN`, new API stack): env runners step their envs with
 * epsilon-greedy actions and return n-step transitions; the learner keeps them in a (prioritized)
 * replay buffer and updates a dueling Q-network on double-DQN targets with a Huber loss; its
 * target network follows every `targetNetworkUpdateFreq` env steps trained. Each iteration
 * alternates sampling and learning until `minSampleTimestepsPerIteration` env steps were sampled.
 *
 * @example
 * import { DQNConfig } from '@ray-ts/rllib';
 * const algo = new DQNConfig().environment('CartPole-v1').training({ lr: 1e-3 }).build();
 * for (let i = 0; i < 30; i++) console.log((await algo.train()).episodeReturnMean);
 * await algo.stop();
 */
import type { ActorHandle, ObjectRef } from '@ray-ts/core';
import { registerAlgorithm } from './algorithm.js';
import type { DenseLayer } from './policies.js';
import { mlpDenseLayers } from './model.js';
import { AlgorithmConfig, checkModel, positiveInt, positiveNumber, type ModelOptions } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { flatten } from './env/spaces.js';
import {
  argmax,
  DQNEnvRunner,
  qForward,
  qNetSpec,
  qParamCount,
  type DQNEnvRunnerMethods,
  type DQNEnvRunnerSpec,
  type DQNSampleBatch,
  type QNetSpec,
} from './dqn-runner.js';
import { DQNLearner, type DQNLearnerSpec } from './dqn-learner.js';
import {
  checkOffPolicyTraining,
  OffPolicyAlgorithm,
  type OffPolicyLearnerMethods,
  type OffPolicyTrainingOptions,
  type ReplayBufferOptions,
  type ReplayLearnerSpec,
} from './off-policy.js';

/** DQN's replay buffer (RLlib's `replay_buffer_config`): defaults capacity 50000, prioritized true, alpha 0.6, beta 0.4 annealed to 1 over 50000 steps. */
export type DQNReplayBufferOptions = ReplayBufferOptions;

/** DQN's training options (`.training({...})`), with their defaults (tuned for CartPole-v1). */
export interface DQNTrainingOptions extends OffPolicyTrainingOptions {
  /** Adam's learning rate (default 1e-3). */
  lr: number;
  /** Discount (default 0.99). */
  gamma: number;
  /** Steps summed in each target, `r_0 + gamma r_1 + ... + gamma^n Q(s_n)` (default 3). */
  nStep: number;
  /** Double DQN: the online network picks the next action, the target network values it (default true). */
  doubleQ: boolean;
  /** Dueling heads, `Q = V + A - mean(A)` (default true; false: a plain MLP). */
  dueling: boolean;
  /** Env steps trained (updates × trainBatchSize) between copies of the online network into the target network (default 16000: every 500 updates, 500 env steps sampled at the default trainingIntensity, as RLlib's default). */
  targetNetworkUpdateFreq: number;
  replayBuffer: DQNReplayBufferOptions;
  /** Transitions per update (default 32). */
  trainBatchSize: number;
  /** Updates start once the buffer holds this many transitions (default 1000). */
  numStepsSampledBeforeLearningStarts: number;
  /** Exploration: `[envStepsSampled, epsilon]` points, interpolated linearly, the last value kept after (default [[0, 1], [10000, 0.02]]). */
  epsilon: [number, number][];
  /** Steps each env takes per sampling round (default 4). */
  rolloutFragmentLength: number;
  /** Env steps trained per env step sampled: `trainingIntensity / trainBatchSize` updates per sampled step (default 32: one update per env step, RLlib's ratio). */
  trainingIntensity: number;
  /** An iteration samples at least this many env steps (default 1000). */
  minSampleTimestepsPerIteration: number;
  /** Clip gradients to this global norm (default 40, RLlib's; undefined: no clipping). */
  gradClip: number | undefined;
  /** Hidden layers of the Q-network's trunk (default hiddens [64, 64], activation 'relu'). */
  model: ModelOptions;
}

const REPLAY_DEFAULTS: Required<DQNReplayBufferOptions> = {
  capacity: 50_000,
  prioritized: true,
  alpha: 0.6,
  beta: 0.4,
  betaFinal: 1,
  betaAnnealingSteps: 50_000,
};

/** The value of a piecewise-linear schedule `[[t0, v0], [t1, v1], ...]` at `t`. */
export function piecewiseSchedule(points: readonly (readonly [number, number])[], t: number): number {
  if (t <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [t1, v1] = points[i];
    if (t < t1) {
      const [t0, v0] = points[i - 1];
      return v0 + ((t - t0) / (t1 - t0)) * (v1 - v0);
    }
  }
  return points[points.length - 1][1];
}

/** DQN's config builder. */
export class DQNConfig extends AlgorithmConfig<DQNTrainingOptions> {
  readonly algoName = 'DQN';
  train: DQNTrainingOptions = {
    lr: 1e-3,
    gamma: 0.99,
    nStep: 3,
    doubleQ: true,
    dueling: true,
    targetNetworkUpdateFreq: 16_000,
    replayBuffer: { ...REPLAY_DEFAULTS },
    trainBatchSize: 32,
    numStepsSampledBeforeLearningStarts: 1000,
    epsilon: [
      [0, 1],
      [10_000, 0.02],
    ],
    rolloutFragmentLength: 4,
    trainingIntensity: 32,
    minSampleTimestepsPerIteration: 1000,
    storeBufferInCheckpoints: false,
    gradClip: 40,
    model: { hiddens: [64, 64], activation: 'relu' },
  };

  /** DQN's own options; `replayBuffer` and `model` are merged into the current ones (unset keys keep their values). */
  override training(opts: Partial<DQNTrainingOptions>): this {
    const before = this.train.replayBuffer;
    super.training(opts);
    if (opts.replayBuffer) this.train.replayBuffer = { ...before, ...opts.replayBuffer };
    return this;
  }

  protected checkTraining(o: Partial<DQNTrainingOptions>): void {
    checkOffPolicyTraining(o);
    for (const k of ['lr', 'gamma'] as const)
      if (o[k] !== undefined) positiveNumber(o[k], `training().${k}`, k === 'gamma');
    if (o.gamma !== undefined && o.gamma > 1)
      throw new RLlibInvalidArgumentError(`training().gamma must be in [0, 1], got ${o.gamma}.`);
    for (const k of ['nStep', 'targetNetworkUpdateFreq'] as const)
      if (o[k] !== undefined) positiveInt(o[k], `training().${k}`);
    for (const k of ['doubleQ', 'dueling'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'boolean')
        throw new RLlibInvalidArgumentError(`training().${k} must be true or false, got ${JSON.stringify(o[k])}.`);
    }
    if (o.gradClip !== undefined) positiveNumber(o.gradClip, 'training().gradClip', false);
    if (o.epsilon !== undefined) {
      const e = o.epsilon;
      const ok =
        Array.isArray(e) &&
        e.length > 0 &&
        e.every(
          (p, i) =>
            Array.isArray(p) &&
            p.length === 2 &&
            Number.isFinite(p[0]) &&
            p[0] >= 0 &&
            typeof p[1] === 'number' &&
            p[1] >= 0 &&
            p[1] <= 1 &&
            (i === 0 || p[0] > e[i - 1][0]),
        );
      if (!ok)
        throw new RLlibInvalidArgumentError(
          `training().epsilon must be [envSteps, epsilon] points with increasing steps and epsilons in [0, 1], e.g. [[0, 1], [10000, 0.02]]; got ${JSON.stringify(e)}.`,
        );
    }
    if (o.model !== undefined) checkModel(o.model);
  }

  /** Builds the algorithm (its actors start on the first train()). */
  build(): DQN {
    return new DQN(this);
  }
}

/**
 * DQN. Needs a Discrete action space. With several learners, each holds a shard of the replay
 * buffer and they average their gradients (see off-policy.ts).
 * @throws RLlibInvalidArgumentError from `config.build()` on a non-Discrete action space.
 */
export class DQN extends OffPolicyAlgorithm<DQNConfig> {
  private readonly q: QNetSpec;

  /** @internal Use `config.build()`. */
  constructor(config: DQNConfig) {
    super(config);
    if (this.action.kind !== 'categorical')
      throw new RLlibInvalidArgumentError(
        `DQN needs a Discrete action space; env '${config.envName}' has continuous (Box) actions. Use PPO for it.`,
      );
    const t = config.train;
    this.q = qNetSpec(this.obsDim, this.action.n, t.model.hiddens ?? [64, 64], t.model.activation ?? 'relu', t.dueling);
  }

  protected createRunners(): ActorHandle<DQNEnvRunnerMethods>[] {
    const t = this.config.train;
    const spec: DQNEnvRunnerSpec = {
      env: this.config.envName!,
      envConfig: this.config.envConfig,
      numEnvs: this.config.runners.numEnvsPerEnvRunner,
      seed: this.config.seed,
      q: this.q,
      gamma: t.gamma,
      nStep: t.nStep,
    };
    return Array.from(
      { length: this.config.runners.numEnvRunners },
      (_, i) =>
        DQNEnvRunner.options({ numCpus: this.config.runners.numCpusPerEnvRunner, isolation: 'thread' }).remote(
          spec,
          i,
        ) as unknown as ActorHandle<DQNEnvRunnerMethods>,
    );
  }

  protected weightCount(): number {
    return qParamCount(this.q);
  }

  protected createLearner(base: ReplayLearnerSpec, numCpus: number): ActorHandle<OffPolicyLearnerMethods> {
    const t = this.config.train;
    const spec: DQNLearnerSpec = {
      ...base,
      q: this.q,
      lr: t.lr,
      doubleQ: t.doubleQ,
      targetNetworkUpdateFreq: t.targetNetworkUpdateFreq,
      gradClip: t.gradClip,
    };
    return DQNLearner.options({ numCpus, isolation: 'thread' }).remote(
      spec,
    ) as unknown as ActorHandle<OffPolicyLearnerMethods>;
  }

  protected replayOptions(): Required<ReplayBufferOptions> {
    return { ...REPLAY_DEFAULTS, ...this.config.train.replayBuffer };
  }

  protected sampleRound(
    runner: ActorHandle<unknown>,
    w: ObjectRef<Float32Array>,
    steps: number,
    lifetime: number,
  ): ObjectRef<DQNSampleBatch> {
    return (runner as ActorHandle<DQNEnvRunnerMethods>).sample.remote(w as never, steps, this.epsilonAt(lifetime));
  }

  protected override roundStats(lifetime: number): Record<string, number> {
    return { epsilon: this.epsilonAt(lifetime) };
  }

  /** Epsilon after `steps` env steps sampled. */
  private epsilonAt(steps: number): number {
    return piecewiseSchedule(this.config.train.epsilon, steps);
  }

  /** The Q-network; dueling heads become one more linear layer, `Q_j = V + A_j - mean(A)`. */
  protected override policyLayers(): { layers: DenseLayer[]; output: string } {
    const layers = mlpDenseLayers(this.q, this.weights!, 0);
    if (this.q.dueling) {
      const n = this.q.numActions;
      const kernel = new Float32Array((1 + n) * n);
      for (let j = 0; j < n; j++) {
        kernel[j] = 1; // V
        for (let k = 0; k < n; k++) kernel[(1 + k) * n + j] = (k === j ? 1 : 0) - 1 / n;
      }
      layers.push({ kernel, bias: new Float32Array(n), inDim: 1 + n, outDim: n, activation: 'linear' });
    }
    return { layers, output: 'q_values' };
  }

  /** The greedy action (argmax Q) for one observation, computed here; with `explore`, a random one with the current epsilon. */
  override computeSingleAction(obs: unknown, opts: { explore?: boolean } = {}): number {
    if (!this.weights)
      throw new RLlibInvalidArgumentError(
        'computeSingleAction() needs weights: call train() first, or restore a checkpoint (Algorithm.fromCheckpoint(dir)).',
      );
    const x = flatten(this.obsSpace, obs as never);
    if (x.length !== this.obsDim)
      throw new RLlibInvalidArgumentError(
        `computeSingleAction(): the observation has ${x.length} values, the env's observation space ${this.obsDim}.`,
      );
    const n = this.q.numActions;
    if (opts.explore && Math.random() < this.epsilonAt(this.stepsSampled)) return Math.floor(Math.random() * n);
    return argmax(qForward(this.q, this.weights, x, 1), 0, n);
  }
}

registerAlgorithm('DQN', () => new DQNConfig());
