// The object store's arena (runtime/arena.ts) reuses the memory of freed objects. Zero-copy readers
// count as references: a block somebody still reads, in the driver or in a worker, is never
// written again, however much is put and freed meanwhile.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, put, shutdown, type ObjectRef } from '@ray-ts/core';
import * as f from './fixtures/arena.js';

const MiB = 1024 * 1024;
const N = MiB / 8; // 1 MiB of float64s

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const tick = () => new Promise((r) => setTimeout(r, 5));

beforeAll(async () => {
  await init({ numCpus: 2, objectStoreMemory: 256 * MiB });
});
afterAll(async () => {
  await shutdown();
});

describe('arena', () => {
  it('never reuses a block while the driver holds a zero-copy view of it', async () => {
    const kept: { view: Float64Array; v: number }[] = [];
    for (let round = 0; round < 40; round++) {
      let ref: ObjectRef<Float64Array> | undefined = put(new Float64Array(N).fill(round));
      const whole = await get(ref);
      if (round % 4 === 0) kept.push({ view: whole.subarray(3, 1000), v: round });
      ref = undefined;
      void ref;
      gc();
      await tick();
    }
    // Results made in workers too: their blocks are the workers' arenas'.
    for (let round = 100; round < 120; round++) {
      const a = await get(f.filled.remote(N, round));
      if (round % 5 === 0) kept.push({ view: a.subarray(0, 10), v: round });
      await get(f.churn.remote(3, N, 1000 + round));
      gc();
      await tick();
    }
    expect(kept.length).toBe(14);
    for (const k of kept)
      expect(
        k.view.every((x) => x === k.v),
        `the view of ${k.v}`,
      ).toBe(true);
  });

  it('never reuses a block while an actor keeps a view of its argument', async () => {
    const keeper = f.RemoteKeeper.remote();
    for (let round = 0; round < 12; round++) {
      let ref: ObjectRef<Float64Array> | undefined = put(new Float64Array(N).fill(round + 0.5));
      await get(keeper.keep.remote(ref, round + 0.5));
      ref = undefined;
      void ref;
      gc();
      // Freed objects and dropped refs, everywhere, and more blocks wanted.
      await get([f.churn.remote(4, N, 7), f.churn.remote(4, N, 9)]);
      for (let i = 0; i < 4; i++) put(new Float64Array(N).fill(-1));
      gc();
      await tick();
    }
    expect(await get(keeper.changed.remote())).toBe(0);
  });

  it('reads back every value intact while memory is reused hard', async () => {
    const refs: ObjectRef<Float64Array>[] = [];
    for (let i = 0; i < 30; i++) {
      refs.push(i % 2 ? put(new Float64Array(N).fill(i)) : f.filled.remote(N, i));
      if (refs.length > 6) refs.shift(); // dropped: its block comes back
      if (i % 3 === 0) gc();
      const last = await get(refs[refs.length - 1]);
      expect(last[0]).toBe(i);
      expect(last[N - 1]).toBe(i);
    }
    const values = await get(refs);
    values.forEach((v, j) => expect(v.every((x) => x === 24 + j)).toBe(true));
  });
});
