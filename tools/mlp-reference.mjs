// Reference implementation of the benchmark MLP written by tools/make-mlp-onnx.mjs:
//   y = relu(x @ W1 + b1) @ W2 + b2
// in plain JavaScript with float64 accumulators, to check ONNX Runtime's predictions another way.
//
//   import { loadWeights, mlpReference } from './mlp-reference.mjs';
//   const w = loadWeights(dir);                       // reads DIR/mlp-weights.json
//   const y = mlpReference(w, x, rows);               // x: Float32Array rows*inDim, row-major
import fs from 'node:fs';
import path from 'node:path';

/**
 * Seeded 32-bit PRNG (mulberry32): deterministic U[0, 1) doubles from a uint32 seed.
 * The same generator makes the weights (make-mlp-onnx.mjs) and the benchmark features.
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` x `cols` float32 values U[-1, 1), row-major, from a seeded PRNG (test and benchmark inputs). */
export function randomFeatures(rows, cols, seed = 7) {
  const rnd = mulberry32(seed);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 2 - 1;
  return x;
}

/**
 * Reads DIR/mlp-weights.json and returns the weights as Float32Arrays:
 * `{ inDim, hidden, outDim, seed, W1, b1, W2, b2 }`, W1 [inDim, hidden] and W2 [hidden, outDim]
 * row-major (y = relu(x W1 + b1) W2 + b2; no transposes).
 */
export function loadWeights(dir) {
  const file = path.join(dir, 'mlp-weights.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const t = (name, shape) => {
    const e = json.tensors[name];
    if (!e || JSON.stringify(e.shape) !== JSON.stringify(shape)) {
      throw new Error(`${file}: tensor ${name} should have shape [${shape}], got ${e ? `[${e.shape}]` : 'nothing'}`);
    }
    return Float32Array.from(e.data);
  };
  const { inDim, hidden, outDim } = json;
  return {
    inDim,
    hidden,
    outDim,
    seed: json.seed,
    W1: t('W1', [inDim, hidden]),
    b1: t('b1', [hidden]),
    W2: t('W2', [hidden, outDim]),
    b2: t('b2', [outDim]),
  };
}

/** Predictions for `rows` rows of `x` (Float32Array, rows*inDim, row-major): Float32Array rows*outDim. */
export function mlpReference(weights, x, rows) {
  const { inDim, hidden, outDim, W1, b1, W2, b2 } = weights;
  if (x.length < rows * inDim) throw new Error(`mlpReference: x holds ${x.length} values, need ${rows}*${inDim}`);
  const y = new Float32Array(rows * outDim);
  const h = new Float64Array(hidden);
  const o = new Float64Array(outDim);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < hidden; j++) h[j] = b1[j];
    for (let k = 0; k < inDim; k++) {
      const xv = x[r * inDim + k];
      const row = k * hidden;
      for (let j = 0; j < hidden; j++) h[j] += xv * W1[row + j];
    }
    for (let m = 0; m < outDim; m++) o[m] = b2[m];
    for (let j = 0; j < hidden; j++) {
      const hv = h[j] > 0 ? h[j] : 0;
      if (hv === 0) continue;
      const row = j * outDim;
      for (let m = 0; m < outDim; m++) o[m] += hv * W2[row + m];
    }
    for (let m = 0; m < outDim; m++) y[r * outDim + m] = o[m];
  }
  return y;
}
