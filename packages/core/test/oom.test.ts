import { afterAll, beforeAll, expect, it } from 'vitest';
import { OutOfMemoryError, WorkerCrashedError, get, init, shutdown } from '@ray-ts/core';
import * as f from './fixtures/tasks.js';

beforeAll(async () => {
  await init({ numCpus: 2, config: { workerHeapMb: 64, taskMaxRetries: 0 } });
});
afterAll(async () => {
  await shutdown();
});

it('fails a task that runs out of heap with OutOfMemoryError, and the node lives on', async () => {
  const err = await get(f.allocateForever.options({ maxRetries: 0 }).remote()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OutOfMemoryError);
  expect((err as Error).message).toMatch(/ran out of memory.*RAY_TS_WORKER_HEAP_MB/);
  expect(await get(f.square.remote(3))).toBe(9);
});

it("applies the cluster's taskMaxRetries to functions defined before init()", async () => {
  const name = `retries-${Date.now()}`;
  f.RemoteCounter.options({ name }).remote(0);
  // Would succeed on its second attempt; with taskMaxRetries 0 there is none.
  await expect(get(f.crashy.remote(name, 2))).rejects.toBeInstanceOf(WorkerCrashedError);
});
