import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocBlock,
  arenaStats,
  isBlock,
  readerBuffer,
  releaseBlock,
  setArenaLimit,
  setArenaPressureHook,
  trimArena,
} from './arena.js';
import { runFullGc } from './memory.js';
import { deserialize, serialize } from './serialization.js';

const MiB = 1024 * 1024;
const reviver = { revive: () => undefined } as never;

/** Lets finalizers run after a GC. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    runFullGc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('arena', () => {
  afterEach(() => {
    setArenaLimit(0);
    setArenaPressureHook(undefined);
  });

  it('is off until a limit is set, and then gives blocks of the exact size', () => {
    expect(allocBlock(MiB)).toBeUndefined();
    setArenaLimit(256 * MiB);
    const b = allocBlock(3 * MiB + 5)!;
    expect(b.byteLength).toBe(3 * MiB + 5);
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.byteOffset % 64).toBe(0);
    expect(isBlock(b)).toBe(true);
    expect(isBlock(new Uint8Array(new SharedArrayBuffer(MiB)))).toBe(false);
    expect(isBlock(new Uint8Array(new SharedArrayBuffer(MiB), 128))).toBe(false);
    expect(arenaStats().segments).toBe(1);
  });

  it('reuses a released block (warm memory) and never one still referenced', () => {
    setArenaLimit(256 * MiB);
    const a = allocBlock(8 * MiB)!;
    a.fill(7);
    const b = allocBlock(8 * MiB)!;
    expect(b.byteOffset).not.toBe(a.byteOffset);
    releaseBlock(a);
    const c = allocBlock(8 * MiB)!;
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(a.byteOffset);
    expect(arenaStats().segments).toBe(1);
  });

  it('coalesces freed neighbours into room for a larger block', () => {
    setArenaLimit(128 * MiB); // blocks of up to half of it
    const blocks = Array.from({ length: 6 }, () => allocBlock(8 * MiB)!);
    for (const b of blocks) releaseBlock(b);
    const big = allocBlock(40 * MiB)!;
    expect(big.buffer).toBe(blocks[0].buffer);
    expect(arenaStats().segments).toBe(1);
  });

  it('keeps a block while a zero-copy reader (or a subarray of its view) lives, and reuses it after', async () => {
    setArenaLimit(64 * MiB * 2);
    const stored = serialize(new Float64Array(MiB).fill(1.5), 'test', 1024);
    if (stored.t !== 'raw') throw new Error('expected a raw value');
    expect(isBlock(stored.b)).toBe(true);
    let view: Float64Array | undefined = deserialize(stored, reviver) as Float64Array;
    let sub: Float64Array | undefined = view.subarray(10, 20);
    view = undefined;
    releaseBlock(stored.b); // the store lets go: the reader still counts
    await collect();
    // Every allocation now must avoid the block the subarray reads.
    for (let i = 0; i < 4; i++) allocBlock(8 * MiB)!.fill(0xff);
    expect(Array.from(sub!)).toEqual(new Array(10).fill(1.5));
    const at = stored.b.byteOffset;
    sub = undefined;
    await collect();
    const offsets: number[] = [];
    for (let i = 0; i < 2; i++) offsets.push(allocBlock(8 * MiB)!.byteOffset);
    expect(offsets).toContain(at);
  });

  it('finds dropped readers at the limit with a GC instead of growing', async () => {
    setArenaLimit(80 * MiB); // one 64 MiB segment, blocks up to 40 MiB
    const b = allocBlock(36 * MiB)!;
    let buf: ArrayBufferLike | undefined = readerBuffer(b);
    expect(buf).not.toBe(b.buffer);
    releaseBlock(b);
    buf = undefined;
    void buf;
    await new Promise((r) => setTimeout(r, 0)); // a WeakRef made in this turn keeps its target alive until it ends
    const again = allocBlock(36 * MiB)!;
    expect(again.buffer).toBe(b.buffer); // no second segment: the GC found the reader gone
    expect(arenaStats().segments).toBe(1);
  });

  it('waits briefly for another thread to release a block when the pressure hook freed refs', async () => {
    setArenaLimit(80 * MiB);
    const b = allocBlock(36 * MiB)!;
    const releaser = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', ({ buf, off }) => {
         setTimeout(() => {
           const h = new Int32Array(buf, off - 64, 3);
           Atomics.sub(h, 1, 1);
           const seg = new Int32Array(buf, 0, 1);
           Atomics.add(seg, 0, 1);
           Atomics.notify(seg, 0);
           parentPort.postMessage('done');
         }, 5);
       });`,
      { eval: true },
    );
    await new Promise((r) => releaser.once('online', r));
    const done = new Promise((r) => releaser.once('message', r));
    let hooked = 0;
    setArenaPressureHook(() => {
      hooked++;
      releaser.postMessage({ buf: b.buffer, off: b.byteOffset });
      return 1; // "a ref was dropped": worth waiting for
    });
    const again = allocBlock(36 * MiB)!;
    expect(hooked).toBe(1);
    expect(again.byteOffset).toBe(b.byteOffset);
    await done;
    await releaser.terminate();
  });

  it('stops trying (no GC, no wait) for a while once its full arena freed nothing', () => {
    setArenaLimit(80 * MiB);
    let hooked = 0;
    setArenaPressureHook(() => {
      hooked++;
      return 1; // claims a release is coming; none does
    });
    expect(allocBlock(36 * MiB)).toBeDefined();
    expect(allocBlock(36 * MiB)).toBeUndefined(); // GC, the hook, a wait of 50 ms: nothing
    expect(hooked).toBe(1);
    for (let i = 0; i < 5; i++) expect(allocBlock(36 * MiB)).toBeUndefined();
    expect(hooked).toBe(1); // quiet: fresh memory at once
  });

  it('gives back segments empty for a minute, keeping one segment warm', () => {
    setArenaLimit(512 * MiB);
    const big = allocBlock(100 * MiB)!; // a segment of its own
    const small = allocBlock(3 * MiB)!; // and a 64 MiB one
    expect(arenaStats().segmentBytes).toBe(102 * MiB + 64 * MiB);
    releaseBlock(big);
    releaseBlock(small);
    const t = 1_000_000;
    expect(trimArena(t)).toBe(0); // seen empty now: not yet
    expect(trimArena(t + 30_000)).toBe(0);
    expect(trimArena(t + 60_000)).toBe(102 * MiB); // the larger first, down to one segment
    expect(arenaStats()).toMatchObject({ segments: 1, segmentBytes: 64 * MiB });
    expect(trimArena(t + 600_000)).toBe(0); // the warm floor stays
    // A segment in use is never dropped, and its idle clock starts again once it is empty.
    setArenaLimit(0);
    setArenaLimit(512 * MiB);
    const held = allocBlock(100 * MiB)!;
    allocBlock(3 * MiB);
    expect(trimArena(t)).toBe(0);
    expect(trimArena(t + 120_000)).toBe(0);
    releaseBlock(held);
    expect(trimArena(t + 130_000)).toBe(0);
    expect(trimArena(t + 190_000)).toBe(102 * MiB);
  });

  it('gives up (fresh memory) when nothing can be released', () => {
    setArenaLimit(80 * MiB);
    expect(allocBlock(36 * MiB)).toBeDefined();
    expect(allocBlock(36 * MiB)).toBeUndefined(); // its 64 MiB segment is full, no room for another
    expect(allocBlock(60 * MiB)).toBeUndefined(); // over half the limit
  });

  it('serializes large values into blocks when on, and into buffers of their own when off', () => {
    const v = new Uint8Array(2 * MiB).fill(3);
    const off = serialize(v, 'test', 1024);
    if (off.t !== 'raw') throw new Error('expected a raw value');
    expect(isBlock(off.b)).toBe(false);
    setArenaLimit(256 * MiB);
    const on = serialize({ big: 'x'.repeat(MiB) }, 'test', 1024);
    if (on.t !== 'v8') throw new Error('expected a v8 value');
    expect(isBlock(on.b)).toBe(true);
    expect((deserialize(on, reviver) as { big: string }).big.length).toBe(MiB);
  });
});
