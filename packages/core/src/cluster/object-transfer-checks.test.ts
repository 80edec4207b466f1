import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { SpillIo } from '../node/spill-files.js';
import type { StoredValue } from '../runtime/serialization.js';
import { settle } from '../testing-clock.js';
import type { TaskSpec__Output } from './generated/raytscore/TaskSpec.js';
import { pullMaxObjectBytes, transferCluster } from './testing-transfer.js';
import { taskFromWire, valueFromWire, type PValueOut } from './wire.js';

// What a node checks in what other nodes send it: the size a pull announces (against the size
// recorded for the object and a bound, before allocating), the bytes that arrive, and object ids.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function bytes(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const raw = (b: Uint8Array): StoredValue => ({ t: 'raw', ctor: 'Uint8Array', b });

/** What a pull call ends in: undefined, or the error it rejected with. */
function outcome(p: Promise<void>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** A spill directory on a disk that is full: every write fails with ENOSPC. */
function fullDisk(): { dir: string; io: SpillIo } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transfer-full-'));
  dirs.push(dir);
  const writeSync = (() => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }) as typeof fs.writeSync;
  return { dir, io: { ...fs, writeSync } };
}

describe('pull: sizes and bytes a peer sends', () => {
  it('refuses a size other than the one the object was made with, before allocating it', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.createPending('task_t1.0');
    a.store.addHolder('task_t1.0');
    a.store.putRemote('task_t1.0', 'node-b', 2000);
    const err = outcome(a.transfer.pull(['task_t1.0']));
    await settle();
    pulls[0].header({ t: 'raw', ctor: 'Uint8Array', size: 2 ** 40 }); // allocating it would throw a RangeError
    expect(await err).toMatchObject({
      name: 'ObjectLostError',
      objectId: 'task_t1.0',
      nodeId: 'node-b',
      message:
        'Object task_t1.0 could not be fetched from node node-b: it announced 1099511627776 bytes, ' +
        'but the task that made the object reported 2000.',
    });
    expect(pulls[0].cancelled).toBe(true);
    pulls[0].body(bytes(2000)); // whatever still arrives is ignored
    await settle();
    expect(a.store.describe('task_t1.0')).toMatchObject({ state: 'REMOTE' });
  });

  it('refuses more than pullMaxObjectBytes where no size is recorded (a borrowed ref)', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].header({ t: 'v8', size: pullMaxObjectBytes + 1 });
    expect(String(await err)).toBe(
      `ObjectLostError: Object obj_x could not be fetched from node node-b: it announced ${pullMaxObjectBytes + 1} ` +
        `bytes, more than this node accepts (pullMaxObjectBytes, ${pullMaxObjectBytes}).`,
    );
    expect(pulls[0].cancelled).toBe(true);
  });

  it('fails a pull whose stream ends short of what it announced, and pulls it whole the next time', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    a.store.addHolder('obj_x');
    const first = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].header({ t: 'raw', ctor: 'Uint8Array', size: 2000 });
    pulls[0].body(bytes(1500), 500);
    expect(String(await first)).toBe(
      'ObjectLostError: Object obj_x could not be fetched from node node-b: it sent 1500 of the 2000 bytes it announced.',
    );
    expect(a.store.describe('obj_x')).toMatchObject({ state: 'REMOTE' });
    expect(a.store.get('obj_x')).toBeUndefined(); // never zero-padded bytes

    const second = a.transfer.pull(['obj_x']);
    await settle();
    pulls[1].header({ t: 'raw', ctor: 'Uint8Array', size: 2000 });
    pulls[1].body(bytes(2000), 500);
    await second;
    expect(a.store.get('obj_x')).toEqual(raw(bytes(2000)));
  });

  it('stops reading at the first byte beyond the announced size', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].header({ t: 'raw', ctor: 'Uint8Array', size: 1000 });
    pulls[0].body(bytes(1500), 600);
    expect(String(await err)).toBe(
      'ObjectLostError: Object obj_x could not be fetched from node node-b: it sent more than the 1000 bytes it announced.',
    );
    expect(pulls[0].cancelled).toBe(true);
    expect(a.store.describe('obj_x')).toMatchObject({ state: 'REMOTE' });
  });

  it('refuses a first message without a header, and a value of a kind it does not know', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    a.store.addBorrowed('obj_y', 'node-b');
    const x = outcome(a.transfer.pull(['obj_x']));
    const y = outcome(a.transfer.pull(['obj_y']));
    await settle();
    pulls[0].body(bytes(10));
    pulls[1].header({ t: 'evil', size: 10 });
    expect(String(await x)).toMatch(
      /Object obj_x could not be fetched from node node-b: its first message has no header/,
    );
    expect(String(await y)).toMatch(/Object obj_y could not be fetched from node node-b: .* unknown kind 'evil'/);
  });

  it('fails with ObjectStoreFullError when the bytes find no room here, leaving the object to pull again', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b', 'node-c');
    const a = node('node-a', fullDisk());
    a.store.put('obj_held', raw(bytes(900_000)));
    a.store.addHolder('obj_held');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].header({ t: 'v8', size: 300_000, refs: ['obj_inner'] }, { obj_inner: 'node-c' });
    pulls[0].body(bytes(300_000));
    expect(await err).toMatchObject({ name: 'ObjectStoreFullError', objectId: 'obj_x' });
    expect(String(await err)).toMatch(/spilling to .* failed: ENOSPC: no space left on device, write\./);
    expect(a.store.describe('obj_x')).toMatchObject({ state: 'REMOTE' });
    expect(a.store.has('obj_inner')).toBe(false); // the borrow it brought went back
    expect(a.store.stats().usedBytes).toBe(900_000);
  });
});

describe('object ids from other nodes', () => {
  it('refuses malformed ids in a pulled header, counting none of its borrows', async () => {
    const { node, pulls } = transferCluster('node-a', 'node-b');
    const a = node('node-a');
    a.store.addBorrowed('obj_x', 'node-b');
    const err = outcome(a.transfer.pull(['obj_x']));
    await settle();
    pulls[0].header({ t: 'v8', size: 3, refs: ['obj_ok'] }, { obj_ok: 'node-c', '../../etc/passwd': 'node-c' });
    expect(String(await err)).toMatch(
      /Object obj_x could not be fetched from node node-b: Refused object id "\.\.\/\.\.\/etc\/passwd" in the header of object obj_x: not an object id/,
    );
    expect(a.store.has('obj_ok')).toBe(false);
  });

  it('answers a pull of a malformed id with INVALID_ARGUMENT', async () => {
    const { node } = transferCluster('node-a', 'node-b');
    const call = node('node-b').serve('../spill/obj_1', 'node-a');
    await settle();
    expect([call.written, call.ended, call.settled]).toEqual([[], false, true]);
    expect(call.errors).toEqual([
      {
        code: grpc.status.INVALID_ARGUMENT,
        details: 'node node-b refused a pull of "../spill/obj_1": not an object id',
      },
    ]);
  });

  it('refuses a task whose return ids are not its id and an index, or whose arguments name no object', () => {
    const spec = (returnIds: string[], ref = 'obj_1') =>
      ({
        taskId: 'task_t1',
        name: 'f',
        fn: { id: 'fn_1', desc: null },
        args: [{ arg: 'ref', ref }],
        returnIds,
        resources: {},
        maxRetries: 0,
        retryAllExceptions: false,
        retryExceptionNames: [],
        isolation: '',
        parentTaskId: '',
        jobId: '',
        strategy: null,
        envVars: {},
      }) as unknown as TaskSpec__Output;
    expect(taskFromWire(spec(['task_t1.0', 'task_t1.1']), 1024).returnIds).toEqual(['task_t1.0', 'task_t1.1']);
    expect(() => taskFromWire(spec(['task_t1.0', 'task_t9.1']), 1024)).toThrow(
      'Refused task "task_t1" from another node: its return 1 is task_t9.1, not task_t1.1.',
    );
    expect(() => taskFromWire(spec(['task_t1/../../x.0']), 1024)).toThrow(/InvalidArgumentError|Refused object id/);
    expect(() => taskFromWire(spec(['task_t1.0'], 'obj_1/../../x'), 1024)).toThrow(
      /Refused object id "obj_1\/\.\.\/\.\.\/x" in an argument from another node/,
    );
    const nested = { t: 'v8', data: Buffer.alloc(1), refs: ['obj_ok', 'a b'] } as unknown as PValueOut;
    expect(() => valueFromWire(nested, 1024)).toThrow(/Refused object id "a b" in a value from another node/);
  });
});

describe('task results that find no room', () => {
  it("sends the owner the error inline when a large result cannot be kept here as the owner's copy", async () => {
    const { node, batches } = transferCluster('node-a', 'node-z');
    const a = node('node-a', fullDisk());
    a.store.put('obj_held', raw(bytes(900_000)));
    a.store.addHolder('obj_held');
    a.transfer.sendTaskDone('node-z', 'task_t1', [raw(bytes(300_000))], undefined, 3);
    await settle();
    const [result] = batches[0].batch.messages![0].taskDone!.results!;
    const v = valueFromWire({ data: Buffer.alloc(0), refs: [], ...result } as PValueOut, 1024);
    expect(v.t === 'err' && [v.e.name, v.e.props.objectId]).toEqual(['ObjectStoreFullError', 'task_t1.0']);
    expect(a.store.has('task_t1.0')).toBe(false);
    expect(a.store.stats().usedBytes).toBe(900_000);
  });
});
