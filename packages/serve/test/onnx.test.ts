// onnxDeployment(): an ONNX MLP (tools/make-mlp-onnx.mjs) served over real HTTP and through a
// handle, checked against a plain-JS forward pass of the same weights (tools/mlp-reference.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import * as serve from '@ray-ts/serve';
import {
  DeployFailedError,
  onnxDeployment,
  ServeInvalidArgumentError,
  type DeploymentHandle,
  type OnnxModel,
} from '@ray-ts/serve';
// @ts-expect-error plain ESM script without type declarations
import { writeMlp } from '../../../tools/make-mlp-onnx.mjs';
// @ts-expect-error plain ESM script without type declarations
import { loadWeights, mlpReference, randomFeatures } from '../../../tools/mlp-reference.mjs';

const IN = 64;
const OUT = 10;
let dir = '';
let modelPath = '';
let url = '';
let handle: DeploymentHandle<OnnxModel>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let weights: any;

/** Reference predictions of `rows` rows of features (row-major), as rows of numbers. */
function reference(x: Float32Array, rows: number): number[][] {
  const y = mlpReference(weights, x, rows) as Float32Array;
  return Array.from({ length: rows }, (_, i) => Array.from(y.subarray(i * OUT, (i + 1) * OUT)));
}
const rowsOf = (x: Float32Array, rows: number): number[][] =>
  Array.from({ length: rows }, (_, i) => Array.from(x.subarray(i * IN, (i + 1) * IN)));

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((row, i) => {
    expect(row).toHaveLength(b[i].length);
    row.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i][j]))));
  });
  return max;
}

const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-serve-onnx-'));
  modelPath = writeMlp(dir).model;
  weights = loadWeights(dir);
  await init({ numCpus: 2, namespace: 'serve-onnx-test' });
  const proxies = await serve.start({ http: { host: '127.0.0.1', port: 0 } });
  const [p] = Object.values(proxies);
  url = `http://127.0.0.1:${p.httpPort}/mlp`;
  // A long batch wait, so that the concurrent requests below surely share batches (at most 32 rows each).
  handle = await serve.run(onnxDeployment({ modelPath, batchWaitTimeoutS: 0.05, rayActorOptions: { numCpus: 0 } }), {
    name: 'onnx',
    routePrefix: '/mlp',
  });
});
afterAll(async () => {
  await serve.shutdown();
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('onnxDeployment()', () => {
  it('answers 64 concurrent single-row POSTs correctly, batched into few session runs', async () => {
    const before = await handle.stats.remote();
    const x = randomFeatures(64, IN, 3) as Float32Array;
    const rows = rowsOf(x, 64);
    const answers = await Promise.all(
      rows.map(async (row) => {
        const r = await post(JSON.stringify({ inputs: row }));
        expect(r.status).toBe(200);
        return ((await r.json()) as { outputs: { y: number[] } }).outputs.y;
      }),
    );
    expect(maxAbsDiff(answers, reference(x, 64))).toBeLessThan(1e-4);
    const after = await handle.stats.remote();
    expect(after.rows - before.rows).toBe(64);
    const runs = after.batches - before.batches;
    expect(runs).toBeLessThan(64);
    const sizes = Object.keys(after.batchSizes).map(Number);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(32);
  });

  it('takes several rows in one request, and tells its metadata on GET', async () => {
    const x = randomFeatures(5, IN, 4) as Float32Array;
    const r = await post(JSON.stringify({ inputs: rowsOf(x, 5) }));
    expect(r.status).toBe(200);
    const { outputs } = (await r.json()) as { outputs: { y: number[][] } };
    expect(Object.keys(outputs)).toEqual(['y']);
    expect(maxAbsDiff(outputs.y, reference(x, 5))).toBeLessThan(1e-4);
    const meta = await (await fetch(url)).json();
    expect(meta).toMatchObject({
      inputNames: ['x'],
      outputNames: ['y'],
      modelPath,
      inputName: 'x',
      inputWidth: IN,
      inputType: 'float32',
    });
  });

  it('predicts through a handle (for composition)', async () => {
    const x = randomFeatures(3, IN, 5) as Float32Array;
    const out = await handle.predict.remote(rowsOf(x, 3));
    expect(Object.keys(out)).toEqual(['y']);
    expect(maxAbsDiff(out.y, reference(x, 3))).toBeLessThan(1e-4);
    await expect(handle.predict.remote([[1, 2, 3]])).rejects.toThrow(/has 3 values; the model takes 64/);
  });

  it('answers bad input with 400 and what it expects, and keeps serving', async () => {
    const row = Array.from({ length: IN }, () => 0.5);
    const cases: [string, RegExp][] = [
      ['not json', /not JSON/],
      [JSON.stringify({ rows: [row] }), /no "inputs"/],
      [JSON.stringify([row]), /no "inputs"/],
      [JSON.stringify({ inputs: [] }), /non-empty array/],
      [JSON.stringify({ inputs: 'abc' }), /non-empty array/],
      [JSON.stringify({ inputs: row.slice(1) }), /has 63 values; the model takes 64/],
      [JSON.stringify({ inputs: [row, row.slice(2)] }), /Row 1 has 62 values/],
      [JSON.stringify({ inputs: [...row.slice(1), 'a'] }), /"a" at index 63, not a finite number/],
      [JSON.stringify({ inputs: [row, 7] }), /Row 1 is not an array of numbers/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      expect(r.status, body.slice(0, 40)).toBe(400);
      const { error } = (await r.json()) as { error: string };
      expect(error).toMatch(message);
      expect(error).toContain('Expected a JSON body {"inputs": row} or {"inputs": [row, ...]}, each row 64 numbers');
    }
    expect((await fetch(url, { method: 'PUT', body: '{}' })).status).toBe(405);
    expect((await post(JSON.stringify({ inputs: row }))).status).toBe(200);
  });

  it('rejects invalid options at once, and a missing model file at deploy', async () => {
    expect(() => onnxDeployment({ modelPath: '' })).toThrow(ServeInvalidArgumentError);
    expect(() => onnxDeployment({ modelPath, maxBatchSize: 0 })).toThrow(
      /Invalid maxBatchSize for onnxDeployment\(\): 0/,
    );
    expect(() => onnxDeployment({ modelPath, batchWaitTimeoutS: -1 })).toThrow(/batchWaitTimeoutS/);
    expect(() => onnxDeployment({ modelPath, outputNames: [] })).toThrow(/outputNames/);
    expect(() => onnxDeployment({ modelPath, num_replicas: 2 } as never)).toThrow(/Did you mean 'numReplicas'/);
    const missing = path.join(dir, 'missing.onnx');
    const failed = await serve
      .run(onnxDeployment({ modelPath: missing, name: 'Missing', rayActorOptions: { numCpus: 0 } }), {
        name: 'missing',
        routePrefix: '/missing',
        timeoutS: 60,
      })
      .catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(DeployFailedError);
    expect((failed as Error).message).toMatch(/ONNX model file not found: .*missing\.onnx/);
  });
});
