import v8 from 'node:v8';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ObjectLostError } from '../errors.js';
import type { StoredValue } from '../runtime/serialization.js';
import { settle } from '../testing-clock.js';
import { received, transferCluster } from './testing-transfer.js';
import { hostKey, readShared, writeShared } from './same-host.js';
import { valueToWire } from './wire.js';

const CHUNK = 128 * 1024;

afterEach(() => {
  vi.useRealTimers();
});

/** `n` bytes that differ from one offset to the next (so a misplaced chunk shows). */
function bytes(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const raw = (b: Uint8Array): StoredValue => ({ t: 'raw', ctor: 'Uint8Array', b });

/**
 * How a stored value differs from raw `want` bytes: 'same', or what differs (deep equality of
 * large arrays is slow).
 */
function diff(v: StoredValue | Uint8Array | undefined, want: Uint8Array): string {
  const b = v instanceof Uint8Array ? v : v?.t === 'raw' && v.ctor === 'Uint8Array' ? v.b : undefined;
  if (!b) return `not raw bytes: ${v === undefined ? 'undefined' : (v as StoredValue).t}`;
  if (b.byteLength !== want.byteLength) return `${b.byteLength} bytes, not ${want.byteLength}`;
  if (Buffer.compare(b, want) === 0) return 'same';
  return `first differs at ${b.findIndex((x, i) => x !== want[i])}`;
}

/** What a pull call ends in: undefined, or the error it rejected with. */
async function outcome(p: Promise<void>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('object transfer: task results', () => {
  it('keeps a large result here as a copy for its live owner and sends a small one inline', async () => {
    const { node, batches } = transferCluster('node-a', 'node-z');
    const a = node('node-a');
    const big = bytes(4096);
    a.transfer.sendTaskDone('node-z', 'task_t1', [raw(big), { t: 'js', v: 42 }], undefined, 7);
    await settle();
    expect(batches).toEqual([
      {
        from: 'node-a',
        to: 'node-z',
        batch: {
          fromNode: 'node-a',
          session: expect.any(String),
          seq: 1,
          messages: [
            {
              taskDone: {
                taskId: 'task_t1',
                results: [{ t: 'remote', location: 'node-a', size: 4096 }, valueToWire({ t: 'js', v: 42 })],
                owners: { owners: {} },
                ms: 7,
              },
            },
          ],
        },
      },
    ]);
    expect(a.store.describe('task_t1.0')).toMatchObject({ state: 'COPY', owner: 'node-z', size: 4096 });
    expect(diff(a.store.get('task_t1.0'), big)).toBe('same');
    expect(a.store.has('task_t1.1')).toBe(false);
  });

  it('sends a large result inline when its owner is not alive', async () => {
    const { node, batches, view } = transferCluster('node-a');
    view.set('node-z', 'DEAD');
    const a = node('node-a');
    a.transfer.sendTaskDone('node-z', 'task_t1', [raw(bytes(4096))], undefined, undefined);
    await settle();
    expect(batches.map((b) => b.batch.messages)).toEqual([
      [{ taskDone: { taskId: 'task_t1', results: [valueToWire(raw(bytes(4096)))], owners: { owners: {} }, ms: 0 } }],
    ]);
    expect(a.store.has('task_t1.0')).toBe(false);
  });

  it('counts the borrows its results make of the refs they carry', async () => {
    const { node, batches } = transferCluster('node-a', 'node-c', 'node-z');
    const a = node('node-a');
    a.store.put('obj_mine', { t: 'js', v: 1 });
    a.store.addHolder('obj_mine');
    a.store.addBorrowed('obj_theirs', 'node-c');
    const v: StoredValue = { t: 'v8', b: new Uint8Array([1, 2]), refs: ['obj_mine', 'obj_theirs'] };
    a.transfer.sendTaskDone('node-z', 'task_t1', [v], undefined, 1);
    await settle();
    const toZ = batches.filter((b) => b.to === 'node-z').map((b) => b.batch.messages);
    expect(toZ).toEqual([
      [
        {
          taskDone: {
            taskId: 'task_t1',
            results: [valueToWire(v)],
            owners: { owners: { obj_mine: 'node-a', obj_theirs: 'node-c' } },
            ms: 1,
          },
        },
      ],
    ]);
    expect(a.store.describe('obj_mine')).toMatchObject({ borrowers: 1, holders: 2 });
    expect(batches.filter((b) => b.to === 'node-c').map((b) => b.batch.messages)).toEqual([
      [{ borrow: { objectId: 'obj_theirs', node: 'node-z', delta: 1 } }],
    ]);
  });
});

describe('object transfer: pull', () => {
  it('reads the header, then the chunks into a shared buffer, byte for byte', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const sent = bytes(300_000);
    const done = a.transfer.pull(['obj_x']);
    await settle();
    expect(pulls.map((p) => [p.node, p.request])).toEqual([
      ['node-b', { objectId: 'obj_x', requester: 'node-a', hostKey: hostKey() ?? '' }],
    ]);
    pulls[0].header({ t: 'raw', ctor: 'Uint8Array', size: sent.byteLength });
    pulls[0].body(sent, 100_000); // chunk sizes are the sender's choice
    await done;
    const got = a.store.get('obj_x');
    expect(diff(got, sent)).toBe('same');
    expect(got?.t === 'raw' && got.b.buffer instanceof SharedArrayBuffer).toBe(true);
  });

  it('keeps a small value out of shared memory, and takes an inline one from the header', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b', 'node-c');
    const a = node('node-a');
    for (const id of ['obj_small', 'obj_js', 'obj_nested']) a.store.addBorrowed(id, 'node-b');
    const done = a.transfer.pull(['obj_small', 'obj_js', 'obj_nested']);
    await settle();
    expect(pulls.map((p) => p.request.objectId)).toEqual(['obj_small', 'obj_js', 'obj_nested']);
    pulls[0].header({ t: 'raw', ctor: 'Uint8Array', size: 100 });
    pulls[0].body(bytes(100));
    pulls[1].header({ t: 'js', data: v8.serialize({ a: [1, 2] }) });
    pulls[1].emit('end');
    pulls[2].header({ t: 'v8', size: 3, refs: ['obj_r1'], special: true }, { obj_r1: 'node-c' });
    pulls[2].body(new Uint8Array([9, 8, 7]));
    await done;
    const small = a.store.get('obj_small');
    expect(small).toEqual(raw(bytes(100)));
    expect(small?.t === 'raw' && small.b.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(a.store.get('obj_js')).toEqual({ t: 'js', v: { a: [1, 2] } });
    expect(a.store.get('obj_nested')).toEqual({
      t: 'v8',
      b: new Uint8Array([9, 8, 7]),
      refs: ['obj_r1'],
      special: true,
    });
    // The ref inside is borrowed from its owner now, and held by the value that carries it.
    expect(a.store.describe('obj_r1')).toMatchObject({ state: 'REMOTE', owner: 'node-c', pins: 1 });
  });

  it('pulls an object once for concurrent callers, and asks again after a failed pull', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const first = outcome(a.transfer.pull(['obj_x']));
    const second = outcome(a.transfer.pull(['obj_x', 'obj_x']));
    await settle();
    expect(pulls).toHaveLength(1);
    pulls[0].fail(grpc.status.NOT_FOUND, 'node node-b has no object obj_x');
    expect(await first).toBeInstanceOf(ObjectLostError);
    expect(await second).toBe(await first);

    const third = a.transfer.pull(['obj_x']);
    await settle();
    expect(pulls).toHaveLength(2);
    pulls[1].header({ t: 'js', data: v8.serialize(5) });
    pulls[1].emit('end');
    await third;
    expect(a.store.get('obj_x')).toEqual({ t: 'js', v: 5 });
  });

  it('follows a redirect to the node that holds the bytes', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b', 'node-c');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const done = a.transfer.pull(['obj_x']);
    await settle();
    pulls[0].header({ t: 'remote', location: 'node-c' });
    pulls[0].emit('end');
    await settle();
    expect(pulls.map((p) => [p.node, p.request])).toEqual([
      ['node-b', { objectId: 'obj_x', requester: 'node-a', hostKey: hostKey() ?? '' }],
      ['node-c', { objectId: 'obj_x', requester: 'node-a', hostKey: hostKey() ?? '' }],
    ]);
    pulls[1].header({ t: 'raw', ctor: 'Uint8Array', size: 2000 });
    pulls[1].body(bytes(2000));
    await done;
    expect(a.store.get('obj_x')).toEqual(raw(bytes(2000)));
  });

  it('reports an object its node does not have as lost', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].fail(grpc.status.NOT_FOUND, 'node node-b has no object obj_x (it was freed, or never existed)');
    expect(await err).toMatchObject({ name: 'ObjectLostError', objectId: 'obj_x', nodeId: 'node-b' });
    expect(String(await err)).toMatch(/it was freed, or never existed/);
  });

  it('reports an object on a node that is not alive as lost for good, without asking it', async () => {
    const { node, pulls, view } = transferCluster('node-a');
    view.set('node-b', 'DEAD');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = await outcome(a.transfer.pull(['obj_x']));
    expect(err).toBeInstanceOf(ObjectLostError);
    expect(String(err)).toMatch(/node node-b, which is gone, and it cannot be made again/);
    expect(pulls).toEqual([]);
  });

  it('waits for the view when a node stops answering, then pulls what its owner made again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const { node, pulls, view } = transferCluster('node-a', 'node-b', 'node-c');
    const a = node('node-a');
    a.store.createPending('task_t1.0');
    a.store.addHolder('task_t1.0');
    a.store.putRemote('task_t1.0', 'node-b', 2000);
    const done = a.transfer.pull(['task_t1.0']);
    await settle();
    pulls[0].fail(grpc.status.UNAVAILABLE, 'connection refused');
    await settle();
    expect(view.waits.map((w) => w.timeoutMs)).toEqual([250]);

    // The view says node-b died; its owner (this node) starts making the object again.
    view.set('node-b', 'DEAD');
    a.store.resetPending('task_t1.0');
    await settle();
    await vi.advanceTimersByTimeAsync(10);
    await settle();
    expect(pulls).toHaveLength(1); // waits for the new value, asks nobody meanwhile
    a.store.putRemote('task_t1.0', 'node-c', 2000);
    await settle();
    expect(pulls.map((p) => p.node)).toEqual(['node-b', 'node-c']);
    pulls[1].header({ t: 'raw', ctor: 'Uint8Array', size: 2000 });
    pulls[1].body(bytes(2000));
    await done;
    expect(a.store.get('task_t1.0')).toEqual(raw(bytes(2000)));
  });

  it('tries a silent node the view calls alive again, and reports the object lost after a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { node, pulls, view } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].fail(grpc.status.UNAVAILABLE, 'connection reset');
    await settle();
    view.timeOut(); // still alive: its connection was cut, maybe
    await settle();
    expect(pulls.map((p) => p.node)).toEqual(['node-b', 'node-b']);

    vi.setSystemTime(Date.now() + 61_000);
    pulls[1].fail(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded');
    await settle();
    view.timeOut();
    expect(await err).toMatchObject({ name: 'ObjectLostError', objectId: 'obj_x', nodeId: 'node-b' });
    expect(String(await err)).toMatch(/node-b stopped answering \(deadline exceeded\)/);
  });

  it('waits for the address of a node the view does not have yet', async () => {
    const { node, pulls, view } = transferCluster('node-a');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-q');
    a.store.addBorrowed('obj_y', 'node-r');
    const x = a.transfer.pull(['obj_x']);
    const y = outcome(a.transfer.pull(['obj_y']));
    await settle();
    expect(view.waits.map((w) => w.timeoutMs)).toEqual([5_000, 5_000]);
    view.set('node-q');
    await settle();
    expect(pulls.map((p) => p.node)).toEqual(['node-q']);
    pulls[0].header({ t: 'js', data: v8.serialize('q') });
    pulls[0].emit('end');
    await x;
    expect(a.store.get('obj_x')).toEqual({ t: 'js', v: 'q' });
    view.timeOut();
    expect(String(await y)).toMatch(/ObjectLostError: Object obj_y is on node node-r, which is not in the cluster/);
  });

  it('reports an object lost when its node sends nothing, or when redirects go round in circles', async () => {
    const { node, pulls, servers } = transferCluster('node-a', 'node-b', 'node-c');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const nothing = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].emit('end');
    expect(String(await nothing)).toMatch(/ObjectLostError: Object obj_x: node node-b sent nothing/);

    servers.set('node-b', (p) => (p.header({ t: 'remote', location: 'node-c' }), p.emit('end')));
    servers.set('node-c', (p) => (p.header({ t: 'remote', location: 'node-b' }), p.emit('end')));
    const circle = await outcome(a.transfer.pull(['obj_x']));
    expect(String(circle)).toMatch(/ObjectLostError: Object obj_x could not be fetched: no node holds its bytes/);
    expect(pulls.length).toBeGreaterThan(16);
  });

  it('asks nobody for an object it does not know or already holds, and waits for a pending one', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.put('obj_here', { t: 'js', v: 1 });
    a.store.createPending('obj_later');
    a.store.addHolder('obj_later');
    await a.transfer.pull(['obj_unknown', 'obj_here']);
    const later = a.transfer.pull(['obj_later']);
    await settle();
    expect(pulls).toEqual([]);
    a.store.putRemote('obj_later', 'node-b', 10);
    await settle();
    expect(pulls.map((p) => p.request.objectId)).toEqual(['obj_later']);
    pulls[0].header({ t: 'js', data: v8.serialize(2) });
    pulls[0].emit('end');
    await later;
    expect(a.store.get('obj_later')).toEqual({ t: 'js', v: 2 });
  });
});

describe('object transfer: serving a pull', () => {
  it('writes the header, then the bytes in 128 KiB chunks, and ends', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const b = node('node-b');
    const sent = bytes(300_000);
    b.store.put('obj_x', raw(sent));
    b.store.addHolder('obj_x');
    const call = b.serve('obj_x', 'node-a');
    await settle();
    expect(call.written[0]).toEqual({
      header: { t: 'raw', size: 300_000, ctor: 'Uint8Array', refs: [], special: false },
      owners: { owners: {} },
    });
    expect(call.chunks).toEqual([CHUNK, CHUNK, 300_000 - 2 * CHUNK]);
    expect(diff(Buffer.concat(call.written.slice(1).map((c) => c.data as Uint8Array)), sent)).toBe('same');
    expect([call.ended, call.errors, call.settled]).toEqual([true, [], true]);
    expect(b.store.describe('obj_x')).toMatchObject({ pins: 0, holders: 1 });
  });

  it('waits for drain when a write is refused, keeping the object pinned meanwhile', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const b = node('node-b');
    const sent = bytes(300_000);
    b.store.put('obj_x', raw(sent));
    b.store.addHolder('obj_x');
    const call = b.serve('obj_x', 'node-a', [true, false]); // the header goes; the first chunk fills the stream
    await settle();
    expect(call.chunks).toEqual([CHUNK]);
    expect(call.ended).toBe(false);
    expect(b.store.describe('obj_x')).toMatchObject({ pins: 1 });
    b.store.removeHolder('obj_x'); // freed meanwhile: its bytes must stay until the stream is done
    expect(b.store.has('obj_x')).toBe(true);

    call.emit('drain');
    await settle();
    expect(call.chunks).toEqual([CHUNK, CHUNK, 300_000 - 2 * CHUNK]);
    expect(diff(Buffer.concat(call.written.slice(1).map((c) => c.data as Uint8Array)), sent)).toBe('same');
    expect(call.ended).toBe(true);
    expect(b.store.has('obj_x')).toBe(false);
    expect(['drain', 'cancelled', 'close'].map((e) => call.listenerCount(e))).toEqual([0, 0, 0]);
  });

  it('stops, unpinning the object, when the reader goes away mid-stream', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const b = node('node-b');
    b.store.put('obj_x', raw(bytes(300_000)));
    b.store.addHolder('obj_x');
    const call = b.serve('obj_x', 'node-a', [true, false]);
    await settle();
    call.cancelled = true;
    call.emit('cancelled');
    await settle();
    expect([call.chunks, call.ended, call.settled]).toEqual([[CHUNK], false, true]);
    expect(b.store.describe('obj_x')).toMatchObject({ pins: 0 });
    expect(['drain', 'cancelled', 'close'].map((e) => call.listenerCount(e))).toEqual([0, 0, 0]);
  });

  // BUG (object-transfer.ts:269 with drained() at :28): a reader that went away while the object
  // was still pending here left a destroyed stream (grpc-js: cancelled, 'cancelled' and 'close'
  // already emitted, write() returns false). servePull then waits for a drain that never comes:
  // the handler never settles and the object stays pinned, so it is never freed. It should check
  // call.cancelled (or that the stream is destroyed) before waiting, and unpin.
  it('stops, unpinning the object, when the reader went away while the object was pending', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const b = node('node-b');
    b.store.createPending('obj_x');
    b.store.addHolder('obj_x');
    const call = b.serve('obj_x', 'node-a');
    await settle();
    call.cancelled = true;
    call.emit('cancelled');
    call.emit('close');
    call.accept.push(false, false, false, false); // a destroyed stream refuses every write
    b.store.put('obj_x', raw(bytes(300_000)));
    await settle();
    expect(call.settled).toBe(true);
    expect(b.store.describe('obj_x')).toMatchObject({ pins: 0 });
  });

  it('redirects to the node that holds the bytes, and refuses when that is the reader itself', async () => {
    const { node } = transferCluster('node-a', 'node-b', 'node-c');
    const b = node('node-b');
    b.store.createPending('task_t1.0');
    b.store.addHolder('task_t1.0');
    b.store.putRemote('task_t1.0', 'node-c', 5000);
    const call = b.serve('task_t1.0', 'node-a');
    await settle();
    expect([call.written, call.ended, call.errors]).toEqual([
      [{ header: { t: 'remote', location: 'node-c' } }],
      true,
      [],
    ]);

    const fromC = b.serve('task_t1.0', 'node-c');
    await settle();
    expect(fromC.written).toEqual([]);
    expect(fromC.errors).toEqual([
      { code: grpc.status.NOT_FOUND, details: 'node node-b knows object task_t1.0 but holds no copy' },
    ]);
  });

  it('answers NOT_FOUND for an object it does not know', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const call = node('node-b').serve('obj_gone', 'node-a');
    await settle();
    expect([call.written, call.ended]).toEqual([[], false]);
    expect(call.errors).toEqual([
      { code: grpc.status.NOT_FOUND, details: 'node node-b has no object obj_gone (it was freed, or never existed)' },
    ]);
  });

  it('serves an object once it is ready, counting the borrows of its refs, and a plain value in its header', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const b = node('node-b');
    b.store.put('obj_inner', { t: 'js', v: 1 });
    b.store.addHolder('obj_inner');
    b.store.createPending('obj_x');
    b.store.addHolder('obj_x');
    const call = b.serve('obj_x', 'node-a');
    await settle();
    expect(call.written).toEqual([]);
    const v: StoredValue = { t: 'v8', b: new Uint8Array([1]), refs: ['obj_inner'] };
    b.store.put('obj_x', v);
    await settle();
    expect(call.written[0]).toEqual({
      header: { t: 'v8', size: 1, ctor: '', refs: ['obj_inner'], special: false },
      owners: { owners: { obj_inner: 'node-b' } },
    });
    expect(b.store.describe('obj_inner')).toMatchObject({ borrowers: 1 });

    b.store.put('obj_js', { t: 'js', v: 'hi' });
    const js = b.serve('obj_js', 'node-a');
    await settle();
    expect([js.written, js.ended]).toEqual([
      [{ header: valueToWire({ t: 'js', v: 'hi' }), owners: { owners: {} } }],
      true,
    ]);
  });
});

describe('object transfer: a pull against servePull', () => {
  it("moves a task's large result from where it ran to its owner intact, under backpressure", async () => {
    const { node, connect, batches } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    const b = node('node-b');
    connect('node-b', [true, false, false, true, false]);
    const sent = bytes(700_000, 3);
    a.store.createPending('task_t1.0');
    a.store.addHolder('task_t1.0');
    b.transfer.sendTaskDone('node-a', 'task_t1', [raw(sent)], undefined, 4);
    await settle();
    const done = batches[0].batch.messages![0].taskDone!;
    expect(done.results).toEqual([{ t: 'remote', location: 'node-b', size: 700_000 }]);
    a.store.putRemote('task_t1.0', 'node-b', 700_000); // what the owner does with such a result

    await a.transfer.pull(['task_t1.0']);
    expect(diff(a.store.get('task_t1.0'), sent)).toBe('same');
    expect(b.store.describe('task_t1.0')).toMatchObject({ state: 'COPY', pins: 0 });
  });
});

// Skip reason: no same-host key here (not Linux with /dev/shm, or RAY_TS_SAME_HOST_TRANSFER=0): pulls go in chunks.
describe.skipIf(hostKey() === undefined)('object transfer on one host: shared memory', () => {
  it('hands an object of 1 MiB or more to a requester on this host in a shared-memory file', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const b = node('node-b');
    const sent = bytes(2 * 1024 * 1024 + 3);
    b.store.put('obj_x', raw(sent));
    b.store.addHolder('obj_x');
    const call = b.serve('obj_x', 'node-a', [], hostKey());
    await settle();
    expect(call.chunks).toEqual([]);
    const file = call.written[0].shmPath as string;
    expect(call.written[0].header).toMatchObject({ t: 'raw', size: sent.byteLength });
    const got = new Uint8Array(sent.byteLength);
    expect(readShared(file, sent.byteLength, got)).toBeUndefined();
    expect(diff(got, sent)).toBe('same');
    expect([call.ended, call.errors, call.settled]).toEqual([true, [], true]);
    // Another host (or a smaller object) gets chunks.
    const far = b.serve('obj_x', 'node-a', [], 'another-host/1/0');
    await settle();
    expect(far.written[0].shmPath).toBeUndefined();
    expect(far.chunks.length).toBeGreaterThan(1);
  });

  it('reads a same-host file into its store, and refuses a file it must not read', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    a.store.addBorrowed('obj_y', 'node-b');
    const sent = bytes(1024 * 1024 + 5);
    const done = a.transfer.pull(['obj_x']);
    const refused = a.transfer.pull(['obj_y']).then(
      () => undefined,
      (e: unknown) => e,
    );
    await settle();
    const file = writeShared('obj_x', sent)!;
    pulls[0].emit('data', received({ header: { t: 'raw', ctor: 'Uint8Array', size: sent.byteLength }, shmPath: file }));
    pulls[0].emit('end');
    pulls[1].emit('data', received({ header: { t: 'raw', ctor: 'Uint8Array', size: 16 }, shmPath: '/etc/passwd' }));
    await done;
    expect(diff(a.store.get('obj_x'), sent)).toBe('same');
    const err = await refused;
    expect(err).toBeInstanceOf(ObjectLostError);
    expect((err as Error).message).toMatch(/shared-memory file outside/);
  });
});
