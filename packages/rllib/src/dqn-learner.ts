/**
 * The DQN learner: online and target Q-networks in TensorFlow.js (dueling by default), the replay
 * buffer, and the update: double-DQN n-step targets from the target network, a Huber loss
 * weighted by the prioritized buffer's importance weights, Adam (gradients optionally clipped by
 * global norm), new priorities from the TD errors, and a target sync every
 * `targetNetworkUpdateFreq` env steps trained (RLlib's DQN loss on the new API stack).
 *
 * The networks are plain tfjs variables rather than a layers model: a few ops per layer, and their
 * flat layout is exactly what `qForward` in dqn-runner.ts reads.
 */
import { remote, SeededRng, type SeededRngState } from '@ray-ts/core';
import type * as tfjs from '@tensorflow/tfjs';
import { qParamCount, type QNetSpec } from './dqn-runner.js';
import { assignFlat, ClippedAdam, flatTensors, glorotMlpParams, tfMlp, type AdamState } from './model.js';
import { groupGradients, learnersCanLearn, shardSeed, type ReplayLearnerSpec } from './off-policy.js';
import {
  PrioritizedReplayBuffer,
  ReplayBuffer,
  reprioritize,
  type ReplayBufferContents,
  type TransitionBatch,
} from './replay-buffer.js';

/** The learner's settings (from DQNConfig). */
export interface DQNLearnerSpec extends ReplayLearnerSpec {
  q: QNetSpec;
  lr: number;
  doubleQ: boolean;
  /** Env steps trained (updates × batch size) between target syncs. */
  targetNetworkUpdateFreq: number;
  gradClip: number | undefined;
}

/** Statistics of one `update()` call, averaged over its updates. */
export interface DQNLearnerStats {
  [k: string]: number;
  loss: number;
  /** Mean |TD error|. */
  tdError: number;
  /** Mean Q of the taken actions. */
  meanQ: number;
  numUpdates: number;
  numTargetUpdates: number;
  replayBufferSize: number;
}

/** The learner's checkpoint state (weights separately, as the algorithm stores them). */
export interface DQNLearnerState {
  weights: Float32Array;
  /** Written as a binary file in checkpoints. */
  targetWeights: Float32Array;
  /** Adam's step count and moments, in variable order. */
  optimizer: AdamState;
  stepsTrained: number;
  lastTargetSync: number;
  numTargetUpdates: number;
  bufferRng: SeededRngState;
  /** With `storeBufferInCheckpoints`: the transitions. */
  buffer?: ReplayBufferContents;
}

/** @internal The actor class (tests and benchmarks drive it directly). */
export class DQNLearnerActor {
  private tf!: typeof tfjs;
  private vars: tfjs.Variable[] = [];
  private target: tfjs.Tensor[] = [];
  private opt!: ClippedAdam;
  private readonly buffer: ReplayBuffer | PrioritizedReplayBuffer;
  private stepsTrained = 0;
  private lastTargetSync = 0;
  private numTargetUpdates = 0;
  private backend = '';

  constructor(private readonly spec: DQNLearnerSpec) {
    const rb = spec.replayBuffer;
    const obsDim = spec.q.sizes[0];
    this.buffer = rb.prioritized
      ? new PrioritizedReplayBuffer({ capacity: rb.capacity, obsDim, alpha: rb.alpha, seed: shardSeed(spec) + 31 })
      : new ReplayBuffer({ capacity: rb.capacity, obsDim, seed: shardSeed(spec) + 31 });
  }

  private async ready(): Promise<void> {
    if (this.opt) return;
    const { setupBackend } = await import('@ray-ts/train/tfjs');
    this.backend = await setupBackend();
    this.tf = await import('@tensorflow/tfjs');
    const tf = this.tf;
    this.vars = glorotMlpParams(this.spec.q.sizes, new SeededRng(this.spec.seed * 1000 + 7)).map((p) =>
      tf.variable(tf.tensor(p.data, p.shape)),
    );
    this.target = this.vars.map((v) => tf.keep(v.clone()));
    this.opt = new ClippedAdam(tf, this.vars, this.spec.lr, this.spec.gradClip);
  }

  /** Q-values (`rows × numActions`) of `x` through the layers `params` (online or target). */
  private q(params: tfjs.Tensor[], x: tfjs.Tensor2D): tfjs.Tensor2D {
    const tf = this.tf;
    const h = tfMlp(tf, params, x, this.spec.q.activation);
    if (!this.spec.q.dueling) return h;
    const n = this.spec.q.numActions;
    const [v, a] = tf.split(h, [1, n], 1);
    return tf.add(v, tf.sub(a, tf.mean(a, 1, true)));
  }

  private flat(ts: tfjs.Tensor[]): Float32Array {
    return flatTensors(ts);
  }

  private fromFlat(w: ArrayLike<number>): tfjs.Tensor[] {
    const total = qParamCount(this.spec.q);
    if (w.length !== total) throw new Error(`DQN weights of ${w.length} floats do not fit a Q-network of ${total}`);
    let at = 0;
    return this.vars.map((v) => {
      const t = this.tf.tensor(
        Float32Array.from({ length: v.size }, (_, i) => w[at + i]),
        v.shape,
      );
      at += v.size;
      return t;
    });
  }

  /** The online network's weights (what env runners read). */
  async getWeights(): Promise<Float32Array> {
    await this.ready();
    return this.flat(this.vars);
  }

  /** Sets the online network's weights (the target network keeps its own). */
  async setWeights(w: Float32Array): Promise<void> {
    await this.ready();
    assignFlat(this.tf, this.vars, w);
  }

  /** Appends sampled transitions to the replay buffer; returns its size. */
  addBatch(batch: TransitionBatch): number {
    this.buffer.add(batch);
    return this.buffer.size;
  }

  /**
   * Runs up to `numUpdates` updates on batches from the buffer (none until it holds
   * `numStepsSampledBeforeLearningStarts` transitions); returns the new weights and stats.
   */
  async update(opts: {
    numUpdates: number;
    beta: number;
  }): Promise<{ weights: Float32Array; stats: DQNLearnerStats; numEnvStepsTrained: number; backend: string }> {
    await this.ready();
    const tf = this.tf;
    const B = this.spec.trainBatchSize;
    const od = this.spec.q.sizes[0];
    const n = this.spec.q.numActions;
    const sums = { loss: 0, tdError: 0, meanQ: 0 };
    let updates = 0;
    const targetsBefore = this.numTargetUpdates;
    const group = this.spec.group;
    const canLearn = await learnersCanLearn(this.buffer.size, this.spec);
    for (let u = 0; canLearn && u < opts.numUpdates; u++) {
      const s =
        this.buffer instanceof PrioritizedReplayBuffer
          ? this.buffer.sample(B, { beta: opts.beta })
          : this.buffer.sample(B);
      const { grads, out } = tf.tidy(() => {
        const x = tf.tensor2d(s.obs, [B, od]);
        const nx = tf.tensor2d(s.nextObs, [B, od]);
        const act = tf.oneHot(tf.tensor1d(s.actions, 'int32'), n);
        // y = r + gamma^k * (1 - done) * Q_target(s', argmax_a Q_online(s', a)) (double Q), or max_a Q_target.
        const qNextT = this.q(this.target, nx);
        const best = this.spec.doubleQ ? tf.argMax(this.q(this.vars, nx), 1) : tf.argMax(qNextT, 1);
        const qNext = tf.sum(tf.mul(qNextT, tf.oneHot(best, n)), 1);
        const notDone = tf.sub(1, tf.tensor1d(s.dones));
        const y = tf.add(tf.tensor1d(s.rewards), tf.mul(tf.mul(tf.tensor1d(s.discounts), notDone), qNext));
        const w = tf.tensor1d(s.weights);
        // Kept: variableGrads disposes what its function makes, but for the result.
        let td: tfjs.Tensor | undefined;
        let qa: tfjs.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          qa = tf.keep(tf.sum(tf.mul(this.q(this.vars, x), act), 1));
          td = tf.keep(tf.sub(qa, y));
          const abs = tf.abs(td);
          const quad = tf.minimum(abs, 1);
          const huber = tf.add(tf.mul(0.5, tf.square(quad)), tf.sub(abs, quad));
          return tf.mean(tf.mul(w, huber)) as tfjs.Scalar;
        }, this.vars);
        // One read back: |TD| per row, then loss and mean Q.
        const res = tf.concat([tf.abs(td!), tf.reshape(value, [1]), tf.reshape(tf.mean(qa!), [1])]);
        tf.dispose([td!, qa!]);
        return { grads, out: res };
      });
      // With several learners, the average of all their gradients (each from its own shard's batch).
      const g = await groupGradients(grads, group);
      this.opt.apply(g); // clips by global norm when gradClip is set
      tf.dispose(Object.values(g));
      const vals = out.dataSync() as Float32Array;
      out.dispose();
      sums.tdError += reprioritize(this.buffer, s, vals.subarray(0, B));
      sums.loss += vals[B];
      sums.meanQ += vals[B + 1];
      updates++;
      this.stepsTrained += B * (group?.size ?? 1);
      if (this.stepsTrained - this.lastTargetSync >= this.spec.targetNetworkUpdateFreq) this.syncTarget();
    }
    const d = Math.max(1, updates);
    const stats: DQNLearnerStats = {
      loss: updates ? sums.loss / d : NaN,
      tdError: updates ? sums.tdError / d : NaN,
      meanQ: updates ? sums.meanQ / d : NaN,
      numUpdates: updates,
      numTargetUpdates: this.numTargetUpdates - targetsBefore,
      replayBufferSize: this.buffer.size,
    };
    return { weights: this.flat(this.vars), stats, numEnvStepsTrained: updates * B, backend: this.backend };
  }

  private syncTarget(): void {
    this.tf.dispose(this.target);
    this.target = this.vars.map((v) => this.tf.keep(v.clone()));
    this.lastTargetSync = this.stepsTrained;
    this.numTargetUpdates++;
  }

  /** The learner's state for checkpoints: both networks, Adam's moments, counters (not the buffer's transitions, as RLlib by default). */
  async getState(): Promise<DQNLearnerState> {
    await this.ready();
    const optimizer = await this.opt.getState();
    return {
      weights: this.flat(this.vars),
      targetWeights: this.flat(this.target),
      optimizer,
      stepsTrained: this.stepsTrained,
      lastTargetSync: this.lastTargetSync,
      numTargetUpdates: this.numTargetUpdates,
      bufferRng: this.buffer.getRngState(),
      ...(this.spec.storeBufferInCheckpoints ? { buffer: this.buffer.getContents() } : {}),
    };
  }

  async setState(s: DQNLearnerState): Promise<void> {
    await this.setWeights(s.weights);
    const tf = this.tf;
    tf.dispose(this.target);
    this.target = this.fromFlat(s.targetWeights).map((t) => tf.keep(t));
    if (s.optimizer) await this.opt.setState(s.optimizer);
    this.stepsTrained = s.stepsTrained;
    this.lastTargetSync = s.lastTargetSync;
    this.numTargetUpdates = s.numTargetUpdates;
    this.buffer.setRngState(s.bufferRng);
    if (s.buffer) this.buffer.setContents(s.buffer);
  }
}

/** @internal */
export const DQNLearner = remote(DQNLearnerActor);
/** @internal */
export type DQNLearnerMethods = DQNLearnerActor;
