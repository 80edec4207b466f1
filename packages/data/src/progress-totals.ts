/**
 * The rows each operator is expected to output, for its progress bar's total: known from the
 * sources (a range's size, blocks' metadata, Parquet footers) through the steps that keep the row
 * count (map, addColumn, select, drop, rename, and exchanges that move rows without changing
 * them), and capped by a limit. A step that may change the count (a filter, flatMap, mapBatches,
 * an aggregation) makes it unknown: the bar then counts without a total.
 */
import { parquetRowCount } from './datasource/index.js';
import type { Bundle, ExchangeOp } from './plan.js';
import type { Step } from './steps.js';
import type { SourceSpec } from './tasks.js';

/** The expected rows of an operator, or undefined when they cannot be known up front. */
export type ExpectedRows = number | undefined;

const keepsRows: ReadonlySet<Step['kind']> = new Set(['map', 'addColumn', 'select', 'drop', 'rename']);

/** Rows out of `steps` given `rows` in. A limit caps it (and is the best guess when the rows in are unknown). */
export function rowsThroughSteps(rows: ExpectedRows, steps: readonly Step[]): ExpectedRows {
  let n = rows;
  for (const s of steps) {
    if (s.kind === 'limit') n = n === undefined ? s.n : Math.min(n, s.n);
    else if (!keepsRows.has(s.kind)) n = undefined;
  }
  return n;
}

/** Rows read by `sources`: ranges by their bounds, Parquet files by their footers (without a filter). */
export function sourceRows(sources: readonly SourceSpec[]): ExpectedRows {
  let n = 0;
  for (const s of sources) {
    if (s.kind === 'range') n += Math.max(0, s.end - s.start);
    else if (s.format !== 'parquet' || s.options.filter) return undefined;
    else if (s.options.rows) n += s.options.rows.length;
    else {
      try {
        n += parquetRowCount(s.path);
      } catch {
        // The read task reports an unreadable footer, with its path; the bar just goes without a total.
        return undefined;
      }
    }
  }
  return n;
}

/** Rows of blocks already made, from their metadata. */
export function bundleRows(bundles: readonly Bundle[]): number {
  return bundles.reduce((s, b) => s + b.meta.numRows, 0);
}

/** Rows out of an exchange: the same as in, unless it aggregates. */
export function rowsThroughExchange(rows: ExpectedRows, op: ExchangeOp): ExpectedRows {
  return op.kind === 'repartition' || op.kind === 'randomShuffle' || op.kind === 'sort' ? rows : undefined;
}

/** Sum of known counts; unknown if any is. */
export function sumRows(counts: readonly ExpectedRows[]): ExpectedRows {
  let n = 0;
  for (const c of counts) {
    if (c === undefined) return undefined;
    n += c;
  }
  return n;
}
