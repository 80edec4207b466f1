/**
 * Networks: fully connected layers (RLlib's default `fcnet`). Learners hold them as plain
 * TensorFlow.js variables (dense layers with a hand-written gradient, {@link tfDense}; Adam with
 * gradient clipping, {@link ClippedAdam}); env runners get the same weights as one Float32Array and
 * run the forward pass in plain JavaScript (a small MLP costs microseconds there, against tens of
 * microseconds per tfjs op), which is what makes sampling fast.
 */
import { SeededRng } from '@ray-ts/core';
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

/** An MLP's layers from its flat weights at `off` (kernel `[in, out]` row-major, bias), hidden activation, linear last layer: what ONNX export takes. */
export function mlpDenseLayers(
  spec: MlpSpec,
  w: Float32Array,
  off: number,
): { kernel: Float32Array; bias: Float32Array; inDim: number; outDim: number; activation: Activation }[] {
  const layers = [];
  for (let l = 0; l + 1 < spec.sizes.length; l++) {
    const [inDim, outDim] = [spec.sizes[l], spec.sizes[l + 1]];
    const kernel = w.slice(off, off + inDim * outDim);
    off += inDim * outDim;
    const bias = w.slice(off, off + outDim);
    off += outDim;
    layers.push({
      kernel,
      bias,
      inDim,
      outDim,
      activation: l + 2 === spec.sizes.length ? ('linear' as const) : spec.activation,
    });
  }
  return layers;
}

/** Samples an index from logits (softmax), or takes the argmax when not exploring. */
export function sampleCategorical(
  logits: Float32Array,
  off: number,
  n: number,
  u: number,
  explore: boolean,
): { action: number; logp: number } {
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

/**
 * Seeded Glorot-uniform kernels and zero biases of an MLP, in {@link mlpForward}'s layout, for
 * learners that keep their networks as plain tfjs variables. `outputScale` scales the last
 * kernel (PPO's policy starts near uniform with 0.01).
 */
export function glorotMlpParams(
  sizes: number[],
  rng: { uniform(low: number, high: number): number },
  outputScale = 1,
): { data: Float32Array; shape: number[] }[] {
  const out: { data: Float32Array; shape: number[] }[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const lim = (l + 2 === sizes.length ? outputScale : 1) * Math.sqrt(6 / (fanIn + fanOut));
    out.push({
      data: Float32Array.from({ length: fanIn * fanOut }, () => rng.uniform(-lim, lim)),
      shape: [fanIn, fanOut],
    });
    out.push({ data: new Float32Array(fanOut), shape: [fanOut] });
  }
  return out;
}

/**
 * One dense layer `act(x W + b)` with its gradient written out: tfjs's wasm backend runs a matMul
 * with a transposed operand (what the built-in gradient uses) 8 to 13 times slower than a plain
 * one, and `sum` over rows 6 times slower than a matMul by ones, so the backward pass transposes
 * explicitly and sums by matMul. Small networks' updates get 5x faster.
 */
export function tfDense(
  tf: typeof tfjs,
  x: tfjs.Tensor2D,
  w: tfjs.Tensor2D,
  b: tfjs.Tensor1D,
  activation: Activation,
): tfjs.Tensor2D {
  const f = tf.customGrad(((xi: tfjs.Tensor2D, wi: tfjs.Tensor2D, bi: tfjs.Tensor1D, save: tfjs.GradSaveFunc) => {
    const pre = tf.add(tf.matMul(xi, wi), bi) as tfjs.Tensor2D;
    const y = activation === 'tanh' ? tf.tanh(pre) : activation === 'relu' ? tf.relu(pre) : pre;
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tfjs.Tensor2D, saved: tfjs.Tensor[]) => {
        const [sx, sw, sy] = saved as tfjs.Tensor2D[];
        const dPre =
          activation === 'tanh'
            ? tf.mul(dy, tf.sub(1, tf.square(sy)))
            : activation === 'relu'
              ? tf.mul(dy, tf.step(sy))
              : dy;
        const rows = dPre.shape[0];
        return [
          tf.matMul(dPre, tf.transpose(sw)),
          tf.matMul(tf.transpose(sx), dPre),
          tf.reshape(tf.matMul(tf.ones([1, rows]), dPre), [-1]),
        ];
      },
    };
  }) as never) as unknown as (x: tfjs.Tensor2D, w: tfjs.Tensor2D, b: tfjs.Tensor1D) => tfjs.Tensor2D;
  return f(x, w, b);
}

/**
 * The seeded initial weights of an actor-critic pair (PPO's policy and value networks), one
 * Float32Array in {@link mlpForward}'s layout: the policy, then the value network. The policy's
 * output layer is scaled by 0.01, so its first actions are near uniform.
 */
export function initialActorCriticWeights(nets: { pi: MlpSpec; vf: MlpSpec }, seed: number): Float32Array {
  const rng = new SeededRng(seed * 1000 + 7);
  const parts = [...glorotMlpParams(nets.pi.sizes, rng, 0.01), ...glorotMlpParams(nets.vf.sizes, rng)];
  const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return out;
}

/** tfjs variables of an MLP of `sizes`, from its weights at `off` in `w` ({@link mlpForward}'s layout). */
export function mlpVariables(tf: typeof tfjs, sizes: number[], w: Float32Array, off: number): tfjs.Variable[] {
  const vars: tfjs.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    vars.push(tf.variable(tf.tensor2d(w.slice(off, off + fanIn * fanOut), [fanIn, fanOut])));
    off += fanIn * fanOut;
    vars.push(tf.variable(tf.tensor1d(w.slice(off, off + fanOut))));
    off += fanOut;
  }
  return vars;
}

/** Sets variables from one Float32Array laid out as {@link flatTensors} reads them. */
export function assignFlat(tf: typeof tfjs, vars: readonly tfjs.Variable[], w: ArrayLike<number>): void {
  const total = vars.reduce((n, v) => n + v.size, 0);
  if (w.length !== total) throw new Error(`weights of ${w.length} floats do not fit variables of ${total}`);
  let at = 0;
  for (const v of vars) {
    const t = tf.tensor(
      Float32Array.from({ length: v.size }, (_, i) => w[at + i]),
      v.shape,
    );
    v.assign(t);
    t.dispose();
    at += v.size;
  }
}

/** An MLP's output in tfjs over `params` laid out as {@link glorotMlpParams} makes them (linear last layer). */
export function tfMlp(
  tf: typeof tfjs,
  params: readonly tfjs.Tensor[],
  x: tfjs.Tensor2D,
  activation: Activation,
): tfjs.Tensor2D {
  let h = x;
  const layers = params.length / 2;
  for (let l = 0; l < layers; l++)
    h = tfDense(
      tf,
      h,
      params[2 * l] as tfjs.Tensor2D,
      params[2 * l + 1] as tfjs.Tensor1D,
      l + 1 < layers ? activation : 'linear',
    );
  return h;
}

/** Tensors' values as one Float32Array, in order. */
export function flatTensors(ts: readonly tfjs.Tensor[]): Float32Array {
  const out = new Float32Array(ts.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of ts) {
    out.set(t.dataSync() as Float32Array, at);
    at += t.size;
  }
  return out;
}

/** {@link ClippedAdam}'s state, as plain data for checkpoints. */
export interface AdamState {
  step: number;
  /** Adam's moments, variable after variable (binary files in checkpoints; plain arrays are accepted too). */
  m: Float32Array | number[];
  v: Float32Array | number[];
}

/** Above this many floats, {@link ClippedAdam} updates variable by variable (see there). */
const FLAT_ADAM_MAX_FLOATS = 32_768;

/**
 * Adam over a fixed list of variables, with optional clipping of their gradients by global norm,
 * and its state (step and moments, variable after variable) as plain data for checkpoints.
 *
 * Small networks (up to 32,768 floats, RL's usual sizes) keep their moments as one flat vector:
 * a step costs a handful of ops plus three per variable, where tfjs's Adam runs about a dozen per
 * variable, most of a small update's time (PPO's benchmark: 16 s against 29 s). Larger ones use
 * tfjs's Adam: with the flat vectors, a dueling Q-network of [256, 256] grew the wasm heap by
 * ~200 MB per 1,000 updates (tensor count steady; [255, 256] or no dueling head did not), and
 * aborted after a few thousand. Small sizes ran 40k updates and more without growth.
 */
export class ClippedAdam {
  private readonly size: number;
  private readonly flat: FlatMoments | undefined;
  private readonly opt: tfjs.AdamOptimizer | undefined;

  constructor(
    private readonly tf: typeof tfjs,
    private readonly vars: readonly tfjs.Variable[],
    lr: number,
    private readonly gradClip?: number,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-7,
  ) {
    this.size = vars.reduce((n, x) => n + x.size, 0);
    if (this.size <= FLAT_ADAM_MAX_FLOATS) this.flat = new FlatMoments(tf, vars, this.size, lr, beta1, beta2, epsilon);
    else this.opt = tf.train.adam(lr, beta1, beta2, epsilon) as tfjs.AdamOptimizer;
  }

  /** One step from `grads`, the variables' gradients by name (as `variableGrads` returns them); disposes nothing it was given. */
  apply(grads: tfjs.NamedTensorMap): void {
    if (this.flat) return this.flat.apply(grads, this.gradClip);
    const tf = this.tf;
    const own: tfjs.NamedTensorMap = {};
    for (const v of this.vars) own[v.name] = grads[v.name];
    if (!this.gradClip) {
      this.opt!.applyGradients(own as never);
      return;
    }
    const clip = this.gradClip;
    const clipped = tf.tidy(() => {
      const norm = tf.sqrt(tf.addN(Object.values(own).map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      const out: tfjs.NamedTensorMap = {};
      for (const [k, g] of Object.entries(own)) out[k] = tf.mul(g, scale);
      return out;
    });
    this.opt!.applyGradients(clipped as never);
    tf.dispose(Object.values(clipped));
  }

  async getState(): Promise<AdamState> {
    if (this.flat) return this.flat.getState();
    const [iter, ...moments] = await this.opt!.getWeights();
    const m = new Float32Array(this.size);
    const v = new Float32Array(this.size);
    if (iter) {
      // tfjs lists every variable's first moment, then every variable's second moment.
      let at = 0;
      this.vars.forEach((x, i) => {
        m.set(moments[i].tensor.dataSync() as Float32Array, at);
        v.set(moments[this.vars.length + i].tensor.dataSync() as Float32Array, at);
        at += x.size;
      });
    }
    return { step: iter ? (iter.tensor.dataSync() as Float32Array)[0] : 0, m, v };
  }

  async setState(s: AdamState): Promise<void> {
    if (s.m.length !== this.size || s.v.length !== this.size)
      throw new Error(`optimizer state of ${s.m.length} floats does not fit variables of ${this.size}`);
    if (this.flat) return this.flat.setState(s);
    if (s.step === 0) return;
    const tf = this.tf;
    const part = (src: ArrayLike<number>, at: number, x: tfjs.Variable) =>
      tf.tensor(
        Float32Array.from({ length: x.size }, (_, k) => src[at + k]),
        x.shape,
      );
    const ms: { name: string; tensor: tfjs.Tensor }[] = [];
    const vs: { name: string; tensor: tfjs.Tensor }[] = [];
    let at = 0;
    this.vars.forEach((x, i) => {
      ms.push({ name: `${x.name}/m${i}`, tensor: part(s.m, at, x) });
      vs.push({ name: `${x.name}/v${i}`, tensor: part(s.v, at, x) });
      at += x.size;
    });
    await this.opt!.setWeights([{ name: 'iter', tensor: tf.scalar(s.step, 'int32') }, ...ms, ...vs]);
  }
}

/** Adam's moments as flat vectors (see {@link ClippedAdam}). */
class FlatMoments {
  private m: tfjs.Tensor1D;
  private v: tfjs.Tensor1D;
  private step = 0;

  constructor(
    private readonly tf: typeof tfjs,
    private readonly vars: readonly tfjs.Variable[],
    private readonly size: number,
    private readonly lr: number,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
  ) {
    this.m = tf.keep(tf.zeros([size]));
    this.v = tf.keep(tf.zeros([size]));
  }

  apply(grads: tfjs.NamedTensorMap, gradClip: number | undefined): void {
    const tf = this.tf;
    this.step++;
    const { beta1: b1, beta2: b2 } = this;
    const lrT = (this.lr * Math.sqrt(1 - b2 ** this.step)) / (1 - b1 ** this.step);
    const [m, v] = tf.tidy(() => {
      let g: tfjs.Tensor1D = tf.concat(this.vars.map((x) => tf.reshape(grads[x.name], [-1]))) as tfjs.Tensor1D;
      if (gradClip) g = tf.mul(g, tf.minimum(1, tf.div(gradClip, tf.add(tf.norm(g), 1e-6))));
      const m = tf.add(tf.mul(b1, this.m), tf.mul(1 - b1, g)) as tfjs.Tensor1D;
      const v = tf.add(tf.mul(b2, this.v), tf.mul(1 - b2, tf.square(g))) as tfjs.Tensor1D;
      const step = tf.mul(lrT, tf.div(m, tf.add(tf.sqrt(v), this.epsilon)));
      let at = 0;
      for (const x of this.vars) {
        x.assign(tf.sub(x, tf.reshape(tf.slice(step, at, x.size), x.shape)));
        at += x.size;
      }
      return [tf.keep(m), tf.keep(v)];
    });
    this.m.dispose();
    this.v.dispose();
    this.m = m;
    this.v = v;
  }

  getState(): AdamState {
    return { step: this.step, m: Float32Array.from(this.m.dataSync()), v: Float32Array.from(this.v.dataSync()) };
  }

  setState(s: AdamState): void {
    this.m.dispose();
    this.v.dispose();
    this.m = this.tf.keep(this.tf.tensor1d(Float32Array.from(s.m)));
    this.v = this.tf.keep(this.tf.tensor1d(Float32Array.from(s.v)));
    this.step = s.step;
  }
}
