import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireError } from '../errors.js';
import type { StoredValue } from '../runtime/serialization.js';
import { ObjectStore } from './object-store.js';
import { SpillFiles, type SpillIo } from './spill-files.js';

// Spilling when the disk fails: a spill is published only once written whole, a failed one
// leaves its object in memory and the store's count exact, and a value finds room some other way
// or holds a typed error. Real files in a temporary folder; the failures are injected writes.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'store-spill-test-'));
  dirs.push(d);
  return d;
}

const raw = (n: number, fill: number): StoredValue => ({
  t: 'raw',
  ctor: 'Uint8Array',
  b: new Uint8Array(n).fill(fill),
});

/** node:fs whose writes fail with `code` once `budget` more bytes were written (a disk that fills up). */
function diskOf(budget: number, code = 'ENOSPC') {
  const disk = {
    budget,
    writes: 0,
    io: {
      ...fs,
      writeSync: ((fd: number, b: Uint8Array, off: number, len: number) => {
        disk.writes++;
        if (disk.budget <= 0)
          throw Object.assign(new Error(`${code}: injected failure, write`), { code, syscall: 'write' });
        const n = Math.min(len, disk.budget);
        disk.budget -= n;
        return fs.writeSync(fd, b, off, n);
      }) as typeof fs.writeSync,
    } as SpillIo,
  };
  return disk;
}

function storeOn(capacity: number, budget = Infinity, code?: string) {
  const root = tempDir();
  const dir = path.join(root, 'node_1');
  const disk = diskOf(budget, code);
  const s = new ObjectStore(capacity, 10, dir, { io: disk.io });
  /** Puts a value and holds it (as a ref would). */
  const hold = (id: string, v: StoredValue) => {
    const err = s.put(id, v);
    s.addHolder(id);
    return err;
  };
  const files = () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
  return { s, dir, disk, hold, files };
}

/** The first byte of a raw value, or the error it holds. */
function firstByte(v: StoredValue | undefined): number | string {
  if (v?.t === 'raw') return v.b[0];
  if (v?.t === 'err') return `${v.e.name}: ${v.e.message}`;
  return String(v?.t);
}

/** The bytes of large values the store keeps in memory, counted from its entries. */
function inMemory(s: ObjectStore): number {
  let n = 0;
  for (const id of s.ids())
    if (s.describe(id)?.state === 'READY') n += s.describe(id)!.size > 10 ? s.describe(id)!.size : 0;
  return n;
}

describe('object store: a spill that fails', () => {
  it('leaves its object in memory and no file, and the put that needed the room holds a typed error', () => {
    const { s, dir, disk, hold, files } = storeOn(100, 25);
    hold('obj_a', raw(40, 1));
    hold('obj_b', raw(40, 2));
    let woken = false;
    s.createPending('task_t1.0');
    s.addHolder('task_t1.0');
    s.onReady('task_t1.0', () => (woken = true));
    const err = s.put('task_t1.0', raw(40, 3)); // needs obj_a spilled: 25 bytes fit on the disk, then ENOSPC
    expect(disk.writes).toBe(2);
    expect(err?.name).toBe('ObjectStoreFullError');
    expect(err?.message).toBe(
      `Object task_t1.0 (40 bytes) could not be stored: the object store is full (80 bytes of 100 bytes in use) and ` +
        `spilling to ${dir} failed: ENOSPC: injected failure, write. Free space in the spill directory or point ` +
        `spillDirectory at a larger disk, drop refs to objects no longer needed, or raise objectStoreMemory.`,
    );
    // The reader is woken with the error, not left waiting.
    expect(woken).toBe(true);
    const held = s.get('task_t1.0');
    expect(held?.t === 'err' && (held.e as WireError).name).toBe('ObjectStoreFullError');
    expect(held?.t === 'err' && (held.e as WireError).props.objectId).toBe('task_t1.0');
    // Nothing published, nothing left half-written; the victims are whole, in memory and counted.
    expect(files()).toEqual([]);
    expect([firstByte(s.get('obj_a')), firstByte(s.get('obj_b'))]).toEqual([1, 2]);
    expect(s.stats()).toMatchObject({ usedBytes: 80, spilledObjects: 0, spilledBytesTotal: 0, failedSpillsTotal: 1 });
    expect(inMemory(s)).toBe(80);
  });

  it('writes the whole object when it spills again later, never a file left from the failed try', () => {
    const { s, disk, hold, files } = storeOn(100, 25);
    hold('obj_a', raw(40, 1));
    hold('obj_b', raw(40, 2));
    expect(hold('obj_c', raw(40, 3))?.name).toBe('ObjectStoreFullError');
    disk.budget = Infinity; // space was freed
    expect(hold('obj_d', raw(40, 4))).toBeUndefined();
    expect(files()).toEqual(['obj_a']);
    expect(fs.statSync(path.join(filesDir(s), 'obj_a')).size).toBe(40);
    expect(s.describe('obj_a')?.state).toBe('SPILLED');
    const back = s.get('obj_a');
    expect(back?.t === 'raw' && [...back.b]).toEqual(new Array(40).fill(1));
    expect(s.stats().usedBytes).toBeLessThanOrEqual(100);
    expect(s.stats().usedBytes).toBe(inMemory(s));
  });

  it('makes room from values already on disk when writing fails', () => {
    const { s, disk, hold } = storeOn(100);
    hold('obj_a', raw(40, 1));
    hold('obj_b', raw(40, 2));
    hold('obj_c', raw(40, 3)); // obj_a spills
    expect(firstByte(s.get('obj_a'))).toBe(1); // restored (obj_b spills for it); its file stays
    disk.budget = 0; // the disk is full from now on
    // obj_c is the least recently used, but cannot be written: obj_a's bytes are on disk already.
    expect(hold('obj_d', raw(40, 4))).toBeUndefined();
    expect(['obj_a', 'obj_b', 'obj_c', 'obj_d'].map((id) => s.describe(id)?.state)).toEqual([
      'SPILLED',
      'SPILLED',
      'READY',
      'READY',
    ]);
    expect(s.stats()).toMatchObject({ usedBytes: 80, failedSpillsTotal: 1 });
    expect(['obj_a', 'obj_b', 'obj_c', 'obj_d'].map((id) => firstByte(s.get(id)))).toEqual([1, 2, 3, 4]);
    expect(s.stats().usedBytes).toBe(inMemory(s));
    expect(s.stats().usedBytes).toBeLessThanOrEqual(100);
  });

  it('reads a spilled value through to its reader, over no room, without going over capacity', () => {
    const { s, disk, hold } = storeOn(100);
    hold('obj_a', raw(60, 1));
    hold('obj_b', raw(60, 2)); // obj_a spills
    disk.budget = 0;
    expect(firstByte(s.get('obj_a'))).toBe(1);
    expect(s.describe('obj_a')?.state).toBe('SPILLED');
    expect(s.stats()).toMatchObject({ usedBytes: 60, restoredBytesTotal: 60 });
  });

  it('fails a put larger than the whole store when its file cannot be written, and an EIO the same way', () => {
    const { s, dir, hold, files } = storeOn(100, 0, 'EIO');
    const err = hold('obj_big', raw(150, 9));
    expect(err?.message).toMatch(
      new RegExp(
        `^Object obj_big \\(150 bytes\\) could not be stored: it is larger than the object store \\(100 bytes\\), ` +
          `so it goes to disk, and writing it to ${dir} failed: EIO: injected failure, write\\. Free space`,
      ),
    );
    expect(firstByte(s.get('obj_big'))).toMatch(/^ObjectStoreFullError: Object obj_big/);
    expect(files()).toEqual([]);
    expect(s.stats().usedBytes).toBe(0);
  });

  it('refuses to make a file of an id that is not an object id', () => {
    const { s, hold, files } = storeOn(100);
    const root = path.dirname(filesDir(s));
    hold('../escaped', raw(60, 1)); // a malformed id (the network layer refuses these before)
    expect(hold('obj_b', raw(60, 2))?.message).toMatch(/spilling to .* failed: '\.\.\/escaped' is not an object id\./);
    expect(firstByte(s.get('../escaped'))).toBe(1);
    expect(fs.existsSync(path.join(root, 'escaped'))).toBe(false);
    expect(files()).toEqual([]);
    expect(s.stats()).toMatchObject({ usedBytes: 60, failedSpillsTotal: 1 });
  });

  it('throws from fillPulled when no room can be made, leaving the object to be pulled again', () => {
    const { s, hold } = storeOn(100, 0);
    hold('obj_a', raw(60, 1));
    s.addBorrowed('obj_nested', 'node-c');
    s.addBorrowed('obj_x', 'node-b');
    const v: StoredValue = { t: 'v8', b: new Uint8Array(60), refs: ['obj_nested'] };
    expect(() => s.fillPulled('obj_x', v)).toThrow(/ObjectStoreFullError|could not be stored/);
    expect(s.describe('obj_x')).toMatchObject({ state: 'REMOTE' });
    expect(s.describe('obj_nested')).toMatchObject({ pins: 0 });
    expect(s.stats().usedBytes).toBe(60);
  });
});

describe('object store: restoring a spilled value', () => {
  it.each([
    ['shorter', 30, 'it has 30 bytes where 40 were written'],
    ['longer', 50, 'it has 50 bytes where 40 were written'],
  ])('refuses a file %s than what was written, naming the object and the file', (_, length, why) => {
    const { s, hold, files } = storeOn(100);
    hold('obj_a', raw(40, 1));
    hold('obj_b', raw(40, 2));
    hold('obj_c', raw(40, 3)); // obj_a spills
    const file = path.join(filesDir(s), 'obj_a');
    fs.truncateSync(file, length);
    const v = s.get('obj_a');
    expect(v?.t === 'err' && v.e.name).toBe('ObjectLostError');
    expect(v?.t === 'err' && v.e.message).toBe(
      `Object obj_a is lost: its spill file ${file} cannot be read back (${why}); it was changed or removed ` +
        `outside ray-ts, or the disk failed. Keep the spill directory (config spillDirectory) to ray-ts alone, ` +
        `on a healthy disk.`,
    );
    expect(files()).toEqual(['obj_b']); // the bad file is gone (obj_b spilled to make room for it)
    expect(s.stats().usedBytes).toBe(40);
    expect(s.stats().usedBytes).toBe(inMemory(s));
  });

  it('reports a file that is gone the same way', () => {
    const { s, hold } = storeOn(100);
    hold('obj_a', raw(60, 1));
    hold('obj_b', raw(60, 2));
    fs.rmSync(path.join(filesDir(s), 'obj_a'));
    expect(firstByte(s.get('obj_a'))).toMatch(/^ObjectLostError: Object obj_a is lost: its spill file .*ENOENT/);
  });
});

describe('spill files', () => {
  it('publishes a file only once every byte is written, through a temporary name', () => {
    const dir = tempDir();
    const seen: string[] = [];
    const io: SpillIo = {
      ...fs,
      renameSync: ((from: string, to: string) => {
        seen.push(`${path.basename(from)} ${String(fs.statSync(from).size)} -> ${path.basename(to)}`);
        fs.renameSync(from, to);
      }) as typeof fs.renameSync,
    };
    const files = new SpillFiles(dir, { io });
    const w = files.write('task_t1.0', new Uint8Array(1000).fill(5));
    expect(w).toEqual({ ok: true, path: path.join(dir, 'task_t1.0') });
    expect(seen).toEqual(['task_t1.0.tmp 1000 -> task_t1.0']);
    const back = new Uint8Array(1000);
    files.read('task_t1.0', path.join(dir, 'task_t1.0'), 1000, back);
    expect(back.every((b) => b === 5)).toBe(true);
  });

  it('removes the temporary file of a write that failed, and fsyncs when asked', () => {
    const dir = tempDir();
    const disk = diskOf(300);
    let syncs = 0;
    const io: SpillIo = { ...disk.io, fsyncSync: ((fd: number) => (syncs++, fs.fsyncSync(fd))) as typeof fs.fsyncSync };
    const files = new SpillFiles(dir, { io, fsync: true });
    const failed = files.write('obj_a', new Uint8Array(1000));
    expect(failed).toMatchObject({ ok: false, reason: 'ENOSPC: injected failure, write' });
    expect(fs.readdirSync(dir)).toEqual([]);
    disk.budget = Infinity;
    expect(files.write('obj_a', new Uint8Array(1000)).ok).toBe(true);
    expect(syncs).toBe(1);
    expect(fs.readdirSync(dir)).toEqual(['obj_a']);
  });
});

/** The store's spill directory (its files are named by object id). */
function filesDir(s: ObjectStore): string {
  return (s as unknown as { files: SpillFiles }).files.dir;
}
