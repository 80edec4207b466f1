// A node whose spill directory is a tiny tmpfs, filled up by puts: every value reads back intact
// or its put fails with ObjectStoreFullError, the store's count stays exact, nothing hangs.
// Mounting needs root, which CI has: the test fails (it does not skip) without it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectRef, ObjectStoreFullError, get, init, put, shutdown } from '@ray-ts/core';
import { objectStoreStats, waitFor } from '@ray-ts/core/testing';
import { filled, putInTask } from './fixtures/spill.js';

const MiB = 1024 * 1024;
const capacity = 4 * MiB;
const each = MiB;
const noHang = { timeoutMs: 30_000 };

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let mnt = '';
let mounted = false;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error(
      'spill-full.test.ts mounts a tmpfs as its spill directory, which needs root (CI runs as root): run it as root.',
    );
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-spill-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  mounted = true;
  await init({ numCpus: 2, objectStoreMemory: capacity, config: { spillDirectory: mnt } });
});

afterAll(async () => {
  await shutdown();
  if (mounted) execFileSync('umount', [mnt]);
  if (mnt) fs.rmSync(mnt, { recursive: true, force: true });
});

/** Every file under the spill directory (the node's folder and what is in it). */
function spillFiles(): string[] {
  return (fs.readdirSync(mnt, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(mnt, f)).isFile());
}

const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);

describe('spilling to a full disk', () => {
  it('stores what fits, fails the rest with ObjectStoreFullError, and reads every stored value back intact', async () => {
    const refs: ObjectRef<Uint8Array>[] = [];
    let full: unknown;
    for (let i = 1; i <= 40 && !full; i++) {
      try {
        refs.push(put(fill(each, i)));
      } catch (err) {
        full = err;
      }
      const st = objectStoreStats();
      expect(st.usedBytes).toBeLessThanOrEqual(capacity);
      expect(st.usedBytes % each).toBe(0);
    }
    // 4 MiB in memory, about 8 MiB on the disk: then the disk is full.
    expect(refs.length).toBeGreaterThanOrEqual(8);
    expect(refs.length).toBeLessThan(40);
    expect(full).toBeInstanceOf(ObjectStoreFullError);
    expect((full as Error).message).toMatch(
      new RegExp(
        `^Object obj_\\w+ \\(1\\.0 MiB\\) could not be stored: the object store is full \\(4\\.0 MiB of 4\\.0 MiB in use\\) ` +
          `and spilling to ${mnt}/node_\\w+ failed: ENOSPC: no space left on device, write\\. Free space in the spill ` +
          `directory or point spillDirectory at a larger disk`,
      ),
    );
    expect(() => put(fill(each, 99))).toThrow(ObjectStoreFullError); // and again, the same way
    expect(objectStoreStats().failedSpillsTotal).toBeGreaterThanOrEqual(2);
    expect(spillFiles().filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // A task's result and a put inside a task that find no room read as the error: no hang.
    await expect(get(filled.remote(each, 50), noHang)).rejects.toBeInstanceOf(ObjectStoreFullError);
    const inner = await get(putInTask.remote(each), noHang);
    await expect(get(inner, noHang)).rejects.toThrow(/ObjectStoreFullError|could not be stored/);

    // Every value that was stored reads back byte for byte (from memory, or its whole spill file).
    for (let i = 0; i < refs.length; i++) {
      const v = await get(refs[i], noHang);
      expect(v.length).toBe(each);
      expect(v.every((b) => b === i + 1)).toBe(true);
      expect(objectStoreStats().usedBytes).toBeLessThanOrEqual(capacity);
    }
    expect(objectStoreStats().restoredBytesTotal).toBeGreaterThan(0);
    refs.length = 0;
  });

  it('gives the space back when the objects are freed: the count returns to zero and puts succeed again', async () => {
    await waitFor(
      () => {
        gc();
        const st = objectStoreStats();
        return st.usedBytes === 0 && st.spilledObjects === 0 && spillFiles().length === 0;
      },
      { what: 'every object freed, its memory uncounted and its spill file removed', timeoutMs: 30_000 },
    );
    const again = Array.from({ length: 10 }, (_, i) => put(fill(each, 100 + i)));
    for (let i = 0; i < again.length; i++) {
      const v = await get(again[i], noHang);
      expect(v.every((b) => b === 100 + i)).toBe(true);
    }
    expect(objectStoreStats().usedBytes).toBeLessThanOrEqual(capacity);
  });
});
