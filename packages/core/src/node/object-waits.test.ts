import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GetTimeoutError, ObjectLostError, errorFromWire } from '../errors.js';
import type { StoredValue } from '../runtime/serialization.js';
import { settle } from '../testing-clock.js';
import type { NodeContext } from './context.js';
import { ObjectStore } from './object-store.js';
import { ObjectWaits } from './object-waits.js';
import { fakeCluster } from './testing-node.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * get() and wait() over a real object store, with a record of CPU lending (block/unblock) and of
 * the node's outstanding work; on a multi-node cluster (`cluster`), with fake peers.
 */
function setup(cluster = false) {
  const store = new ObjectStore(1 << 20, 1 << 10, path.join(os.tmpdir(), 'ray-ts-unit-never-spills'));
  const ports = cluster ? fakeCluster() : undefined;
  const ctx = {
    nodeId: 'node-a',
    store,
    cluster: ports,
    stopped: false,
    busyCount: 0,
    busy(delta: number) {
      ctx.busyCount += delta;
    },
  };
  const lending: string[] = [];
  let tokens = 0;
  const waits = new ObjectWaits(ctx as unknown as NodeContext, {
    block(taskId) {
      const token = `token-${++tokens}`;
      lending.push(`block ${taskId ?? 'driver'} -> ${token}`);
      return token;
    },
    unblock(token) {
      lending.push(`unblock ${String(token)}`);
    },
  });
  return { ctx, store, peers: ports?.peers, waits, lending };
}

const js = (v: string | number): StoredValue => ({ t: 'js', v });

/** A ready object held by the test. */
function held(store: ObjectStore, id: string, value: StoredValue = js(id)): void {
  store.put(id, value);
  store.addHolder(id);
}

/** An owned object, pending until its task finishes. */
function pending(store: ObjectStore, id: string): void {
  store.createPending(id);
  store.addHolder(id);
}

/** The outcome of a promise so far. */
function track<T>(p: Promise<T>) {
  const t: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (v) => Object.assign(t, { value: v, settled: true }),
    (e: unknown) => Object.assign(t, { error: e, settled: true }),
  );
  return t;
}

function errorOf(v: StoredValue | undefined): Error {
  if (v?.t !== 'err') throw new Error(`not an error value: ${JSON.stringify(v)}`);
  return errorFromWire(v.e);
}

describe('object waits: get (embedded)', () => {
  it('answers at once for ready objects, lending nothing', async () => {
    const { store, waits, lending, ctx } = setup();
    held(store, 'a');
    expect(await waits.getValues(['a', 'a'], undefined, 't1')).toEqual([js('a'), js('a')]);
    expect(lending).toEqual([]);
    expect(ctx.busyCount).toBe(0);
  });

  it("waits for pending objects, lending the task's CPUs meanwhile", async () => {
    const { store, waits, lending, ctx } = setup();
    pending(store, 'p1');
    pending(store, 'p2');
    held(store, 'a');
    const got = track(waits.getValues(['p1', 'a', 'p2'], undefined, 't1'));
    expect(lending).toEqual(['block t1 -> token-1']);
    expect(ctx.busyCount).toBe(1);
    store.put('p1', js(1));
    await settle();
    expect(got.settled).toBe(false);
    store.put('p2', js(2));
    await settle();
    expect(got.value).toEqual([js(1), js('a'), js(2)]);
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);
  });

  it('reads an unknown object as ObjectLostError, saying why', async () => {
    const { ctx, waits } = setup();
    const [v] = await waits.getValues(['gone'], undefined);
    expect(errorOf(v)).toBeInstanceOf(ObjectLostError);
    expect(errorOf(v).message).toBe(
      'Object gone is lost: it was freed because no reference to it was left, or it never existed in this cluster.',
    );
    ctx.stopped = true;
    const [w] = await waits.getValues(['gone'], undefined);
    expect(errorOf(w).message).toBe('Object gone is gone: shutdown() stopped the cluster before it was ready.');
  });

  it('fails with GetTimeoutError after timeoutMs, naming what is not ready, and takes its CPUs back', async () => {
    const { store, waits, lending, ctx } = setup();
    pending(store, 'p1');
    pending(store, 'p2');
    held(store, 'a');
    const got = track(waits.getValues(['a', 'p1', 'p2'], 100, 't1'));
    await vi.advanceTimersByTimeAsync(99);
    expect(got.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(got.error).toBeInstanceOf(GetTimeoutError);
    expect((got.error as GetTimeoutError).message).toBe(
      'get() timed out after 100 ms: 2 of 3 objects not ready (p1, p2).',
    );
    expect((got.error as GetTimeoutError).objectId).toBe('p1');
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);

    // What arrives later changes nothing.
    store.put('p1', js(1));
    store.put('p2', js(2));
    await settle();
    expect(lending).toHaveLength(2);
    expect(ctx.busyCount).toBe(0);
  });

  it('clears its timer when the objects arrive in time', async () => {
    const { store, waits } = setup();
    pending(store, 'p1');
    const got = track(waits.getValues(['p1'], 1_000));
    store.put('p1', js(1));
    await settle();
    expect(got.value).toEqual([js(1)]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('object waits: wait (embedded)', () => {
  it('answers at once when enough are ready, or for timeoutMs 0; unknown objects count as ready', async () => {
    const { store, waits, lending } = setup();
    held(store, 'a');
    pending(store, 'p');
    expect(await waits.waitValues(['p', 'a', 'gone'], 2, undefined)).toEqual(['a', 'gone']);
    expect(await waits.waitValues(['p', 'a'], 2, 0)).toEqual(['a']);
    expect(lending).toEqual([]);
  });

  it('waits until numReturns are ready, lending CPUs meanwhile', async () => {
    const { store, waits, lending, ctx } = setup();
    for (const id of ['p1', 'p2', 'p3']) pending(store, id);
    const got = track(waits.waitValues(['p1', 'p2', 'p3'], 2, undefined, 't1'));
    expect(ctx.busyCount).toBe(1);
    store.put('p3', js(3));
    await settle();
    expect(got.settled).toBe(false);
    store.put('p1', js(1));
    await settle();
    expect(got.value).toEqual(['p1', 'p3']);
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);
  });

  it('answers with what is ready after timeoutMs', async () => {
    const { store, waits, lending, ctx } = setup();
    pending(store, 'p1');
    pending(store, 'p2');
    const got = track(waits.waitValues(['p1', 'p2'], 2, 50));
    store.put('p2', js(2));
    await vi.advanceTimersByTimeAsync(50);
    expect(got.value).toEqual(['p2']);
    expect(lending).toEqual(['block driver -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);
    store.put('p1', js(1));
    await settle();
    expect(lending).toHaveLength(2);
  });
});

describe('object waits: get (multi-node)', () => {
  it('pulls objects held elsewhere, then reads them', async () => {
    const { store, peers, waits, lending, ctx } = setup(true);
    held(store, 'a');
    store.addBorrowed('b', 'node-b');
    const got = track(waits.getValues(['a', 'b'], undefined, 't1'));
    await settle();
    expect(peers!.pulls.map((p) => p.ids)).toEqual([['b']]);
    expect(ctx.busyCount).toBe(1);
    store.fillPulled('b', js('B'));
    peers!.pulls[0].resolve();
    await settle();
    expect(got.value).toEqual([js('a'), js('B')]);
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);
  });

  it('waits for an owned object whose task runs elsewhere, then pulls it from there', async () => {
    const { store, peers, waits } = setup(true);
    pending(store, 'p');
    const got = track(waits.getValues(['p'], undefined));
    await settle();
    expect(peers!.pulls).toEqual([]);
    store.putRemote('p', 'node-c', 8);
    await settle();
    expect(peers!.pulls.map((p) => p.ids)).toEqual([['p']]);
    store.fillPulled('p', js('P'));
    peers!.pulls[0].resolve();
    await settle();
    expect(got.value).toEqual([js('P')]);
  });

  it('fails with GetTimeoutError while a pending object is not ready', async () => {
    const { store, peers, waits, lending, ctx } = setup(true);
    pending(store, 'p');
    store.addBorrowed('b', 'node-b');
    const got = track(waits.getValues(['p', 'b'], 200, 't1'));
    await vi.advanceTimersByTimeAsync(200);
    expect(got.error).toBeInstanceOf(GetTimeoutError);
    expect((got.error as Error).message).toBe('get() timed out: 1 of 1 objects not ready (p).');
    expect(peers!.pulls).toEqual([]);
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);
  });

  it('fails with GetTimeoutError while the bytes are still being fetched, within the same budget', async () => {
    const { store, peers, waits, ctx } = setup(true);
    pending(store, 'p');
    store.addBorrowed('b', 'node-b');
    const got = track(waits.getValues(['p', 'b'], 200));
    await vi.advanceTimersByTimeAsync(150);
    store.putRemote('p', 'node-c', 8);
    await settle();
    expect(peers!.pulls.map((x) => x.ids)).toEqual([['p', 'b']]);
    await vi.advanceTimersByTimeAsync(49);
    expect(got.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(got.error).toBeInstanceOf(GetTimeoutError);
    expect((got.error as Error).message).toBe(
      'get() timed out after 200 ms: 2 objects are still being fetched from other nodes (p, b).',
    );
    expect(ctx.busyCount).toBe(0);
    peers!.pulls[0].reject(new Error('too late')); // a pull failing after the timeout is not unhandled
    await settle();
  });

  it("fails with the pull's error when a pull fails", async () => {
    const { store, peers, waits, lending } = setup(true);
    store.addBorrowed('b', 'node-b');
    const got = track(waits.getValues(['b'], 1_000, 't1'));
    await settle();
    peers!.pulls[0].reject(new ObjectLostError('Object b is lost: node-b died.'));
    await settle();
    expect(got.error).toBeInstanceOf(ObjectLostError);
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes the embedded path when every object is here', async () => {
    const { store, peers, waits } = setup(true);
    held(store, 'a');
    expect(await waits.getValues(['a'], undefined)).toEqual([js('a')]);
    expect(peers!.pulls).toEqual([]);
  });
});

describe('object waits: wait (multi-node)', () => {
  it('counts an object as ready once its bytes are here, pulling it meanwhile', async () => {
    const { store, peers, waits, lending, ctx } = setup(true);
    held(store, 'a');
    store.addBorrowed('b', 'node-b');
    store.addBorrowed('c', 'node-c');
    const got = track(waits.waitValues(['a', 'b', 'c'], 2, undefined, 't1'));
    await settle();
    expect(peers!.pulls.map((p) => p.ids)).toEqual([['b'], ['c']]);
    expect(got.settled).toBe(false);
    store.fillPulled('c', js('C'));
    peers!.pulls[1].resolve();
    await settle();
    expect(got.value).toEqual(['a', 'c']);
    expect(lending).toEqual(['block t1 -> token-1', 'unblock token-1']);
    expect(ctx.busyCount).toBe(0);
  });

  it('with timeoutMs 0, answers what is here now and fetches the rest', async () => {
    const { store, peers, waits, lending } = setup(true);
    held(store, 'a');
    store.addBorrowed('b', 'node-b');
    expect(await waits.waitValues(['a', 'b'], 2, 0)).toEqual(['a']);
    expect(peers!.pulls.map((p) => p.ids)).toEqual([['b']]);
    expect(lending).toEqual([]);
  });

  it('reports an object whose pull failed as not ready when the time is up', async () => {
    const { store, peers, waits, ctx } = setup(true);
    store.addBorrowed('b', 'node-b');
    pending(store, 'p');
    const got = track(waits.waitValues(['b', 'p'], 1, 100));
    await settle();
    peers!.pulls[0].reject(new Error('node-b is gone'));
    await settle();
    expect(got.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(got.value).toEqual([]);
    expect(ctx.busyCount).toBe(0);
  });

  it('waits for a pending owned object that finishes here', async () => {
    const { store, peers, waits } = setup(true);
    pending(store, 'p');
    const got = track(waits.waitValues(['p'], 1, undefined));
    store.put('p', js(1));
    await settle();
    expect(got.value).toEqual(['p']);
    expect(peers!.pulls).toEqual([]);
  });
});
