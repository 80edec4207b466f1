/**
 * The SAC learner (Haarnoja et al., "Soft Actor-Critic Algorithms and Applications", 2018, as
 * RLlib's SAC): a squashed Gaussian policy, twin Q-networks with Polyak-averaged targets, and a
 * learned temperature alpha, in TensorFlow.js, with the replay buffer.
 *
 * Each update, on a batch from the buffer:
 * - critics: `y = r + gamma^k (1 - done) (min_i Q'_i(s', a') - alpha log pi(a'|s'))` with
 *   `a' ~ pi(s')`, and `0.5 E[(Q_i(s, a) - y)^2]` for each critic;
 * - actor: `E[alpha log pi(a~|s) - min_i Q_i(s, a~)]`, `a~ = tanh(mu + sigma z)` reparameterized;
 * - temperature: `-E[log alpha (log pi(a~|s) + targetEntropy)]`;
 * - targets: `Q' <- tau Q + (1 - tau) Q'`.
 *
 * Actions are in [-1, 1] (the runners scale them to the env's bounds), so log-probabilities carry
 * tanh's correction `- sum log(1 - a^2)`. The networks are plain tfjs variables laid out as
 * model.ts's `mlpForward` reads them: the runners get the policy's floats as they are.
 */
import { remote, SeededRng, type SeededRngState } from '@ray-ts/core';
import type * as tfjs from '@tensorflow/tfjs';
import {
  assignFlat,
  ClippedAdam,
  flatTensors,
  glorotMlpParams,
  mlpParamCount,
  tfMlp,
  type AdamState,
  type MlpSpec,
} from './model.js';
import {
  PrioritizedReplayBuffer,
  ReplayBuffer,
  reprioritize,
  type ReplayBufferContents,
  type TransitionBatch,
} from './replay-buffer.js';
import { LOG_STD_MAX, LOG_STD_MIN } from './sac-runner.js';
import { groupGradients, learnersCanLearn, shardSeed, type ReplayLearnerSpec } from './off-policy.js';

/** The learner's settings (from SACConfig). */
export interface SACLearnerSpec extends ReplayLearnerSpec {
  pi: MlpSpec;
  /** Each critic: `[obsDim + actDim, ...hiddens, 1]`. */
  q: MlpSpec;
  twinQ: boolean;
  actorLr: number;
  criticLr: number;
  alphaLr: number;
  tau: number;
  initialAlpha: number;
  targetEntropy: number;
  gradClip: number | undefined;
}

/** The learner's checkpoint state (`weights`: the policy then the critics). */
export interface SACLearnerState {
  weights: Float32Array;
  /** Written as a binary file in checkpoints. */
  targetWeights: Float32Array;
  logAlpha: number;
  /** The policy's, the critics' and the temperature's Adam. */
  optimizers: AdamState[];
  stepsTrained: number;
  noiseRng: SeededRngState;
  bufferRng: SeededRngState;
  /** With `storeBufferInCheckpoints`: the transitions. */
  buffer?: ReplayBufferContents;
}

/** @internal The actor class (tests and benchmarks drive it directly). */
export class SACLearnerActor {
  private tf!: typeof tfjs;
  private pi: tfjs.Variable[] = [];
  /** The critics' variables, critic after critic. */
  private qs: tfjs.Variable[][] = [];
  private targets: tfjs.Tensor[][] = [];
  private logAlpha!: tfjs.Variable;
  private actorOpt!: ClippedAdam;
  private criticOpt!: ClippedAdam;
  private alphaOpt!: ClippedAdam;
  private readonly buffer: ReplayBuffer | PrioritizedReplayBuffer;
  private readonly noise: SeededRng;
  private stepsTrained = 0;

  constructor(private readonly spec: SACLearnerSpec) {
    const rb = spec.replayBuffer;
    const obsDim = spec.pi.sizes[0];
    const actDim = this.actDim;
    this.buffer = rb.prioritized
      ? new PrioritizedReplayBuffer({
          capacity: rb.capacity,
          obsDim,
          actDim,
          alpha: rb.alpha,
          seed: shardSeed(spec) + 31,
        })
      : new ReplayBuffer({ capacity: rb.capacity, obsDim, actDim, seed: shardSeed(spec) + 31 });
    this.noise = new SeededRng(shardSeed(spec) * 1000 + 11);
  }

  private get actDim(): number {
    return this.spec.pi.sizes[this.spec.pi.sizes.length - 1] / 2;
  }

  private async ready(): Promise<void> {
    if (this.actorOpt) return;
    const { setupBackend } = await import('@ray-ts/train/tfjs');
    await setupBackend();
    this.tf = await import('@tensorflow/tfjs');
    const tf = this.tf;
    const rng = new SeededRng(this.spec.seed * 1000 + 7);
    const vars = (sizes: number[]) => glorotMlpParams(sizes, rng).map((p) => tf.variable(tf.tensor(p.data, p.shape)));
    this.pi = vars(this.spec.pi.sizes);
    this.qs = Array.from({ length: this.spec.twinQ ? 2 : 1 }, () => vars(this.spec.q.sizes));
    this.targets = this.qs.map((q) => q.map((v) => tf.keep(v.clone())));
    this.logAlpha = tf.variable(tf.scalar(Math.log(this.spec.initialAlpha)));
    this.actorOpt = new ClippedAdam(tf, this.pi, this.spec.actorLr, this.spec.gradClip);
    this.criticOpt = new ClippedAdam(tf, this.qs.flat(), this.spec.criticLr, this.spec.gradClip);
    this.alphaOpt = new ClippedAdam(tf, [this.logAlpha], this.spec.alphaLr);
  }

  /**
   * Reparameterized actions `tanh(mu + sigma z)` of `x` (z given) and their log-probabilities
   * under the squashed Gaussian.
   */
  private policy(x: tfjs.Tensor2D, z: tfjs.Tensor2D): { a: tfjs.Tensor2D; logp: tfjs.Tensor1D } {
    const tf = this.tf;
    const d = this.actDim;
    const out = tfMlp(tf, this.pi, x, this.spec.pi.activation);
    const [mean, rawLogStd] = tf.split(out, [d, d], 1);
    const logStd = tf.clipByValue(rawLogStd, LOG_STD_MIN, LOG_STD_MAX);
    const u = tf.add(mean, tf.mul(tf.exp(logStd), z));
    const a = tf.tanh(u) as tfjs.Tensor2D;
    const gauss = tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(logStd, 0.5 * Math.log(2 * Math.PI)));
    // log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|.
    const squash = tf.mul(2, tf.sub(tf.sub(Math.log(2), u), tf.softplus(tf.mul(-2, u))));
    const logp = tf.sum(tf.sub(gauss, squash), 1) as tfjs.Tensor1D;
    return { a, logp };
  }

  /** min_i Q_i(x, a) over the critics `params` (a column). */
  private minQ(params: readonly (readonly tfjs.Tensor[])[], x: tfjs.Tensor2D, a: tfjs.Tensor2D): tfjs.Tensor1D {
    const tf = this.tf;
    const xa = tf.concat([x, a], 1) as tfjs.Tensor2D;
    const qs = params.map((p) => tfMlp(tf, p, xa, this.spec.q.activation).reshape([-1]) as tfjs.Tensor1D);
    return qs.length === 1 ? qs[0] : (tf.minimum(qs[0], qs[1]) as tfjs.Tensor1D);
  }

  /** Standard normal noise, `rows × actDim`, from the learner's seeded generator. */
  private gaussian(rows: number): tfjs.Tensor2D {
    const d = this.actDim;
    const z = new Float32Array(rows * d);
    for (let i = 0; i < z.length; i++) z[i] = this.noise.normal();
    return this.tf.tensor2d(z, [rows, d]);
  }

  /** The policy's weights (what env runners read). */
  async getWeights(): Promise<Float32Array> {
    await this.ready();
    return flatTensors(this.pi);
  }

  /** Sets the policy's weights (`w` of the policy's size), or every network's (the policy, then each critic). */
  async setWeights(w: Float32Array): Promise<void> {
    await this.ready();
    const [nPi, nQ] = [mlpParamCount(this.spec.pi), mlpParamCount(this.spec.q)];
    if (w.length !== nPi && w.length !== nPi + this.qs.length * nQ)
      throw new Error(
        `SAC weights of ${w.length} floats fit neither the policy (${nPi}) nor all networks (${nPi + this.qs.length * nQ})`,
      );
    assignFlat(this.tf, this.pi, w.subarray(0, nPi));
    if (w.length > nPi) this.qs.forEach((q, i) => assignFlat(this.tf, q, w.subarray(nPi + i * nQ, nPi + (i + 1) * nQ)));
  }

  /** Every network's weights: the policy, then each critic. */
  private allWeights(): Float32Array {
    return flatTensors([...this.pi, ...this.qs.flat()]);
  }

  /** Appends sampled transitions to the replay buffer; returns its size. */
  addBatch(batch: TransitionBatch): number {
    this.buffer.add(batch);
    return this.buffer.size;
  }

  /** Runs up to `numUpdates` updates (none until the buffer holds `numStepsSampledBeforeLearningStarts`); returns the policy's weights and stats. */
  async update(opts: {
    numUpdates: number;
    beta: number;
  }): Promise<{ weights: Float32Array; stats: Record<string, number>; numEnvStepsTrained: number }> {
    await this.ready();
    const tf = this.tf;
    const B = this.spec.trainBatchSize;
    const od = this.spec.pi.sizes[0];
    const ad = this.actDim;
    const sums = { criticLoss: 0, actorLoss: 0, alphaLoss: 0, alpha: 0, entropy: 0, meanQ: 0, tdError: 0 };
    let updates = 0;
    const group = this.spec.group;
    const canLearn = await learnersCanLearn(this.buffer.size, this.spec);
    const criticVars = this.qs.flat();
    for (let u = 0; canLearn && u < opts.numUpdates; u++) {
      const s =
        this.buffer instanceof PrioritizedReplayBuffer
          ? this.buffer.sample(B, { beta: opts.beta })
          : this.buffer.sample(B);
      const zNext = this.gaussian(B);
      const zNow = this.gaussian(B);
      // Each step's gradients are averaged over the learners (with several) between its tidy scopes.
      const step = async (grads: tfjs.NamedTensorMap, opt: ClippedAdam) => {
        const g = await groupGradients(grads, group);
        opt.apply(g);
        tf.dispose(Object.values(g));
      };
      // Critics, on targets without gradients.
      const c = tf.tidy(() => {
        const x = tf.tensor2d(s.obs, [B, od]);
        const nx = tf.tensor2d(s.nextObs, [B, od]);
        const a = tf.tensor2d(s.actions, [B, ad]);
        const w = tf.tensor1d(s.weights);
        const alpha = tf.exp(this.logAlpha);
        const next = this.policy(nx, zNext);
        const softQ = tf.sub(this.minQ(this.targets, nx, next.a), tf.mul(alpha, next.logp));
        const notDone = tf.sub(1, tf.tensor1d(s.dones));
        const y = tf.add(tf.tensor1d(s.rewards), tf.mul(tf.mul(tf.tensor1d(s.discounts), notDone), softQ));
        let td: tfjs.Tensor | undefined;
        let q0: tfjs.Tensor | undefined;
        const xa = tf.concat([x, a], 1) as tfjs.Tensor2D;
        const critic = tf.variableGrads(() => {
          const losses = this.qs.map((p, i) => {
            const q = tfMlp(tf, p, xa, this.spec.q.activation).reshape([-1]);
            const err = tf.sub(q, y);
            if (i === 0) {
              q0 = tf.keep(q);
              td = tf.keep(tf.abs(err));
            }
            return tf.mul(0.5, tf.mean(tf.mul(w, tf.square(err))));
          });
          return tf.addN(losses) as tfjs.Scalar;
        }, criticVars);
        const kept = { grads: critic.grads, value: critic.value, td: td!.reshape([-1]), meanQ: tf.mean(q0!), alpha };
        tf.dispose([td!, q0!]);
        return kept;
      });
      await step(c.grads, this.criticOpt);
      // Actor, through the updated critics.
      const act = tf.tidy(() => {
        const x = tf.tensor2d(s.obs, [B, od]);
        const alpha = tf.exp(this.logAlpha);
        let logp: tfjs.Tensor | undefined;
        const actor = tf.variableGrads(() => {
          const now = this.policy(x, zNow);
          logp = tf.keep(now.logp);
          return tf.mean(tf.sub(tf.mul(alpha, now.logp), this.minQ(this.qs, x, now.a))) as tfjs.Scalar;
        }, this.pi);
        return { grads: actor.grads, value: actor.value, logp: logp! };
      });
      await step(act.grads, this.actorOpt);
      // Temperature.
      const temp = tf.tidy(() => {
        const target = tf.add(act.logp, this.spec.targetEntropy);
        return tf.variableGrads(() => tf.neg(tf.mean(tf.mul(this.logAlpha, target))) as tfjs.Scalar, [this.logAlpha]);
      });
      await step(temp.grads, this.alphaOpt);
      // Polyak targets.
      tf.tidy(() => {
        this.targets.forEach((targ, i) =>
          targ.forEach((t, j) => {
            const next = tf.keep(tf.add(tf.mul(this.spec.tau, this.qs[i][j]), tf.mul(1 - this.spec.tau, t)));
            t.dispose();
            targ[j] = next;
          }),
        );
      });
      const out = tf.tidy(() =>
        tf.concat([c.td, tf.stack([c.value, act.value, temp.value, c.alpha, tf.neg(tf.mean(act.logp)), c.meanQ])]),
      );
      tf.dispose([c.value, c.td, c.meanQ, c.alpha, act.value, act.logp, temp.value]);
      tf.dispose([zNext, zNow]);
      const vals = out.dataSync() as Float32Array;
      out.dispose();
      sums.tdError += reprioritize(this.buffer, s, vals.subarray(0, B));
      sums.criticLoss += vals[B];
      sums.actorLoss += vals[B + 1];
      sums.alphaLoss += vals[B + 2];
      sums.alpha += vals[B + 3];
      sums.entropy += vals[B + 4];
      sums.meanQ += vals[B + 5];
      updates++;
      this.stepsTrained += B * (group?.size ?? 1);
    }
    const stats: Record<string, number> = { numUpdates: updates, replayBufferSize: this.buffer.size };
    for (const [k, v] of Object.entries(sums)) stats[k] = updates ? v / updates : NaN;
    return { weights: flatTensors(this.pi), stats, numEnvStepsTrained: updates * B };
  }

  /** The learner's state for checkpoints: networks, targets, temperature, optimizers, generators (not the buffer's transitions, as RLlib by default). */
  async getState(): Promise<SACLearnerState> {
    await this.ready();
    return {
      weights: this.allWeights(),
      targetWeights: flatTensors(this.targets.flat()),
      logAlpha: (this.logAlpha.dataSync() as Float32Array)[0],
      optimizers: await Promise.all([this.actorOpt, this.criticOpt, this.alphaOpt].map((o) => o.getState())),
      stepsTrained: this.stepsTrained,
      noiseRng: this.noise.getState(),
      bufferRng: this.buffer.getRngState(),
      ...(this.spec.storeBufferInCheckpoints ? { buffer: this.buffer.getContents() } : {}),
    };
  }

  async setState(s: SACLearnerState): Promise<void> {
    await this.ready();
    const tf = this.tf;
    const [nPi, nQ] = [mlpParamCount(this.spec.pi), mlpParamCount(this.spec.q)];
    if (s.weights.length !== nPi + this.qs.length * nQ)
      throw new Error(`SAC weights of ${s.weights.length} floats do not fit networks of ${nPi + this.qs.length * nQ}`);
    assignFlat(tf, this.pi, s.weights.subarray(0, nPi));
    this.qs.forEach((q, i) => assignFlat(tf, q, s.weights.subarray(nPi + i * nQ, nPi + (i + 1) * nQ)));
    let at = 0;
    for (const targ of this.targets) {
      targ.forEach((t, j) => {
        const next = tf.keep(tf.tensor(s.targetWeights.slice(at, at + t.size), t.shape));
        at += t.size;
        t.dispose();
        targ[j] = next;
      });
    }
    this.logAlpha.assign(tf.scalar(s.logAlpha));
    await Promise.all([this.actorOpt, this.criticOpt, this.alphaOpt].map((o, i) => o.setState(s.optimizers[i])));
    this.stepsTrained = s.stepsTrained;
    this.noise.setState(s.noiseRng);
    this.buffer.setRngState(s.bufferRng);
    if (s.buffer) this.buffer.setContents(s.buffer);
  }
}

/** @internal */
export const SACLearner = remote(SACLearnerActor);
/** @internal */
export type SACLearnerMethods = SACLearnerActor;
