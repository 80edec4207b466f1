import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TrainInvalidArgumentError } from '../errors.js';
import { setupBackend } from './backend.js';

function matmul(): number[] {
  return tf.tidy(() => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6], [7, 8]]);
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
