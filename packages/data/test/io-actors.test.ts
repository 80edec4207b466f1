// Files in and out through datasets, actor pools, streaming splits, and the memory budget.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableResources, get, init, shutdown } from '@ray-ts/core';
import { objectStoreStats, waitFor } from '@ray-ts/core/testing';
import {
  DataContext,
  DatasourceError,
  col,
  range,
  readBinaryFiles,
  readCsv,
  readJson,
  readParquet,
  readText,
} from '@ray-ts/data';

import { consume } from './fixtures/consume.js';
import { LateSecond, holdUntil } from './fixtures/late-actor.js';

const STORE = 48 << 20;
let dir: string;

beforeAll(async () => {
  await init({ numCpus: 2, objectStoreMemory: STORE });
  dir = mkdtempSync(join(tmpdir(), 'ray-ts-data-'));
});
afterAll(async () => {
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('reading and writing files', () => {
  it('writes Parquet, one file per block, and reads it back with projection and filter pushdown', async () => {
    const out = join(dir, 'pq');
    const res = await range(1000, { numBlocks: 4 })
      .map((r) => ({ id: r.id, x: r.id / 10, cat: `c${r.id % 5}` }))
      .writeParquet(out);
    expect(res.numRows).toBe(1000);
    expect(res.paths.length).toBe(4);
    expect(readdirSync(out).filter((f) => f.endsWith('.parquet')).length).toBe(4);

    const ds = readParquet(out);
    expect(await ds.count()).toBe(1000);
    // Counted from the metadata: no task ran.
    expect(ds.executionStats()).toBeUndefined();
    const pushed = readParquet(out).selectColumns(['id', 'x']).filter(col('id').lt(3));
    // The select and the filter moved into the read: nothing runs after it.
    expect(pushed.explain()).toBe('readParquet');
    expect(await pushed.takeAll()).toEqual([
      { id: 0, x: 0 },
      { id: 1, x: 0.1 },
      { id: 2, x: 0.2 },
    ]);
    const viaOption = readParquet(join(out, '*.parquet'), { columns: ['cat'], filter: col('id').eq(999) });
    expect(await viaOption.takeAll()).toEqual([{ cat: 'c4' }]);
  });

  it('reads a Parquet file larger than a block with several tasks, in order', async () => {
    const out = join(dir, 'one-file');
    await range(20_000, { numBlocks: 1 })
      .map((r) => ({ id: r.id, x: r.id * 0.5 }))
      .writeParquet(out);
    const ctx = DataContext.getCurrent();
    const before = ctx.targetMaxBlockBytes;
    ctx.targetMaxBlockBytes = 40_000;
    try {
      const ds = readParquet(out);
      const rows = await ds.takeAll();
      expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
      expect(ds.executionStats()!.operators[0].tasks).toBeGreaterThan(1);
      expect(await readParquet(out).filter(col('id').ge(19_998)).count()).toBe(2);
    } finally {
      ctx.targetMaxBlockBytes = before;
    }
  });

  it('writes and reads CSV and JSON lines', async () => {
    const ds = range(10).map((r) => ({ id: r.id, name: `n${r.id}` }));
    await ds.writeCsv(join(dir, 'csv'));
    await ds.writeJson(join(dir, 'json'));
    const fromCsv = (await readCsv(join(dir, 'csv')).sort('id').takeAll()).map((r) => ({
      id: Number(r.id),
      name: r.name,
    }));
    expect(fromCsv).toEqual(await ds.takeAll());
    const fromJson = (await readJson(join(dir, 'json')).sort('id').takeAll()).map((r) => ({
      id: Number(r.id),
      name: r.name,
    }));
    expect(fromJson).toEqual(await ds.takeAll());
  });

  it('reads text lines and binary files, with paths', async () => {
    const tdir = join(dir, 'text');
    rmSync(tdir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(tdir);
    writeFileSync(join(tdir, 'a.txt'), 'hello\nworld\n');
    writeFileSync(join(tdir, 'b.txt'), 'third');
    expect((await readText(tdir).takeAll()).map((r) => r.text)).toEqual(['hello', 'world', 'third']);
    const files = await readBinaryFiles(tdir).takeAll();
    expect(
      files.map((f) => [f.path.endsWith('a.txt') || f.path.endsWith('b.txt'), Buffer.from(f.bytes).toString()]),
    ).toEqual([
      [true, 'hello\nworld\n'],
      [true, 'third'],
    ]);
    const withPaths = await readText(join(tdir, 'b.txt'), { includePaths: true }).takeAll();
    expect(withPaths).toEqual([{ text: 'third', path: join(tdir, 'b.txt') }]);
  });

  it('fails early and clearly on bad paths, naming them', async () => {
    const err = await readParquet(join(dir, 'nope'))
      .count()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as Error).message).toMatch(/No such file or directory: .*nope/);
    await expect(readCsv(join(dir, 'empty-*.csv')).count()).rejects.toThrow(DatasourceError);
    const bad = join(dir, 'bad.parquet');
    writeFileSync(bad, 'not parquet at all');
    await expect(readParquet(bad).count()).rejects.toThrow(/bad\.parquet/);
    await expect(readParquet(join(dir, 'pq'), { columns: ['nope'] }).count()).rejects.toThrow(/nope/);
  });
});

class AddOffset {
  private readonly offset: number;
  private readonly constructedAt: number;
  constructor(offset: number) {
    this.offset = offset;
    this.constructedAt = Date.now() + Math.random();
  }
  call(batch: { id: Int32Array }): Record<string, ArrayLike<unknown>> {
    return {
      id: batch.id,
      y: Array.from(batch.id, (x) => x + this.offset),
      instance: Array.from(batch.id, () => this.constructedAt),
    };
  }
}

describe('actor pools', () => {
  it('constructs a class once per actor and runs every batch through the pool', async () => {
    const ds = range(2000, { numBlocks: 20 }).mapBatches(AddOffset, {
      compute: { size: 2 },
      fnConstructorArgs: [100],
      batchSize: 50,
    });
    const rows = await ds.takeAll();
    expect(rows.length).toBe(2000);
    expect(rows.every((r) => r.y === (r.id as number) + 100)).toBe(true);
    const instances = new Set(rows.map((r) => r.instance));
    // 40 batches, at most one instance per actor (an actor that got no block built one too, unseen here).
    expect(instances.size).toBeGreaterThanOrEqual(1);
    expect(instances.size).toBeLessThanOrEqual(2);
    const st = ds.executionStats()!.operators.find((o) => o.name.includes('mapBatches(AddOffset)'))!;
    expect(st.actors).toBe(2);
  });

  it('autoscales between minSize and maxSize', async () => {
    const ds = range(400, { numBlocks: 40 }).mapBatches(AddOffset, {
      compute: { minSize: 1, maxSize: 2 },
      fnConstructorArgs: [1],
      numCpus: 0.5,
    });
    expect(await ds.count()).toBe(400);
    const st = ds.executionStats()!.operators.find((o) => o.name.includes('mapBatches(AddOffset)'))!;
    expect(st.peakActors).toBe(2);
  });

  it('lets an actor that starts after the pool ran out of input go at once, not when the dataset ends', async () => {
    // The second actor starts after the first did the only block: it is idle from the start, and
    // its CPU must go back while the stage after the pool still runs (it held it to the end).
    const [started, release] = [join(dir, 'started'), join(dir, 'release')];
    const ds = range(10, { numBlocks: 1 })
      .mapBatches(LateSecond, { compute: { size: 2 }, fnConstructorArgs: [join(dir, 'late-lock'), 1500], numCpus: 0.5 })
      .mapBatches(holdUntil, { fnArgs: [started, release] });
    const done = ds.takeAll();
    try {
      // Of the 2 CPUs, only the held stage's task keeps one.
      await waitFor(async () => existsSync(started) && (await availableResources()).CPU === 1, {
        what: "the pool's CPUs back while the next stage runs",
        timeoutMs: 20_000,
      });
    } finally {
      writeFileSync(release, '');
    }
    expect((await done).length).toBe(10);
  });

  it('reports a failing constructor with the operator name', async () => {
    class Broken {
      constructor() {
        throw new Error('no model file');
      }
      call(b: unknown): unknown {
        return b;
      }
    }
    await expect(
      range(10)
        .mapBatches(Broken, { compute: { size: 1 } })
        .count(),
    ).rejects.toThrow(/mapBatches\(Broken\) failed: its constructor threw: Error: no model file/);
  });
});

describe('streamingSplit', () => {
  it('feeds n consumers in other workers from one execution, with equal shares, over epochs', async () => {
    const its = await range(1003, { numBlocks: 10 }).streamingSplit(2, { equal: true });
    const counts = await get(its.map((it) => consume.remote(it, 2)));
    expect(counts).toEqual([
      [501, 501],
      [501, 501],
    ]);
  });

  it('without equal, every row goes to exactly one consumer', async () => {
    const its = await range(1000, { numBlocks: 10 }).streamingSplit(3);
    const counts = await get(its.map((it) => consume.remote(it, 1)));
    expect(counts.flat().reduce((a, b) => a + b, 0)).toBe(1000);
  });
});

describe('memory budget', () => {
  it('streams a dataset several times the object store through a map and a write without overflowing it', async () => {
    DataContext.getCurrent().progressBars = false;
    // 64 blocks of 2 MiB (128 MiB in all) through a 48 MiB store.
    const ds = range(64 * 8192, { numBlocks: 64 }).mapBatches(
      (b) => ({ id: b.id, payload: Array.from(b.id, () => new Float64Array(32).fill(1)) }),
      { batchSize: null },
    );
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, objectStoreStats().usedBytes);
    }, 5);
    const before = objectStoreStats();
    const res = await ds.writeParquet(join(dir, 'big'));
    clearInterval(timer);
    const after = objectStoreStats();
    expect(res.numRows).toBe(64 * 8192);
    expect(after.spilledBytesTotal - before.spilledBytesTotal).toBe(0);
    expect(peak).toBeLessThanOrEqual(STORE);
    const st = ds.executionStats() ?? undefined;
    void st;
  });
});
