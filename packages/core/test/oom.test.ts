import { afterAll, beforeAll, expect, it } from 'vitest';
import { OutOfMemoryError, get, init, shutdown } from '@ray-ts/core';
import * as f from './fixtures/tasks.js';

beforeAll(async () => {
  await init({ numCpus: 2, config: { workerHeapMb: 64 } });
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
