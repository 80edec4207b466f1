/**
 * What off-policy algorithms (DQN, SAC) share: a replay buffer held by one learner, and an
 * iteration that alternates rounds of sampling (`rolloutFragmentLength` steps per env) with
 * `trainingIntensity / trainBatchSize` updates per env step sampled, until
 * `minSampleTimestepsPerIteration` steps were sampled.
 *
 * Sampling and learning overlap: as soon as a round's transitions arrive, the next round starts
 * on the env runners (with the weights they have, one update behind) while the learner adds the
 * transitions to its buffer and updates. Off-policy learning does not need the freshest weights,
 * and the run stays deterministic for a seed: which weights a round uses never depends on timing.
 */
import { get, kill, put, type ActorHandle, type ObjectRef } from '@ray-ts/core';
import { Algorithm } from './algorithm.js';
import type { AlgorithmConfig } from './algorithm-config.js';
import { positiveInt, positiveNumber, checkKeys } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { concatColumns } from './env-runner.js';
import type { OffPolicySampleBatch } from './off-policy-runner.js';
import type { TransitionBatch } from './replay-buffer.js';

/** An off-policy algorithm's replay buffer (RLlib's `replay_buffer_config`); every option has a default. */
export interface ReplayBufferOptions {
  /** Transitions kept, the oldest overwritten. */
  capacity?: number;
  /** Prioritized replay (false: uniform). */
  prioritized?: boolean;
  /** How much priorities count, 0 uniform to 1 proportional (default 0.6). */
  alpha?: number;
  /** Importance-sampling exponent at the start (default 0.4). */
  beta?: number;
  /** ... annealed linearly to this (default 1, as in the PER paper; set it to beta for RLlib's constant beta). */
  betaFinal?: number;
  /** ... over this many env steps sampled (default 50000). */
  betaAnnealingSteps?: number;
}

/** The training options every off-policy algorithm has. */
export interface OffPolicyTrainingOptions {
  [k: string]: unknown;
  replayBuffer: ReplayBufferOptions;
  /** Transitions per update. */
  trainBatchSize: number;
  /** Updates start once the buffer holds this many transitions. */
  numStepsSampledBeforeLearningStarts: number;
  /** Steps each env takes per sampling round. */
  rolloutFragmentLength: number;
  /** Env steps trained per env step sampled: `trainingIntensity / trainBatchSize` updates per sampled step. */
  trainingIntensity: number;
  /** An iteration samples at least this many env steps. */
  minSampleTimestepsPerIteration: number;
  /**
   * Checkpoints keep the replay buffer's transitions (default false, as RLlib's
   * `store_buffer_in_checkpoints`): a restored algorithm then learns at once instead of refilling
   * its buffer first. They go into binary files next to the checkpoint's state.
   */
  storeBufferInCheckpoints: boolean;
}

export const REPLAY_KEYS = ['capacity', 'prioritized', 'alpha', 'beta', 'betaFinal', 'betaAnnealingSteps'] as const;

/** Checks the options every off-policy algorithm shares. */
export function checkOffPolicyTraining(o: Partial<OffPolicyTrainingOptions>): void {
  if (o.trainingIntensity !== undefined) positiveNumber(o.trainingIntensity, 'training().trainingIntensity', false);
  for (const k of ['trainBatchSize', 'rolloutFragmentLength', 'minSampleTimestepsPerIteration'] as const) if (o[k] !== undefined) positiveInt(o[k], `training().${k}`);
  if (o.storeBufferInCheckpoints !== undefined && typeof o.storeBufferInCheckpoints !== 'boolean') {
    throw new RLlibInvalidArgumentError(`training().storeBufferInCheckpoints must be true or false, got ${JSON.stringify(o.storeBufferInCheckpoints)}.`);
  }
  if (o.numStepsSampledBeforeLearningStarts !== undefined) positiveInt(o.numStepsSampledBeforeLearningStarts, 'training().numStepsSampledBeforeLearningStarts', true);
  if (o.replayBuffer !== undefined) {
    const rb = o.replayBuffer;
    checkKeys(rb, REPLAY_KEYS, 'training().replayBuffer');
    if (rb.capacity !== undefined) positiveInt(rb.capacity, 'training().replayBuffer.capacity');
    if (rb.prioritized !== undefined && typeof rb.prioritized !== 'boolean') throw new RLlibInvalidArgumentError(`training().replayBuffer.prioritized must be true or false, got ${JSON.stringify(rb.prioritized)}.`);
    for (const k of ['alpha', 'beta', 'betaFinal'] as const) if (rb[k] !== undefined) positiveNumber(rb[k], `training().replayBuffer.${k}`);
    if (rb.betaAnnealingSteps !== undefined) positiveInt(rb.betaAnnealingSteps, 'training().replayBuffer.betaAnnealingSteps', true);
  }
}

/** What every off-policy learner is given: its buffer's settings, batch size and seed. */
export interface ReplayLearnerSpec {
  trainBatchSize: number;
  /** Updates wait until the buffer holds this many transitions (and at least one batch). */
  numStepsSampledBeforeLearningStarts: number;
  replayBuffer: { capacity: number; prioritized: boolean; alpha: number };
  /** Checkpoints keep the buffer's transitions. */
  storeBufferInCheckpoints: boolean;
  seed: number;
}

/** What an off-policy learner actor answers to. */
export interface OffPolicyLearnerMethods {
  getWeights(): Promise<Float32Array>;
  /** Appends transitions to the replay buffer; returns its size. */
  addBatch(batch: TransitionBatch): number;
  /** Up to `numUpdates` updates (none before learning starts); the weights runners read, and stats averaged over the updates. */
  update(opts: { numUpdates: number; beta: number }): Promise<{ weights: Float32Array; stats: Record<string, number>; numEnvStepsTrained: number }>;
  getState(): Promise<unknown>;
  setState(s: never): Promise<void>;
}

/** Stats that are counts (summed over an iteration's rounds, or the last value), not per-update means. */
const COUNTS = new Set(['numUpdates', 'numTargetUpdates', 'replayBufferSize']);

/** An off-policy algorithm: subclasses start the learner and say how a runner samples a round. */
export abstract class OffPolicyAlgorithm<C extends AlgorithmConfig<OffPolicyTrainingOptions>> extends Algorithm<C> {
  protected learner: ActorHandle<OffPolicyLearnerMethods> | undefined;
  /** Fractional updates owed by past rounds. */
  private updateCarry = 0;

  /** Starts one runner's round of `steps` steps per env with the weights `w`, `lifetime` env steps into the run. */
  protected abstract sampleRound(runner: ActorHandle<unknown>, w: ObjectRef<Float32Array>, steps: number, lifetime: number): ObjectRef<OffPolicySampleBatch>;

  /** Values of the round's schedules to report (DQN's epsilon). */
  protected roundStats(_lifetime: number): Record<string, number> {
    return {};
  }

  /** The replay options with their defaults filled in. */
  protected abstract replayOptions(): Required<ReplayBufferOptions>;

  protected async stopLearners(): Promise<void> {
    if (this.learner) await kill(this.learner).catch(() => undefined);
  }

  protected async trainingStep() {
    const t = this.config.train;
    const rb = this.replayOptions();
    const learner = this.learner!;
    let sampled = 0;
    let trained = 0;
    let sampleS = 0;
    let learnS = 0;
    const returns: number[] = [];
    const lengths: number[] = [];
    const sums: Record<string, number> = {};
    let updates = 0;
    let targetUpdates = 0;
    let bufferSize = 0;
    let beta = rb.beta;
    let extra: Record<string, number> = {};
    const launch = (lifetime: number): ObjectRef<OffPolicySampleBatch>[] => {
      extra = this.roundStats(lifetime);
      const w = put(this.weights!);
      return this.runners.map((r) => this.sampleRound(r, w, t.rolloutFragmentLength, lifetime));
    };
    let inflight: ObjectRef<OffPolicySampleBatch>[] | undefined = launch(this.stepsSampled);
    while (inflight) {
      const t0 = performance.now();
      const batches: OffPolicySampleBatch[] = await get(inflight);
      sampleS += (performance.now() - t0) / 1000;
      const lifetime = this.stepsSampled + sampled;
      const steps: number = batches.reduce((n, b) => n + b.numEnvSteps, 0);
      sampled += steps;
      // The next round samples while the learner works on this one.
      inflight = sampled < t.minSampleTimestepsPerIteration ? launch(lifetime + steps) : undefined;
      for (const b of batches) {
        returns.push(...b.episodeReturns);
        lengths.push(...b.episodeLengths);
      }
      this.updateCarry += (steps * t.trainingIntensity) / t.trainBatchSize;
      const numUpdates = Math.floor(this.updateCarry);
      this.updateCarry -= numUpdates;
      const frac = rb.betaAnnealingSteps > 0 ? Math.min(1, (lifetime + steps) / rb.betaAnnealingSteps) : 1;
      beta = rb.beta + frac * (rb.betaFinal - rb.beta);
      const t1 = performance.now();
      const added = learner.addBatch.remote(concat(batches));
      const out = await get(learner.update.remote({ numUpdates, beta }));
      bufferSize = await get(added);
      learnS += (performance.now() - t1) / 1000;
      this.weights = out.weights;
      trained += out.numEnvStepsTrained;
      const s = out.stats;
      if (s.numUpdates > 0) {
        for (const [k, v] of Object.entries(s)) if (!COUNTS.has(k)) sums[k] = (sums[k] ?? 0) + v * s.numUpdates;
        updates += s.numUpdates;
      }
      targetUpdates += s.numTargetUpdates ?? 0;
    }
    const stats: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) stats[k] = v / updates;
    return {
      sampled, trained, sampleS, learnS, episodes: { returns, lengths },
      stats: { ...stats, ...extra, ...(rb.prioritized ? { beta } : {}), numUpdates: updates, numTargetUpdates: targetUpdates, replayBufferSize: bufferSize },
    };
  }

  protected async learnerState(): Promise<Record<string, unknown>> {
    const s = await get(this.learner!.getState.remote());
    return { ...(s as Record<string, unknown>), updateCarry: this.updateCarry };
  }

  protected async setLearnerState(s: Record<string, unknown>): Promise<void> {
    const { updateCarry, ...rest } = s as { updateCarry?: number };
    this.updateCarry = updateCarry ?? 0;
    await get(this.learner!.setState.remote(rest as never));
  }
}

/** The runners' transitions as one batch. */
function concat(bs: OffPolicySampleBatch[]): TransitionBatch {
  return {
    count: bs.reduce((n, b) => n + b.count, 0), obsDim: bs[0].obsDim, actDim: bs[0].actDim,
    ...concatColumns(bs, ['obs', 'actions', 'rewards', 'nextObs', 'dones', 'discounts'] as const),
  };
}
