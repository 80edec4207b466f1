// The Dataset API end to end on the embedded cluster: creation, transformations, all-to-all
// operations, consumption, and the errors users see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { Table, makeVector, tableFromArrays } from 'apache-arrow';
import {
  DataInvalidArgumentError,
  SchemaError,
  UserFunctionError,
  col,
  count,
  fromArrow,
  fromItems,
  max,
  mean,
  min,
  range,
  std,
  sum,
} from '@ray-ts/data';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

describe('creating datasets', () => {
  it('range gives ids in order, over several blocks', async () => {
    const rows = await range(1000, { numBlocks: 7 }).takeAll();
    expect(rows.length).toBe(1000);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(await range(0).count()).toBe(0);
  });

  it('fromItems keeps objects as rows and wraps other values in an item column', async () => {
    expect(
      await fromItems([
        { a: 1, s: 'x' },
        { a: 2, s: 'y' },
      ]).takeAll(),
    ).toEqual([
      { a: 1, s: 'x' },
      { a: 2, s: 'y' },
    ]);
    expect(await fromItems([5, 6]).takeAll()).toEqual([{ item: 5 }, { item: 6 }]);
  });

  it('fromArrow takes Arrow tables as blocks; toArrow gives one back', async () => {
    const t = tableFromArrays({ x: new Float64Array([1, 2, 3]) });
    const ds = fromArrow([t, t]);
    expect(ds.numBlocks()).toBe(2);
    const back = await ds.toArrow();
    expect(back).toBeInstanceOf(Table);
    expect(back.numRows).toBe(6);
    expect(Array.from(back.getChild('x')!.toArray() as Float64Array)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('rejects bad arguments at the call', () => {
    expect(() => range(-1)).toThrow(DataInvalidArgumentError);
    expect(() => range(10).limit(-2)).toThrow(/non-negative integer/);
    expect(() => range(10).mapBatches((b) => b, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => range(10).mapBatches((b) => b, { batchFormat: 'pandas' as never })).toThrow(/batchFormat must be/);
    expect(() => range(10).mapBatches((b) => b, { bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => range(10).map(42 as never)).toThrow(/needs a function/);
  });
});

describe('transformations', () => {
  it('map, filter and flatMap work row by row', async () => {
    const ds = range(20)
      .map((r) => ({ id: r.id, sq: r.id * r.id }))
      .filter((r) => r.sq % 2 === 0)
      .flatMap((r) => [r, { id: -r.id, sq: r.sq }]);
    const rows = await ds.takeAll();
    expect(rows.length).toBe(20);
    expect(rows.slice(0, 4)).toEqual([
      { id: 0, sq: 0 },
      { id: 0, sq: 0 }, // -0: the id column stays an integer column (range's Int32), which has no -0
      { id: 2, sq: 4 },
      { id: -2, sq: 4 },
    ]);
  });

  it('mapBatches sees typed-array columns, Arrow tables or rows, in batches of batchSize', async () => {
    const sizes = await range(100, { numBlocks: 2 })
      .mapBatches((b) => ({ n: [b.id.length] }), { batchSize: 16 })
      .takeAll();
    // 50 rows per block: 16 + 16 + 16 + 2 in each.
    expect(sizes.map((r) => r.n)).toEqual([16, 16, 16, 2, 16, 16, 16, 2]);
    const typed = await range(4)
      .mapBatches((b) => ({ kind: [b.id.constructor.name] }), { batchSize: null })
      .take(1);
    expect(typed[0].kind).toBe('Int32Array');
    const arrow = await range(10)
      .mapBatches((t) => ({ rows: [t.numRows] }), { batchFormat: 'arrow', batchSize: null })
      .sum('rows');
    expect(arrow).toBe(10);
    const rows = await range(3)
      .mapBatches((rs) => rs.map((r) => ({ id: (r.id as number) + 1 })), { batchFormat: 'rows' })
      .takeAll();
    expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('passes fnArgs after the batch', async () => {
    const out = await range(3)
      .mapBatches((b, k: number) => ({ v: Array.from(b.id as Int32Array, (x) => x * k) }), { fnArgs: [10] })
      .takeAll();
    expect(out.map((r) => r.v)).toEqual([0, 10, 20]);
  });

  it('adds, selects, drops and renames columns', async () => {
    const ds = range(5)
      .addColumn('double', (b) => Array.from(b.id as Int32Array, (x) => x * 2))
      .addColumn('name', (b) => Array.from(b.id as Int32Array, (x) => `n${x}`));
    expect(await ds.take(2)).toEqual([
      { id: 0, double: 0, name: 'n0' },
      { id: 1, double: 2, name: 'n1' },
    ]);
    expect(await ds.selectColumns(['name', 'id']).take(1)).toEqual([{ name: 'n0', id: 0 }]);
    expect(await ds.dropColumns('double').take(1)).toEqual([{ id: 0, name: 'n0' }]);
    expect(await ds.renameColumns({ id: 'key' }).columns()).toEqual(['key', 'double', 'name']);
    await expect(ds.selectColumns(['nope']).take(1)).rejects.toThrow(
      /no column 'nope'; the columns are 'id', 'double', 'name'/,
    );
  });

  it('filters with an expression, vectorized', async () => {
    const rows = await range(100)
      .filter(col('id').ge(10).and(col('id').lt(13)))
      .takeAll();
    expect(rows).toEqual([{ id: 10 }, { id: 11 }, { id: 12 }]);
  });

  it('limit stops early and keeps order', async () => {
    const ds = range(1_000_000, { numBlocks: 100 }).map((r) => ({ id: r.id }));
    expect((await ds.limit(5).takeAll()).map((r) => r.id)).toEqual([0, 1, 2, 3, 4]);
    // The limit moved below the map and into the read: far fewer rows than a million were mapped.
    const limited = range(1_000_000, { numBlocks: 100 })
      .map((r) => ({ id: r.id }))
      .limit(3);
    expect(limited.explain()).toMatch(/limit\(3\)/);
    await limited.takeAll();
    const st = limited.executionStats()!;
    expect(st.operators.reduce((s, o) => s + o.tasks, 0)).toBeLessThan(100);
  });

  it('union and zip', async () => {
    expect((await range(3).union(range(2)).takeAll()).map((r) => r.id)).toEqual([0, 1, 2, 0, 1]);
    const z = await range(4, { numBlocks: 2 })
      .zip(range(4, { numBlocks: 3 }).map((r) => ({ id: r.id * 10 })))
      .takeAll();
    expect(z).toEqual([
      { id: 0, id_1: 0 },
      { id: 1, id_1: 10 },
      { id: 2, id_1: 20 },
      { id: 3, id_1: 30 },
    ]);
    await expect(range(3).zip(range(4)).takeAll()).rejects.toThrow(SchemaError);
  });
});

describe('all-to-all operations (distributed)', () => {
  const data = () =>
    range(3000, { numBlocks: 6 }).map((r) => ({ id: r.id, g: r.id % 7, x: ((r.id * 7919) % 1000) / 10 }));

  it('sorts ascending and descending across blocks', async () => {
    const asc = (await data().sort('x').takeAll()).map((r) => r.x as number);
    expect(asc.length).toBe(3000);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    const desc = (await data().sort(['x', 'id'], { descending: true }).takeAll()).map((r) => r.x as number);
    expect(desc).toEqual([...asc].reverse());
  });

  it('randomShuffle keeps every row, in another order, and repeats with a seed', async () => {
    const a = (await range(500).randomShuffle({ seed: 7 }).takeAll()).map((r) => r.id);
    const b = (await range(500).randomShuffle({ seed: 7 }).takeAll()).map((r) => r.id);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(a).toEqual(b);
  });

  it('groupby aggregates (count, sum, mean, min, max, std), sorted by key', async () => {
    const rows = await data()
      .groupby('g')
      .aggregate(count(), sum('x'), mean('x'), min('x'), max('x'), std('x'))
      .takeAll();
    expect(rows.map((r) => r.g)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const all = await data().takeAll();
    for (const r of rows) {
      const xs = all.filter((a) => a.g === r.g).map((a) => a.x as number);
      const m = xs.reduce((s, v) => s + v, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1));
      expect(r['count()']).toBe(xs.length);
      expect(r['sum(x)']).toBeCloseTo(
        xs.reduce((s, v) => s + v, 0),
        6,
      );
      expect(r['mean(x)']).toBeCloseTo(m, 9);
      expect(r['min(x)']).toBe(Math.min(...xs));
      expect(r['max(x)']).toBe(Math.max(...xs));
      expect(r['std(x)']).toBeCloseTo(sd, 6);
    }
  });

  it('global aggregates and unique', async () => {
    expect(await range(101).sum('id')).toBe(5050);
    expect(await range(101).mean('id')).toBe(50);
    expect(await range(101).min('id')).toBe(0);
    expect(await range(101).max('id')).toBe(100);
    expect(await data().unique('g')).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('mapGroups gets each group whole', async () => {
    const rows = await data()
      .groupby('g')
      .mapGroups((grp) => ({ g: [grp.g[0]], n: [grp.g.length], top: [Math.max(...(grp.x as number[]))] }))
      .takeAll();
    expect(rows.map((r) => r.g).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(rows.reduce((s, r) => s + (r.n as number), 0)).toBe(3000);
  });

  it('joins two datasets (inner, left_outer, full_outer, left_anti)', async () => {
    const left = fromItems(
      Array.from({ length: 10 }, (_, i) => ({ k: i, a: `a${i}` })),
      { numBlocks: 3 },
    );
    const right = fromItems(
      Array.from({ length: 10 }, (_, i) => ({ k: i + 5, b: i })),
      { numBlocks: 2 },
    );
    const inner = (await left.join(right, { on: 'k' }).takeAll()).sort((x, y) => (x.k as number) - (y.k as number));
    expect(inner).toEqual([5, 6, 7, 8, 9].map((k) => ({ k, a: `a${k}`, b: k - 5 })));
    expect(await left.join(right, { on: 'k', how: 'left_outer' }).count()).toBe(10);
    expect(await left.join(right, { on: 'k', how: 'full_outer' }).count()).toBe(15);
    expect((await left.join(right, { on: 'k', how: 'left_anti' }).takeAll()).map((r) => r.k).sort()).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(() => left.join(right, { on: 'k', how: 'outer' as never })).toThrow(/how must be one of/);
  });

  it('repartitions into equal blocks', async () => {
    const m = await range(103, { numBlocks: 2 }).repartition(5).materialize();
    expect(m.numBlocks()).toBe(5);
    expect((await m.takeAll()).map((r) => r.id)).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });
});

describe('consuming', () => {
  it('iterBatches re-batches across blocks, and can drop the last batch', async () => {
    const sizes: number[] = [];
    for await (const b of range(1000, { numBlocks: 3 }).iterBatches({ batchSize: 300 })) sizes.push(b.id.length);
    expect(sizes).toEqual([300, 300, 300, 100]);
    const dropped: number[] = [];
    for await (const b of range(1000, { numBlocks: 3 }).iterBatches({
      batchSize: 300,
      dropLast: true,
      batchFormat: 'rows',
    }))
      dropped.push(b.length);
    expect(dropped).toEqual([300, 300, 300]);
  });

  it('iterBatches with a local shuffle buffer mixes rows but keeps them all', async () => {
    const ids: number[] = [];
    for await (const b of range(2000, { numBlocks: 4 }).iterBatches({
      batchSize: 100,
      localShuffleBufferSize: 500,
      localShuffleSeed: 3,
    }))
      ids.push(...(b.id as Int32Array));
    expect(ids.length).toBe(2000);
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(ids.slice(0, 100)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('iterRows, takeBatch, schema, count, stats', async () => {
    let n = 0;
    for await (const r of range(50).iterRows()) n += r.id;
    expect(n).toBe(1225);
    const batch = await range(10).takeBatch(4);
    expect(Array.from(batch.id as Int32Array)).toEqual([0, 1, 2, 3]);
    expect(
      await range(3)
        .map((r) => ({ id: r.id, s: `${r.id}` }))
        .schema(),
    ).toEqual({ names: ['id', 's'], types: ['Int32', 'Utf8'] }); // id kept its type through map
    const ds = range(100).map((r) => ({ y: r.id }));
    expect(await ds.count()).toBe(100);
    expect(ds.stats()).toMatch(/range\(100\)->map\(<lambda>\): \d+ tasks, \d+ blocks, 100 rows/);
  });

  it('materialize runs once; split and trainTestSplit divide the rows', async () => {
    const m = await range(100, { numBlocks: 4 }).materialize();
    expect(await m.count()).toBe(100);
    const parts = await m.split(3, { equal: true });
    expect(await Promise.all(parts.map((p) => p.count()))).toEqual([33, 33, 33]);
    const [train, test] = await m.trainTestSplit(0.25);
    expect(await train.count()).toBe(75);
    expect((await test.takeAll()).map((r) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => 75 + i));
  });

  it('takeAll with a limit refuses a dataset that is too big', async () => {
    await expect(range(100).takeAll(10)).rejects.toThrow(/more than 10 rows/);
  });
});

describe('errors in user functions', () => {
  it('names the operator and the row', async () => {
    const ds = range(10).map(function explode(r) {
      if (r.id === 7) throw new Error('bad row');
      return r;
    });
    const err = await ds.takeAll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserFunctionError);
    expect((err as UserFunctionError).operator).toMatch(/map\(explode\)/);
    expect((err as Error).message).toMatch(/map\(explode\) failed: on row \{"id":7\}: Error: bad row/);
  });

  it('names the batch in mapBatches', async () => {
    const err = await range(100, { numBlocks: 1 })
      .mapBatches(
        function boom(b) {
          if ((b.id as Int32Array)[0] >= 40) throw new TypeError('nope');
          return b;
        },
        { batchSize: 20 },
      )
      .count()
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /mapBatches\(boom\) failed: on batch 2 \(rows 40\.\.59 of the block\): TypeError: nope/,
    );
  });

  it('says what a batch function must return', async () => {
    await expect(
      range(3)
        .mapBatches(() => 5 as never)
        .count(),
    ).rejects.toThrow(/returned number; it must return a batch/);
    await expect(
      range(3)
        .mapBatches(() => ({ a: [1, 2], b: [1] }))
        .count(),
    ).rejects.toThrow(/columns of different lengths/);
  });

  it('asks for an actor pool when given a class', () => {
    class Model {
      call(b: unknown): unknown {
        return b;
      }
    }
    expect(() => range(3).mapBatches(Model)).toThrow(/a class runs on an actor pool; give compute: \{ size: n \}/);
  });

  it('keeps Arrow tables typed end to end', async () => {
    const t = new Table({ f: makeVector(new Float32Array([1.5, 2.5])) });
    expect((await fromArrow(t).schema())?.types).toEqual(['Float32']);
  });
});

describe('fitting datasets together', () => {
  it('refuses a union of different columns, naming both', async () => {
    const err = await range(3)
      .union(fromItems([{ a: 1 }]) as never)
      .takeAll()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as Error).message).toMatch(
      /input \d has columns \((id:Int32|a:Float64)\) but input \d has \((a:Float64|id:Int32)\); union needs the same columns/,
    );
  });

  it('fromItems gives every block every column (missing values are null)', async () => {
    const rows = await fromItems([{ a: 1 }, { b: 'x' }], { numBlocks: 2 }).takeAll();
    expect(rows).toEqual([
      { a: 1, b: null },
      { a: null, b: 'x' },
    ]);
  });

  it('user errors keep the original error as cause; stats count exchange tasks', async () => {
    const err = (await range(3)
      .map(() => {
        throw new RangeError('deep');
      })
      .takeAll()
      .catch((e: unknown) => e)) as UserFunctionError;
    expect((err.cause as Error).message).toBe('deep');
    const ds = range(100, { numBlocks: 4 }).sort('id');
    await ds.count();
    expect(ds.stats()).toMatch(/sort\(id\): [1-9]\d* tasks/);
  });

  it('an actor pool that cannot fit says so up front', async () => {
    class Gpu {
      call(b: unknown): unknown {
        return b;
      }
    }
    await expect(
      range(3)
        .mapBatches(Gpu, { compute: { size: 1 }, numGpus: 1 })
        .count(),
    ).rejects.toThrow(/each actor of the pool asks for 1 GPU\(s\), but the cluster has 2 CPU\(s\) and 0 GPU\(s\)/);
  });
});
