// Start-up: init() starts one worker thread at once and the others once it is ready, so work
// submitted right after init() must still get the threads it needs at once (started on demand).
import { afterEach, expect, it } from 'vitest';
import { get, init, put, remote, shutdown } from '@ray-ts/core';

afterEach(async () => {
  await shutdown();
});

// Each task says it arrived, then waits (blocking its thread, up to 20 s) for the other to arrive:
// they meet only if both run at the same time, on two threads.
const meet = remote((flags: Int32Array, me: number) => {
  Atomics.store(flags, me, 1);
  Atomics.notify(flags, me);
  const other = 1 - me;
  const deadline = Date.now() + 20_000;
  while (Atomics.load(flags, other) === 0 && Date.now() < deadline) Atomics.wait(flags, other, 0, 100);
  return Atomics.load(flags, other) === 1 ? 'met' : 'alone';
});

it('runs two tasks submitted right after init() at the same time', async () => {
  await init({ numCpus: 2, config: { prestartWorkers: 2 } });
  // Above the inline limit, so both tasks see the same shared memory.
  const flags = put(new Int32Array(64 * 1024));
  expect(await get([meet.remote(flags, 0), meet.remote(flags, 1)])).toEqual(['met', 'met']);
});
