// The benchmark's training loop, shared by the plain run and the trainer's workers (which import
// this module by reference): an MLP 64 -> 256 -> 10 in TensorFlow.js, softmax cross-entropy,
// SGD with momentum, on random rows generated from a seed (each worker makes its own share).
import { collective, remote } from '@ray-ts/core';
import { getContext, report } from '@ray-ts/train';
import { setupBackend } from '@ray-ts/train/tfjs';

const IN = 64;
const HIDDEN = 256;
const OUT = 10;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Trains on rows rank, rank + worldSize, ... of `rows` (features U(-1, 1), labels 0..9) for
 * `epochs`, `batch / worldSize` rows per step; with `group`, gradients are averaged over it.
 * The forward and backward passes are TensorFlow.js ops written out (tfjs's autograd and
 * optimizers cost ~3x more per step on the wasm backend); the parameters live in one
 * Float32Array, so the gradient is one buffer to allreduce and momentum SGD (PyTorch's rule:
 * v = m v + g, p -= lr v) is a loop over it. Returns the seconds spent in the loop (not counting
 * set-up and data generation).
 */
export async function trainMlp({ rows, epochs, batch, lr, momentum, seed = 1, rank = 0, worldSize = 1, group }) {
  const tf = await import('@tensorflow/tfjs');
  const backend = await setupBackend();
  const mine = Math.floor(rows / worldSize);
  const x = new Float32Array(mine * IN);
  const y = new Int32Array(mine);
  const r = rng(seed * 1000 + rank);
  for (let i = 0; i < x.length; i++) x[i] = r() * 2 - 1;
  for (let i = 0; i < mine; i++) y[i] = Math.floor(r() * OUT);
  // Parameters W1 [IN, HIDDEN], b1, W2 [HIDDEN, OUT], b2 in one buffer; Glorot-uniform weights
  // from the same seed on every worker, so every replica starts equal.
  const sizes = [IN * HIDDEN, HIDDEN, HIDDEN * OUT, OUT];
  const offs = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const params = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  const velocity = new Float32Array(params.length);
  const init = rng(seed);
  const l1 = Math.sqrt(6 / (IN + HIDDEN));
  const l2 = Math.sqrt(6 / (HIDDEN + OUT));
  for (let i = 0; i < sizes[0]; i++) params[offs[0] + i] = (init() * 2 - 1) * l1;
  for (let i = 0; i < sizes[2]; i++) params[offs[2] + i] = (init() * 2 - 1) * l2;
  const view = (k) => params.subarray(offs[k], offs[k] + sizes[k]);
  const local = batch / worldSize;
  const steps = Math.floor(mine / local);
  let loss = 0;
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < steps; s++) {
      const last = s === steps - 1;
      const out = tf.tidy(() => {
        const bx = tf.tensor2d(x.subarray(s * local * IN, (s + 1) * local * IN), [local, IN]);
        const by = tf.oneHot(tf.tensor1d(y.subarray(s * local, (s + 1) * local), 'int32'), OUT);
        const W1 = tf.tensor2d(view(0), [IN, HIDDEN]);
        const W2 = tf.tensor2d(view(2), [HIDDEN, OUT]);
        const hpre = tf.add(tf.matMul(bx, W1), tf.tensor1d(view(1)));
        const h = tf.relu(hpre);
        const logits = tf.add(tf.matMul(h, W2), tf.tensor1d(view(3)));
        const probs = tf.softmax(logits);
        // d(mean cross-entropy)/d(logits) over this worker's rows; averaging over the workers gives the global batch's.
        const dlo = tf.div(tf.sub(probs, by), local);
        const dh = tf.mul(tf.matMul(dlo, tf.transpose(W2)), tf.step(hpre));
        const grad = tf.concat([
          tf.matMul(tf.transpose(bx), dh).reshape([-1]),
          tf.sum(dh, 0),
          tf.matMul(tf.transpose(h), dlo).reshape([-1]),
          tf.sum(dlo, 0),
        ]);
        return last ? [grad, tf.neg(tf.mean(tf.sum(tf.mul(by, tf.log(tf.add(probs, 1e-7))), 1)))] : [grad];
      });
      const g = out[0].dataSync();
      if (last) loss = out[1].dataSync()[0];
      tf.dispose(out);
      if (group) await collective.allreduce(g, { groupName: group, op: 'mean' });
      for (let i = 0; i < params.length; i++) {
        const v = momentum * velocity[i] + g[i];
        velocity[i] = v;
        params[i] -= lr * v;
      }
    }
  }
  const trainS = (performance.now() - t0) / 1000;
  return { trainS, loss, steps: steps * epochs, backend };
}

/** The trainer's loop: trains, then reports the slowest worker's times. */
export const benchLoop = remote(async (config) => {
  const t0 = performance.now();
  const ctx = getContext();
  const out = await trainMlp({ ...config, rank: ctx.worldRank, worldSize: ctx.worldSize, group: ctx.collectiveGroup });
  // The slowest worker's time in the training steps, and in the whole loop function (tfjs set-up and data generation too).
  const loopS = (performance.now() - t0) / 1000;
  const slowest = await collective.allreduce(Float64Array.from([out.trainS, loopS]), {
    groupName: ctx.collectiveGroup,
    op: 'max',
  });
  await report({
    trainS: slowest[0],
    loopS: slowest[1],
    loss: out.loss,
    steps: out.steps,
    backend: out.backend,
    worldSize: ctx.worldSize,
  });
});
