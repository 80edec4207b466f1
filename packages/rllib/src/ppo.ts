/**
 * PPO (RLlib's `PPOConfig` / `PPO`): env runners sample `trainBatchSize` steps with the current
 * policy (GAE computed there), the learners run `numEpochs` passes of `minibatchSize` over them
 * with the clipped surrogate loss, and the new weights go back to the runners through the object
 * store.
 *
 * Multi-agent (a MultiAgentEnv, with or without `config.multiAgent()`): the runners return a batch
 * per policy, one learner per policy trained updates it, and the weights of all policies travel
 * as one Float32Array (policies in listed order, each its policy network then its value network).
 */
import { get, kill, put, type ActorHandle } from '@ray-ts/core';
import { Algorithm, registerAlgorithm } from './algorithm.js';
import type { PolicySetup } from './policies.js';
import { AlgorithmConfig, checkModel, positiveInt, positiveNumber } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { spaceToJSON } from './env/spaces.js';
import { concatColumns, EnvRunner, type EnvRunnerMethods, type SampleBatch } from './env-runner.js';
import { initialActorCriticWeights } from './model.js';
import {
  MultiAgentEnvRunner,
  type MultiAgentEnvRunnerMethods,
  type MultiAgentRunnerSpec,
  type MultiAgentSample,
} from './multi-agent-runner.js';
import type { PPOTrainingOptions } from './ppo-options.js';
import { PPOLearner, type PPOLearnerMethods, type PPOLearnerSpec } from './ppo-learner.js';
import { randomUUID } from 'node:crypto';

export type { PPOTrainingOptions } from './ppo-options.js';

/** PPO's config builder. */
export class PPOConfig extends AlgorithmConfig<PPOTrainingOptions> {
  readonly algoName = 'PPO';
  train: PPOTrainingOptions = {
    lr: 3e-4,
    gamma: 0.99,
    lambda: 0.95,
    clipParam: 0.2,
    vfClipParam: 10_000,
    vfLossCoeff: 1,
    entropyCoeff: 0,
    klCoeff: 0.2,
    klTarget: 0.01,
    trainBatchSize: 4000,
    minibatchSize: 128,
    numEpochs: 10,
    gradClip: undefined,
    model: { hiddens: [64, 64], activation: 'tanh' },
  };

  protected checkTraining(o: Partial<PPOTrainingOptions>): void {
    for (const k of [
      'lr',
      'gamma',
      'lambda',
      'clipParam',
      'vfClipParam',
      'vfLossCoeff',
      'entropyCoeff',
      'klCoeff',
      'klTarget',
    ] as const) {
      if (o[k] !== undefined) positiveNumber(o[k], `training().${k}`);
    }
    if (o.gamma !== undefined && o.gamma > 1)
      throw new RLlibInvalidArgumentError(`training().gamma must be in [0, 1], got ${o.gamma}.`);
    if (o.lambda !== undefined && o.lambda > 1)
      throw new RLlibInvalidArgumentError(`training().lambda must be in [0, 1], got ${o.lambda}.`);
    for (const k of ['trainBatchSize', 'minibatchSize', 'numEpochs'] as const)
      if (o[k] !== undefined) positiveInt(o[k], `training().${k}`);
    if (o.gradClip !== undefined) positiveNumber(o.gradClip, 'training().gradClip', false);
    if (o.model !== undefined) checkModel(o.model);
  }

  /** Builds the algorithm (its actors start on the first train()). */
  build(): PPO {
    return new PPO(this);
  }
}

/**
 * PPO. Trains single-agent envs, and multi-agent envs with one policy per `multiAgent()` policy
 * (or one shared `default_policy`); with several learners, each policy trained gets that many.
 */
export class PPO extends Algorithm<PPOConfig> {
  static override readonly supportsMultiAgent = true;
  private learners: ActorHandle<PPOLearnerMethods>[] = [];
  /** Multi-agent: the learners of each policy trained (numLearners of them, averaging gradients in a group of their own), by policy id. */
  private policyLearners = new Map<string, ActorHandle<PPOLearnerMethods>[]>();

  protected createRunners(): ActorHandle<EnvRunnerMethods>[] {
    if (this.multiAgent) {
      const spec = this.multiAgentRunnerSpec();
      return Array.from(
        { length: this.config.runners.numEnvRunners },
        (_, i) =>
          MultiAgentEnvRunner.options({ numCpus: this.config.runners.numCpusPerEnvRunner, isolation: 'thread' }).remote(
            spec,
            i,
          ) as unknown as ActorHandle<EnvRunnerMethods>,
      );
    }
    const spec = this.runnerSpec();
    return Array.from(
      { length: this.config.runners.numEnvRunners },
      (_, i) =>
        EnvRunner.options({ numCpus: this.config.runners.numCpusPerEnvRunner, isolation: 'thread' }).remote(
          spec,
          i,
        ) as unknown as ActorHandle<EnvRunnerMethods>,
    );
  }

  private multiAgentRunnerSpec(): MultiAgentRunnerSpec {
    const t = this.config.train;
    return {
      env: this.config.envName!,
      envConfig: this.config.envConfig,
      numEnvs: this.config.runners.numEnvsPerEnvRunner,
      seed: this.config.seed,
      gamma: t.gamma,
      lambda: t.lambda,
      policyMappingFn: this.multiAgent!.mappingSource,
      policies: this.policies.map((p) => ({
        id: p.id,
        pi: p.nets.pi,
        vf: p.nets.vf,
        offset: p.offset,
        obsDim: p.obsDim,
        action: p.action,
        obsSpace: spaceToJSON(p.obsSpace),
        actionSpace: spaceToJSON(p.actionSpace),
      })),
    };
  }

  protected weightCount(): number {
    return this.policies.reduce((n, p) => n + p.size, 0);
  }

  /** A learner's settings for policy `p`'s networks. */
  private learnerSpec(p: Pick<PolicySetup, 'nets' | 'action'>, seed: number): PPOLearnerSpec {
    const t = this.config.train;
    return {
      pi: p.nets.pi,
      vf: p.nets.vf,
      dist:
        p.action.kind === 'categorical'
          ? { kind: 'categorical', n: p.action.n }
          : { kind: 'gaussian', dims: p.action.dims },
      lr: t.lr,
      clipParam: t.clipParam,
      vfClipParam: t.vfClipParam,
      vfLossCoeff: t.vfLossCoeff,
      entropyCoeff: t.entropyCoeff,
      klCoeff: t.klCoeff,
      klTarget: t.klTarget,
      gradClip: t.gradClip,
      seed,
    };
  }

  /** Policy `k`'s seed for its initial weights. */
  private policySeed(k: number): number {
    return this.config.seed + 1000 * k;
  }

  /** The policies trained, with their index in the policy list. */
  private trainedPolicies(): { p: PolicySetup; k: number }[] {
    const train = this.multiAgent!.policiesToTrain;
    return this.policies.flatMap((p, k) => (train.includes(p.id) ? [{ p, k }] : []));
  }

  protected async startLearners(): Promise<void> {
    if (this.multiAgent) return this.startPolicyLearners();
    const { count: n, cpus } = this.config.learnerActors();
    const groupName = n > 1 ? `rllib-ppo-${randomUUID().slice(0, 8)}` : undefined;
    const base = this.learnerSpec({ nets: this.nets, action: this.action }, this.config.seed);
    this.learners = Array.from(
      { length: n },
      (_, rank) =>
        PPOLearner.options({ numCpus: cpus, isolation: 'thread' }).remote({
          ...base,
          ...(groupName ? { group: { name: groupName, rank, size: n } } : {}),
        }) as unknown as ActorHandle<PPOLearnerMethods>,
    );
    if (groupName) {
      const { collective } = await import('@ray-ts/core');
      await collective.createCollectiveGroup(this.learners, { groupName });
    }
    this.weights ??= await get(this.learners[0].getWeights.remote());
    // Every learner starts from the first's weights.
    if (n > 1) await get(this.learners.slice(1).map((l) => l.setWeights.remote(this.weights!)));
  }

  /**
   * Multi-agent: numLearners learners per policy trained (one with numLearners 0 or 1), those of
   * a policy in a collective group of their own; untrained policies keep seeded initial weights.
   */
  private async startPolicyLearners(): Promise<void> {
    const { cpus } = this.config.learnerActors();
    const n = Math.max(1, this.config.learnerOpts.numLearners);
    const groups: [string, ActorHandle<PPOLearnerMethods>[]][] = [];
    for (const { p, k } of this.trainedPolicies()) {
      const groupName = n > 1 ? `rllib-ppo-${p.id}-${randomUUID().slice(0, 8)}` : undefined;
      const spec = this.learnerSpec(p, this.policySeed(k));
      const ls = Array.from(
        { length: n },
        (_, rank) =>
          PPOLearner.options({ numCpus: cpus, isolation: 'thread' }).remote({
            ...spec,
            ...(groupName ? { group: { name: groupName, rank, size: n } } : {}),
          }) as unknown as ActorHandle<PPOLearnerMethods>,
      );
      this.policyLearners.set(p.id, ls);
      if (groupName) groups.push([groupName, ls]);
    }
    if (groups.length) {
      const { collective } = await import('@ray-ts/core');
      for (const [groupName, ls] of groups) await collective.createCollectiveGroup(ls, { groupName });
    }
    const firsts = [...this.policyLearners.values()].map((ls) => ls[0]);
    const fromLearners = await get(firsts.map((l) => l.getWeights.remote()));
    // A policy's learners start from its first learner's weights.
    if (n > 1)
      await get(
        [...this.policyLearners.values()].flatMap((ls, i) =>
          ls.slice(1).map((l) => l.setWeights.remote(fromLearners[i])),
        ),
      );
    if (this.weights) return;
    const w = new Float32Array(this.weightCount());
    const ids = [...this.policyLearners.keys()];
    this.policies.forEach((p, k) => {
      const i = ids.indexOf(p.id);
      w.set(i >= 0 ? fromLearners[i] : initialActorCriticWeights(p.nets, this.policySeed(k)), p.offset);
    });
    this.weights = w;
  }

  protected async stopLearners(): Promise<void> {
    await Promise.all(
      [...this.learners, ...[...this.policyLearners.values()].flat()].map((l) => kill(l).catch(() => undefined)),
    );
  }

  protected async trainingStep() {
    if (this.multiAgent) return this.multiAgentTrainingStep();
    const t = this.config.train;
    const runners = this.runners.length;
    const perEnv = Math.max(1, Math.ceil(t.trainBatchSize / (runners * this.config.runners.numEnvsPerEnvRunner)));
    const t0 = performance.now();
    const w = put(this.weights!);
    const batches = await get(
      (this.runners as ActorHandle<EnvRunnerMethods>[]).map((r) => r.sample.remote(w as never, perEnv)),
    );
    const sampleS = (performance.now() - t0) / 1000;
    const batch = concat(batches);
    const t1 = performance.now();
    const seed = this.config.seed * 100_003 + this.iteration;
    const outs = await get(
      this.learners.map((l) =>
        l.update.remote(batch, { numEpochs: t.numEpochs, minibatchSize: t.minibatchSize, seed }),
      ),
    );
    const learnS = (performance.now() - t1) / 1000;
    this.weights = outs[0].weights;
    return {
      sampled: batch.count,
      trained: batch.count,
      sampleS,
      learnS,
      episodes: {
        returns: batches.flatMap((b) => b.episodeReturns),
        lengths: batches.flatMap((b) => b.episodeLengths),
      },
      stats: outs[0].stats as unknown as Record<string, number>,
    };
  }

  /**
   * Multi-agent: the runners sample `trainBatchSize` env steps in all; each policy trained is
   * updated on its agents' steps by its learner (in parallel); the others keep their weights.
   */
  private async multiAgentTrainingStep() {
    const t = this.config.train;
    const runners = this.runners as unknown as ActorHandle<MultiAgentEnvRunnerMethods>[];
    const perEnv = Math.max(
      1,
      Math.ceil(t.trainBatchSize / (runners.length * this.config.runners.numEnvsPerEnvRunner)),
    );
    const t0 = performance.now();
    const w = put(this.weights!);
    const samples: MultiAgentSample[] = await get(runners.map((r) => r.sample.remote(w as never, perEnv)));
    const sampleS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const seed = this.config.seed * 100_003 + this.iteration;
    const jobs = this.trainedPolicies().flatMap(({ p, k }) => {
      const batch = concat(samples.map((s) => s.batches[p.id]));
      if (batch.count === 0) return [];
      const opts = { numEpochs: t.numEpochs, minibatchSize: t.minibatchSize, seed: seed + 7919 * k };
      // A policy's learners each take their share of every minibatch; their weights stay the same.
      return [{ p, batch, out: this.policyLearners.get(p.id)!.map((l) => l.update.remote(batch, opts)) }];
    });
    const outs = (await Promise.all(jobs.map((j) => get(j.out)))).map((o) => o[0]);
    const learnS = (performance.now() - t1) / 1000;
    const weights = this.weights!.slice();
    const stats: Record<string, number> = {};
    jobs.forEach(({ p }, i) => {
      weights.set(outs[i].weights, p.offset);
      for (const [k, v] of Object.entries(outs[i].stats)) stats[`${p.id}/${k}`] = v;
      stats[`${p.id}/numAgentStepsTrained`] = jobs[i].batch.count;
    });
    this.weights = weights;
    const sampled = samples.reduce((n, s) => n + s.numEnvSteps, 0);
    const merge = (key: 'policyReturns' | 'agentReturns') => {
      const out: Record<string, number[]> = {};
      for (const s of samples) for (const [id, rs] of Object.entries(s[key])) (out[id] ??= []).push(...rs);
      return out;
    };
    return {
      sampled,
      trained: jobs.length ? sampled : 0,
      sampleS,
      learnS,
      stats,
      agentSteps: samples.reduce((n, s) => n + s.numAgentSteps, 0),
      episodes: {
        returns: samples.flatMap((s) => s.episodeReturns),
        lengths: samples.flatMap((s) => s.episodeLengths),
        policyReturns: merge('policyReturns'),
        agentReturns: merge('agentReturns'),
      },
    };
  }

  protected async learnerState(): Promise<Record<string, unknown>> {
    if (this.multiAgent) {
      // The weights are this.weights (all policies'); each learner adds its KL coefficient.
      const ids = [...this.policyLearners.keys()];
      const states = await get([...this.policyLearners.values()].map((ls) => ls[0].getState.remote()));
      return { policies: Object.fromEntries(ids.map((id, i) => [id, { klCoeff: states[i].klCoeff }])) };
    }
    return (await get(this.learners[0].getState.remote())) as unknown as Record<string, unknown>;
  }

  protected async setLearnerState(s: Record<string, unknown>): Promise<void> {
    if (this.multiAgent) {
      const { weights, policies } = s as { weights: Float32Array; policies?: Record<string, { klCoeff: number }> };
      await get(
        this.trainedPolicies().flatMap(({ p }) =>
          this.policyLearners.get(p.id)!.map((l) =>
            l.setState.remote({
              weights: weights.slice(p.offset, p.offset + p.size),
              klCoeff: policies?.[p.id]?.klCoeff ?? this.config.train.klCoeff,
            }),
          ),
        ),
      );
      return;
    }
    await get(this.learners.map((l) => l.setState.remote(s as never)));
  }
}

/** The runners' batches as one. */
function concat(bs: SampleBatch[]): SampleBatch {
  return {
    count: bs.reduce((n, b) => n + b.count, 0),
    obsDim: bs[0].obsDim,
    actDim: bs[0].actDim,
    ...concatColumns(bs, ['obs', 'actions', 'logp', 'distInputs', 'values', 'advantages', 'valueTargets'] as const),
    episodeReturns: bs.flatMap((b) => b.episodeReturns),
    episodeLengths: bs.flatMap((b) => b.episodeLengths),
  };
}

registerAlgorithm('PPO', () => new PPOConfig());
