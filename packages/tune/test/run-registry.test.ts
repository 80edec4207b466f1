// A Tune experiment registers its folder in the cluster's KV (namespace `runs`) when it starts,
// where the head's dashboard finds runs outside its storage folders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { init, internalKv, shutdown } from '@ray-ts/core';
import { Tuner, gridSearch } from '@ray-ts/tune';
import * as f from './fixtures/trainables.js';

let storagePath = '';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'tune-run-registry-test' });
  storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tune-registry-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
});

it("registers the experiment's folder for the dashboard", async () => {
  const grid = await new Tuner(f.quadratic, {
    paramSpace: { x: gridSearch([1, 2]), iters: 2 },
    runConfig: { name: 'registered', storagePath, verbose: 0 },
  }).fit();
  expect(grid.errors).toHaveLength(0);
  const dir = path.join(storagePath, 'registered');
  const reg = JSON.parse((await internalKv.getString(dir, { namespace: 'runs' }))!) as Record<string, unknown>;
  expect(reg).toMatchObject({ kind: 'tune', name: 'registered', path: dir });
  expect(reg.startTime).toBeGreaterThan(0);
});
