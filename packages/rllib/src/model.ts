/**
 * Policy and value networks: fully connected layers (RLlib's default `fcnet`). Learners build them
 * as TensorFlow.js models and update them; env runners get the same weights as one Float32Array
 * and run the forward pass in plain JavaScript (a small MLP costs microseconds there, against
 * tens of microseconds per tfjs op), which is what makes sampling fast.
 */
import type * as tfjs from '@tensorflow/tfjs';

export type Activation = 'tanh' | 'relu' | 'linear';

/** A dense stack: sizes [in, h1, ..., out], the hidden activation, a linear output. */
export interface MlpSpec {
  sizes: number[];
  activation: Activation;
}

/** Number of floats of an MLP's weights (kernel [in, out] then bias per layer). */
export function mlpParamCount(spec: MlpSpec): number {
  let n = 0;
  for (let i = 0; i + 1 < spec.sizes.length; i++) n += spec.sizes[i] * spec.sizes[i + 1] + spec.sizes[i + 1];
  return n;
}

/**
 * Forward pass of `rows` inputs (row-major `x`, `sizes[0]` per row) through the MLP whose weights
 * start at `off` in `w`; returns `rows × sizes.at(-1)` outputs.
 */
export function mlpForward(spec: MlpSpec, w: Float32Array, off: number, x: Float32Array, rows: number): Float32Array {
  let cur = x;
  let width = spec.sizes[0];
  for (let l = 0; l + 1 < spec.sizes.length; l++) {
    const out = spec.sizes[l + 1];
    const kOff = off;
    const bOff = off + width * out;
    off = bOff + out;
    const next = new Float32Array(rows * out);
    const last = l + 2 === spec.sizes.length;
    for (let r = 0; r < rows; r++) {
      const ro = r * out;
      for (let j = 0; j < out; j++) next[ro + j] = w[bOff + j];
      for (let k = 0; k < width; k++) {
        const a = cur[r * width + k];
        if (a === 0) continue;
        const wk = kOff + k * out;
        for (let j = 0; j < out; j++) next[ro + j] += a * w[wk + j];
      }
      if (!last) {
        if (spec.activation === 'tanh') for (let j = 0; j < out; j++) next[ro + j] = Math.tanh(next[ro + j]);
        else if (spec.activation === 'relu') for (let j = 0; j < out; j++) if (next[ro + j] < 0) next[ro + j] = 0;
      }
    }
    cur = next;
    width = out;
  }
  return cur;
}

/** Builds the tfjs model of an MLP (same layout as {@link mlpForward}), with seeded Glorot weights. */
export function buildTfjsMlp(tf: typeof tfjs, spec: MlpSpec, seed: number, outputScale = 1): tfjs.Sequential {
  const layers: tfjs.layers.Layer[] = [];
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    const last = i + 2 === spec.sizes.length;
    layers.push(tf.layers.dense({
      ...(i === 0 ? { inputShape: [spec.sizes[0]] } : {}),
      units: spec.sizes[i + 1],
      activation: last ? 'linear' : spec.activation,
      kernelInitializer: last && outputScale !== 1
        ? tf.initializers.varianceScaling({ scale: outputScale * outputScale, mode: 'fanAvg', distribution: 'uniform', seed: seed + i })
        : tf.initializers.glorotUniform({ seed: seed + i }),
    }));
  }
  return tf.sequential({ layers });
}

/** A model's weights as one Float32Array, in layer order (what {@link mlpForward} reads). */
export function flatWeights(models: tfjs.LayersModel[]): Float32Array {
  const parts = models.flatMap((m) => m.getWeights().map((t) => t.dataSync() as Float32Array));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sets models' weights from one Float32Array laid out as {@link flatWeights} makes it. */
export function setFlatWeights(tf: typeof tfjs, models: tfjs.LayersModel[], w: Float32Array): void {
  let at = 0;
  for (const m of models) {
    const next = m.getWeights().map((t) => {
      const v = tf.tensor(w.subarray(at, at + t.size), t.shape);
      at += t.size;
      return v;
    });
    m.setWeights(next);
    tf.dispose(next);
  }
  if (at !== w.length) throw new Error(`weights of ${w.length} floats do not fit models of ${at}`);
}

/** Samples an index from logits (softmax), or takes the argmax when not exploring. */
export function sampleCategorical(logits: Float32Array, off: number, n: number, u: number, explore: boolean): { action: number; logp: number } {
  let max = -Infinity;
  let best = 0;
  for (let j = 0; j < n; j++) {
    if (logits[off + j] > max) {
      max = logits[off + j];
      best = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(logits[off + j] - max);
  const logZ = max + Math.log(sum);
  if (!explore) return { action: best, logp: logits[off + best] - logZ };
  let acc = 0;
  for (let j = 0; j < n; j++) {
    acc += Math.exp(logits[off + j] - logZ);
    if (u < acc || j === n - 1) return { action: j, logp: logits[off + j] - logZ };
  }
  return { action: n - 1, logp: logits[off + n - 1] - logZ };
}
