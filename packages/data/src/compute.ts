/**
 * Worker-side kernels on blocks: partitioning for the exchange (range, hash, random), and the
 * reduce side of sort, shuffle, aggregation and join. Heavy columnar work goes to Polars (native,
 * multi-threaded), reached through Arrow IPC bytes, which both sides read without parsing.
 */
import { SeededRng } from '@ray-ts/core';
import pl from 'nodejs-polars';
import { Table, makeVector, tableFromIPC } from 'apache-arrow';
import { DataInvalidArgumentError } from './errors.js';
import type { ExprNode } from './expr.js';
import { encodeBlock } from './block.js';
import { filterIpc } from './datasource/polars-expr.js';
import { numericColumns, randomPermutation, releaseScratch, scatter } from './kernels.js';

type DataFrame = pl.DataFrame;

/** Polars frame of a block. */
export function toDf(block: Uint8Array | Table): DataFrame {
  const bytes = block instanceof Table ? encodeBlock(block) : block;
  if (bytes.byteLength === 0) return pl.DataFrame({});
  return pl.readIPC(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Block bytes of a polars frame. */
export function fromDf(df: DataFrame): Uint8Array {
  if (df.width === 0) return new Uint8Array(0);
  const b = df.writeIPC();
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function dfToTable(df: DataFrame): Table {
  return df.width === 0 ? new Table() : tableFromIPC(fromDf(df));
}

/** Rows of a table that match an expression. */
export function filterTable(t: Table, expr: ExprNode): Table {
  const out = filterIpc(encodeBlock(t), expr);
  return out.byteLength === 0 ? new Table() : tableFromIPC(out);
}

/** Blocks one after another; columns that differ only in representation (Utf8/Utf8View) are unified. */
export function concatDfs(blocks: readonly Uint8Array[]): DataFrame {
  const dfs = blocks.filter((b) => b.byteLength > 0).map(toDf);
  if (dfs.length === 0) return pl.DataFrame({});
  if (dfs.length === 1) return dfs[0];
  const nonEmpty = dfs.filter((d) => d.height > 0);
  const use = nonEmpty.length ? nonEmpty : dfs.slice(0, 1);
  return use.length === 1 ? use[0] : pl.concat(use, { how: 'verticalRelaxed', rechunk: true });
}

// ------------------------------------------------------------------ partitioning (map side)

/** How rows are split into P partitions on the map side of an exchange. */
export type PartitionSpec =
  | {
      readonly kind: 'range';
      readonly key: string;
      readonly boundaries: readonly unknown[];
      readonly descending: boolean;
    }
  | { readonly kind: 'hash'; readonly keys: readonly string[]; readonly partitions: number }
  | { readonly kind: 'random'; readonly partitions: number; readonly seed: number }
  | { readonly kind: 'slices'; readonly bounds: readonly number[] };

export function numPartitions(spec: PartitionSpec): number {
  switch (spec.kind) {
    case 'range':
      return spec.boundaries.length + 1;
    case 'hash':
    case 'random':
      return spec.partitions;
    case 'slices':
      return spec.bounds.length - 1;
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = BigInt(a as number),
      y = BigInt(b as number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Index of the first boundary greater than v (values equal to a boundary go right of it). */
function bisectRight(bounds: readonly unknown[], v: unknown): number {
  let lo = 0,
    hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(bounds[mid], v) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function hashValue(v: unknown, h: number): number {
  if (v === null || v === undefined) return Math.imul(h ^ 0x9e37, 0x85ebca6b);
  if (typeof v === 'number') {
    const lo = v | 0;
    const hi = Math.floor(v / 4294967296) | 0;
    return Math.imul(
      Math.imul(h ^ lo, 0x85ebca6b) ^ hi ^ (Number.isInteger(v) ? 0 : Math.floor(v * 1e6) | 0),
      0xc2b2ae35,
    );
  }
  if (typeof v === 'bigint') return hashValue(Number(v), h);
  const s = String(v);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}

function columnOf(t: Table, name: string, op: string): ArrayLike<unknown> {
  const v = t.getChild(name);
  if (!v) {
    throw new DataInvalidArgumentError(
      `${op}: no column '${name}'; the columns are ${t.schema.fields.map((f) => `'${f.name}'`).join(', ')}.`,
    );
  }
  return v.nullCount === 0 ? (v.toArray() as ArrayLike<unknown>) : [...v];
}

/** Splits a block into partitions: returns one block per partition (empty ones keep the columns). */
export function partitionBlock(
  input: Uint8Array | Table,
  spec: PartitionSpec,
  op: string,
  encode: (t: Table) => Uint8Array = encodeBlock,
): Uint8Array[] {
  const P = numPartitions(spec);
  if (input instanceof Uint8Array && input.byteLength === 0) return Array.from({ length: P }, () => new Uint8Array(0));
  const t = input instanceof Table ? input : tableFromIPC(input);
  if (t.numCols === 0) return Array.from({ length: P }, () => new Uint8Array(0));
  const bytes = (): Uint8Array => (input instanceof Table ? encodeBlock(input) : input);
  const n = t.numRows;
  if (spec.kind === 'slices') {
    return Array.from({ length: P }, (_, i) => encodeBlock(t.slice(spec.bounds[i], spec.bounds[i + 1])));
  }
  if (n === 0) return Array.from({ length: P }, bytes);
  const pid = new Int32Array(n);
  if (spec.kind === 'range') {
    const keys = columnOf(t, spec.key, op);
    for (let i = 0; i < n; i++) {
      const p = bisectRight(spec.boundaries, keys[i]);
      pid[i] = spec.descending ? P - 1 - p : p;
    }
  } else if (spec.kind === 'hash') {
    const cols = spec.keys.map((k) => columnOf(t, k, op));
    for (let i = 0; i < n; i++) {
      let h = 0x811c9dc5;
      for (const c of cols) h = hashValue(c[i], h);
      pid[i] = ((h % P) + P) % P;
    }
  } else {
    const rng = new SeededRng(spec.seed);
    for (let i = 0; i < n; i++) pid[i] = rng.int(P);
  }
  if (P === 1) return [bytes()];
  const numeric = numericColumns(t);
  if (numeric) {
    const parts = scatter(numeric.names, numeric.cols, pid, P).map(encode);
    releaseScratch();
    return parts;
  }
  const df = toDf(bytes()).withColumn(pl.Series('__pid', pid));
  const out: Uint8Array[] = Array.from({ length: P }, () => new Uint8Array(0));
  const empty = df.head(0).drop('__pid');
  for (const part of df.partitionBy('__pid', true, true)) {
    const p = part.getColumn('__pid').get(0) as number;
    out[p] = fromDf(part.drop('__pid'));
  }
  for (let p = 0; p < P; p++) if (out[p].byteLength === 0) out[p] = fromDf(empty);
  return out;
}

/** Up to `k` values of `key` picked at random from a block (for sort boundaries). */
export function sampleKeys(block: Uint8Array, key: string, k: number, seed: number, op: string): unknown[] {
  if (block.byteLength === 0) return [];
  const t = tableFromIPC(block);
  const col = columnOf(t, key, op);
  const n = col.length;
  if (n <= k) return Array.from(col as ArrayLike<unknown>).filter((v) => v !== null && v !== undefined);
  const rng = new SeededRng(seed);
  const out: unknown[] = [];
  for (let i = 0; i < k; i++) {
    const v = col[rng.int(n)];
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

/** Boundaries splitting sorted samples into `p` ranges of about equal size. */
export function boundariesOf(samples: unknown[], p: number): unknown[] {
  const s = samples.slice().sort(compare);
  const out: unknown[] = [];
  for (let i = 1; i < p; i++) {
    if (s.length === 0) break;
    out.push(s[Math.min(s.length - 1, Math.floor((i * s.length) / p))]);
  }
  return out;
}

// ------------------------------------------------------------------ reduce side

/** Rows in a random order (seeded). */
export function shuffleDf(df: DataFrame, seed: number): DataFrame {
  const n = df.height;
  if (n < 2) return df;
  return df.select(pl.all().gather(pl.Series('__perm', randomPermutation(n, new SeededRng(seed)))));
}

export function sortDf(df: DataFrame, keys: readonly string[], descending: boolean): DataFrame {
  if (df.height < 2) return df;
  return df.sort({ by: keys as string[], descending, maintainOrder: false });
}

/** An aggregation, as `groupby().aggregate()` and `Dataset.sum()`... take it. */
export interface AggSpec {
  readonly fn: 'count' | 'sum' | 'mean' | 'min' | 'max' | 'std';
  /** The column (none for `count`). */
  readonly on?: string;
  /** Output column name, e.g. `mean(x)`. */
  readonly alias: string;
  /** Delta degrees of freedom of `std` (default 1). */
  readonly ddof?: number;
}

function checkAggColumns(df: DataFrame, keys: readonly string[], aggs: readonly AggSpec[], op: string): void {
  const have = new Set(df.columns);
  for (const c of [...keys, ...aggs.flatMap((a) => (a.on ? [a.on] : []))]) {
    if (!have.has(c))
      throw new DataInvalidArgumentError(
        `${op}: no column '${c}'; the columns are ${df.columns.map((x) => `'${x}'`).join(', ')}.`,
      );
  }
}

/** Map-side partial aggregates of one block (combinable by {@link finishAggregate}). */
export function partialAggregate(
  df: DataFrame,
  keys: readonly string[],
  aggs: readonly AggSpec[],
  op: string,
): DataFrame {
  if (df.width === 0) return df;
  checkAggColumns(df, keys, aggs, op);
  const exprs: pl.Expr[] = [];
  aggs.forEach((a, i) => {
    const c = a.on ? pl.col(a.on).cast(pl.Float64) : undefined;
    switch (a.fn) {
      case 'count':
        exprs.push(
          a.on ? pl.col(a.on).count().cast(pl.Float64).alias(`__c${i}`) : pl.len().cast(pl.Float64).alias(`__c${i}`),
        );
        break;
      case 'sum':
        exprs.push(c!.sum().alias(`__s${i}`));
        break;
      case 'min':
        exprs.push(pl.col(a.on!).min().alias(`__m${i}`));
        break;
      case 'max':
        exprs.push(pl.col(a.on!).max().alias(`__M${i}`));
        break;
      case 'mean':
        exprs.push(c!.sum().alias(`__s${i}`), pl.col(a.on!).count().cast(pl.Float64).alias(`__n${i}`));
        break;
      case 'std':
        exprs.push(
          c!.sum().alias(`__s${i}`),
          pl.col(a.on!).count().cast(pl.Float64).alias(`__n${i}`),
          c!.pow(2).sum().alias(`__q${i}`),
        );
        break;
    }
  });
  return keys.length ? df.groupBy(keys as string[]).agg(...exprs) : df.select(...exprs);
}

/** Combines partial aggregates into final ones, sorted by the keys. */
export function finishAggregate(partials: DataFrame, keys: readonly string[], aggs: readonly AggSpec[]): DataFrame {
  if (partials.width === 0) return partials;
  const sums: pl.Expr[] = [];
  for (const c of partials.columns) {
    if (!c.startsWith('__')) continue;
    const k = c[2];
    sums.push(k === 'm' ? pl.col(c).min().alias(c) : k === 'M' ? pl.col(c).max().alias(c) : pl.col(c).sum().alias(c));
  }
  const combined = keys.length ? partials.groupBy(keys as string[]).agg(...sums) : partials.select(...sums);
  const finals: pl.Expr[] = keys.map((k) => pl.col(k));
  aggs.forEach((a, i) => {
    switch (a.fn) {
      case 'count':
        finals.push(pl.col(`__c${i}`).cast(pl.UInt32).alias(a.alias));
        break;
      case 'sum':
        finals.push(pl.col(`__s${i}`).alias(a.alias));
        break;
      case 'min':
        finals.push(pl.col(`__m${i}`).alias(a.alias));
        break;
      case 'max':
        finals.push(pl.col(`__M${i}`).alias(a.alias));
        break;
      case 'mean':
        finals.push(
          pl
            .col(`__s${i}`)
            .divideBy(pl.col(`__n${i}`))
            .alias(a.alias),
        );
        break;
      case 'std': {
        const n = pl.col(`__n${i}`),
          s = pl.col(`__s${i}`),
          q = pl.col(`__q${i}`);
        const ddof = a.ddof ?? 1;
        finals.push(
          q
            .minus(s.multiplyBy(s).divideBy(n))
            .divideBy(n.minus(ddof))
            .clip(0, Number.MAX_VALUE)
            .pow(0.5)
            .alias(a.alias),
        );
        break;
      }
    }
  });
  const out = combined.select(...finals);
  return keys.length ? out.sort({ by: keys as string[] }) : out;
}

/** How two datasets are joined (Ray's names). */
export type JoinHow = 'inner' | 'left_outer' | 'right_outer' | 'full_outer' | 'left_semi' | 'left_anti';

export function joinDfs(
  left: DataFrame,
  right: DataFrame,
  on: readonly string[],
  how: JoinHow,
  suffix: string,
): DataFrame {
  const cols = on as string[];
  switch (how) {
    case 'inner':
      return left.join(right, { on: cols, how: 'inner', suffix });
    case 'left_outer':
      return left.join(right, { on: cols, how: 'left', suffix });
    case 'right_outer':
      return right.join(left, { on: cols, how: 'left', suffix });
    case 'full_outer':
      return left.join(right, { on: cols, how: 'full', suffix, coalesce: true });
    case 'left_semi':
      return left.join(right, { on: cols, how: 'semi' });
    case 'left_anti':
      return left.join(right, { on: cols, how: 'anti' });
  }
}

/** A frame as a table: numeric columns without nulls go over as typed arrays (one copy), others through IPC. */
export function frameToTable(df: DataFrame): Table {
  return numericFrameToTable(df) ?? dfToTable(df);
}

/** A frame of numeric columns without nulls as a table of typed arrays; undefined for other frames. */
export function numericFrameToTable(df: DataFrame): Table | undefined {
  const cols = df.getColumns();
  try {
    if (
      cols.length === 0 ||
      !cols.every(
        (c) =>
          /^(Int|UInt|Float)(8|16|32|64)$/.test(String((c.dtype as { variant?: string }).variant)) &&
          c.nullCount() === 0,
      )
    )
      return undefined;
  } catch {
    return undefined; // dtypes JS cannot show (Binary) are not numeric
  }
  const vs: Record<string, ReturnType<typeof makeVector>> = {};
  for (const c of cols) vs[c.name] = makeVector(c.toTypedArray() as Float64Array);
  return new Table(vs);
}
