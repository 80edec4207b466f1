// Train on a 2-node cluster of real processes: a group over both nodes, and an elastic group
// that shrinks when a node is SIGKILLed instead of failing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { availableResources, init, shutdown } from '@ray-ts/core';
import { Cluster, waitFor } from '@ray-ts/core/testing';
import { DataParallelTrainer } from '@ray-ts/train';
import { linearLoop, type LinearConfig } from './fixtures/loops.js';

let cluster: Cluster;
let storagePath = '';

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 2 }, nodes: [{ numCpus: 2 }], nodeTimeoutMs: 2000 });
  await init({ address: cluster.address });
  storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-train-cluster-'));
}, 60_000);

afterAll(async () => {
  await shutdown();
  await cluster.shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
});

const config: LinearConfig = { steps: 10, lr: 0.2, rows: 64, dims: 3 };

it('trains one group over both nodes: the weights of one worker', async () => {
  const one = await new DataParallelTrainer(linearLoop, {
    trainLoopConfig: config,
    runConfig: { name: 'one', storagePath, verbose: 0 },
  }).fit();
  const four = await new DataParallelTrainer(linearLoop, {
    trainLoopConfig: config,
    scalingConfig: { numWorkers: 4, placementStrategy: 'SPREAD' },
    runConfig: { name: 'four', storagePath, verbose: 0 },
  }).fit();
  expect(four.error).toBeUndefined();
  expect(four.metrics?.worldSize).toBe(4);
  (four.metrics!.w as number[]).forEach((v, j) =>
    expect(Math.abs(v - (one.metrics!.w as number[])[j])).toBeLessThan(1e-12),
  );
});

it('elastic: shrinks to the workers left when a node is SIGKILLed, and finishes', async () => {
  const name = 'shrink';
  await waitFor(async () => (await availableResources()).CPU === 4, { what: "the first test's group gone" });
  const fitting = new DataParallelTrainer(linearLoop, {
    trainLoopConfig: { ...config, steps: 24, sleepMs: 80, checkpointEvery: 2 },
    scalingConfig: { numWorkers: { min: 1, max: 4 } },
    runConfig: { name, storagePath, verbose: 0 },
  }).fit();
  const results = path.join(storagePath, name, 'result.json');
  await waitFor(() => fs.existsSync(results) && fs.readFileSync(results, 'utf8').trim().split('\n').length >= 4, {
    what: '4 reports',
    timeoutMs: 30_000,
  });
  cluster.killNode(cluster.nodes.find((n) => !n.isHead)!.nodeId);
  const r = await fitting;
  expect(r.error).toBeUndefined();
  // 4 over both nodes, then what the head fits (it may restart with 1 while its CPUs come back, then grow to 2).
  expect(r.groupSizes[0]).toBe(4);
  expect(r.groupSizes.at(-1)).toBe(2);
  expect(Math.max(...r.groupSizes.slice(1))).toBe(2);
  expect(r.failures[0]).toMatchObject({ kind: 'died' });
  expect(r.metrics?.step).toBe(24);
  expect(r.metricsHistory.map((x) => x.trainingIteration)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
}, 120_000);
