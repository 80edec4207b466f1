import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TrainInvalidArgumentError } from './errors.js';
import { encodeDenseOnnx, exportDenseToOnnx, type DenseModelSpec } from './onnx-export.js';

function tmpFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-onnx-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

function track<T extends tf.LayersModel>(m: T): T {
  onTestFinished(() => void m.dispose());
  return m;
}

async function runOnnx(
  file: string | Uint8Array,
  x: Float32Array,
  rows: number,
  cols: number,
  input = 'x',
  output = 'y',
): Promise<Float32Array> {
  const session =
    typeof file === 'string' ? await ort.InferenceSession.create(file) : await ort.InferenceSession.create(file);
  try {
    expect(session.inputNames).toEqual([input]);
    expect(session.outputNames).toEqual([output]);
    const out = await session.run({ [input]: new ort.Tensor('float32', x, [rows, cols]) });
    return out[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function tfjsPredict(model: tf.LayersModel, x: Float32Array, rows: number, cols: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor2d(x, [rows, cols])) as tf.Tensor).dataSync() as Float32Array).slice();
}

function inputs(rows: number, cols: number, seed = 1): Float32Array {
  return tf.tidy(() => tf.randomUniform([rows, cols], -2, 2, 'float32', seed).dataSync() as Float32Array).slice();
}

describe('exportDenseToOnnx', () => {
  it('exports a tfjs Sequential 4 -> 8 relu -> 3 softmax that onnxruntime runs like tfjs', async () => {
    const model = track(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', biasInitializer: 'randomNormal' }),
          tf.layers.dense({ units: 3, activation: 'softmax', biasInitializer: 'randomNormal' }),
        ],
      }),
    );
    const file = tmpFile('sub/dir/model.onnx');
    const result = await exportDenseToOnnx(model, file);
    expect(result).toEqual({
      path: file,
      bytes: fs.statSync(file).size,
      inDim: 4,
      outDim: 3,
      inputName: 'x',
      outputName: 'y',
    });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['model.onnx']);

    const x = inputs(32, 4);
    const got = await runOnnx(file, x, 32, 4);
    expect(maxAbsDiff(got, tfjsPredict(model, x, 32, 4))).toBeLessThan(1e-5);
  });

  it('writes ir_version 8 and opset 17 with the documented graph', async () => {
    const bytes = encodeDenseOnnx({
      layers: [{ kernel: new Float32Array(6), bias: new Float32Array(3), inDim: 2, outDim: 3, activation: 'softmax' }],
    });
    const root = protobuf.parse(
      `syntax = "proto2"; package onnx;
      message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
      message NodeProto { repeated string input = 1; repeated string output = 2; optional string op_type = 4; }
      message GraphProto { repeated NodeProto node = 1; }
      message ModelProto { optional int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8; optional GraphProto graph = 7; }`,
      { keepCase: true },
    ).root;
    const m = root
      .lookupType('onnx.ModelProto')
      .toObject(root.lookupType('onnx.ModelProto').decode(bytes), { longs: Number });
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(m.graph.node.map((n: { op_type: string }) => n.op_type)).toEqual(['Gemm', 'Softmax']);
    expect(m.graph.node[0].input[0]).toBe('x');
    expect(m.graph.node[1].output).toEqual(['y']);
  });

  it('handles every supported activation, layers without bias, Dropout and Activation layers, and functional chains', async () => {
    const input = tf.input({ shape: [5] });
    let h = tf.layers
      .dense({ units: 6, activation: 'tanh', biasInitializer: 'randomNormal' })
      .apply(input) as tf.SymbolicTensor;
    h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 7, activation: 'sigmoid', useBias: false }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 4, biasInitializer: 'randomNormal' }).apply(h) as tf.SymbolicTensor; // linear
    h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
    const model = track(tf.model({ inputs: input, outputs: h }));

    const bytes = encodeDenseOnnx(model, { inputName: 'features', outputName: 'probs' });
    const x = inputs(9, 5, 2);
    const got = await runOnnx(bytes, x, 9, 5, 'features', 'probs');
    expect(maxAbsDiff(got, tfjsPredict(model, x, 9, 5))).toBeLessThan(1e-5);
  });

  it('exports plain weights ({ layers: [{ kernel, bias, inDim, outDim, activation }] }, kernels row-major [in, out])', async () => {
    const spec: DenseModelSpec = {
      layers: [
        {
          kernel: new Float32Array([1, -1, 0.5, 2, 0, -3]),
          bias: new Float32Array([0.5, -0.25, 1]),
          inDim: 2,
          outDim: 3,
          activation: 'relu',
        },
        { kernel: new Float32Array([1, 2, 3]), inDim: 3, outDim: 1, activation: 'linear' },
      ],
    };
    const file = tmpFile('plain.onnx');
    expect((await exportDenseToOnnx(spec, file)).outDim).toBe(1);
    // x = [1, 1]: h = relu([1 + 2, -1 + 0, 0.5 - 3] + b) = relu([3.5, -1.25, -1.5]) = [3.5, 0, 0]; y = 3.5
    // x = [0, 2]: h = relu([4, 0, -6] + b) = [4.5, 0, 0]; y = 4.5
    expect(Array.from(await runOnnx(file, new Float32Array([1, 1, 0, 2]), 2, 2))).toEqual([3.5, 4.5]);
  });

  it('rejects an unsupported layer, naming it and what is supported', async () => {
    const conv = track(
      tf.sequential({
        layers: [
          tf.layers.conv1d({ inputShape: [8, 1], filters: 2, kernelSize: 3, name: 'my_conv' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2 }),
        ],
      }),
    );
    expect(() => encodeDenseOnnx(conv)).toThrow(TrainInvalidArgumentError);
    expect(() => encodeDenseOnnx(conv)).toThrow(/inputs of shape \[null, 8, 1\]/);

    const withBn = track(
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [4], units: 4 }),
          tf.layers.batchNormalization({ name: 'my_bn' }),
          tf.layers.dense({ units: 2 }),
        ],
      }),
    );
    expect(() => encodeDenseOnnx(withBn)).toThrow(
      /layer 'my_bn' is a BatchNormalization, which cannot be exported; supported layers: Dense \(activation relu, linear, sigmoid, tanh, softmax\)/,
    );
    const file = tmpFile('never.onnx');
    await expect(exportDenseToOnnx(withBn, file)).rejects.toThrow(TrainInvalidArgumentError);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('rejects unsupported activations, branching models and inconsistent weights', () => {
    const elu = track(
      tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'elu', name: 'my_elu' })] }),
    );
    expect(() => encodeDenseOnnx(elu)).toThrow(
      /layer 'my_elu' has activation 'elu', which is not supported; supported activations: relu, linear, sigmoid, tanh, softmax/,
    );

    const input = tf.input({ shape: [3] });
    const a = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    const branched = track(tf.model({ inputs: input, outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor }));
    expect(() => encodeDenseOnnx(branched)).toThrow(/only a plain chain of layers/);

    const k = (n: number) => new Float32Array(n);
    expect(() => encodeDenseOnnx({ layers: [{ kernel: k(5), inDim: 2, outDim: 3, activation: 'relu' }] })).toThrow(
      /kernel must be a Float32Array of inDim \* outDim = 6 elements/,
    );
    expect(() =>
      encodeDenseOnnx({ layers: [{ kernel: k(6), bias: k(2), inDim: 2, outDim: 3, activation: 'relu' }] }),
    ).toThrow(/bias must be a Float32Array of outDim = 3/);
    expect(() =>
      encodeDenseOnnx({ layers: [{ kernel: k(6), inDim: 2, outDim: 3, activation: 'gelu' as never }] }),
    ).toThrow(/activation 'gelu'/);
    expect(() =>
      encodeDenseOnnx({
        layers: [
          { kernel: k(6), inDim: 2, outDim: 3, activation: 'relu' },
          { kernel: k(8), inDim: 4, outDim: 2, activation: 'relu' },
        ],
      }),
    ).toThrow(/dense_1 takes 4 inputs but dense_0 gives 3 outputs/);
    expect(() => encodeDenseOnnx({ layers: [] })).toThrow(/no dense layer/);
    expect(() =>
      encodeDenseOnnx(
        { layers: [{ kernel: k(1), inDim: 1, outDim: 1, activation: 'relu' }] },
        { inputName: 'z', outputName: 'z' },
      ),
    ).toThrow(/must differ/);
  });
});
