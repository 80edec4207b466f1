// The batch-inference benchmark model: tools/make-mlp-onnx.mjs writes an ONNX MLP whose ONNX
// Runtime predictions must match a plain-JS reference computed from the JSON weights, on the main
// thread and inside a worker thread (where Data's predictor actors run it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as ort from 'onnxruntime-node';
// @ts-expect-error plain ESM script without type declarations
import { loadWeights, mlpReference, randomFeatures } from './mlp-reference.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'make-mlp-onnx.mjs');
const rows = 100;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('tools/make-mlp-onnx.mjs', () => {
  let dir: string;
  let x: Float32Array;
  let expected: Float32Array;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-mlp-'));
    execFileSync(process.execPath, [script, '--out', dir, '--seed', '5'], { stdio: 'pipe' });
    x = randomFeatures(rows, 64, 11);
    expected = mlpReference(loadWeights(dir), x, rows);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a model with a dynamic batch dimension and the weights as JSON', () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'mlp-weights.json'), 'utf8'));
    expect(json).toMatchObject({ inDim: 64, hidden: 256, outDim: 10, seed: 5 });
    expect(json.tensors.W1.shape).toEqual([64, 256]);
    expect(json.tensors.W2.data).toHaveLength(2560);
    // Outputs are O(1), so the 1e-4 tolerance below is a real check, not a comparison of tiny numbers.
    const rms = Math.sqrt(expected.reduce((s: number, v: number) => s + v * v, 0) / expected.length);
    expect(rms).toBeGreaterThan(0.1);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-mlp-'));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-mlp-'));
    try {
      execFileSync(process.execPath, [script, '--out', again, '--seed', '5'], { stdio: 'pipe' });
      execFileSync(process.execPath, [script, '--out', other, '--seed', '6'], { stdio: 'pipe' });
      const bytes = (d: string) => fs.readFileSync(path.join(d, 'mlp.onnx'));
      expect(bytes(again).equals(bytes(dir))).toBe(true);
      expect(bytes(other).equals(bytes(dir))).toBe(false);
    } finally {
      fs.rmSync(again, { recursive: true, force: true });
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('ONNX Runtime predictions match the reference within 1e-4', async () => {
    const session = await ort.InferenceSession.create(path.join(dir, 'mlp.onnx'));
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y']);
      const out = await session.run({ x: new ort.Tensor('float32', x, [rows, 64]) });
      expect(out.y.dims).toEqual([rows, 10]);
      expect(maxAbsDiff(out.y.data as Float32Array, expected)).toBeLessThan(1e-4);
      // Another batch size through the same session: the batch dimension is dynamic.
      const few = await session.run({ x: new ort.Tensor('float32', x.subarray(0, 3 * 64), [3, 64]) });
      expect(maxAbsDiff(few.y.data as Float32Array, expected.subarray(0, 30))).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
  });

  it('runs inside a worker thread with the same predictions', async () => {
    const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const ort = await import(workerData.ortUrl);
        const session = await ort.InferenceSession.create(workerData.model, { intraOpNumThreads: 1 });
        const out = await session.run({ x: new ort.Tensor('float32', workerData.x, [workerData.rows, 64]) });
        await session.release();
        parentPort.postMessage(out.y.data);
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
    `;
    const worker = new Worker(code, {
      eval: true,
      workerData: { ortUrl, model: path.join(dir, 'mlp.onnx'), x, rows },
    });
    try {
      const got = await new Promise<Float32Array | { error: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
      });
      if (!(got instanceof Float32Array)) throw new Error(`ORT in a worker failed: ${got.error}`);
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    } finally {
      await worker.terminate();
    }
  });
});
