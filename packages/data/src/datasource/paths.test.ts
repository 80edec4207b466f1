import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataInvalidArgumentError, DatasourceError } from '../errors.js';
import { expandPaths, globSegmentToRegExp } from './paths.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-paths-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function touch(...rel: string[]): void {
  for (const r of rel) {
    const p = path.join(dir, r);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, 'x');
  }
}
const abs = (...rel: string[]) => rel.map((r) => path.join(dir, r));

describe('expandPaths', () => {
  it('keeps a file as is, whatever its extension', async () => {
    touch('a.txt');
    expect(await expandPaths(path.join(dir, 'a.txt'), { extensions: ['parquet'] })).toEqual(abs('a.txt'));
  });

  it('walks a directory recursively, skipping hidden files and keeping extensions', async () => {
    touch(
      'b.parquet',
      'a.PARQUET',
      'sub/c.parquet',
      'sub/deep/d.parquet',
      'notes.txt',
      '_SUCCESS',
      '.a.parquet.crc',
      '_tmp/e.parquet',
      '.hidden/f.parquet',
    );
    expect(await expandPaths(dir, { extensions: ['parquet'] })).toEqual(
      abs('a.PARQUET', 'b.parquet', 'sub/c.parquet', 'sub/deep/d.parquet'),
    );
    expect(await expandPaths(dir, { extensions: ['.txt'] })).toEqual(abs('notes.txt'));
    expect(await expandPaths(dir)).toHaveLength(5);
  });

  it('expands glob patterns: *, ?, [...], **', async () => {
    touch('x1.csv', 'x2.csv', 'y1.csv', 'x1.json', 'sub/x3.csv', 'sub/deeper/x4.csv', '_x5.csv', 'sub/_skip/x6.csv');
    expect(await expandPaths(path.join(dir, 'x*.csv'))).toEqual(abs('x1.csv', 'x2.csv'));
    expect(await expandPaths(path.join(dir, '?1.*'))).toEqual(abs('x1.csv', 'x1.json', 'y1.csv'));
    expect(await expandPaths(path.join(dir, '[xy]1.csv'))).toEqual(abs('x1.csv', 'y1.csv'));
    expect(await expandPaths(path.join(dir, '[!x]1.csv'))).toEqual(abs('y1.csv'));
    expect(await expandPaths(path.join(dir, '**', 'x*.csv'))).toEqual(
      abs('sub/deeper/x4.csv', 'sub/x3.csv', 'x1.csv', 'x2.csv'),
    );
    expect(await expandPaths(path.join(dir, 'sub', '**'))).toEqual(abs('sub/deeper/x4.csv', 'sub/x3.csv'));
    // Wildcards do not match hidden names, but a pattern that starts with '_' does.
    expect(await expandPaths(path.join(dir, '_*.csv'))).toEqual(abs('_x5.csv'));
  });

  it('walks directories a pattern matches, with the extension filter', async () => {
    touch('year=2020/a.parquet', 'year=2021/b.parquet', 'year=2021/c.txt', 'other/d.parquet');
    expect(await expandPaths(path.join(dir, 'year=*'), { extensions: ['parquet'] })).toEqual(
      abs('year=2020/a.parquet', 'year=2021/b.parquet'),
    );
  });

  it('resolves relative paths, deduplicates and sorts across entries', async () => {
    touch('b.csv', 'a.csv');
    const rel = path.relative(process.cwd(), path.join(dir, 'b.csv'));
    expect(await expandPaths([rel, path.join(dir, '*.csv'), dir])).toEqual(abs('a.csv', 'b.csv'));
  });

  it('takes an existing path with glob characters literally; accepts file:// URIs', async () => {
    touch('a[1].csv', 'a1.csv');
    expect(await expandPaths(path.join(dir, 'a[1].csv'))).toEqual(abs('a[1].csv'));
    expect(await expandPaths(`file://${path.join(dir, 'a1.csv')}`)).toEqual(abs('a1.csv'));
  });

  it('says when a path does not exist', async () => {
    const missing = path.join(dir, 'nope.parquet');
    const err = await expandPaths(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasourceError);
    expect((err as DatasourceError).path).toBe(missing);
    expect((err as Error).message).toBe(
      `No such file or directory: ${missing}. Check the path; relative paths resolve from ${process.cwd()}.`,
    );
  });

  it('says when a directory or pattern matches no file, and which extensions were looked for', async () => {
    touch('a.txt', '_b.parquet');
    await expect(expandPaths(dir, { extensions: ['parquet', 'pq'] })).rejects.toThrow(
      new RegExp(`Directory ${dir} contains no file ending with \\.parquet, \\.pq`),
    );
    await expect(expandPaths(path.join(dir, '*.csv'))).rejects.toThrow(/Pattern .*\*\.csv matched no file/);
    await expect(expandPaths(path.join(dir, '*'), { extensions: ['json'] })).rejects.toThrow(
      /matched no file ending with \.json/,
    );
    await expect(expandPaths(path.join(dir, 'missing', '*.csv'))).rejects.toBeInstanceOf(DatasourceError);
  });

  it('rejects remote URIs and empty input', async () => {
    await expect(expandPaths('s3://bucket/data/')).rejects.toThrow(
      /Only local paths are supported for now: cannot read s3:\/\/bucket\/data\//,
    );
    await expect(expandPaths([])).rejects.toBeInstanceOf(DataInvalidArgumentError);
  });
});

describe('globSegmentToRegExp', () => {
  it('converts wildcards and classes, escaping the rest', () => {
    expect(globSegmentToRegExp('*.csv').test('a.csv')).toBe(true);
    expect(globSegmentToRegExp('*.csv').test('acsv')).toBe(false);
    expect(globSegmentToRegExp('a?c').test('abc')).toBe(true);
    expect(globSegmentToRegExp('[a-c]x').test('bx')).toBe(true);
    expect(globSegmentToRegExp('[a-c]x').test('dx')).toBe(false);
    expect(globSegmentToRegExp('[^a]x').test('ax')).toBe(false);
    expect(globSegmentToRegExp('f(1)+[').test('f(1)+[')).toBe(true);
  });
});
