/**
 * `Dataset`: a lazy, immutable description of distributed data. Transformations return new
 * datasets; consuming one (take, count, iterBatches, write...) optimizes its plan and streams it
 * through the executor.
 */
import { get, portable, type ObjectRef, type RemoteFunction } from '@ray-ts/core';
import type { Table } from 'apache-arrow';
import { checkFunction, fnName, positiveInt } from './args.js';
import {
  concatTables,
  decodeBlock,
  schemaOf,
  toBatch,
  toRows,
  type BatchFormat,
  type BatchOf,
  type Row,
  type SchemaInfo,
} from './block.js';
import type { AggSpec } from './compute.js';
import {
  executePlan,
  formatStats,
  metadataRowCount,
  splitBlocks,
  splitBlocksAt,
  writePlan,
} from './dataset-execution.js';
import type { BatchFn, JoinOptions, MapBatchesOptions, MapOptions, WriteResult } from './dataset-options.js';
import {
  addColumnPlan,
  columnsPlan,
  exchangePlan,
  filterPlan,
  joinPlan,
  mapBatchesPlan,
  renamePlan,
  rowMapPlan,
  sortPlan,
} from './dataset-plans.js';
import { DataInvalidArgumentError } from './errors.js';
import type { ExecutionStats } from './executor.js';
import type { Expr } from './expr.js';
import { count, max, mean, min, std, sum } from './grouped.js';
import { DataIterator, iterBatchesOf, type IterBatchesOptions } from './iterator.js';
import { describe, optimize, type Bundle, type ExchangeOp, type LogicalNode } from './plan.js';
import { streamingSplitOf } from './split.js';
import type { Step } from './steps.js';

/**
 * A distributed dataset of rows, stored as Arrow blocks in the object store. Lazy: nothing runs
 * until it is consumed.
 *
 * @example
 * const ds = range(1000).map((r) => ({ id: r.id, sq: r.id * r.id })).filter((r) => r.sq % 2 === 0);
 * console.log(await ds.take(3)); // [{ id: 0, sq: 0 }, { id: 2, sq: 4 }, { id: 4, sq: 16 }]
 */
export class Dataset<T extends Row = Row> {
  private lastStats: ExecutionStats | undefined;

  /** @internal Use the read functions (`range`, `readParquet`...) to make datasets. */
  constructor(readonly plan: LogicalNode) {}

  private with<U extends Row = T>(plan: LogicalNode): Dataset<U> {
    return new Dataset<U>(plan);
  }

  // ---------------------------------------------------------------- transformations

  /** Applies `fn` to each row; it returns the new row. */
  map<U extends Row>(
    fn: ((row: T) => U | Promise<U>) | RemoteFunction<(row: T) => U | Promise<U>>,
    options: MapOptions = {},
  ): Dataset<U> {
    return this.with<U>(rowMapPlan(this.plan, 'map', fn, options));
  }

  /** Applies `fn` to each row; it returns zero or more rows. */
  flatMap<U extends Row>(
    fn: ((row: T) => U[] | Promise<U[]>) | RemoteFunction<(row: T) => U[] | Promise<U[]>>,
    options: MapOptions = {},
  ): Dataset<U> {
    return this.with<U>(rowMapPlan(this.plan, 'flatMap', fn, options));
  }

  /**
   * Keeps the rows for which `predicate` is true. An {@link Expr} (`col('x').gt(1)`) runs
   * vectorized, and right after a Parquet read it is pushed into the read.
   */
  filter(
    predicate: ((row: T) => boolean | Promise<boolean>) | RemoteFunction<(row: T) => boolean | Promise<boolean>> | Expr,
    options: MapOptions = {},
  ): Dataset<T> {
    return this.with(filterPlan(this.plan, predicate, options));
  }

  /**
   * Applies `fn` to batches of rows: vectorized work, and model inference with a class on an
   * actor pool (the class is constructed once per actor, e.g. to load a model).
   *
   * @example
   * ds.mapBatches((b) => ({ id: b.id, double: b.id.map((x) => x * 2) }), { batchSize: 4096 })
   * ds.mapBatches(Predictor, { compute: { size: 2 }, batchFormat: 'arrow' })
   */
  mapBatches<F extends BatchFormat = 'columns'>(fn: BatchFn<F>, options: MapBatchesOptions<F> = {}): Dataset<Row> {
    return this.with(mapBatchesPlan(this.plan, fn, options));
  }

  /** Adds (or replaces) a column computed from each batch: `fn` returns one value per row. */
  addColumn<F extends BatchFormat = 'columns'>(
    column: string,
    fn: (batch: BatchOf[F]) => ArrayLike<unknown> | Promise<ArrayLike<unknown>>,
    options: { batchFormat?: F } = {},
  ): Dataset<Row> {
    return this.with(addColumnPlan(this.plan, column, fn, options));
  }

  /** Keeps only these columns, in this order (pushed into Parquet reads). */
  selectColumns(columns: string | readonly string[]): Dataset<Row> {
    return this.with(columnsPlan(this.plan, 'select', columns));
  }

  /** Removes these columns. */
  dropColumns(columns: string | readonly string[]): Dataset<Row> {
    return this.with(columnsPlan(this.plan, 'drop', columns));
  }

  /** Renames columns: `{ old: 'new' }`. */
  renameColumns(mapping: Readonly<Record<string, string>>): Dataset<Row> {
    return this.with(renamePlan(this.plan, mapping));
  }

  /** The first `n` rows (in order); upstream work stops once they are produced. */
  limit(n: number): Dataset<T> {
    positiveInt(n, 'limit(n)', true);
    return this.with({ kind: 'limit', name: `limit(${n})`, input: this.plan, n });
  }

  /** Splits into `numBlocks` blocks of equal row counts (`shuffle`: rows spread at random). */
  repartition(numBlocks: number, options: { shuffle?: boolean } = {}): Dataset<T> {
    positiveInt(numBlocks, 'repartition(numBlocks)');
    const op: ExchangeOp = { kind: 'repartition', numBlocks, shuffle: !!options.shuffle };
    return this.with(exchangePlan(this.plan, `repartition(${numBlocks})`, op));
  }

  /** All rows in a random order (a distributed shuffle). */
  randomShuffle(options: { seed?: number } = {}): Dataset<T> {
    return this.with(exchangePlan(this.plan, 'randomShuffle', { kind: 'randomShuffle', seed: options.seed }));
  }

  /** Rows sorted by one or more columns (a distributed range-partitioned sort). */
  sort(key: string | readonly string[], options: { descending?: boolean } = {}): Dataset<T> {
    return this.with(sortPlan(this.plan, key, options));
  }

  /** Groups rows by key columns, for aggregations and `mapGroups`. `null` groups everything. */
  groupby(key: string | readonly string[] | null): GroupedData {
    const keys = key === null ? [] : typeof key === 'string' ? [key] : [...key];
    return new GroupedData(this.plan, keys);
  }

  /** Rows of both datasets whose keys match (a distributed hash join). */
  join(other: Dataset, options: JoinOptions): Dataset<Row> {
    return this.with(joinPlan(this.plan, other.plan, options));
  }

  /** This dataset's rows, then the others'. */
  union(...others: Dataset<T>[]): Dataset<T> {
    return this.with({
      kind: 'union',
      name: `union(${others.length + 1})`,
      inputs: [this.plan, ...others.map((o) => o.plan)],
    });
  }

  /** Columns of both datasets side by side (same row counts; clashing names get `_1`). */
  zip(other: Dataset): Dataset<Row> {
    return this.with({ kind: 'zip', name: 'zip', inputs: [this.plan, other.plan] });
  }

  // ---------------------------------------------------------------- execution

  /** The optimized plan, one operator per line. */
  explain(): string {
    return describe(optimize(this.plan));
  }

  /** @internal Streams the output blocks. */
  async *iterBundles(): AsyncGenerator<Bundle> {
    yield* executePlan(this.plan, (s) => {
      this.lastStats = s;
    });
  }

  private async tables(): Promise<Table[]> {
    const out: Table[] = [];
    for await (const b of this.iterBundles()) out.push(decodeBlock(await get(b.block)));
    return out;
  }

  /** Up to `n` rows (default 20). */
  async take(n = 20): Promise<T[]> {
    const rows: T[] = [];
    const limited = this.limit(n);
    for await (const b of limited.iterBundles()) {
      for (const r of toRows(decodeBlock(await get(b.block)))) rows.push(r as T);
    }
    this.lastStats = limited.lastStats;
    return rows.slice(0, n);
  }

  /** Every row. `limit`: fail (rather than run out of memory) when there are more. */
  async takeAll(limit?: number): Promise<T[]> {
    const rows: T[] = [];
    for await (const b of this.iterBundles()) {
      for (const r of toRows(decodeBlock(await get(b.block)))) rows.push(r as T);
      if (limit !== undefined && rows.length > limit) {
        throw new DataInvalidArgumentError(
          `takeAll(${limit}): the dataset has more than ${limit} rows. Use take(n), iterRows() or iterBatches() to go through it.`,
        );
      }
    }
    return rows;
  }

  /** The first `n` rows as one batch. */
  async takeBatch<F extends BatchFormat = 'columns'>(n = 20, options: { batchFormat?: F } = {}): Promise<BatchOf[F]> {
    const limited = this.limit(n);
    const t = concatTables(await limited.tables());
    this.lastStats = limited.lastStats;
    return toBatch(t, (options.batchFormat ?? 'columns') as F);
  }

  /** Number of rows. */
  async count(): Promise<number> {
    // A bare Parquet read is counted from the files' metadata, without reading the data.
    const fromMetadata = await metadataRowCount(this.plan);
    if (fromMetadata !== undefined) return fromMetadata;
    let n = 0;
    for await (const b of this.iterBundles()) n += b.meta.numRows;
    return n;
  }

  /** Column names and types. */
  async schema(): Promise<SchemaInfo | undefined> {
    // A look at the first block, not a run to report in stats().
    const prev = this.lastStats;
    try {
      for await (const b of this.iterBundles()) {
        const t = decodeBlock(await get(b.block));
        if (t.numCols > 0) return schemaOf(t);
      }
      return undefined;
    } finally {
      this.lastStats = prev;
    }
  }

  /** Column names. */
  async columns(): Promise<string[]> {
    return (await this.schema())?.names ?? [];
  }

  /** Prints the first `n` rows. */
  async show(n = 20): Promise<void> {
    for (const r of await this.take(n)) console.log(r);
  }

  /** Every row, streamed. */
  async *iterRows(): AsyncGenerator<T> {
    for await (const b of this.iterBundles()) {
      for (const r of toRows(decodeBlock(await get(b.block)))) yield r as T;
    }
  }

  /** Batches of rows, streamed, with blocks fetched ahead and an optional local shuffle. */
  iterBatches<F extends BatchFormat = 'columns'>(options: IterBatchesOptions<F> = {}): AsyncGenerator<BatchOf[F]> {
    return iterBatchesOf(() => this.iterBundles(), options);
  }

  /** All rows as one Arrow table. */
  async toArrow(): Promise<Table> {
    return concatTables(await this.tables());
  }

  /** Runs the dataset and keeps its blocks in the object store: consuming the result reruns nothing. */
  async materialize(): Promise<MaterializedDataset<T>> {
    const bundles: Bundle[] = [];
    for await (const b of this.iterBundles()) bundles.push(b);
    const ds = new MaterializedDataset<T>({ kind: 'blocks', name: 'materialized', bundles });
    ds.lastStatsFrom(this.lastStats);
    return ds;
  }

  /** @internal */
  lastStatsFrom(s: ExecutionStats | undefined): void {
    this.lastStats = s;
  }

  /** Splits into `n` materialized datasets (`equal`: same row counts, dropping up to n-1 rows). */
  async split(n: number, options: { equal?: boolean } = {}): Promise<MaterializedDataset<T>[]> {
    positiveInt(n, 'split(n)');
    const m = await this.materialize();
    const parts = await splitBlocks(blocksOf(m), n, !!options.equal);
    return parts.map((bundles) => new MaterializedDataset<T>({ kind: 'blocks', name: 'split', bundles }));
  }

  /** Splits at row offsets: `[0, i0)`, `[i0, i1)`, ..., `[ik, end)`. */
  async splitAt(indices: readonly number[]): Promise<MaterializedDataset<T>[]> {
    const m = await this.materialize();
    const parts = await splitBlocksAt(blocksOf(m), indices);
    return parts.map((bundles) => new MaterializedDataset<T>({ kind: 'blocks', name: 'split', bundles }));
  }

  /** A train and a test dataset: `testSize` is a fraction (0..1) or a row count. */
  async trainTestSplit(
    testSize: number,
    options: { shuffle?: boolean; seed?: number } = {},
  ): Promise<[MaterializedDataset<T>, MaterializedDataset<T>]> {
    if (!(testSize > 0))
      throw new DataInvalidArgumentError(
        `trainTestSplit(): testSize must be a fraction in (0, 1) or a positive row count, got ${testSize}.`,
      );
    const ds = options.shuffle ? this.randomShuffle({ seed: options.seed }) : this;
    const m = await ds.materialize();
    const total = await m.count();
    const test = testSize < 1 ? Math.round(total * testSize) : Math.floor(testSize);
    if (test > total)
      throw new DataInvalidArgumentError(`trainTestSplit(): testSize ${testSize} is more than the ${total} rows.`);
    const [train, testDs] = await m.splitAt([total - test]);
    return [train, testDs];
  }

  /**
   * `n` iterators that share one streaming execution (for `n` training workers). Each block goes
   * to one of them; `equal` gives each the same number of rows. Iterators can be passed to actors.
   */
  async streamingSplit(n: number, options: { equal?: boolean } = {}): Promise<DataIterator[]> {
    positiveInt(n, 'streamingSplit(n)');
    return streamingSplitOf(this.plan, n, !!options.equal);
  }

  /** Statistics of the last execution: per operator, tasks, blocks, rows, bytes and time. */
  stats(): string {
    return formatStats(this.lastStats);
  }

  /** @internal Statistics of the last execution, as data. */
  executionStats(): ExecutionStats | undefined {
    return this.lastStats;
  }

  // ---------------------------------------------------------------- global aggregates

  private async aggregateOne(spec: AggSpec): Promise<number | null> {
    const rows = await this.groupby(null).aggregate(spec).takeAll();
    const v = rows[0]?.[spec.alias];
    return v === undefined ? null : (v as number | null);
  }
  /** Sum of a column. */
  sum(on: string): Promise<number | null> {
    return this.aggregateOne({ fn: 'sum', on, alias: `sum(${on})` });
  }
  /** Smallest value of a column. */
  min(on: string): Promise<number | null> {
    return this.aggregateOne({ fn: 'min', on, alias: `min(${on})` });
  }
  /** Largest value of a column. */
  max(on: string): Promise<number | null> {
    return this.aggregateOne({ fn: 'max', on, alias: `max(${on})` });
  }
  /** Mean of a column. */
  mean(on: string): Promise<number | null> {
    return this.aggregateOne({ fn: 'mean', on, alias: `mean(${on})` });
  }
  /** Standard deviation of a column (`ddof` 1 by default). */
  std(on: string, ddof = 1): Promise<number | null> {
    return this.aggregateOne({ fn: 'std', on, alias: `std(${on})`, ddof });
  }

  /** The distinct values of a column, sorted. */
  async unique(column: string): Promise<unknown[]> {
    const rows = await this.groupby(column).count().takeAll();
    return rows.map((r) => r[column]);
  }

  // ---------------------------------------------------------------- writes

  private async write(format: 'parquet' | 'csv' | 'json', dir: string): Promise<WriteResult> {
    const ds = new Dataset(writePlan(this.plan, format, dir));
    const paths: string[] = [];
    let numRows = 0;
    for (const r of await ds.takeAll()) {
      paths.push(r.path as string);
      numRows += r.numRows as number;
    }
    this.lastStats = ds.lastStats;
    return { paths, numRows };
  }

  /** Writes one Parquet file per block into `dir` (created if missing). */
  writeParquet(dir: string): Promise<WriteResult> {
    return this.write('parquet', dir);
  }
  /** Writes one CSV file (with a header) per block into `dir`. */
  writeCsv(dir: string): Promise<WriteResult> {
    return this.write('csv', dir);
  }
  /** Writes one JSON-lines file per block into `dir`. */
  writeJson(dir: string): Promise<WriteResult> {
    return this.write('json', dir);
  }
}

/** A dataset whose blocks are already computed and held in the object store. */
export class MaterializedDataset<T extends Row = Row> extends Dataset<T> {
  /** Number of blocks. */
  numBlocks(): number {
    return blocksOf(this).length;
  }
  /** @internal The block refs (for libraries such as Train). */
  blockRefs(): ObjectRef<Uint8Array>[] {
    return blocksOf(this).map((b) => b.block);
  }
}

/** The blocks of a materialized dataset (its plan is a `blocks` node). */
function blocksOf(ds: Dataset): readonly Bundle[] {
  return (ds.plan as Extract<LogicalNode, { kind: 'blocks' }>).bundles;
}

/** Rows grouped by key columns: aggregate them, or map each group. */
export class GroupedData {
  /** @internal */
  constructor(
    private readonly plan: LogicalNode,
    private readonly keys: readonly string[],
  ) {}

  /** One row per group: the keys, then one column per aggregation (`count()`, `mean(x)`...). */
  aggregate(...aggs: AggSpec[]): Dataset<Row> {
    if (aggs.length === 0)
      throw new DataInvalidArgumentError('aggregate() needs at least one aggregation, e.g. count() or mean("x").');
    const name = `groupby(${this.keys.join(', ')}).aggregate(${aggs.map((a) => a.alias).join(', ')})`;
    return new Dataset({ kind: 'exchange', name, input: this.plan, op: { kind: 'aggregate', keys: this.keys, aggs } });
  }
  /** Rows per group, in a `count()` column. */
  count(): Dataset<Row> {
    return this.aggregate(count());
  }
  sum(on: string): Dataset<Row> {
    return this.aggregate(sum(on));
  }
  min(on: string): Dataset<Row> {
    return this.aggregate(min(on));
  }
  max(on: string): Dataset<Row> {
    return this.aggregate(max(on));
  }
  mean(on: string): Dataset<Row> {
    return this.aggregate(mean(on));
  }
  std(on: string, ddof = 1): Dataset<Row> {
    return this.aggregate(std(on, ddof));
  }

  /** Applies `fn` to each group (all its rows in one batch); it returns a batch. */
  mapGroups<F extends BatchFormat = 'columns'>(
    fn: (group: BatchOf[F]) => unknown,
    options: { batchFormat?: F } = {},
  ): Dataset<Row> {
    if (this.keys.length === 0)
      throw new DataInvalidArgumentError('mapGroups() needs a key: groupby(key).mapGroups(fn).');
    checkFunction(fn, 'mapGroups()');
    const name = `mapGroups(${fnName(fn)})`;
    const step: Step = {
      kind: 'mapBatches',
      name,
      fn: portable(fn as never, 'mapGroups()'),
      isClass: false,
      fnArgs: [],
      fnConstructorArgs: [],
      batchSize: null,
      batchFormat: (options.batchFormat ?? 'columns') as BatchFormat,
    };
    return new Dataset({
      kind: 'exchange',
      name: `groupby(${this.keys.join(', ')}).${name}`,
      input: this.plan,
      op: { kind: 'mapGroups', keys: this.keys, step },
    });
  }
}
