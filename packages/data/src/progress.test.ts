import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Int64, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { describe, expect, it, onTestFinished } from 'vitest';
import { writeBlock } from './datasource/write.js';
import { col } from './expr.js';
import { formatEta, ProgressBars, type BarOperator } from './progress.js';
import { rowsThroughExchange, rowsThroughSteps, sourceRows, sumRows } from './progress-totals.js';
import type { Step } from './steps.js';

/** A fake terminal: what the bars drew, and a clock the test moves. */
function terminal() {
  const writes: string[] = [];
  const clock = { ms: 0 };
  const stream = { isTTY: true, columns: 160, write: (t: string, cb?: () => void) => (writes.push(t), cb?.(), true) };
  return { writes, clock, stream, now: () => clock.ms };
}

/** The last line drawn for `name` (the bars redraw in place). */
function lastLineOf(writes: string[], name: string): string {
  const lines = writes
    .join('')
    .split(/\r|\n|\x1b\[[0-9;]*[A-Za-z]/)
    .filter((l) => l.startsWith(name));
  return lines.at(-1)!.trimEnd();
}

describe("Data's progress bars", () => {
  it('show rows out of the rows expected, the rate and the ETA when the total is known', () => {
    const t = terminal();
    const read: BarOperator = { name: 'ReadRange->Map', expectedRows: 1000 };
    const filter: BarOperator = { name: 'Filter', expectedRows: undefined };
    const bars = new ProgressBars([read, filter], { stream: t.stream, now: t.now });
    t.clock.ms = 2_000;
    bars.update(read, 500);
    bars.update(filter, 200);
    bars.stop();
    expect(lastLineOf(t.writes, 'ReadRange->Map')).toMatch(
      /^ReadRange->Map +\|[█░]+\| 500\/1000 rows \| 250 rows\/s \| ETA 2s$/,
    );
    expect(lastLineOf(t.writes, 'Filter')).toMatch(/^Filter +\| 200 rows \| 100 rows\/s$/);
  });

  it('end at what an operator output, and raise a total that was too low', () => {
    const t = terminal();
    const limited: BarOperator = { name: 'ReadRange', expectedRows: 1000 };
    const low: BarOperator = { name: 'Limit', expectedRows: 10 };
    const bars = new ProgressBars([limited, low], { stream: t.stream, now: t.now });
    t.clock.ms = 1_000;
    bars.update(low, 12);
    bars.finish(limited, 40);
    bars.stop();
    expect(lastLineOf(t.writes, 'ReadRange')).toMatch(/\| 40\/40 rows \| 40 rows\/s \| ETA 0s$/);
    expect(lastLineOf(t.writes, 'Limit')).toMatch(/\| 12\/12 rows \|/);
  });

  it('formats the time left', () => {
    expect([formatEta(12.4), formatEta(185), formatEta(3720), formatEta(NaN)]).toEqual(['12s', '3m05s', '1h02m', '?']);
  });
});

describe('expected rows', () => {
  const map: Step = { kind: 'map', name: 'Map', fn: undefined as never };
  const filter: Step = { kind: 'filterExpr', name: 'Filter', expr: col('x').gt(1).node };
  const limit = (n: number): Step => ({ kind: 'limit', name: `limit(${n})`, n });

  it('go through steps that keep the row count, are capped by a limit, and are lost at a filter', () => {
    expect(rowsThroughSteps(100, [map])).toBe(100);
    expect(rowsThroughSteps(100, [map, limit(10)])).toBe(10);
    expect(rowsThroughSteps(5, [limit(10)])).toBe(5);
    expect(rowsThroughSteps(100, [filter])).toBeUndefined();
    expect(rowsThroughSteps(100, [filter, limit(10)])).toBe(10);
    expect(rowsThroughExchange(100, { kind: 'sort', keys: ['x'], descending: false })).toBe(100);
    expect(rowsThroughExchange(100, { kind: 'aggregate', keys: ['x'], aggs: [] })).toBeUndefined();
    expect(sumRows([1, 2])).toBe(3);
    expect(sumRows([1, undefined])).toBeUndefined();
  });

  it("come from a range's bounds and Parquet footers, not from other formats or filtered reads", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-progress-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const block = tableToIPC(
      new Table({
        id: vectorFromArray(
          Array.from({ length: 7 }, (_, i) => BigInt(i)),
          new Int64(),
        ),
      }),
      'file',
    );
    const { path: file } = await writeBlock('parquet', block, dir, 'seven.parquet');
    const range = { kind: 'range', start: 0, end: 50, float: false } as const;
    const parquet = { kind: 'file', format: 'parquet', path: file, options: {} } as const;
    expect(sourceRows([range, parquet])).toBe(57);
    expect(sourceRows([{ ...parquet, options: { rows: { offset: 2, length: 3 } } }])).toBe(3);
    expect(sourceRows([{ ...parquet, options: { filter: col('id').gt(1).node } }])).toBeUndefined();
    expect(sourceRows([{ ...parquet, format: 'csv' }])).toBeUndefined();
  });
});
