// Short tasks are pipelined: sent to a busy worker ahead of time. These tests check that doing
// so keeps the semantics: no deadlock on nested gets, no lost attempts, cancellation works.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TaskCancelledError, WorkerCrashedError, cancel, get, init, shutdown, wait } from '@ray-ts/core';
import * as f from './fixtures/tasks.js';

beforeAll(async () => {
  await init({ numCpus: 2 });
  // Warm up run-time statistics so these functions count as short.
  await get(Array.from({ length: 50 }, (_, i) => f.square.remote(i)));
  await get(Array.from({ length: 50 }, (_, i) => f.crashOn.remote(i, -1)));
  await get(Array.from({ length: 20 }, (_, i) => f.parentOfSquare.remote(i)));
});
afterAll(async () => {
  await shutdown();
});

it('runs many short tasks that wait on child tasks without deadlock', async () => {
  const refs = Array.from({ length: 300 }, (_, i) => f.parentOfSquare.remote(i));
  const out = await get(refs);
  expect(out[299]).toBe(299 * 299);
});

it('does not charge tasks queued behind a crashing one an attempt', async () => {
  const refs = Array.from({ length: 200 }, (_, i) => f.crashOn.options({ maxRetries: 0 }).remote(i, 50));
  const results = await Promise.allSettled(refs.map((r) => get(r)));
  const failed = results.filter((r) => r.status === 'rejected');
  expect(failed).toHaveLength(1);
  expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(WorkerCrashedError);
  expect((results[51] as PromiseFulfilledResult<number>).value).toBe(51);
});

it('cancels tasks that were sent ahead but not started', async () => {
  const refs = Array.from({ length: 400 }, (_, i) => f.square.remote(i));
  const victims = refs.slice(200, 260);
  await Promise.all(victims.map((r) => cancel(r)));
  const results = await Promise.allSettled(refs.map((r) => get(r)));
  for (let i = 0; i < refs.length; i++) {
    const r = results[i];
    if (r.status === 'rejected') {
      expect(r.reason).toBeInstanceOf(TaskCancelledError);
      expect(i >= 200 && i < 260).toBe(true);
    } else expect(r.value).toBe(i * i);
  }
});

it('never queues short tasks behind a long one', async () => {
  await get(f.spin.remote(1)); // the long function's first run makes it known as short; the next is long
  const long = f.spin.remote(3000);
  await new Promise((r) => setTimeout(r, 50));
  const shorts = Array.from({ length: 200 }, (_, i) => f.square.remote(i));
  const { ready } = await wait(shorts, { numReturns: shorts.length, timeoutMs: 2500 });
  expect(ready).toHaveLength(shorts.length);
  expect((await wait([long], { timeoutMs: 0 })).ready).toHaveLength(0);
  expect(await get(long)).toBe(3000);
});
