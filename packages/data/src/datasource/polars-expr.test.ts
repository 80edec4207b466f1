import { Bool, Float64, Int32, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import pl from 'nodejs-polars';
import { describe, expect, it } from 'vitest';
import { DataInvalidArgumentError } from '../errors.js';
import { col, lit, type ExprNode } from '../expr.js';
import { dataFrameToBlocks } from './blocks.js';
import { filterIpc, toPolarsExpr } from './polars-expr.js';

const block = tableToIPC(
  new Table({
    k: vectorFromArray([1, 2, 3, 4], new Int32()),
    v: vectorFromArray([0.5, null, 2.5, 3.5], new Float64()),
    s: vectorFromArray(['a', 'b', null, 'd'], new Utf8()),
    b: vectorFromArray([true, false, true, null], new Bool()),
  }),
  'file',
);

function column(bytes: Uint8Array, name: string): unknown[] {
  return [...(tableFromIPC(bytes).getChild(name)?.toArray() ?? [])] as unknown[];
}

describe('toPolarsExpr', () => {
  it('builds the Polars expressions', () => {
    expect(String(toPolarsExpr(col('a').lt(10).and(col('b').ge(0.5)).node))).toBe(
      '[([(col("a")) < (10.0.cast(Int64))]) & ([(col("b")) >= (0.5)])]',
    );
    expect(String(toPolarsExpr(col('s').isIn(['x', 'y']).node))).toMatch(/col\("s"\)\.is_in/);
  });

  it('rejects isIn lists of mixed types', () => {
    expect(() => toPolarsExpr(col('k').isIn([1, 'a']).node)).toThrow(DataInvalidArgumentError);
  });
});

describe('filterIpc', () => {
  it('keeps the rows where the condition is true (null is false)', () => {
    expect(column(filterIpc(block, col('v').gt(1).node), 'k')).toEqual([3, 4]);
    expect(column(filterIpc(block, col('b').node), 'k')).toEqual([1, 3]);
    expect(column(filterIpc(block, col('s').eq('b').or(col('k').eq(4)).node), 's')).toEqual(['b', 'd']);
    expect(column(filterIpc(block, col('k').div(2).eq(lit(1.5)).node), 'k')).toEqual([3]);
    expect(column(filterIpc(block, col('s').isIn(['a', 'zz']).not().node), 'k')).toEqual([2, 4]);
    const none = filterIpc(block, col('k').gt(100).node);
    expect(tableFromIPC(none).numRows).toBe(0);
    expect(tableFromIPC(none).schema.fields.map((f) => f.name)).toEqual(['k', 'v', 's', 'b']);
  });

  it('names an unknown column and lists the available ones', () => {
    expect(() => filterIpc(block, col('kk').gt(1).node)).toThrow(
      new DataInvalidArgumentError(
        'filter((col(kk) > 1)): unknown column "kk". Available columns: "k", "v", "s", "b".',
      ),
    );
  });

  it('says when the expression cannot be evaluated', () => {
    expect(() => filterIpc(block, col('k').add(1).node)).toThrow(
      /^filter\(\(col\(k\) \+ 1\)\) cannot be evaluated: .*must be a boolean condition/,
    );
    expect(() => filterIpc(block, { op: 'nope' } as unknown as ExprNode)).toThrow(/Unknown expression op "nope"/);
  });

  it('returns the empty block as is', () => {
    const empty = new Uint8Array(0);
    expect(filterIpc(empty, col('x').gt(1).node)).toBe(empty);
  });
});

describe('dataFrameToBlocks', () => {
  it('never produces dictionary columns', () => {
    const df = pl.DataFrame({ c: pl.Series('c', ['a', 'b', 'a']).cast(pl.Categorical) });
    const [b] = dataFrameToBlocks(df);
    expect(String(tableFromIPC(b).schema.fields[0].type)).toBe('Utf8View');
    expect(column(b, 'c')).toEqual(['a', 'b', 'a']);
  });
});
