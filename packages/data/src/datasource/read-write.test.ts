import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Binary,
  Float64,
  Int64,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataInvalidArgumentError, DatasourceError } from '../errors.js';
import { col, type ExprNode } from '../expr.js';
import { readFile } from './read.js';
import { fileNameFor, writeBlock } from './write.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-datasource-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A block of `n` rows: id Int64, x Float64, name Utf8 (null every 5th row), category Int64. */
function sampleBlock(n = 10): Uint8Array {
  const table = new Table({
    id: vectorFromArray(
      Array.from({ length: n }, (_, i) => BigInt(i)),
      new Int64(),
    ),
    x: vectorFromArray(
      Array.from({ length: n }, (_, i) => i / 2),
      new Float64(),
    ),
    name: vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 5 === 4 ? null : `n${i}`)),
      new Utf8(),
    ),
    category: vectorFromArray(
      Array.from({ length: n }, (_, i) => BigInt(i % 3)),
      new Int64(),
    ),
  });
  return tableToIPC(table, 'file');
}

/** Rows of blocks, with bigint and typed values turned into plain numbers / arrays for comparisons. */
function rows(blocks: Uint8Array[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of blocks) {
    expect(b).toBeInstanceOf(Uint8Array);
    const t = tableFromIPC(b);
    for (let i = 0; i < t.numRows; i++) {
      const row: Record<string, unknown> = {};
      for (const f of t.schema.fields) {
        const v: unknown = (t.getChild(f.name) as Vector).get(i);
        row[f.name] = typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? [...v] : v;
      }
      out.push(row);
    }
  }
  return out;
}

function columnsOfBlock(block: Uint8Array): string[] {
  return tableFromIPC(block).schema.fields.map((f) => f.name);
}

describe('parquet', () => {
  it('round-trips a block and reads it back whole', async () => {
    const block = sampleBlock();
    const name = fileNameFor('parquet', 3, 'ds1');
    expect(name).toBe('ds1_000003.parquet');
    const { path: file, numRows } = await writeBlock('parquet', block, dir, name);
    expect(file).toBe(path.join(dir, name));
    expect(numRows).toBe(10);
    expect(fs.readdirSync(dir)).toEqual([name]); // no temporary file left behind
    const blocks = await readFile('parquet', file);
    expect(blocks).toHaveLength(1);
    expect(rows(blocks)).toEqual(rows([block]));
  });

  it('pushes projection and filter down into the scan', async () => {
    const { path: file } = await writeBlock('parquet', sampleBlock(30), dir, 'a.parquet');
    const blocks = await readFile('parquet', file, {
      columns: ['name', 'id'],
      filter: col('category').eq(1).and(col('x').gt(5)).and(col('name').isNotNull()).node,
    });
    expect(columnsOfBlock(blocks[0])).toEqual(['name', 'id']);
    expect(rows(blocks)).toEqual([
      { name: 'n13', id: 13 },
      { name: 'n16', id: 16 },
      { name: 'n22', id: 22 },
      { name: 'n25', id: 25 },
      { name: 'n28', id: 28 },
    ]);
  });

  it('evaluates every expression op', async () => {
    const { path: file } = await writeBlock('parquet', sampleBlock(10), dir, 'a.parquet');
    const ids = async (e: { node: ExprNode }) =>
      rows(await readFile('parquet', file, { columns: ['id'], filter: e.node })).map((r) => r.id);
    expect(await ids(col('id').ne(0).and(col('id').le(2)))).toEqual([1, 2]);
    expect(await ids(col('id').lt(2).or(col('id').ge(9)))).toEqual([0, 1, 9]);
    expect(await ids(col('id').add(1).mul(2).eq(8))).toEqual([3]);
    expect(await ids(col('id').sub(1).div(2).eq(1.5))).toEqual([4]);
    expect(await ids(col('name').isNull())).toEqual([4, 9]);
    expect(await ids(col('id').gt(7).not())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await ids(col('name').isIn(['n1', 'n3', 'zz']))).toEqual([1, 3]);
    expect(await ids(col('id').isIn([5, 6]))).toEqual([5, 6]);
    expect(await ids(col('x').eq(col('id').div(2)).and(col('id').lt(2)))).toEqual([0, 1]);
  });

  it('names the file, the missing column and the file columns', async () => {
    const { path: file } = await writeBlock('parquet', sampleBlock(), dir, 'a.parquet');
    const err = await readFile('parquet', file, { columns: ['id', 'nope'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as DatasourceError).path).toBe(file);
    expect((err as Error).message).toBe(
      `Column "nope" is not in parquet file ${file}. Its columns: "id", "x", "name", "category". Check the columns option.`,
    );
    await expect(readFile('parquet', file, { filter: col('zz').gt(1).node })).rejects.toThrow(
      /filter\(\(col\(zz\) > 1\)\) reads column "zz", which is not in parquet file .*a\.parquet/,
    );
  });

  it('reports a corrupt file with the format and the cause', async () => {
    const file = path.join(dir, 'bad.parquet');
    fs.writeFileSync(file, 'this is not parquet');
    const err = await readFile('parquet', file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as DatasourceError).path).toBe(file);
    expect((err as Error).message).toMatch(
      new RegExp(`^Could not read ${file} as parquet: .+\\. Check that the file is valid parquet\\.$`),
    );
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('says when the file does not exist', async () => {
    await expect(readFile('parquet', path.join(dir, 'missing.parquet'))).rejects.toThrow(
      /^No such file or directory: .*missing\.parquet/,
    );
  });

  it('round-trips binary columns and Utf8View strings', async () => {
    const table = new Table({
      bytes: vectorFromArray([new Uint8Array([0, 1, 255]), new Uint8Array([]), null], new Binary()),
      s: vectorFromArray(['a long string that does not fit inline in a view', 'short', null], new Utf8()),
    });
    const { path: first } = await writeBlock('parquet', tableToIPC(table, 'file'), dir, 'a.parquet');
    const polarsBlock = (await readFile('parquet', first))[0];
    const types = tableFromIPC(polarsBlock).schema.fields.map((f) => String(f.type));
    expect(types).toEqual(['BinaryView', 'Utf8View']);
    // Polars' own block (BinaryView/Utf8View) written and read again.
    const { path: second } = await writeBlock('parquet', polarsBlock, path.join(dir, 'out'), 'b.parquet');
    const expected = [
      { bytes: [0, 1, 255], s: 'a long string that does not fit inline in a view' },
      { bytes: [], s: 'short' },
      { bytes: null, s: null },
    ];
    expect(rows(await readFile('parquet', second))).toEqual(expected);
    expect(rows([polarsBlock])).toEqual(expected);
  });

  it('splits into blocks of at most targetRowsPerBlock rows', async () => {
    const { path: file } = await writeBlock('parquet', sampleBlock(25), dir, 'a.parquet');
    const blocks = await readFile('parquet', file, { targetRowsPerBlock: 10 });
    expect(blocks.map((b) => tableFromIPC(b).numRows)).toEqual([10, 10, 5]);
    expect(rows(blocks).map((r) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    for (const b of blocks) expect(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength).toBe(true);
    // An empty result is one block with the columns and no rows.
    const none = await readFile('parquet', file, { filter: col('id').lt(0).node, targetRowsPerBlock: 10 });
    expect(none).toHaveLength(1);
    expect(tableFromIPC(none[0]).numRows).toBe(0);
    expect(columnsOfBlock(none[0])).toEqual(['id', 'x', 'name', 'category']);
    await expect(readFile('parquet', file, { targetRowsPerBlock: 0 })).rejects.toBeInstanceOf(DataInvalidArgumentError);
  });

  it('adds a path column with includePaths', async () => {
    const { path: file } = await writeBlock('parquet', sampleBlock(3), dir, 'a.parquet');
    const blocks = await readFile('parquet', file, { includePaths: true, columns: ['id'] });
    expect(rows(blocks)).toEqual([0, 1, 2].map((id) => ({ id, path: file })));
    const all = await readFile('parquet', file, {
      includePaths: true,
      filter: col('path').eq(file).and(col('id').eq(1)).node,
    });
    expect(columnsOfBlock(all[0])).toEqual(['id', 'x', 'name', 'category', 'path']);
    expect(rows(all)).toHaveLength(1);
  });
});

describe('csv', () => {
  it('round-trips with header and inferred types, with projection and filter', async () => {
    const { path: file, numRows } = await writeBlock('csv', sampleBlock(10), dir, fileNameFor('csv', 0, 'ds'));
    expect(path.basename(file)).toBe('ds_000000.csv');
    expect(numRows).toBe(10);
    expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe('id,x,name,category');
    const all = await readFile('csv', file);
    expect(tableFromIPC(all[0]).schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:Int64',
      'x:Float64',
      'name:Utf8View',
      'category:Int64',
    ]);
    expect(rows(all)).toEqual(rows([sampleBlock(10)]));
    const some = await readFile('csv', file, {
      columns: ['name'],
      filter: col('category').eq(2).node,
      includePaths: true,
    });
    expect(rows(some)).toEqual([
      { name: 'n2', path: file },
      { name: 'n5', path: file },
      { name: 'n8', path: file },
    ]);
  });

  it('reads other delimiters and headerless files', async () => {
    const file = path.join(dir, 'data.tsv');
    fs.writeFileSync(file, '1\ta\n2\tb\n');
    expect(rows(await readFile('csv', file, { csv: { delimiter: '\t', hasHeader: false } }))).toEqual([
      { column_1: 1, column_2: 'a' },
      { column_1: 2, column_2: 'b' },
    ]);
  });

  it('reports a malformed file', async () => {
    const file = path.join(dir, 'bad.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n3,4,5,6\n');
    await expect(readFile('csv', file)).rejects.toThrow(new RegExp(`^Could not read ${file} as csv: `));
  });

  it('refuses to write binary columns', async () => {
    const block = tableToIPC(new Table({ b: vectorFromArray([new Uint8Array([1])], new Binary()) }), 'file');
    await expect(writeBlock('csv', block, dir, 'a.csv')).rejects.toThrow(
      /Cannot write column "b" to csv: it holds binary data/,
    );
    await expect(writeBlock('json', block, dir, 'a.json')).rejects.toBeInstanceOf(DatasourceError);
  });
});

describe('json lines', () => {
  it('round-trips, with projection and filter', async () => {
    const { path: file } = await writeBlock('json', sampleBlock(10), dir, fileNameFor('json', 12, 'ds'));
    expect(path.basename(file)).toBe('ds_000012.json');
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(JSON.parse(lines[4])).toEqual({ id: 4, x: 2, name: null, category: 1 });
    expect(rows(await readFile('json', file))).toEqual(rows([sampleBlock(10)]));
    const some = await readFile('json', file, {
      columns: ['id'],
      filter: col('x').ge(3.5).and(col('name').isNull()).node,
    });
    expect(rows(some)).toEqual([{ id: 9 }]);
  });

  it('reads a file whose name holds glob characters', async () => {
    const file = path.join(dir, 'a[1].jsonl');
    fs.writeFileSync(file, '{"a":1}\n{"a":2}\n');
    expect(rows(await readFile('json', file))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('reports a malformed file', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{"a":1}\n{"a": oops\n');
    const err = await readFile('json', file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as Error).message).toMatch(
      /as json: .*Check that the file is valid JSON lines \(one object per line\)\.$/,
    );
  });
});

describe('text and binary', () => {
  it('reads one row per line, dropping a trailing empty line', async () => {
    const file = path.join(dir, 'a.txt');
    fs.writeFileSync(file, 'first\r\n\nthird\n');
    expect(rows(await readFile('text', file))).toEqual([{ text: 'first' }, { text: '' }, { text: 'third' }]);
    expect(rows(await readFile('text', file, { includePaths: true, filter: col('text').ne('').node }))).toEqual([
      { text: 'first', path: file },
      { text: 'third', path: file },
    ]);
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    const blocks = await readFile('text', empty);
    expect(tableFromIPC(blocks[0]).numRows).toBe(0);
    expect(columnsOfBlock(blocks[0])).toEqual(['text']);
    expect(await readFile('text', file, { targetRowsPerBlock: 2 })).toHaveLength(2);
  });

  it('reads a whole file as one row of bytes and path', async () => {
    const file = path.join(dir, 'img.bin');
    fs.writeFileSync(file, Buffer.from([137, 80, 78, 71, 0, 255]));
    const blocks = await readFile('binary', file);
    expect(tableFromIPC(blocks[0]).schema.fields.map((f) => String(f.type))).toEqual(['BinaryView', 'Utf8View']);
    expect(rows(blocks)).toEqual([{ bytes: [137, 80, 78, 71, 0, 255], path: file }]);
    expect(rows(await readFile('binary', file, { columns: ['path'], includePaths: true }))).toEqual([{ path: file }]);
    // Binary blocks can be written to Parquet and read back.
    const { path: out } = await writeBlock('parquet', blocks[0], dir, 'out.parquet');
    expect(rows(await readFile('parquet', out))).toEqual([{ bytes: [137, 80, 78, 71, 0, 255], path: file }]);
  });
});

describe('writeBlock', () => {
  it('writes the empty block (no columns) as an empty file', async () => {
    const { path: file, numRows } = await writeBlock('parquet', new Uint8Array(0), dir, 'e.parquet');
    expect(numRows).toBe(0);
    const blocks = await readFile('parquet', file);
    expect(tableFromIPC(blocks[0]).numRows).toBe(0);
    await expect(readFile('parquet', file, { columns: [] })).rejects.toBeInstanceOf(DataInvalidArgumentError);
  });
});

describe('writeBlock errors', () => {
  it('creates missing directories and refuses a directory that is a file', async () => {
    const nested = path.join(dir, 'a', 'b');
    await writeBlock('parquet', sampleBlock(2), nested, 'x.parquet');
    expect(fs.existsSync(path.join(nested, 'x.parquet'))).toBe(true);
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, '');
    await expect(writeBlock('parquet', sampleBlock(2), file, 'x.parquet')).rejects.toThrow(
      `Cannot write into ${file}: it exists and is not a directory (a regular file?). Choose another output path or remove it.`,
    );
    await expect(writeBlock('parquet', sampleBlock(2), path.join(file, 'sub'), 'x.parquet')).rejects.toThrow(
      /^Cannot create output directory .*plain\/sub: ENOTDIR/,
    );
    await expect(writeBlock('parquet', sampleBlock(2), dir, '../x.parquet')).rejects.toBeInstanceOf(
      DataInvalidArgumentError,
    );
    await expect(
      writeBlock('parquet', tableToIPC(new Table({ a: vectorFromArray([1]) }), 'stream'), dir, 'x.parquet'),
    ).rejects.toThrow(/not the stream format/);
  });
});
