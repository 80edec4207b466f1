/**
 * PPO (RLlib's `PPOConfig` / `PPO`): env runners sample `trainBatchSize` steps with the current
 * policy (GAE computed there), the learners run `numEpochs` passes of `minibatchSize` over them
 * with the clipped surrogate loss, and the new weights go back to the runners through the object
 * store.
 */
import { get, kill, put, type ActorHandle } from '@ray-ts/core';
import { Algorithm, registerAlgorithm } from './algorithm.js';
import { AlgorithmConfig, positiveInt, positiveNumber, type ModelOptions } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { concatColumns, EnvRunner, type EnvRunnerMethods, type SampleBatch } from './env-runner.js';
import { mlpParamCount } from './model.js';
import { PPOLearner, type PPOLearnerMethods, type PPOLearnerSpec } from './ppo-learner.js';
import { randomUUID } from 'node:crypto';

/** PPO's training options (`.training({...})`), with their defaults. */
export interface PPOTrainingOptions {
  [k: string]: unknown;
  /** Adam's learning rate (default 3e-4). */
  lr: number;
  /** Discount (default 0.99). */
  gamma: number;
  /** GAE's lambda (default 0.95). */
  lambda: number;
  /** The surrogate's clip (default 0.2). */
  clipParam: number;
  /**
   * Value losses are clipped at this (default 10000: in effect off for returns in the hundreds;
   * RLlib's 10 clips most of CartPole's value errors, which slows learning: 144k steps to a mean
   * return of 450 against 68k here).
   */
  vfClipParam: number;
  vfLossCoeff: number;
  entropyCoeff: number;
  /** Initial KL penalty coefficient, adapted towards klTarget (default 0.2; 0: none). */
  klCoeff: number;
  klTarget: number;
  /** Steps per iteration, over all env runners (default 4000). */
  trainBatchSize: number;
  minibatchSize: number;
  /** Passes over each batch (default 10; RLlib's is 30). */
  numEpochs: number;
  /** Clip gradients to this global norm (default none). */
  gradClip: number | undefined;
  model: ModelOptions;
}

/** PPO's config builder. */
export class PPOConfig extends AlgorithmConfig<PPOTrainingOptions> {
  readonly algoName = 'PPO';
  train: PPOTrainingOptions = {
    lr: 3e-4, gamma: 0.99, lambda: 0.95, clipParam: 0.2, vfClipParam: 10_000, vfLossCoeff: 1, entropyCoeff: 0, klCoeff: 0.2, klTarget: 0.01,
    trainBatchSize: 4000, minibatchSize: 128, numEpochs: 10, gradClip: undefined, model: { hiddens: [64, 64], activation: 'tanh' },
  };

  protected checkTraining(o: Partial<PPOTrainingOptions>): void {
    for (const k of ['lr', 'gamma', 'lambda', 'clipParam', 'vfClipParam', 'vfLossCoeff', 'entropyCoeff', 'klCoeff', 'klTarget'] as const) {
      if (o[k] !== undefined) positiveNumber(o[k], `training().${k}`);
    }
    if (o.gamma !== undefined && o.gamma > 1) throw new RLlibInvalidArgumentError(`training().gamma must be in [0, 1], got ${o.gamma}.`);
    if (o.lambda !== undefined && o.lambda > 1) throw new RLlibInvalidArgumentError(`training().lambda must be in [0, 1], got ${o.lambda}.`);
    for (const k of ['trainBatchSize', 'minibatchSize', 'numEpochs'] as const) if (o[k] !== undefined) positiveInt(o[k], `training().${k}`);
    if (o.gradClip !== undefined) positiveNumber(o.gradClip, 'training().gradClip', false);
    if (o.model !== undefined) {
      const m = o.model;
      if (m.hiddens !== undefined && (!Array.isArray(m.hiddens) || m.hiddens.some((h) => !Number.isInteger(h) || h < 1))) {
        throw new RLlibInvalidArgumentError(`training().model.hiddens must be an array of layer sizes, e.g. [64, 64]; got ${JSON.stringify(m.hiddens)}.`);
      }
    }
  }

  /** Builds the algorithm (its actors start on the first train()). */
  build(): PPO {
    return new PPO(this);
  }
}

/** PPO. */
export class PPO extends Algorithm<PPOConfig> {
  private learners: ActorHandle<PPOLearnerMethods>[] = [];

  protected createRunners(): ActorHandle<EnvRunnerMethods>[] {
    const spec = this.runnerSpec();
    return Array.from({ length: this.config.runners.numEnvRunners }, (_, i) =>
      EnvRunner.options({ numCpus: this.config.runners.numCpusPerEnvRunner, isolation: 'thread' }).remote(spec, i) as unknown as ActorHandle<EnvRunnerMethods>);
  }

  protected weightCount(): number {
    return mlpParamCount(this.nets.pi) + mlpParamCount(this.nets.vf);
  }

  protected async startLearners(): Promise<void> {
    const t = this.config.train;
    const { count: n, cpus } = this.config.learnerActors();
    const groupName = n > 1 ? `rllib-ppo-${randomUUID().slice(0, 8)}` : undefined;
    const base: PPOLearnerSpec = {
      pi: this.nets.pi, vf: this.nets.vf,
      dist: this.action.kind === 'categorical' ? { kind: 'categorical', n: this.action.n } : { kind: 'gaussian', dims: this.action.dims },
      lr: t.lr, clipParam: t.clipParam, vfClipParam: t.vfClipParam, vfLossCoeff: t.vfLossCoeff, entropyCoeff: t.entropyCoeff,
      klCoeff: t.klCoeff, klTarget: t.klTarget, gradClip: t.gradClip, seed: this.config.seed,
    };
    this.learners = Array.from({ length: n }, (_, rank) => PPOLearner.options({ numCpus: cpus, isolation: 'thread' })
      .remote({ ...base, ...(groupName ? { group: { name: groupName, rank, size: n } } : {}) }) as unknown as ActorHandle<PPOLearnerMethods>);
    if (groupName) {
      const { collective } = await import('@ray-ts/core');
      await collective.createCollectiveGroup(this.learners, { groupName });
    }
    this.weights ??= await get(this.learners[0].getWeights.remote());
    // Every learner starts from the first's weights.
    if (n > 1) await get(this.learners.slice(1).map((l) => l.setWeights.remote(this.weights!)));
  }

  protected async stopLearners(): Promise<void> {
    await Promise.all(this.learners.map((l) => kill(l).catch(() => undefined)));
  }

  protected async trainingStep() {
    const t = this.config.train;
    const runners = this.runners.length;
    const perEnv = Math.max(1, Math.ceil(t.trainBatchSize / (runners * this.config.runners.numEnvsPerEnvRunner)));
    const t0 = performance.now();
    const w = put(this.weights!);
    const batches = await get((this.runners as ActorHandle<EnvRunnerMethods>[]).map((r) => r.sample.remote(w as never, perEnv)));
    const sampleS = (performance.now() - t0) / 1000;
    const batch = concat(batches);
    const t1 = performance.now();
    const seed = this.config.seed * 100_003 + this.iteration;
    const outs = await get(this.learners.map((l) => l.update.remote(batch, { numEpochs: t.numEpochs, minibatchSize: t.minibatchSize, seed })));
    const learnS = (performance.now() - t1) / 1000;
    this.weights = outs[0].weights;
    return {
      sampled: batch.count, trained: batch.count, sampleS, learnS,
      episodes: { returns: batches.flatMap((b) => b.episodeReturns), lengths: batches.flatMap((b) => b.episodeLengths) },
      stats: outs[0].stats as unknown as Record<string, number>,
    };
  }

  protected async learnerState(): Promise<Record<string, unknown>> {
    return (await get(this.learners[0].getState.remote())) as unknown as Record<string, unknown>;
  }

  protected async setLearnerState(s: Record<string, unknown>): Promise<void> {
    await get(this.learners.map((l) => l.setState.remote(s as never)));
  }
}

/** The runners' batches as one. */
function concat(bs: SampleBatch[]): SampleBatch {
  return {
    count: bs.reduce((n, b) => n + b.count, 0), obsDim: bs[0].obsDim, actDim: bs[0].actDim,
    ...concatColumns(bs, ['obs', 'actions', 'logp', 'distInputs', 'values', 'advantages', 'valueTargets'] as const),
    episodeReturns: bs.flatMap((b) => b.episodeReturns), episodeLengths: bs.flatMap((b) => b.episodeLengths),
  };
}

registerAlgorithm('PPO', () => new PPOConfig());
