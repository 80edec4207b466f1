/**
 * What off-policy algorithms (DQN, SAC) share: a replay buffer held by the learners, and an
 * iteration that alternates rounds of sampling (`rolloutFragmentLength` steps per env) with
 * `trainingIntensity / trainBatchSize` updates per env step sampled, until
 * `minSampleTimestepsPerIteration` steps were sampled.
 *
 * Sampling and learning overlap: as soon as a round's transitions arrive, the next round starts
 * on the env runners (with the weights they have, one update behind) while the learner adds the
 * transitions to its buffer and updates. Off-policy learning does not need the freshest weights,
 * and the run stays deterministic for a seed: which weights a round uses never depends on timing.
 *
 * With `learners({ numLearners: n })`, n > 1, each learner holds a shard of the buffer (the
 * transitions are dealt round-robin, capacity split evenly), samples `trainBatchSize` from its
 * shard per update, and the learners average their gradients with core's allreduce (Train's
 * `averageGradients`), so their networks stay identical, as RLlib's learner group does with
 * `train_batch_size_per_learner`: each update trains on n x trainBatchSize transitions.
 */
import { randomUUID } from 'node:crypto';
import { collective, get, kill, put, type ActorHandle, type ObjectRef } from '@ray-ts/core';
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
  for (const k of ['trainBatchSize', 'rolloutFragmentLength', 'minSampleTimestepsPerIteration'] as const)
    if (o[k] !== undefined) positiveInt(o[k], `training().${k}`);
  if (o.storeBufferInCheckpoints !== undefined && typeof o.storeBufferInCheckpoints !== 'boolean') {
    throw new RLlibInvalidArgumentError(
      `training().storeBufferInCheckpoints must be true or false, got ${JSON.stringify(o.storeBufferInCheckpoints)}.`,
    );
  }
  if (o.numStepsSampledBeforeLearningStarts !== undefined)
    positiveInt(o.numStepsSampledBeforeLearningStarts, 'training().numStepsSampledBeforeLearningStarts', true);
  if (o.replayBuffer !== undefined) {
    const rb = o.replayBuffer;
    checkKeys(rb, REPLAY_KEYS, 'training().replayBuffer');
    if (rb.capacity !== undefined) positiveInt(rb.capacity, 'training().replayBuffer.capacity');
    if (rb.prioritized !== undefined && typeof rb.prioritized !== 'boolean')
      throw new RLlibInvalidArgumentError(
        `training().replayBuffer.prioritized must be true or false, got ${JSON.stringify(rb.prioritized)}.`,
      );
    for (const k of ['alpha', 'beta', 'betaFinal'] as const)
      if (rb[k] !== undefined) positiveNumber(rb[k], `training().replayBuffer.${k}`);
    if (rb.betaAnnealingSteps !== undefined)
      positiveInt(rb.betaAnnealingSteps, 'training().replayBuffer.betaAnnealingSteps', true);
  }
}

/** What every off-policy learner is given: its buffer's settings, batch size and seed. */
export interface ReplayLearnerSpec {
  trainBatchSize: number;
  /** Updates wait until the buffer holds this many transitions (and at least one batch); with several learners, all of them together. */
  numStepsSampledBeforeLearningStarts: number;
  /** This learner's buffer (its shard's capacity, with several learners). */
  replayBuffer: { capacity: number; prioritized: boolean; alpha: number };
  /** Checkpoints keep the buffer's transitions. */
  storeBufferInCheckpoints: boolean;
  seed: number;
  /** With several learners: their collective group, and this learner's rank in it. */
  group?: LearnerGroup;
}

/** A learner's place among several (they average gradients in the collective group `name`). */
export interface LearnerGroup {
  name: string;
  rank: number;
  size: number;
}

/**
 * Whether the learners may update now: this one's shard holds a batch and its share of
 * `numStepsSampledBeforeLearningStarts`, and, with several learners, every one's does (all must
 * take part in every allreduce, so they decide together).
 */
export async function learnersCanLearn(bufferSize: number, spec: ReplayLearnerSpec): Promise<boolean> {
  const g = spec.group;
  const ok =
    bufferSize >= Math.max(spec.trainBatchSize, Math.ceil(spec.numStepsSampledBeforeLearningStarts / (g?.size ?? 1)));
  if (!g) return ok;
  const all = await collective.allreduce(new Float32Array([ok ? 1 : 0]), { groupName: g.name, op: 'min' });
  return all[0] === 1;
}

/** The seed of a learner's own draws (its batches, SAC's noise): each learner of a group has its own; the networks start alike from `seed`. */
export function shardSeed(spec: ReplayLearnerSpec): number {
  return spec.seed + 7919 * (spec.group?.rank ?? 0);
}

/** `grads` averaged over the learners' group (the input disposed), or as they are with one learner. */
export async function groupGradients<T extends Record<string, unknown>>(
  grads: T,
  group: LearnerGroup | undefined,
): Promise<T> {
  if (!group) return grads;
  const { averageGradients } = await import('@ray-ts/train/tfjs');
  return (await averageGradients(grads as never, group.name, { disposeInput: true })) as unknown as T;
}

/** What an off-policy learner actor answers to. */
export interface OffPolicyLearnerMethods {
  getWeights(): Promise<Float32Array>;
  setWeights(w: Float32Array): Promise<void>;
  /** Appends transitions to the replay buffer; returns its size. */
  addBatch(batch: TransitionBatch): number;
  /** Up to `numUpdates` updates (none before learning starts); the weights runners read, and stats averaged over the updates. */
  update(opts: {
    numUpdates: number;
    beta: number;
  }): Promise<{ weights: Float32Array; stats: Record<string, number>; numEnvStepsTrained: number }>;
  getState(): Promise<unknown>;
  setState(s: never): Promise<void>;
}

/** Stats that are counts (summed over an iteration's rounds, or the last value), not per-update means. */
const COUNTS = new Set(['numUpdates', 'numTargetUpdates', 'replayBufferSize']);

/** An off-policy algorithm: subclasses make a learner and say how a runner samples a round. */
export abstract class OffPolicyAlgorithm<C extends AlgorithmConfig<OffPolicyTrainingOptions>> extends Algorithm<C> {
  protected learners: ActorHandle<OffPolicyLearnerMethods>[] = [];
  /** Fractional updates owed by past rounds. */
  private updateCarry = 0;
  /** The learner that gets the next round's first transition (several learners). */
  private dealNext = 0;

  /**
   * Starts a learner actor with `numCpus` and the settings every learner shares (`base`: its
   * buffer's shard, seed and group filled in).
   */
  protected abstract createLearner(base: ReplayLearnerSpec, numCpus: number): ActorHandle<OffPolicyLearnerMethods>;

  protected async startLearners(): Promise<void> {
    const t = this.config.train;
    const rb = this.replayOptions();
    const { count: n, cpus } = this.config.learnerActors();
    const groupName = n > 1 ? `rllib-${this.config.algoName.toLowerCase()}-${randomUUID().slice(0, 8)}` : undefined;
    this.learners = Array.from({ length: n }, (_, rank) =>
      this.createLearner(
        {
          trainBatchSize: t.trainBatchSize,
          numStepsSampledBeforeLearningStarts: t.numStepsSampledBeforeLearningStarts,
          replayBuffer: { capacity: Math.ceil(rb.capacity / n), prioritized: rb.prioritized, alpha: rb.alpha },
          storeBufferInCheckpoints: t.storeBufferInCheckpoints,
          seed: this.config.seed,
          ...(groupName ? { group: { name: groupName, rank, size: n } } : {}),
        },
        cpus,
      ),
    );
    if (groupName) await collective.createCollectiveGroup(this.learners, { groupName });
    this.weights ??= await get(this.learners[0].getWeights.remote());
    if (n > 1) await get(this.learners.slice(1).map((l) => l.setWeights.remote(this.weights!)));
  }

  /** Starts one runner's round of `steps` steps per env with the weights `w`, `lifetime` env steps into the run. */
  protected abstract sampleRound(
    runner: ActorHandle<unknown>,
    w: ObjectRef<Float32Array>,
    steps: number,
    lifetime: number,
  ): ObjectRef<OffPolicySampleBatch>;

  /** Values of the round's schedules to report (DQN's epsilon). */
  protected roundStats(_lifetime: number): Record<string, number> {
    return {};
  }

  /** The replay options with their defaults filled in. */
  protected abstract replayOptions(): Required<ReplayBufferOptions>;

  protected async stopLearners(): Promise<void> {
    await Promise.all(this.learners.map((l) => kill(l).catch(() => undefined)));
    this.learners = [];
  }

  protected async trainingStep() {
    const t = this.config.train;
    const rb = this.replayOptions();
    const learners = this.learners;
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
      const all = concat(batches);
      const added =
        learners.length === 1
          ? [learners[0].addBatch.remote(all)]
          : this.deal(all).map((b, k) => learners[k].addBatch.remote(b));
      const outs = await get(learners.map((l) => l.update.remote({ numUpdates, beta })));
      bufferSize = (await get(added)).reduce((a, b) => a + b, 0);
      learnS += (performance.now() - t1) / 1000;
      // The learners' networks are the same: the first's weights and stats stand for all.
      const out = outs[0];
      this.weights = out.weights;
      trained += out.numEnvStepsTrained * learners.length;
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
      sampled,
      trained,
      sampleS,
      learnS,
      episodes: { returns, lengths },
      stats: {
        ...stats,
        ...extra,
        ...(rb.prioritized ? { beta } : {}),
        numUpdates: updates,
        numTargetUpdates: targetUpdates,
        replayBufferSize: bufferSize,
      },
    };
  }

  /** Deals a round's transitions round-robin over the learners' shards (they stay within one of each other). */
  private deal(b: TransitionBatch): TransitionBatch[] {
    const n = this.learners.length;
    const rows: number[][] = Array.from({ length: n }, () => []);
    for (let r = 0; r < b.count; r++) rows[(this.dealNext + r) % n].push(r);
    this.dealNext = (this.dealNext + b.count) % n;
    return rows.map((idx) => selectRows(b, idx));
  }

  protected async learnerState(): Promise<Record<string, unknown>> {
    const [first, ...others] = (await get(this.learners.map((l) => l.getState.remote()))) as Record<string, unknown>[];
    // The others' weights are the first's (which the algorithm keeps as `weights`).
    const rest = others.map(({ weights: _same, ...o }) => o);
    return {
      ...first,
      updateCarry: this.updateCarry,
      ...(rest.length ? { dealNext: this.dealNext, otherLearners: rest } : {}),
    };
  }

  /**
   * Restores the learners. With as many learners as the checkpoint had, each gets its own state
   * (its buffer's shard, its generators); with another count, all get the first's networks and
   * optimizer, and buffers start empty.
   */
  protected async setLearnerState(s: Record<string, unknown>): Promise<void> {
    const { updateCarry, dealNext, otherLearners, ...first } = s as {
      updateCarry?: number;
      dealNext?: number;
      otherLearners?: Record<string, unknown>[];
      weights?: Float32Array;
    };
    this.updateCarry = updateCarry ?? 0;
    const states = [first, ...(otherLearners ?? [])];
    const same = states.length === this.learners.length;
    this.dealNext = same ? (dealNext ?? 0) : 0;
    await get(
      this.learners.map((l, k) => {
        const st = same ? states[k] : { ...first, buffer: undefined };
        // Only the first learner's weights travel in `weights` (the algorithm's): the others had the same.
        return l.setState.remote({ ...st, weights: first.weights } as never);
      }),
    );
  }
}

/** The rows `idx` of a transition batch. */
function selectRows(b: TransitionBatch, idx: number[]): TransitionBatch {
  const pick = (src: Float32Array, w: number) => {
    const out = new Float32Array(idx.length * w);
    idx.forEach((r, k) => out.set(src.subarray(r * w, (r + 1) * w), k * w));
    return out;
  };
  return {
    count: idx.length,
    obsDim: b.obsDim,
    actDim: b.actDim,
    obs: pick(b.obs, b.obsDim),
    nextObs: pick(b.nextObs, b.obsDim),
    actions: pick(b.actions, b.actDim ?? 1),
    rewards: pick(b.rewards, 1),
    dones: pick(b.dones, 1),
    discounts: pick(b.discounts, 1),
  };
}

/** The runners' transitions as one batch. */
function concat(bs: OffPolicySampleBatch[]): TransitionBatch {
  return {
    count: bs.reduce((n, b) => n + b.count, 0),
    obsDim: bs[0].obsDim,
    actDim: bs[0].actDim,
    ...concatColumns(bs, ['obs', 'actions', 'rewards', 'nextObs', 'dones', 'discounts'] as const),
  };
}
