import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TrainInvalidArgumentError } from '../errors.js';
import { setupBackend } from './backend.js';

function matmul(): number[] {
  return tf.tidy(() => {
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor2d([
      [5, 6],
      [7, 8],
    ]);
    return Array.from(tf.matMul(a, b).dataSync());
  });
}

describe('setupBackend', () => {
  it('picks wasm here (no tfjs-node installed), or cpu, and a matmul works on it', async () => {
    const name = await setupBackend();
    expect(['wasm', 'cpu']).toContain(name);
    // The wasm files ship with @tensorflow/tfjs-backend-wasm, a dependency: wasm must work in Node.
    expect(name).toBe('wasm');
    expect(tf.getBackend()).toBe(name);
    expect(matmul()).toEqual([19, 22, 43, 50]);
  });

  it('multiplies by transposed operands (its wasm kernels transpose first) exactly as by transposed copies', async () => {
    expect(await setupBackend()).toBe('wasm');
    const a = tf.randomNormal([3, 7, 5], 0, 1, 'float32', 1);
    const b = tf.randomNormal([3, 6, 7], 0, 1, 'float32', 2);
    const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
    const same = (x: tf.Tensor, y: tf.Tensor) => expect(Array.from(x.dataSync())).toEqual(Array.from(y.dataSync()));
    const plain = tf.matMul(t(a), t(b));
    same(tf.matMul(a, b, true, true), plain);
    same(tf.matMul(a, t(b), true, false), plain);
    same(tf.matMul(t(a), b, false, true), plain);
    // The fused kernel (dense layers) too, with its bias and activation (2-D: wasm's fused kernel
    // adds a bias wrongly to batched products, with or without transposes).
    const [a2, b2] = [a.reshape([21, 5]), b.reshape([18, 7]).slice([0, 0], [18, 5])];
    const bias = tf.randomNormal([18], 0, 1, 'float32', 3);
    const fused = tf.fused
      .matMul({
        a: t(a2.expandDims(0)).squeeze([0]),
        b: b2,
        transposeA: true,
        transposeB: true,
        bias,
        activation: 'relu',
      })
      .dataSync();
    const expected = tf.relu(tf.add(tf.matMul(a2, b2, false, true), bias)).dataSync();
    expect(fused.length).toBe(21 * 18);
    fused.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // A gradient (which multiplies by transposes) matches the cpu backend's.
    const grad = () =>
      Array.from(
        tf
          .grad((w: tf.Tensor) => tf.sum(tf.square(tf.matMul(a.reshape([21, 5]), w))))(tf.ones([5, 4]))
          .dataSync(),
      );
    const onWasm = grad();
    await setupBackend('cpu');
    const onCpu = grad();
    await setupBackend('wasm');
    onWasm.forEach((g, i) => expect(g).toBeCloseTo(onCpu[i], 3));
  });

  it('is idempotent: concurrent and later calls share the first setup', async () => {
    const [a, b, c] = await Promise.all([setupBackend(), setupBackend(), setupBackend()]);
    expect(new Set([a, b, c]).size).toBe(1);
    expect(setupBackend()).toBe(setupBackend());
  });

  it('switches to a preferred backend, and falls back when the preferred one is not installed', async () => {
    expect(await setupBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(matmul()).toEqual([19, 22, 43, 50]);
    expect(await setupBackend()).toBe('cpu'); // no preference: keeps the current setup
    expect(await setupBackend('tensorflow')).toBe('wasm'); // tfjs-node is not installed here
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown backend name', async () => {
    await expect(setupBackend('webgl' as never)).rejects.toThrow(TrainInvalidArgumentError);
    await expect(setupBackend('webgl' as never)).rejects.toThrow(/'tensorflow', 'wasm', 'cpu'/);
  });

  it('works in several worker threads at once, each with its own engine', async () => {
    const url = new URL('./backend.ts', import.meta.url).href;
    const source = `
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const { register } = await import('tsx/esm/api');
        register();
        const { setupBackend } = await import(${JSON.stringify(url)});
        const tf = await import('@tensorflow/tfjs');
        const names = await Promise.all([setupBackend(), setupBackend()]);
        const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
        parentPort.postMessage({ names, backend: tf.getBackend(), y });
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
    `;
    const run = () =>
      new Promise<unknown>((resolve, reject) => {
        // tsx (registered first thing in the worker) lets it import the TypeScript source.
        const w = new Worker(source, { eval: true });
        w.once('message', (m) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const results = await Promise.all([run(), run(), run()]);
    for (const r of results) expect(r).toEqual({ names: ['wasm', 'wasm'], backend: 'wasm', y: 11 });
  }, 60_000);
});
