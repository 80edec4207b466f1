import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActorDiedError,
  ActorPool,
  GetTimeoutError,
  exitActor,
  kill,
  listNamedActors,
  InvalidArgumentError,
  PoolEmptyError,
  Queue,
  QueueEmptyError,
  QueueFullError,
  get,
  init,
  put,
  shutdown,
  type ActorHandle,
} from '@ray-ts/core';
import * as f from './fixtures/util.js';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'util-test' });
});
afterAll(async () => {
  await shutdown();
});

const doublers = (n: number): ActorHandle<f.Doubler>[] => Array.from({ length: n }, () => f.DoublerActor.remote());

describe('ActorPool', () => {
  it('maps values over its actors, in order, and spreads the calls', async () => {
    const actors = doublers(2);
    const pool = new ActorPool(actors);
    const out: number[] = [];
    for await (const y of pool.map((a, v: number) => a.double.remote(v), [1, 2, 3, 4, 5, 6])) out.push(y);
    expect(out).toEqual([2, 4, 6, 8, 10, 12]);
    const counts = await get(actors.map((a) => a.count.remote()));
    expect(counts.reduce((s, c) => s + c, 0)).toBe(6);
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(pool.hasNext()).toBe(false);
    expect(pool.hasFree()).toBe(true);
  });

  it('yields results as they are ready with mapUnordered', async () => {
    const pool = new ActorPool(doublers(2));
    const out: number[] = [];
    // The first value is slow: with two actors, the others finish first.
    for await (const y of pool.mapUnordered((a, [v, ms]: [number, number]) => a.double.remote(v, ms), [
      [1, 1500],
      [2, 0],
      [3, 0],
      [4, 0],
    ] as [number, number][]))
      out.push(y);
    expect(out.slice().sort((a, b) => a - b)).toEqual([2, 4, 6, 8]);
    expect(out[out.length - 1]).toBe(2);
  });

  it('queues submissions beyond its actors, and takes results with getNext', async () => {
    const pool = new ActorPool(doublers(1));
    pool.submit((a, v: number) => a.double.remote(v), 10);
    pool.submit((a, v: number) => a.double.remote(v), 20);
    expect(pool.hasFree()).toBe(false);
    expect(pool.popIdle()).toBeUndefined();
    expect(await pool.getNext<number>()).toBe(20);
    expect(pool.hasNext()).toBe(true);
    expect(await pool.getNext<number>()).toBe(40);
    expect(pool.hasNext()).toBe(false);
    await expect(pool.getNext()).rejects.toBeInstanceOf(PoolEmptyError);
  });

  it('times out, and drops a timed-out submission when asked', async () => {
    const pool = new ActorPool(doublers(1));
    pool.submit((a, v: number) => a.double.remote(v, 2000), 1);
    await expect(pool.getNext({ timeoutMs: 50 })).rejects.toBeInstanceOf(GetTimeoutError);
    expect(pool.hasNext()).toBe(true);
    await expect(pool.getNext({ timeoutMs: 50, ignoreIfTimedOut: true })).rejects.toThrow(/dropped/);
    expect(pool.hasNext()).toBe(false);
    expect(pool.hasFree()).toBe(true);
  });

  it('lets actors join and leave, and refuses bad input with clear errors', async () => {
    const [a, b] = doublers(2);
    const pool = new ActorPool([a]);
    expect(() => pool.push(a)).toThrow(/already belongs/);
    pool.push(b);
    const idle = pool.popIdle();
    expect(idle).toBeDefined();
    expect(() => new ActorPool([a, a])).toThrow(InvalidArgumentError);
    expect(() => new ActorPool([{} as never])).toThrow(/actor handles/);
    expect(() => pool.submit(() => 5 as never, 1)).toThrow(/ObjectRef/);
    pool.push(idle!);
    expect(pool.hasFree()).toBe(true);
    // Two actors; the first call is slow, so the unordered take gets the second, and getNext() cannot go back.
    pool.submit((x, v: number) => x.double.remote(v, 1000), 1);
    pool.submit((x, v: number) => x.double.remote(v), 2);
    expect(await pool.getNextUnordered<number>()).toBe(4);
    await expect(pool.getNext()).rejects.toThrow(/getNextUnordered/);
    expect(await pool.getNextUnordered<number>()).toBe(2);
  });
});

describe('Queue', () => {
  it('passes items between tasks, first in first out', async () => {
    const q = new Queue<number>();
    const consumer = f.consume.remote(q, 5);
    expect(await get(f.produce.remote(q, 5))).toBe(5);
    expect(await get(consumer)).toEqual([0, 1, 2, 3, 4]);
    expect(await q.empty()).toBe(true);
    await q.shutdown();
  });

  it('bounds its size: put waits for room, or throws QueueFullError', async () => {
    const q = new Queue<string>(2);
    await q.put('a');
    await q.putNowait('b');
    expect(await q.full()).toBe(true);
    await expect(q.putNowait('c')).rejects.toBeInstanceOf(QueueFullError);
    await expect(q.put('c', { timeoutMs: 50 })).rejects.toBeInstanceOf(QueueFullError);
    const waiting = q.put('c');
    expect(await q.get()).toBe('a');
    await waiting;
    expect(await q.getNowaitBatch(2)).toEqual(['b', 'c']);
    await expect(q.getNowait()).rejects.toBeInstanceOf(QueueEmptyError);
    await expect(q.get({ timeoutMs: 50 })).rejects.toThrow(/stayed empty for 50 ms/);
    await q.shutdown();
  });

  it('puts and gets batches whole or not at all', async () => {
    const q = new Queue<number>(3);
    await expect(q.putNowaitBatch([1, 2, 3, 4])).rejects.toBeInstanceOf(QueueFullError);
    expect(await q.size()).toBe(0);
    await q.putNowaitBatch([1, 2]);
    await expect(q.getNowaitBatch(3)).rejects.toBeInstanceOf(QueueEmptyError);
    expect(await q.qsize()).toBe(2);
    expect(await q.getNowaitBatch(2)).toEqual([1, 2]);
    await q.shutdown();
  });

  it('travels inside objects and carries ObjectRefs', async () => {
    const q = new Queue<unknown>();
    const ref = put(new Float64Array([1, 2, 3]));
    await q.put({ ref });
    expect(await get(f.sizeOfNested.remote({ queue: q as Queue<number> }))).toBe(1);
    const item = (await q.get()) as { ref: typeof ref };
    expect(Array.from(await get(item.ref))).toEqual([1, 2, 3]);
    await q.shutdown();
  });

  it('refuses bad arguments with clear errors', async () => {
    expect(() => new Queue(-1)).toThrow(/whole number >= 0/);
    const q = new Queue<number>();
    await expect(q.get({ timeoutMs: -5 })).rejects.toThrow(/timeoutMs must be a number >= 0/);
    await expect(q.getNowaitBatch(1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await q.shutdown();
  });
});

describe('exitActor', () => {
  it('ends the actor for good: its call and later calls fail with ActorDiedError, with no restart', async () => {
    for (const options of [{ maxRestarts: 2 }, { maxRestarts: 2, numCpus: 1 }, { isolation: 'process' as const }]) {
      const a = f.FinisherActor.options(options).remote();
      expect(await get(a.work.remote())).toBe(1);
      const finishing = a.finish.remote();
      const queued = a.work.remote();
      await expect(get(finishing)).rejects.toThrow(/exitActor\(\)/);
      await expect(get(queued)).rejects.toBeInstanceOf(ActorDiedError);
      await expect(get(a.work.remote())).rejects.toThrow(/it called exitActor\(\)/);
    }
  });

  it('is refused outside an actor', async () => {
    expect(() => exitActor()).toThrow(/inside an actor method/);
    await expect(get(f.exitFromTask.remote())).rejects.toThrow(/inside an actor method/);
  });
});

describe('listNamedActors', () => {
  it("lists the named actors alive in the job's namespace, or in all namespaces", async () => {
    const a = f.DoublerActor.options({ name: 'named-a' }).remote();
    const b = f.DoublerActor.options({ name: 'named-b', namespace: 'other-ns' }).remote();
    f.DoublerActor.remote(); // no name: not listed
    await get([a.count.remote(), b.count.remote()]);
    expect(await listNamedActors()).toContain('named-a');
    expect(await listNamedActors()).not.toContain('named-b');
    const all = await listNamedActors({ allNamespaces: true });
    expect(all).toEqual(
      expect.arrayContaining([
        { name: 'named-a', namespace: 'util-test' },
        { name: 'named-b', namespace: 'other-ns' },
      ]),
    );
    expect(await get(f.namedFromTask.remote())).toContain('named-a');
    await kill(a);
    expect(await listNamedActors()).not.toContain('named-a');
    await kill(b);
  });
});
