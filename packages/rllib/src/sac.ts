/**
 * SAC (RLlib's `SACConfig` / `SAC`): soft actor-critic for continuous (Box) actions. Env runners
 * sample with the squashed Gaussian policy; the learner keeps the replay buffer and updates twin
 * critics, the policy and the temperature alpha (see sac-learner.ts). Each iteration alternates
 * sampling and learning, overlapped, until `minSampleTimestepsPerIteration` env steps were
 * sampled (see off-policy.ts).
 *
 * @example
 * import { SACConfig } from '@ray-ts/rllib';
 * const algo = new SACConfig().environment('Pendulum-v1').build();
 * for (let i = 0; i < 10; i++) console.log((await algo.train()).episodeReturnMean);
 * await algo.stop();
 */
import { SeededRng, type ActorHandle, type ObjectRef } from '@ray-ts/core';
import { registerAlgorithm } from './algorithm.js';
import type { DenseLayer } from './policies.js';
import { AlgorithmConfig, checkModel, positiveNumber, type ModelOptions } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { flatten } from './env/spaces.js';
import { mlpDenseLayers, mlpParamCount, type MlpSpec } from './model.js';
import {
  checkOffPolicyTraining,
  OffPolicyAlgorithm,
  type OffPolicyLearnerMethods,
  type OffPolicyTrainingOptions,
  type ReplayBufferOptions,
  type ReplayLearnerSpec,
} from './off-policy.js';
import type { OffPolicySampleBatch } from './off-policy-runner.js';
import {
  SACEnvRunner,
  scaleAction,
  squashedGaussianActions,
  type SACEnvRunnerMethods,
  type SACEnvRunnerSpec,
} from './sac-runner.js';
import { SACLearner, type SACLearnerSpec } from './sac-learner.js';

/**
 * SAC's training options (`.training({...})`), with their defaults. Those of every off-policy
 * algorithm ({@link OffPolicyTrainingOptions}) default to: `replayBuffer` capacity 100000, uniform
 * (prioritized false); `trainBatchSize` 128 (RLlib's 256 takes twice the time per update here);
 * `trainingIntensity` 128 (one update per env step, RLlib's ratio); `rolloutFragmentLength` 4;
 * `numStepsSampledBeforeLearningStarts` 1000; `minSampleTimestepsPerIteration` 1000.
 */
export interface SACTrainingOptions extends OffPolicyTrainingOptions {
  /** Adam's learning rates of the policy, the critics and the temperature (default 3e-4 each). */
  actorLr: number;
  criticLr: number;
  alphaLr: number;
  /** Discount (default 0.99). */
  gamma: number;
  /** Polyak coefficient of the target critics, updated after every update (default 0.005). */
  tau: number;
  /** The temperature's start (default 1). */
  initialAlpha: number;
  /** The entropy the temperature steers towards: 'auto' is `-actDim` (default). */
  targetEntropy: number | 'auto';
  /** Two critics, the smaller value taken (default true). */
  twinQ: boolean;
  /** Steps summed in each target (default 1). */
  nStep: number;
  /** Clip each network's gradients to this global norm (default none). */
  gradClip: number | undefined;
  /**
   * Hidden layers of the policy and of each critic (default hiddens [64, 64], activation 'relu').
   * RLlib's [256, 256] makes each update 5x slower on tfjs's wasm backend (50 ms against 10 ms
   * at a batch of 256).
   */
  model: ModelOptions;
}

const REPLAY_DEFAULTS: Required<ReplayBufferOptions> = {
  capacity: 100_000,
  prioritized: false,
  alpha: 0.6,
  beta: 0.4,
  betaFinal: 1,
  betaAnnealingSteps: 50_000,
};

/** SAC's config builder. */
export class SACConfig extends AlgorithmConfig<SACTrainingOptions> {
  readonly algoName = 'SAC';
  train: SACTrainingOptions = {
    actorLr: 3e-4,
    criticLr: 3e-4,
    alphaLr: 3e-4,
    gamma: 0.99,
    tau: 0.005,
    initialAlpha: 1,
    targetEntropy: 'auto',
    twinQ: true,
    nStep: 1,
    replayBuffer: { ...REPLAY_DEFAULTS },
    trainBatchSize: 128,
    numStepsSampledBeforeLearningStarts: 1000,
    rolloutFragmentLength: 4,
    trainingIntensity: 128,
    minSampleTimestepsPerIteration: 1000,
    storeBufferInCheckpoints: false,
    gradClip: undefined,
    model: { hiddens: [64, 64], activation: 'relu' },
  };

  /** SAC's own options; `replayBuffer` and `model` are merged into the current ones (unset keys keep their values). */
  override training(opts: Partial<SACTrainingOptions>): this {
    const before = { replayBuffer: this.train.replayBuffer, model: this.train.model };
    super.training(opts);
    if (opts.replayBuffer) this.train.replayBuffer = { ...before.replayBuffer, ...opts.replayBuffer };
    if (opts.model) this.train.model = { ...before.model, ...opts.model };
    return this;
  }

  protected checkTraining(o: Partial<SACTrainingOptions>): void {
    checkOffPolicyTraining(o);
    for (const k of ['actorLr', 'criticLr', 'alphaLr', 'initialAlpha'] as const)
      if (o[k] !== undefined) positiveNumber(o[k], `training().${k}`, false);
    for (const k of ['gamma', 'tau'] as const) {
      if (o[k] !== undefined && positiveNumber(o[k], `training().${k}`) > 1)
        throw new RLlibInvalidArgumentError(`training().${k} must be in [0, 1], got ${o[k]}.`);
    }
    if (o.nStep !== undefined && (!Number.isInteger(o.nStep) || o.nStep < 1))
      throw new RLlibInvalidArgumentError(`training().nStep must be an integer >= 1, got ${JSON.stringify(o.nStep)}.`);
    if (
      o.targetEntropy !== undefined &&
      o.targetEntropy !== 'auto' &&
      (typeof o.targetEntropy !== 'number' || !Number.isFinite(o.targetEntropy))
    ) {
      throw new RLlibInvalidArgumentError(
        `training().targetEntropy must be 'auto' (minus the action dimension) or a number, got ${JSON.stringify(o.targetEntropy)}.`,
      );
    }
    if (o.twinQ !== undefined && typeof o.twinQ !== 'boolean')
      throw new RLlibInvalidArgumentError(`training().twinQ must be true or false, got ${JSON.stringify(o.twinQ)}.`);
    if (o.gradClip !== undefined) positiveNumber(o.gradClip, 'training().gradClip', false);
    if (o.model !== undefined) checkModel(o.model);
  }

  /** Builds the algorithm (its actors start on the first train()). */
  build(): SAC {
    return new SAC(this);
  }
}

/**
 * SAC. Needs a Box action space. With several learners, each holds a shard of the replay buffer
 * and they average their gradients (see off-policy.ts).
 * @throws RLlibInvalidArgumentError from `config.build()` on a non-Box action space.
 */
export class SAC extends OffPolicyAlgorithm<SACConfig> {
  private readonly pi: MlpSpec;
  private readonly q: MlpSpec;
  private readonly low: Float32Array;
  private readonly high: Float32Array;
  private readonly explore = new SeededRng();

  /** @internal Use `config.build()`. */
  constructor(config: SACConfig) {
    super(config);
    const a = this.action;
    if (a.kind !== 'gaussian')
      throw new RLlibInvalidArgumentError(
        `SAC needs a Box (continuous) action space; env '${config.envName}' has Discrete actions. Use DQN or PPO for it.`,
      );
    const m = config.train.model;
    const hiddens = m.hiddens ?? [64, 64];
    const act = m.activation ?? 'relu';
    this.pi = { sizes: [this.obsDim, ...hiddens, 2 * a.dims], activation: act };
    this.q = { sizes: [this.obsDim + a.dims, ...hiddens, 1], activation: act };
    this.low = a.low;
    this.high = a.high;
  }

  protected createRunners(): ActorHandle<SACEnvRunnerMethods>[] {
    const t = this.config.train;
    const spec: SACEnvRunnerSpec = {
      env: this.config.envName!,
      envConfig: this.config.envConfig,
      numEnvs: this.config.runners.numEnvsPerEnvRunner,
      seed: this.config.seed,
      pi: this.pi,
      gamma: t.gamma,
      nStep: t.nStep,
      low: this.low,
      high: this.high,
    };
    return Array.from(
      { length: this.config.runners.numEnvRunners },
      (_, i) =>
        SACEnvRunner.options({ numCpus: this.config.runners.numCpusPerEnvRunner, isolation: 'thread' }).remote(
          spec,
          i,
        ) as unknown as ActorHandle<SACEnvRunnerMethods>,
    );
  }

  /** The policy's and every critic's floats (what checkpoints hold). */
  protected weightCount(): number {
    return mlpParamCount(this.pi) + (this.config.train.twinQ ? 2 : 1) * mlpParamCount(this.q);
  }

  protected createLearner(base: ReplayLearnerSpec, numCpus: number): ActorHandle<OffPolicyLearnerMethods> {
    const t = this.config.train;
    const dims = this.pi.sizes[this.pi.sizes.length - 1] / 2;
    const spec: SACLearnerSpec = {
      ...base,
      pi: this.pi,
      q: this.q,
      twinQ: t.twinQ,
      actorLr: t.actorLr,
      criticLr: t.criticLr,
      alphaLr: t.alphaLr,
      tau: t.tau,
      initialAlpha: t.initialAlpha,
      targetEntropy: t.targetEntropy === 'auto' ? -dims : t.targetEntropy,
      gradClip: t.gradClip,
    };
    return SACLearner.options({ numCpus, isolation: 'thread' }).remote(
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
  ): ObjectRef<OffPolicySampleBatch> {
    return (runner as ActorHandle<SACEnvRunnerMethods>).sample.remote(w as never, steps);
  }

  protected override policyLayers(): { layers: DenseLayer[]; output: string } {
    return { layers: mlpDenseLayers(this.pi, this.weights!, 0), output: 'action_dist_inputs' };
  }

  /** The policy's action for one observation, computed here: its mean (squashed), or a sample with `explore`. */
  override computeSingleAction(obs: unknown, opts: { explore?: boolean } = {}): Float32Array {
    if (!this.weights)
      throw new RLlibInvalidArgumentError(
        'computeSingleAction() needs weights: call train() first, or restore a checkpoint (Algorithm.fromCheckpoint(dir)).',
      );
    const x = flatten(this.obsSpace, obs as never);
    if (x.length !== this.obsDim)
      throw new RLlibInvalidArgumentError(
        `computeSingleAction(): the observation has ${x.length} values, the env's observation space ${this.obsDim}.`,
      );
    return scaleAction(
      squashedGaussianActions(this.pi, this.weights, x, 1, opts.explore ? this.explore : undefined),
      0,
      this.low,
      this.high,
    );
  }
}

registerAlgorithm('SAC', () => new SACConfig());
