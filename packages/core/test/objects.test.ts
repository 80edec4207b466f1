import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import {
  ObjectLostError,
  ObjectRef,
  get,
  init,
  put,
  shutdown,
  InvalidArgumentError,
  SerializationError,
} from '@ray-ts/core';
import { objectStoreStats, waitFor } from '@ray-ts/core/testing';
import * as f from './fixtures/tasks.js';

const MiB = 1024 * 1024;
const capacity = 64 * MiB;

beforeAll(async () => {
  await init({ numCpus: 2, objectStoreMemory: capacity });
});
afterAll(async () => {
  await shutdown();
});

v8.setFlagsFromString('--expose-gc');
const gc = () => vm.runInNewContext('gc') as () => void;

suite('objects', () => {
  it('round-trips values of many kinds through put and get', async () => {
    const values: unknown[] = [
      1,
      'text',
      null,
      undefined,
      true,
      12n,
      [1, [2, 3]],
      { a: { b: 'c' } },
      new Map([[1, 'one']]),
      new Set([1, 2]),
      new Date(0),
      /re/g,
      new Uint8Array([1, 2, 3]),
      new Float32Array([1.5]),
      Buffer.from('buf'),
      new Error('stored error'),
    ];
    for (const v of values) {
      const back = await get(put(v));
      if (v instanceof Error) expect((back as Error).message).toBe('stored error');
      else expect(back).toEqual(v);
    }
    expect(Buffer.isBuffer(await get(put(Buffer.from('x'))))).toBe(true);
  });

  it('keeps refs nested in stored values alive and revives them as refs', async () => {
    const inner = put('inner value');
    const outer = put({ list: [inner], map: new Map([['k', inner]]) });
    const back = await get(outer);
    expect(back.list[0]).toBeInstanceOf(ObjectRef);
    expect(back.map.get('k')).toBeInstanceOf(ObjectRef);
    expect(await get(back.list[0])).toBe('inner value');
  });

  it('rejects values that cannot be serialized, saying what to pass instead', () => {
    expect(() => put({ f: () => 1 })).toThrow(SerializationError);
    expect(() => put({ f: () => 1 })).toThrow(/not plain functions/);
    expect(() => put(put(1) as never)).toThrow(InvalidArgumentError);
  });

  it('frees objects once no reference is left', async () => {
    const g = gc();
    const before = objectStoreStats().numObjects;
    (() => {
      for (let i = 0; i < 50; i++) put(new Float64Array(1000));
    })();
    await waitFor(
      () => {
        g();
        return objectStoreStats().numObjects <= before;
      },
      { what: 'objects freed' },
    );
    expect(objectStoreStats().numObjects).toBeLessThanOrEqual(before);
  });

  it('reports a freed object as ObjectLostError', async () => {
    const fake = new ObjectRef<number>('obj_does_not_exist');
    await expect(get(fake)).rejects.toBeInstanceOf(ObjectLostError);
  });

  it('spills to disk past capacity and restores transparently (3x capacity)', async () => {
    const refs: ObjectRef<Float64Array>[] = [];
    const each = 16 * MiB;
    const abBefore = process.memoryUsage().arrayBuffers;
    let abPeak = abBefore;
    const n = (3 * capacity) / each;
    const source = new Float64Array(each / 8);
    for (let i = 0; i < n; i++) {
      refs.push(put(source.fill(i)));
      expect(objectStoreStats().usedBytes).toBeLessThanOrEqual(capacity);
      abPeak = Math.max(abPeak, process.memoryUsage().arrayBuffers);
    }
    const stats = objectStoreStats();
    expect(stats.spilledBytesTotal).toBeGreaterThanOrEqual(2 * capacity - each);
    for (let i = 0; i < n; i++) {
      const arr = await get(refs[i]);
      expect(arr.length).toBe(each / 8);
      expect(arr[0]).toBe(i);
      expect(arr[arr.length - 1]).toBe(i);
      expect(objectStoreStats().usedBytes).toBeLessThanOrEqual(capacity);
      abPeak = Math.max(abPeak, process.memoryUsage().arrayBuffers);
    }
    // Buffer memory stays bounded by the capacity, the source array, a GC threshold (capacity / 2)
    // and the value being read: far less than the 3x capacity that went through the store.
    expect(abPeak - abBefore).toBeLessThanOrEqual(capacity + capacity / 2 + 2 * each);
    expect(objectStoreStats().restoredBytesTotal).toBeGreaterThan(0);
    // Tasks read spilled objects too.
    expect(await get(f.sumArray.remote(refs[0]))).toBe(0);
    expect(await get(f.sumArray.remote(refs[1]))).toBe(each / 8);
  });

  it('reuses the memory of large objects nobody read, never of ones that were read', async () => {
    const g = gc();
    const size = 4 * MiB;
    const readRef = put(new Uint8Array(size).fill(1));
    const view = await get(readRef);
    (() => {
      for (let i = 0; i < 8; i++) put(new Uint8Array(size).fill(2)); // dropped unread
    })();
    await waitFor(
      () => {
        g();
        return objectStoreStats().numObjects < 8;
      },
      { what: 'unread objects freed' },
    );
    const later = await Promise.all(Array.from({ length: 8 }, (_, i) => get(put(new Uint8Array(size).fill(10 + i)))));
    later.forEach((arr, i) => {
      expect(arr[0]).toBe(10 + i);
      expect(arr[size - 1]).toBe(10 + i);
    });
    // The value that was read keeps its bytes, and so does its ref.
    expect(view[0]).toBe(1);
    expect(view[size - 1]).toBe(1);
    expect((await get(readRef))[123]).toBe(1);
  });

  it("copies a shared view on put, so reusing one object's memory never changes another", async () => {
    const g = gc();
    const size = 4 * MiB;
    const original = put(new Uint8Array(size).fill(5));
    const view = await get(original);
    (() => {
      for (let i = 0; i < 4; i++) put(view); // unread copies of a view, dropped
    })();
    await waitFor(
      () => {
        g();
        return objectStoreStats().numObjects < 4;
      },
      { what: 'copies freed' },
    );
    for (let i = 0; i < 4; i++) await get(put(new Uint8Array(size).fill(9)));
    expect(view[0]).toBe(5);
    expect((await get(original))[size - 1]).toBe(5);
  });

  it('frees large values the driver dropped when memory is needed, without waiting for finalizers', async () => {
    const source = new Float64Array((16 * MiB) / 8).fill(3);
    const spilledBefore = objectStoreStats().spilledBytesTotal;
    let peak = 0;
    for (let i = 0; i < 24; i++) {
      put(source); // dropped at once, as in a loop that puts and forgets
      peak = Math.max(peak, objectStoreStats().usedBytes);
      await new Promise((r) => setImmediate(r));
    }
    // 384 MiB went through a 64 MiB store without filling it, so nothing had to spill.
    expect(peak).toBeLessThanOrEqual(capacity);
    expect(objectStoreStats().spilledBytesTotal).toBe(spilledBefore);
  });

  it('stores a single object larger than the whole store on disk', async () => {
    const big = put(new Uint8Array(capacity + MiB).fill(7));
    const back = await get(big);
    expect(back.length).toBe(capacity + MiB);
    expect(back[capacity]).toBe(7);
  });
});
