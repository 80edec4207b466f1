import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batch } from './batch.js';
import { ServeInvalidArgumentError } from './errors.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A batch function that records the batches it got and doubles each item. */
function recorder(): { batches: number[][]; fn: (items: number[]) => Promise<number[]> } {
  const batches: number[][] = [];
  return {
    batches,
    fn: async (items: number[]) => {
      batches.push(items);
      return items.map((x) => x * 2);
    },
  };
}

describe('batch() as a function wrapper', () => {
  it('gathers concurrent calls into one batch and gives each caller its own result', async () => {
    const r = recorder();
    const double = batch(r.fn, { maxBatchSize: 10, batchWaitTimeoutS: 0.01 });
    const out = Promise.all([double(1), double(2), double(3)]);
    await vi.advanceTimersByTimeAsync(10);
    expect(await out).toEqual([2, 4, 6]);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  it('never puts more than maxBatchSize items in a batch, and sends a full batch without waiting', async () => {
    const r = recorder();
    const double = batch(r.fn, { maxBatchSize: 4, batchWaitTimeoutS: 60 });
    const calls = Array.from({ length: 10 }, (_, i) => double(i));
    await vi.advanceTimersByTimeAsync(0);
    // Two full batches went at once; the last two items wait for the timeout.
    expect(r.batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
  });

  it('sends a partial batch once batchWaitTimeoutS passed since its first item', async () => {
    const r = recorder();
    const double = batch(r.fn, { maxBatchSize: 10, batchWaitTimeoutS: 0.05 });
    const a = double(1);
    await vi.advanceTimersByTimeAsync(30);
    const b = double(2);
    await vi.advanceTimersByTimeAsync(19);
    expect(r.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.batches).toEqual([[1, 2]]);
    expect(await Promise.all([a, b])).toEqual([2, 4]);
    // The next call starts a new batch with a new timeout.
    const c = double(3);
    await vi.advanceTimersByTimeAsync(49);
    expect(r.batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await c).toBe(6);
    expect(r.batches).toEqual([[1, 2], [3]]);
  });

  it('rejects every caller of a failed batch with its error, and only those', async () => {
    let calls = 0;
    const boom = new Error('model crashed');
    const f = batch(
      async (items: number[]) => {
        if (calls++ === 0) throw boom;
        return items;
      },
      { maxBatchSize: 2, batchWaitTimeoutS: 1 },
    );
    const first = [f(1), f(2)].map((p) => p.catch((e: unknown) => e));
    const second = [f(3), f(4)];
    await vi.advanceTimersByTimeAsync(0);
    expect(await Promise.all(first)).toEqual([boom, boom]);
    expect(await Promise.all(second)).toEqual([3, 4]);
  });

  it('rejects the callers when the function throws synchronously', async () => {
    const f = batch(
      (): number[] => {
        throw new RangeError('sync');
      },
      { maxBatchSize: 2 },
    );
    const calls = [f(1), f(2)].map((p) => p.catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(0);
    for (const e of await Promise.all(calls)) expect(e).toBeInstanceOf(RangeError);
  });

  it('fails every caller with a clear error when the function returns the wrong number of results', async () => {
    const short = batch(async (items: number[]) => items.slice(1), { maxBatchSize: 3 });
    const calls = [short(1), short(2), short(3)].map((p) => p.catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(0);
    for (const e of await Promise.all(calls)) {
      expect(e).toBeInstanceOf(ServeInvalidArgumentError);
      expect((e as Error).message).toMatch(
        /got 3 items and returned 2 results: it must return an array with one result per item/,
      );
    }
    const notArray = batch(async () => 'oops' as unknown as number[], { maxBatchSize: 1 });
    await expect(notArray(1)).rejects.toThrow(/got 1 items and returned string/);
  });

  it('rejects bad options when wrapping', () => {
    const fn = async (items: number[]) => items;
    expect(() => batch(fn, { maxBatchSize: 0 })).toThrow(ServeInvalidArgumentError);
    expect(() => batch(fn, { maxBatchSize: 2.5 })).toThrow(/Invalid maxBatchSize for batch\(\): 2.5/);
    expect(() => batch(fn, { batchWaitTimeoutS: -1 })).toThrow(/Invalid batchWaitTimeoutS for batch\(\): -1/);
    expect(() => batch({ maxBatchSize: -3 })).toThrow(ServeInvalidArgumentError);
  });
});

describe('@batch() as a method decorator', () => {
  class Model {
    readonly batches: number[][] = [];
    constructor(readonly offset: number) {}

    // A TypeScript decorator cannot change its method's type, and batch() turns `(items: T[]) => R[]`
    // into `(item: T) => R`, so tsc rejects this line (TS1270); esbuild compiles it, so the test runs
    // the real decorator. Callers cast the method (see `predict` below).
    // @ts-expect-error TS1270: the decorator's return type differs from the method's.
    @batch({ maxBatchSize: 4, batchWaitTimeoutS: 0.01 })
    async predict(items: number[]): Promise<number[]> {
      this.batches.push(items);
      return items.map((x) => x + this.offset);
    }
  }
  /** The decorated method as callers see it: one item in, one result out. */
  const predict = (m: Model, item: number): Promise<number> =>
    (m.predict as unknown as (x: number) => Promise<number>).call(m, item);

  it('batches calls of one instance, with `this` bound, within maxBatchSize', async () => {
    const m = new Model(100);
    const calls = Array.from({ length: 6 }, (_, i) => predict(m, i));
    await vi.advanceTimersByTimeAsync(10);
    expect(await Promise.all(calls)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(m.batches).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
  });

  it('keeps a queue per instance: calls on different objects never share a batch', async () => {
    const a = new Model(10);
    const b = new Model(20);
    const calls = [predict(a, 1), predict(b, 1), predict(a, 2), predict(b, 2), predict(b, 3)];
    await vi.advanceTimersByTimeAsync(10);
    expect(await Promise.all(calls)).toEqual([11, 21, 12, 22, 23]);
    expect(a.batches).toEqual([[1, 2]]);
    expect(b.batches).toEqual([[1, 2, 3]]);
  });
});
