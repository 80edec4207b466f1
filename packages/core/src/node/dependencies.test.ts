import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectLostError, errorFromWire } from '../errors.js';
import type { ArgSpec } from '../protocol/specs.js';
import type { StoredValue } from '../runtime/serialization.js';
import { settle } from '../testing-clock.js';
import type { NodeContext } from './context.js';
import { Dependencies } from './dependencies.js';
import { errorValue } from './failures.js';
import { ObjectStore } from './object-store.js';
import { fakeCluster, taskSpec } from './testing-node.js';
import { newWork, transition, type Work } from './work.js';

/** Dependencies over a real object store; on a multi-node cluster (`cluster`), with fake peers. */
function setup(cluster = false) {
  const store = new ObjectStore(1 << 20, 1 << 10, path.join(os.tmpdir(), 'ray-ts-unit-never-spills'));
  const ports = cluster ? fakeCluster() : undefined;
  const ctx = { nodeId: 'node-a', store, cluster: ports };
  return { store, peers: ports?.peers, deps: new Dependencies(ctx as unknown as NodeContext) };
}

/** A ready object held by the test (so that pins coming and going do not free it). */
function held(store: ObjectStore, id: string, value: StoredValue = { t: 'js', v: id }): void {
  store.put(id, value);
  store.addHolder(id);
}

/** A value a worker serialized, holding refs to other objects. */
const withRefs = (...refs: string[]): StoredValue => ({ t: 'v8', b: new Uint8Array(4), refs });

function work(taskId: string, args: ArgSpec[]): Work {
  const spec = taskSpec(taskId, { args });
  return newWork(taskId, { kind: 'task', task: spec }, args, spec.resources, 'thread');
}

/** The error an error value holds. */
function errorOf(v: StoredValue | undefined): Error {
  if (v?.t !== 'err') throw new Error(`not an error value: ${JSON.stringify(v)}`);
  return errorFromWire(v.e);
}

const pins = (store: ObjectStore, id: string) => store.describe(id)?.pins;

describe('dependencies: pins', () => {
  it('pins ref arguments and the refs nested in inline ones, and unpins them', () => {
    const { store, deps } = setup();
    for (const id of ['a', 'n1', 'n2']) held(store, id);
    const args: ArgSpec[] = [{ r: 'a' }, { v: withRefs('n1', 'n2') }, { v: { t: 'js', v: 3 } }, { r: 'a' }];
    deps.pin(args);
    expect([pins(store, 'a'), pins(store, 'n1'), pins(store, 'n2')]).toEqual([2, 1, 1]);
    deps.unpin(args);
    expect([pins(store, 'a'), pins(store, 'n1'), pins(store, 'n2')]).toEqual([0, 0, 0]);
  });

  it('keeps an argument alive while pinned, even once its holder drops it', () => {
    const { store, deps } = setup();
    held(store, 'a');
    deps.pin([{ r: 'a' }]);
    store.removeHolder('a');
    expect(store.has('a')).toBe(true);
    deps.unpin([{ r: 'a' }]);
    expect(store.has('a')).toBe(false);
  });
});

describe('dependencies: waitFor', () => {
  it('calls ready at once when no argument is pending', () => {
    const { store, deps } = setup();
    held(store, 'a');
    const w = work('t1', [{ r: 'a' }, { v: { t: 'js', v: 1 } }]);
    const ready: string[] = [];
    deps.waitFor(w, (x) => ready.push(x.id));
    expect(ready).toEqual(['t1']);
    expect(w.state).toBe('waiting');
    expect(w.depsLeft).toBe(0);
  });

  it('waits for every pending argument, then calls ready once', () => {
    const { store, deps } = setup();
    store.createPending('p1');
    store.createPending('p2');
    held(store, 'a');
    const w = work('t1', [{ r: 'p1' }, { r: 'a' }, { r: 'p2' }]);
    const ready: string[] = [];
    deps.waitFor(w, (x) => ready.push(x.id));
    expect(w.depsLeft).toBe(2);
    store.put('p2', { t: 'js', v: 2 });
    expect(ready).toEqual([]);
    expect(w.depsLeft).toBe(1);
    store.put('p1', { t: 'js', v: 1 });
    expect(ready).toEqual(['t1']);
  });

  it('does not wait for a lost argument (dispatch reports it)', () => {
    const { store, deps } = setup();
    store.createPending('p1');
    const w = work('t1', [{ r: 'gone' }, { r: 'p1' }]);
    const ready: string[] = [];
    deps.waitFor(w, (x) => ready.push(x.id));
    expect(w.depsLeft).toBe(1);
    store.put('p1', { t: 'js', v: 1 });
    expect(ready).toEqual(['t1']);
  });

  it('does not call ready for work cancelled or moved on meanwhile', () => {
    const { store, deps } = setup();
    store.createPending('p1');
    store.createPending('p2');
    const cancelled = work('t1', [{ r: 'p1' }]);
    const done = work('t2', [{ r: 'p2' }]);
    const ready: string[] = [];
    deps.waitFor(cancelled, (x) => ready.push(x.id));
    deps.waitFor(done, (x) => ready.push(x.id));
    cancelled.cancelled = true;
    transition(done, 'done');
    store.put('p1', { t: 'js', v: 1 });
    store.put('p2', { t: 'js', v: 2 });
    expect(ready).toEqual([]);
  });
});

describe('dependencies: local (multi-node)', () => {
  it('is true when every ref argument is here, pending or unknown (nothing to pull)', () => {
    const { store, peers, deps } = setup(true);
    held(store, 'a');
    store.createPending('p');
    expect(deps.local(work('t1', [{ r: 'a' }, { r: 'p' }, { r: 'gone' }]), unexpected, unexpected)).toBe(true);
    expect(peers!.pulls).toEqual([]);
  });

  it('pulls the arguments held elsewhere, then calls ready', async () => {
    const { store, peers, deps } = setup(true);
    held(store, 'a');
    store.addBorrowed('b1', 'node-b');
    store.addBorrowed('b2', 'node-c');
    const w = work('t1', [{ r: 'b1' }, { r: 'a' }, { r: 'b2' }]);
    transition(w, 'queued');
    const ready: string[] = [];
    expect(deps.local(w, (x) => ready.push(x.id), unexpected)).toBe(false);
    expect(w.state).toBe('waiting');
    expect(peers!.pulls.map((p) => p.ids)).toEqual([['b1', 'b2']]);
    await settle();
    expect(ready).toEqual([]);
    peers!.pulls[0].resolve();
    await settle();
    expect(ready).toEqual(['t1']);
  });

  it('does not call ready for work cancelled while its arguments were pulled', async () => {
    const { store, peers, deps } = setup(true);
    store.addBorrowed('b1', 'node-b');
    const w = work('t1', [{ r: 'b1' }]);
    const ready: string[] = [];
    deps.local(w, (x) => ready.push(x.id), unexpected);
    w.cancelled = true;
    peers!.pulls[0].resolve();
    await settle();
    expect(ready).toEqual([]);
  });

  it('fails the work with the error of a pull that failed, unless it is done already', async () => {
    const { store, peers, deps } = setup(true);
    store.addBorrowed('b1', 'node-b');
    const failed: [string, StoredValue][] = [];
    const w1 = work('t1', [{ r: 'b1' }]);
    const w2 = work('t2', [{ r: 'b1' }]);
    deps.local(w1, unexpected, (x, err) => failed.push([x.id, err]));
    deps.local(w2, unexpected, (x, err) => failed.push([x.id, err]));
    transition(w2, 'done');
    const lost = new ObjectLostError('Object b1 is lost: its node node-b died.', { objectId: 'b1' });
    peers!.pulls[0].reject(lost);
    peers!.pulls[1].reject(lost);
    await settle();
    expect(failed.map(([id]) => id)).toEqual(['t1']);
    const err = errorOf(failed[0][1]);
    expect(err).toBeInstanceOf(ObjectLostError);
    expect(err.message).toBe('Object b1 is lost: its node node-b died.');
  });
});

describe('dependencies: resolve', () => {
  it('resolves arguments to their stored values, inline ones as they are', () => {
    const { store, deps } = setup();
    held(store, 'a', { t: 'js', v: 'A' });
    const inline: StoredValue = { t: 'js', v: 7 };
    expect(deps.resolve([{ r: 'a' }, { v: inline }])).toEqual({ values: [{ t: 'js', v: 'A' }, inline] });
    expect(deps.resolve([])).toEqual({ values: [] });
  });

  it('returns an ObjectLostError naming a lost argument and what to do', () => {
    const { store, deps } = setup();
    held(store, 'a');
    const r = deps.resolve([{ r: 'a' }, { r: 'gone' }]);
    const err = errorOf('error' in r ? r.error : undefined);
    expect(err).toBeInstanceOf(ObjectLostError);
    expect(err.message).toBe(
      'Object gone, argument 2, is lost: no reference to it was left, so it was freed. Keep a ref to it until the task that takes it has been submitted.',
    );
    expect(err).toMatchObject({ objectId: 'gone', nodeId: 'node-a' });
  });

  it('returns the error an argument holds (the first one)', () => {
    const { store, deps } = setup();
    const e1 = errorValue(new Error('first'));
    held(store, 'e1', e1);
    held(store, 'e2', errorValue(new Error('second')));
    expect(deps.resolve([{ v: { t: 'js', v: 0 } }, { r: 'e1' }, { r: 'e2' }])).toEqual({ error: e1 });
  });

  it('reports a pending argument as lost (dispatch never sends work with pending arguments)', () => {
    const { store, deps } = setup();
    store.createPending('p');
    const r = deps.resolve([{ r: 'p' }]);
    expect(errorOf('error' in r ? r.error : undefined)).toBeInstanceOf(ObjectLostError);
  });
});

function unexpected(): never {
  throw new Error('not expected to be called');
}
