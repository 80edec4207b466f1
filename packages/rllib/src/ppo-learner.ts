/**
 * The PPO learner: TensorFlow.js policy and value networks updated with the clipped surrogate
 * objective, a clipped value loss, an entropy bonus and an adaptive KL penalty (RLlib's PPO loss),
 * by Adam over minibatches for several epochs. With several learners, each takes its share of
 * every minibatch and their gradients are averaged with core's allreduce, so all hold the same
 * weights.
 */
import { collective, getRuntimeContext, remote, SeededRng } from '@ray-ts/core';
import type * as tfjs from '@tensorflow/tfjs';
import {
  assignFlat,
  ClippedAdam,
  flatTensors,
  initialActorCriticWeights,
  mlpParamCount,
  mlpVariables,
  tfMlp,
  type AdamState,
  type MlpSpec,
} from './model.js';
import type { SampleBatch } from './env-runner.js';
import type { PPOTrainingOptions } from './ppo-options.js';

/** The learner's settings (from PPOConfig). */
export interface PPOLearnerSpec extends Pick<
  PPOTrainingOptions,
  'lr' | 'clipParam' | 'vfClipParam' | 'vfLossCoeff' | 'entropyCoeff' | 'klCoeff' | 'klTarget' | 'gradClip'
> {
  pi: MlpSpec;
  vf: MlpSpec;
  dist: { kind: 'categorical'; n: number } | { kind: 'gaussian'; dims: number };
  seed: number;
  /** With several learners: their collective group, and this learner's rank in it. */
  group?: { name: string; rank: number; size: number };
}

/** Statistics of one update, averaged over its minibatches. */
export interface LearnerStats {
  totalLoss: number;
  policyLoss: number;
  vfLoss: number;
  entropy: number;
  meanKl: number;
  klCoeff: number;
  numMinibatchUpdates: number;
}

class PPOLearnerActor {
  private tf!: typeof tfjs;
  private pi: tfjs.Variable[] = [];
  private vf: tfjs.Variable[] = [];
  private opt!: ClippedAdam;
  private klCoeff: number;
  private backend = '';

  constructor(private readonly spec: PPOLearnerSpec) {
    this.klCoeff = spec.klCoeff;
  }

  private async ready(): Promise<void> {
    if (this.opt) return;
    const { setupBackend } = await import('@ray-ts/train/tfjs');
    this.backend = await setupBackend();
    this.tf = await import('@tensorflow/tfjs');
    const w = initialActorCriticWeights(this.spec, this.spec.seed);
    this.pi = mlpVariables(this.tf, this.spec.pi.sizes, w, 0);
    this.vf = mlpVariables(this.tf, this.spec.vf.sizes, w, mlpParamCount(this.spec.pi));
    this.opt = new ClippedAdam(this.tf, [...this.pi, ...this.vf], this.spec.lr, this.spec.gradClip);
  }

  /** The networks' weights, policy then value (what env runners read). */
  async getWeights(): Promise<Float32Array> {
    await this.ready();
    return flatTensors([...this.pi, ...this.vf]);
  }

  async setWeights(w: Float32Array): Promise<void> {
    await this.ready();
    assignFlat(this.tf, [...this.pi, ...this.vf], w);
  }

  /** The learner's state for checkpoints: weights, the KL coefficient and Adam's moments. */
  async getState(): Promise<{ weights: Float32Array; klCoeff: number; optimizer: AdamState }> {
    return { weights: await this.getWeights(), klCoeff: this.klCoeff, optimizer: await this.opt.getState() };
  }

  async setState(s: { weights: Float32Array; klCoeff: number; optimizer?: AdamState }): Promise<void> {
    await this.setWeights(s.weights);
    this.klCoeff = s.klCoeff;
    if (s.optimizer) await this.opt.setState(s.optimizer);
  }

  /** Updates on `batch` (advantages standardized) for `numEpochs` passes of `minibatchSize` rows; returns the new weights. */
  async update(
    batch: SampleBatch,
    opts: { numEpochs: number; minibatchSize: number; seed: number },
  ): Promise<{ weights: Float32Array; stats: LearnerStats; backend: string }> {
    await this.ready();
    const tf = this.tf;
    const { count, obsDim, actDim } = batch;
    const distDim = this.spec.dist.kind === 'categorical' ? this.spec.dist.n : 2 * this.spec.dist.dims;
    // Standardized advantages.
    let mean = 0;
    for (let i = 0; i < count; i++) mean += batch.advantages[i];
    mean /= count;
    let v = 0;
    for (let i = 0; i < count; i++) v += (batch.advantages[i] - mean) ** 2;
    const std = Math.sqrt(v / count) + 1e-8;
    const adv = batch.advantages.map((x) => (x - mean) / std);
    const group = this.spec.group;
    const mb = Math.min(opts.minibatchSize, count);
    const perEpoch = Math.max(1, Math.floor(count / mb));
    const rng = new SeededRng(opts.seed);
    const sums = { totalLoss: 0, policyLoss: 0, vfLoss: 0, entropy: 0, meanKl: 0 };
    let updates = 0;
    for (let epoch = 0; epoch < opts.numEpochs; epoch++) {
      const order = Array.from({ length: count }, (_, i) => i);
      for (let i = count - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let m = 0; m < perEpoch; m++) {
        // With several learners, each takes its slice of the minibatch.
        let idx = order.slice(m * mb, (m + 1) * mb);
        if (group) idx = idx.filter((_, k) => k % group.size === group.rank);
        const take = (src: Float32Array, width: number) => {
          const out = new Float32Array(idx.length * width);
          idx.forEach((r, k) => out.set(src.subarray(r * width, (r + 1) * width), k * width));
          return out;
        };
        const rows = idx.length;
        const x = tf.tensor2d(take(batch.obs, obsDim), [rows, obsDim]);
        const act = take(batch.actions, actDim);
        const oldLogp = tf.tensor1d(take(batch.logp, 1));
        const oldDist = tf.tensor2d(take(batch.distInputs, distDim), [rows, distDim]);
        const advT = tf.tensor1d(take(adv, 1));
        const targets = tf.tensor1d(take(batch.valueTargets, 1));
        const actT =
          this.spec.dist.kind === 'categorical'
            ? tf.oneHot(tf.tensor1d(act, 'int32'), this.spec.dist.n)
            : tf.tensor2d(act, [rows, actDim]);
        const parts: Record<string, tfjs.Scalar> = {};
        const { value, grads } = tf.variableGrads(() => {
          const out = tfMlp(tf, this.pi, x, this.spec.pi.activation);
          const { logp, entropy, kl } = this.distTerms(out, oldDist, actT);
          const ratio = tf.exp(tf.sub(logp, oldLogp));
          const surrogate = tf.minimum(
            tf.mul(advT, ratio),
            tf.mul(advT, tf.clipByValue(ratio, 1 - this.spec.clipParam, 1 + this.spec.clipParam)),
          );
          const vPred = tfMlp(tf, this.vf, x, this.spec.vf.activation).reshape([-1]);
          const vfLoss = tf.clipByValue(tf.square(tf.sub(vPred, targets)), 0, this.spec.vfClipParam);
          const policyLoss = tf.neg(tf.mean(surrogate));
          const meanVf = tf.mean(vfLoss);
          const meanEnt = tf.mean(entropy);
          const meanKl = tf.mean(kl);
          parts.policyLoss = tf.keep(policyLoss as tfjs.Scalar);
          parts.vfLoss = tf.keep(meanVf as tfjs.Scalar);
          parts.entropy = tf.keep(meanEnt as tfjs.Scalar);
          parts.meanKl = tf.keep(meanKl as tfjs.Scalar);
          return tf.addN([
            policyLoss,
            tf.mul(this.spec.vfLossCoeff, meanVf),
            tf.mul(-this.spec.entropyCoeff, meanEnt),
            tf.mul(this.klCoeff, meanKl),
          ]) as tfjs.Scalar;
        }, [...this.pi, ...this.vf]);
        let g = grads;
        if (group) {
          const { averageGradients } = await import('@ray-ts/train/tfjs');
          g = await averageGradients(grads, group.name, { disposeInput: true });
        }
        this.opt.apply(g); // clips by global norm when gradClip is set
        // One read back per minibatch.
        const read = tf.stack([value, parts.policyLoss, parts.vfLoss, parts.entropy, parts.meanKl]);
        const vals = read.dataSync();
        read.dispose();
        sums.totalLoss += vals[0];
        (['policyLoss', 'vfLoss', 'entropy', 'meanKl'] as const).forEach((k, i) => (sums[k] += vals[i + 1]));
        updates++;
        tf.dispose([x, oldLogp, oldDist, advT, targets, actT, value, ...Object.values(g), ...Object.values(parts)]);
      }
    }
    const stats: LearnerStats = {
      totalLoss: sums.totalLoss / updates,
      policyLoss: sums.policyLoss / updates,
      vfLoss: sums.vfLoss / updates,
      entropy: sums.entropy / updates,
      meanKl: sums.meanKl / updates,
      klCoeff: this.klCoeff,
      numMinibatchUpdates: updates,
    };
    // RLlib's adaptive KL coefficient.
    if (this.spec.klCoeff > 0) {
      if (stats.meanKl > 2 * this.spec.klTarget) this.klCoeff *= 1.5;
      else if (stats.meanKl < 0.5 * this.spec.klTarget) this.klCoeff *= 0.5;
    }
    return { weights: flatTensors([...this.pi, ...this.vf]), stats, backend: this.backend };
  }

  /** Log-probabilities of the taken actions, entropies and KL(old || new), per row. */
  private distTerms(
    out: tfjs.Tensor2D,
    oldDist: tfjs.Tensor2D,
    act: tfjs.Tensor,
  ): { logp: tfjs.Tensor1D; entropy: tfjs.Tensor1D; kl: tfjs.Tensor1D } {
    const tf = this.tf;
    if (this.spec.dist.kind === 'categorical') {
      const logProbs = tf.logSoftmax(out);
      const oldLogProbs = tf.logSoftmax(oldDist);
      const logp = tf.sum(tf.mul(logProbs, act), 1) as tfjs.Tensor1D;
      const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1)) as tfjs.Tensor1D;
      const kl = tf.sum(tf.mul(tf.exp(oldLogProbs), tf.sub(oldLogProbs, logProbs)), 1) as tfjs.Tensor1D;
      return { logp, entropy, kl };
    }
    const d = this.spec.dist.dims;
    const [mean, logStd] = tf.split(out, [d, d], 1);
    const [oldMean, oldLogStd] = tf.split(oldDist, [d, d], 1);
    const z = tf.div(tf.sub(act, mean), tf.exp(logStd));
    const logp = tf.sum(
      tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(logStd, 0.5 * Math.log(2 * Math.PI))),
      1,
    ) as tfjs.Tensor1D;
    const entropy = tf.sum(tf.add(logStd, 0.5 * Math.log(2 * Math.PI * Math.E)), 1) as tfjs.Tensor1D;
    // KL(old || new) of diagonal Gaussians.
    const kl = tf.sum(
      tf.sub(
        tf.add(
          tf.sub(logStd, oldLogStd),
          tf.div(
            tf.add(tf.exp(tf.mul(2, oldLogStd)), tf.square(tf.sub(oldMean, mean))),
            tf.mul(2, tf.exp(tf.mul(2, logStd))),
          ),
        ),
        0.5,
      ),
      1,
    ) as tfjs.Tensor1D;
    return { logp, entropy, kl };
  }

  /** Where this learner runs (for tests). */
  where(): string {
    return getRuntimeContext().nodeId;
  }

  /** Joins the learners' collective group (several learners). */
  async join(): Promise<void> {
    const g = this.spec.group;
    if (g) await collective.getRank(g.name);
  }
}

/** @internal */
export const PPOLearner = remote(PPOLearnerActor);
/** @internal */
export type PPOLearnerMethods = PPOLearnerActor;
