// The model of the tune-mlp example, and its Tune trainable: a two-moons dataset made with a
// seeded generator, and a 2 -> hidden (tanh) -> 1 (sigmoid) MLP trained by minibatch SGD on the
// binary cross-entropy, all in Float64Arrays (no ML library).
//
// `trainMlp` is wrapped with remote() at the top level of this module, so Tune's worker actors
// import this module to find it (by reference): it may use imports, such as Checkpoint and
// SeededRng from @ray-ts/tune and the helpers below. A trainable defined in the entry script
// would travel as its source text instead, and would have to be self-contained.
import { remote } from '@ray-ts/core';
import { Checkpoint, SeededRng, type TuneContext } from '@ray-ts/tune';

/** Points and labels: `x` holds n rows of 2 features (row-major), `y` holds 0 or 1 per row. */
export interface Dataset {
  readonly n: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/** The MLP's parameters: `w1` is [hidden, 2] row-major. */
export interface Weights {
  readonly hidden: number;
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
}

/** A trial's config: the tuned hyperparameters and two constants of the param space. */
export interface TrainConfig {
  readonly lr: number;
  readonly hidden: number;
  readonly batchSize: number;
  /** Epochs to train (ASHA may stop the trial before). */
  readonly epochs: number;
  /** Seed of the initial weights and of the shuffling. */
  readonly seed: number;
}

/** What a checkpoint holds. */
export interface TrainState {
  readonly weights: Weights;
  readonly epoch: number;
}

function gaussian(rng: SeededRng): number {
  const u = 1 - rng.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random());
}

/**
 * Two interleaving half circles (scikit-learn's `make_moons`), `n` points, half of each class,
 * with Gaussian noise of standard deviation `noise`, centred on the origin.
 */
export function makeMoons(n: number, noise: number, seed: number): Dataset {
  const rng = new SeededRng(seed);
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = Math.PI * rng.random();
    const px = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const py = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    x[2 * i] = px - 0.5 + noise * gaussian(rng);
    x[2 * i + 1] = py - 0.25 + noise * gaussian(rng);
    y[i] = label;
  }
  return { n, x, y };
}

/** Glorot-uniform weights, zero biases. */
export function initWeights(hidden: number, seed: number): Weights {
  const rng = new SeededRng(seed);
  const a1 = Math.sqrt(6 / (2 + hidden));
  const a2 = Math.sqrt(6 / (hidden + 1));
  return {
    hidden,
    w1: Float64Array.from({ length: hidden * 2 }, () => (2 * rng.random() - 1) * a1),
    b1: new Float64Array(hidden),
    w2: Float64Array.from({ length: hidden }, () => (2 * rng.random() - 1) * a2),
    b2: new Float64Array(1),
  };
}

/** A copy that shares no array with `w` (what goes into a checkpoint). */
function copyWeights(w: Weights): Weights {
  return { hidden: w.hidden, w1: w.w1.slice(), b1: w.b1.slice(), w2: w.w2.slice(), b2: w.b2.slice() };
}

/** P(y = 1) for row i of `x`; fills `h` with the hidden activations. */
function forward(w: Weights, x: Float64Array, i: number, h: Float64Array): number {
  const x0 = x[2 * i];
  const x1 = x[2 * i + 1];
  let z = w.b2[0];
  for (let j = 0; j < w.hidden; j++) {
    const a = Math.tanh(w.w1[2 * j] * x0 + w.w1[2 * j + 1] * x1 + w.b1[j]);
    h[j] = a;
    z += w.w2[j] * a;
  }
  return 1 / (1 + Math.exp(-z));
}

/** Mean binary cross-entropy and accuracy of `w` on `data`. */
export function evaluate(w: Weights, data: Dataset): { loss: number; accuracy: number } {
  const h = new Float64Array(w.hidden);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < data.n; i++) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, forward(w, data.x, i, h)));
    loss -= data.y[i] === 1 ? Math.log(p) : Math.log(1 - p);
    if ((p >= 0.5 ? 1 : 0) === data.y[i]) correct++;
  }
  return { loss: loss / data.n, accuracy: correct / data.n };
}

/** One epoch of minibatch SGD over a fresh shuffle of `data`; returns the mean training loss. */
export function sgdEpoch(w: Weights, data: Dataset, lr: number, batchSize: number, rng: SeededRng): number {
  const order = Uint32Array.from({ length: data.n }, (_, i) => i);
  for (let i = data.n - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const H = w.hidden;
  const h = new Float64Array(H);
  const gw1 = new Float64Array(H * 2);
  const gb1 = new Float64Array(H);
  const gw2 = new Float64Array(H);
  let total = 0;
  for (let start = 0; start < data.n; start += batchSize) {
    const end = Math.min(data.n, start + batchSize);
    gw1.fill(0);
    gb1.fill(0);
    gw2.fill(0);
    let gb2 = 0;
    for (let k = start; k < end; k++) {
      const i = order[k];
      const p = forward(w, data.x, i, h);
      const y = data.y[i];
      total -= y === 1 ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12));
      const dz = p - y; // d(cross-entropy)/d(logit)
      gb2 += dz;
      for (let j = 0; j < H; j++) {
        gw2[j] += dz * h[j];
        const da = dz * w.w2[j] * (1 - h[j] * h[j]);
        gw1[2 * j] += da * data.x[2 * i];
        gw1[2 * j + 1] += da * data.x[2 * i + 1];
        gb1[j] += da;
      }
    }
    const step = lr / (end - start);
    for (let j = 0; j < H; j++) {
      w.w1[2 * j] -= step * gw1[2 * j];
      w.w1[2 * j + 1] -= step * gw1[2 * j + 1];
      w.b1[j] -= step * gb1[j];
      w.w2[j] -= step * gw2[j];
    }
    w.b2[0] -= step * gb2;
  }
  return total / data.n;
}

/**
 * The trainable: one report per epoch with the validation loss and accuracy, and the weights as a
 * checkpoint. Resumes from a checkpoint when Tune gives one (a retry after a failure, a restored
 * experiment, a scheduler that paused the trial). The datasets come from withParameters().
 */
export const trainMlp = remote(
  async (config: TrainConfig, ctx: TuneContext, data: { train: Dataset; val: Dataset }) => {
    const resumed = ctx.getCheckpoint()?.toDict<TrainState>();
    const weights = resumed ? copyWeights(resumed.weights) : initWeights(config.hidden, config.seed);
    const rng = new SeededRng(config.seed + (resumed?.epoch ?? 0));
    for (let epoch = (resumed?.epoch ?? 0) + 1; epoch <= config.epochs; epoch++) {
      const trainLoss = sgdEpoch(weights, data.train, config.lr, config.batchSize, rng);
      const { loss, accuracy } = evaluate(weights, data.val);
      await ctx.report(
        { loss, accuracy, trainLoss, epoch },
        { checkpoint: Checkpoint.fromDict({ weights: copyWeights(weights), epoch } satisfies TrainState) },
      );
    }
  },
);
