// Parquet files as pyarrow and DuckDB write them (made by test/fixtures/parquet_interop.py in a venv
// from tools/pyarrow-venv.sh, which CI makes first): read, transformed row by row (the path that
// broke on dictionary columns), written back, and read again with pyarrow, which must see every
// value and type it wrote: dictionary-encoded strings (several row groups, one dictionary each),
// nulls in every type, int64 beyond 2^53, decimals, dates, timestamps with units and time zones,
// lists, structs, snappy/zstd/gzip.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { readParquet } from '@ray-ts/data';

const root = path.resolve(import.meta.dirname, '../../..');
const script = path.join(import.meta.dirname, 'fixtures', 'parquet_interop.py');
let python: string;
let dir: string;

type Read = { schema: [string, string][]; rows: Record<string, unknown>[] };
const pyRead = (p: string): Read =>
  JSON.parse(execFileSync(python, [script, 'read', p], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Read;

/**
 * The type pyarrow sees after ray-ts wrote a column of type `t`: the same, but strings and binary
 * come back as their view types and lists as large lists (Polars, which writes ray-ts's Parquet,
 * keeps those in the file's Arrow schema; the values and Parquet's own types are unchanged), and a
 * dictionary column as its values (blocks decode dictionaries: each row group has its own).
 */
function asWritten(t: string): string {
  return t
    .replace(/^dictionary<values=(\w+), .*>$/, '$1')
    .replace(/\blarge_string\b|\bstring\b/g, 'string_view')
    .replace(/\bbinary\b/g, 'binary_view')
    .replace(/^list</, 'large_list<');
}

beforeAll(() => {
  python = execFileSync('bash', [path.join(root, 'tools/pyarrow-venv.sh')], {
    encoding: 'utf8',
    timeout: 300_000,
  }).trim();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-parquet-interop-'));
  fs.mkdirSync(path.join(dir, 'in'));
  execFileSync(python, [script, 'write', path.join(dir, 'in')]);
  return init({ namespace: 'parquet-interop' });
}, 300_000);

afterAll(async () => {
  await shutdown();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Parquet from other tools', () => {
  for (const file of ['pyarrow-snappy', 'pyarrow-zstd', 'pyarrow-gzip', 'duckdb']) {
    it(`reads, maps and writes back ${file}.parquet with every value and type`, async () => {
      const input = path.join(dir, 'in', `${file}.parquet`);
      const out = path.join(dir, 'out', file);
      // A filter and a map with functions: rows go to JS and back.
      await readParquet(input)
        .filter(() => true)
        .map((r) => ({ ...r, added: 1 }))
        .writeParquet(out);
      const before = pyRead(input);
      const after = pyRead(out);
      const types = Object.fromEntries(after.schema);
      expect(after.rows.length).toBe(before.rows.length);
      for (const [name, type] of before.schema) {
        expect(types[name], name).toBe(asWritten(type));
        expect(
          after.rows.map((r) => r[name]),
          name,
        ).toEqual(before.rows.map((r) => r[name]));
      }
      expect(types.added).toBe('double');
    });
  }

  it('groups and sorts dictionary columns across files with different dictionaries', async () => {
    const ds = readParquet([
      path.join(dir, 'in', 'pyarrow-snappy.parquet'),
      path.join(dir, 'in', 'pyarrow-gzip.parquet'),
    ]);
    const rows = (await ds.groupby('color').count().sort('color').takeAll()) as {
      color: string | null;
      'count()': number;
    }[];
    // As the fixture made them: row i is null when i % 7 == 3, else red/green/blue by i % 3; twice.
    const expected = new Map<string | null, number>();
    for (let i = 0; i < 2500; i++) {
      const c = i % 7 === 3 ? null : ['red', 'green', 'blue'][i % 3];
      expected.set(c, (expected.get(c) ?? 0) + 2);
    }
    expect(new Map(rows.map((r) => [r.color, r['count()']]))).toEqual(expected);
    expect(rows.map((r) => r.color)).toEqual([null, 'blue', 'green', 'red']);
  });
});
