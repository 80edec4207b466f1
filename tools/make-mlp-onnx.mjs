#!/usr/bin/env node
// Writes the batch-inference benchmark model: an MLP  x[batch, in] -> Gemm -> Relu -> Gemm -> y[batch, out]
// (64 -> 256 -> 10 by default, float32) as an ONNX model, plus its weights as JSON so that a
// reference implementation (tools/mlp-reference.mjs, or numpy on the Python side) can recompute
// the predictions another way. No Python here: the ModelProto is encoded by @ray-ts/train's
// encodeOnnxModel (protobufjs over a subset of onnx.proto; ir_version 8, opset 17).
//
//   node tools/make-mlp-onnx.mjs --out DIR [--in 64] [--hidden 256] [--out-dim 10] [--seed 1]
//
// writes DIR/mlp.onnx and DIR/mlp-weights.json:
//   { format: 'ray-ts-mlp-v1', inDim, hidden, outDim, seed, inputName: 'x', outputName: 'y',
//     tensors: { W1: { shape: [in, hidden], data: [...] }, b1, W2: { shape: [hidden, out] }, b2 } }
// with y = relu(x W1 + b1) W2 + b2, row-major, no transposes (data are exact float32 values).
//
// Weights: Kaiming-uniform, W ~ U(-sqrt(6/fan_in), sqrt(6/fan_in)) (0.31 for 64 inputs, 0.15 for
// 256), biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from mulberry32(seed), in the order
// W1, b1, W2, b2. Plain U(-0.1, 0.1) would shrink each layer's output (std ~0.2 for U(-1, 1)
// inputs); with this scale the outputs keep std ~1 for inputs ~U(-1, 1), so comparisons are
// not dominated by tiny values.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { encodeOnnxModel } from '@ray-ts/train';
import { mulberry32 } from './mlp-reference.mjs';

const FLOAT = 1; // TensorProto.DataType.FLOAT

/** Deterministic MLP weights (Float32Arrays, row-major [fanIn, fanOut]) for the given sizes and seed. */
export function makeWeights({ inDim = 64, hidden = 256, outDim = 10, seed = 1 } = {}) {
  const rnd = mulberry32(seed);
  const uniform = (n, bound) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * bound;
    return a;
  };
  const W1 = uniform(inDim * hidden, Math.sqrt(6 / inDim));
  const b1 = uniform(hidden, 1 / Math.sqrt(inDim));
  const W2 = uniform(hidden * outDim, Math.sqrt(6 / hidden));
  const b2 = uniform(outDim, 1 / Math.sqrt(hidden));
  return { inDim, hidden, outDim, seed, W1, b1, W2, b2 };
}

/**
 * Encodes an ONNX ModelProto given as a plain object (field names as in onnx.proto) to its bytes:
 * @ray-ts/train's encoder, re-exported for the benchmarks that build other graphs.
 */
export { encodeOnnxModel };

/** Encodes the MLP as an ONNX ModelProto (Uint8Array): Gemm(x, W1, b1) -> Relu -> Gemm(h, W2, b2). */
export function encodeMlpModel(w) {
  const tensor = (name, dims, data) => ({
    name,
    dims,
    data_type: FLOAT,
    // raw_data is little-endian float32; copy so a subarray view's offset does not leak in.
    raw_data: Buffer.from(new Float32Array(data).buffer),
  });
  const valueInfo = (name, cols) => ({
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: 'batch' }, { dim_value: cols }] } } },
  });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'ray-ts tools/make-mlp-onnx.mjs',
    producer_version: '1',
    model_version: 1,
    doc_string: `MLP ${w.inDim}->${w.hidden}->ReLU->${w.outDim}, seed ${w.seed}`,
    graph: {
      name: 'mlp',
      node: [
        { name: 'fc1', op_type: 'Gemm', domain: '', input: ['x', 'W1', 'b1'], output: ['h_pre'] },
        { name: 'relu', op_type: 'Relu', domain: '', input: ['h_pre'], output: ['h'] },
        { name: 'fc2', op_type: 'Gemm', domain: '', input: ['h', 'W2', 'b2'], output: ['y'] },
      ],
      initializer: [
        tensor('W1', [w.inDim, w.hidden], w.W1),
        tensor('b1', [w.hidden], w.b1),
        tensor('W2', [w.hidden, w.outDim], w.W2),
        tensor('b2', [w.outDim], w.b2),
      ],
      input: [valueInfo('x', w.inDim)],
      output: [valueInfo('y', w.outDim)],
    },
  };
  return encodeOnnxModel(model);
}

/** The weights as the JSON document written to mlp-weights.json. */
export function weightsJson(w) {
  const t = (shape, data) => ({ shape, data: Array.from(data) });
  return {
    format: 'ray-ts-mlp-v1',
    description: 'y = relu(x @ W1 + b1) @ W2 + b2; row-major; float32 values',
    inDim: w.inDim,
    hidden: w.hidden,
    outDim: w.outDim,
    seed: w.seed,
    inputName: 'x',
    outputName: 'y',
    tensors: {
      W1: t([w.inDim, w.hidden], w.W1),
      b1: t([w.hidden], w.b1),
      W2: t([w.hidden, w.outDim], w.W2),
      b2: t([w.outDim], w.b2),
    },
  };
}

/** Writes DIR/mlp.onnx and DIR/mlp-weights.json; returns their paths. */
export function writeMlp(dir, opts = {}) {
  const w = makeWeights(opts);
  fs.mkdirSync(dir, { recursive: true });
  const model = path.join(dir, 'mlp.onnx');
  const weights = path.join(dir, 'mlp-weights.json');
  fs.writeFileSync(model, encodeMlpModel(w));
  fs.writeFileSync(weights, JSON.stringify(weightsJson(w)));
  return { model, weights };
}

function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      in: { type: 'string', default: '64' },
      hidden: { type: 'string', default: '256' },
      'out-dim': { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.out) {
    console.error('usage: node tools/make-mlp-onnx.mjs --out DIR [--in 64] [--hidden 256] [--out-dim 10] [--seed 1]');
    process.exit(values.help ? 0 : 2);
  }
  const int = (name) => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < (name === 'seed' ? 0 : 1)) {
      console.error(
        `make-mlp-onnx: --${name} must be a ${name === 'seed' ? 'non-negative' : 'positive'} integer, got '${values[name]}'`,
      );
      process.exit(2);
    }
    return v;
  };
  const opts = { inDim: int('in'), hidden: int('hidden'), outDim: int('out-dim'), seed: int('seed') };
  const { model, weights } = writeMlp(values.out, opts);
  console.log(
    `wrote ${model} (${fs.statSync(model).size} bytes) and ${weights}: ` +
      `MLP ${opts.inDim}->${opts.hidden}->ReLU->${opts.outDim}, seed ${opts.seed}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
