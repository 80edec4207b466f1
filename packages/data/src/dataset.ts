/**
 * `Dataset`: a lazy, immutable description of distributed data. Transformations return new
 * datasets; consuming one (take, count, iterBatches, write...) optimizes its plan and streams it
 * through the executor.
 */
import { resolve } from 'node:path';
import { get, portable, type ActorClass, type ObjectRef, type RemoteFunction } from '@ray-ts/core';
import type { Table } from 'apache-arrow';
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
import type { AggSpec, JoinHow } from './compute.js';
import { DataContext } from './context.js';
import { DataInvalidArgumentError } from './errors.js';
import { gatherCounts } from './exchange.js';
import { Executor, type ExecutionStats } from './executor.js';
import { Expr } from './expr.js';
import { DataIterator, iterBatchesOf, type IterBatchesOptions } from './iterator.js';
import {
  describe,
  optimize,
  type Bundle,
  type Compute,
  type ExchangeOp,
  type LogicalNode,
  type StageResources,
} from './plan.js';
import { checkFunction, fnName, positiveInt } from './args.js';
import { GroupedData } from './grouped.js';
import { countParquetRows } from './sources.js';
import { streamingSplitOf } from './split.js';
import type { Step } from './steps.js';

/** Options of per-row and per-batch transformations that run as tasks. */
export interface MapOptions {
  /** CPUs each task reserves (default 1). */
  numCpus?: number;
  /** GPUs each task (or actor) reserves (default 0). */
  numGpus?: number;
}

/** An actor pool for `mapBatches`: a fixed `size`, or autoscaling between `minSize` and `maxSize`. */
export type ActorPoolOptions = { size: number } | { minSize: number; maxSize: number };

/** Options of {@link Dataset.mapBatches}. */
export interface MapBatchesOptions<F extends BatchFormat = 'columns'> extends MapOptions {
  /** Rows per batch (default 1024; `null`: one batch per block). The last batch of a block may be smaller. */
  batchSize?: number | null;
  /** How batches are given to the function: `columns` (default: typed arrays by column), `arrow` (a Table) or `rows`. */
  batchFormat?: F;
  /** Run on a pool of actors (required for a class, which is constructed once per actor). */
  compute?: ActorPoolOptions;
  /** Ray's shorthand for an actor pool: `n` actors, or `[min, max]`. */
  concurrency?: number | readonly [number, number];
  /** Extra arguments after the batch. */
  fnArgs?: readonly unknown[];
  /** Arguments of the class's constructor. */
  fnConstructorArgs?: readonly unknown[];
  /** Calls queued at each actor at once (default 2). */
  maxTasksInFlightPerActor?: number;
}

/** A function over batches, or a class with a `call(batch)` method (stateful: set up once per actor). */
export type BatchFn<F extends BatchFormat> =
  | ((batch: BatchOf[F], ...args: never[]) => unknown)
  | (new (...args: never[]) => { call(batch: BatchOf[F], ...args: never[]): unknown })
  // A class or function wrapped with remote() at the top level of a module: loaded by reference.
  | ActorClass<new (...args: never[]) => { call(batch: BatchOf[F], ...args: never[]): unknown }>
  | RemoteFunction<(batch: BatchOf[F], ...args: never[]) => unknown>;

/** Options of {@link Dataset.iterBatches}. */
export type { IterBatchesOptions } from './iterator.js';

/** Options of {@link Dataset.join}. */
export interface JoinOptions {
  /** Key columns, present on both sides. */
  on: string | readonly string[];
  /** `inner` (default), `left_outer`, `right_outer`, `full_outer`, `left_semi`, `left_anti`. */
  how?: JoinHow;
  /** Partitions of the hash join (default: from the inputs' block counts). */
  numPartitions?: number;
  /** Suffix of right-side columns whose names clash (default `_right`). */
  suffix?: string;
}

/** Where writes go and what they return. */
export interface WriteResult {
  /** Files written, in order. */
  readonly paths: string[];
  readonly numRows: number;
}

let datasetCounter = 0;

function resourcesOf(o: MapOptions, op: string): StageResources {
  const numCpus = o.numCpus ?? 1;
  const numGpus = o.numGpus ?? 0;
  if (!(numCpus >= 0) || !(numGpus >= 0))
    throw new DataInvalidArgumentError(`${op}: numCpus and numGpus must be >= 0.`);
  return { numCpus, numGpus };
}

const OPTION_NAMES = new Set([
  'numCpus',
  'numGpus',
  'batchSize',
  'batchFormat',
  'compute',
  'concurrency',
  'fnArgs',
  'fnConstructorArgs',
  'maxTasksInFlightPerActor',
]);

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

  private mapNode(
    name: string,
    steps: Step[],
    compute: Compute = { kind: 'tasks' },
    resources: StageResources = { numCpus: 1, numGpus: 0 },
  ): LogicalNode {
    return { kind: 'map', name, input: this.plan, steps, compute, resources };
  }

  // ---------------------------------------------------------------- transformations

  /** Applies `fn` to each row; it returns the new row. */
  map<U extends Row>(
    fn: ((row: T) => U | Promise<U>) | RemoteFunction<(row: T) => U | Promise<U>>,
    options: MapOptions = {},
  ): Dataset<U> {
    checkFunction(fn, 'map()');
    const name = `map(${fnName(fn)})`;
    return this.with<U>({
      ...this.mapNode(name, [{ kind: 'map', name, fn: portable(fn as never, 'map()') }]),
      resources: resourcesOf(options, 'map()'),
    } as LogicalNode);
  }

  /** Applies `fn` to each row; it returns zero or more rows. */
  flatMap<U extends Row>(
    fn: ((row: T) => U[] | Promise<U[]>) | RemoteFunction<(row: T) => U[] | Promise<U[]>>,
    options: MapOptions = {},
  ): Dataset<U> {
    checkFunction(fn, 'flatMap()');
    const name = `flatMap(${fnName(fn)})`;
    return this.with<U>({
      ...this.mapNode(name, [{ kind: 'flatMap', name, fn: portable(fn as never, 'flatMap()') }]),
      resources: resourcesOf(options, 'flatMap()'),
    } as LogicalNode);
  }

  /**
   * Keeps the rows for which `predicate` is true. An {@link Expr} (`col('x').gt(1)`) runs
   * vectorized, and right after a Parquet read it is pushed into the read.
   */
  filter(
    predicate: ((row: T) => boolean | Promise<boolean>) | RemoteFunction<(row: T) => boolean | Promise<boolean>> | Expr,
    options: MapOptions = {},
  ): Dataset<T> {
    if (predicate instanceof Expr) {
      const name = `filter(${predicate.toString()})`;
      return this.with(this.mapNode(name, [{ kind: 'filterExpr', name, expr: predicate.node }]));
    }
    checkFunction(predicate, 'filter()');
    const name = `filter(${fnName(predicate)})`;
    return this.with({
      ...this.mapNode(name, [{ kind: 'filterFn', name, fn: portable(predicate as never, 'filter()') }]),
      resources: resourcesOf(options, 'filter()'),
    } as LogicalNode);
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
    for (const k of Object.keys(options)) {
      if (!OPTION_NAMES.has(k))
        throw new DataInvalidArgumentError(
          `mapBatches(): unknown option '${k}'. Known options: ${[...OPTION_NAMES].join(', ')}.`,
        );
    }
    checkFunction(fn, 'mapBatches()');
    // A class given directly, or one wrapped with remote() in a module (loaded by reference there).
    const fnP = portable(fn as never, 'mapBatches()');
    const cls = fnP.isClass;
    const ctx = DataContext.getCurrent();
    const batchSize =
      options.batchSize === undefined
        ? ctx.defaultBatchSize
        : options.batchSize === null
          ? null
          : positiveInt(options.batchSize, 'mapBatches() batchSize');
    const batchFormat = (options.batchFormat ?? 'columns') as BatchFormat;
    if (!['arrow', 'columns', 'rows'].includes(batchFormat)) {
      throw new DataInvalidArgumentError(
        `mapBatches(): batchFormat must be 'arrow', 'columns' or 'rows', got '${String(batchFormat)}'.`,
      );
    }
    let compute: Compute = { kind: 'tasks' };
    const pool =
      options.compute ??
      (options.concurrency !== undefined
        ? typeof options.concurrency === 'number'
          ? { size: options.concurrency }
          : { minSize: options.concurrency[0], maxSize: options.concurrency[1] }
        : undefined);
    if (pool) {
      const min = 'size' in pool ? pool.size : pool.minSize;
      const max = 'size' in pool ? pool.size : pool.maxSize;
      positiveInt(min, 'mapBatches() actor pool size');
      positiveInt(max, 'mapBatches() actor pool maxSize');
      if (max < min)
        throw new DataInvalidArgumentError(`mapBatches(): actor pool maxSize (${max}) is below minSize (${min}).`);
      compute = {
        kind: 'actors',
        minSize: min,
        maxSize: max,
        maxTasksInFlightPerActor: options.maxTasksInFlightPerActor ?? 2,
      };
    } else if (cls) {
      throw new DataInvalidArgumentError(
        `mapBatches(${fnP.name}): a class runs on an actor pool; give compute: { size: n } (or { minSize, maxSize }), or concurrency: n.`,
      );
    }
    const name = `mapBatches(${fnP.name && fnP.name !== '<anonymous>' ? fnP.name : fnName(fn)})`;
    const step: Step = {
      kind: 'mapBatches',
      name,
      fn: fnP,
      isClass: cls,
      fnArgs: [...(options.fnArgs ?? [])],
      fnConstructorArgs: [...(options.fnConstructorArgs ?? [])],
      batchSize,
      batchFormat,
    };
    return this.with({
      ...this.mapNode(name, [step], compute),
      resources: resourcesOf(options, 'mapBatches()'),
    } as LogicalNode);
  }

  /** Adds (or replaces) a column computed from each batch: `fn` returns one value per row. */
  addColumn<F extends BatchFormat = 'columns'>(
    column: string,
    fn: (batch: BatchOf[F]) => ArrayLike<unknown> | Promise<ArrayLike<unknown>>,
    options: { batchFormat?: F } = {},
  ): Dataset<Row> {
    checkFunction(fn, 'addColumn()');
    const name = `addColumn(${column})`;
    return this.with(
      this.mapNode(name, [
        {
          kind: 'addColumn',
          name,
          column,
          fn: portable(fn as never, 'addColumn()'),
          batchFormat: options.batchFormat ?? 'columns',
        },
      ]),
    );
  }

  /** Keeps only these columns, in this order (pushed into Parquet reads). */
  selectColumns(columns: string | readonly string[]): Dataset<Row> {
    const cols = typeof columns === 'string' ? [columns] : [...columns];
    return this.with(
      this.mapNode(`selectColumns(${cols.join(', ')})`, [
        { kind: 'select', name: `selectColumns(${cols.join(', ')})`, columns: cols },
      ]),
    );
  }

  /** Removes these columns. */
  dropColumns(columns: string | readonly string[]): Dataset<Row> {
    const cols = typeof columns === 'string' ? [columns] : [...columns];
    return this.with(
      this.mapNode(`dropColumns(${cols.join(', ')})`, [
        { kind: 'drop', name: `dropColumns(${cols.join(', ')})`, columns: cols },
      ]),
    );
  }

  /** Renames columns: `{ old: 'new' }`. */
  renameColumns(mapping: Readonly<Record<string, string>>): Dataset<Row> {
    const name = `renameColumns(${Object.entries(mapping)
      .map(([a, b]) => `${a}->${b}`)
      .join(', ')})`;
    return this.with(this.mapNode(name, [{ kind: 'rename', name, mapping: { ...mapping } }]));
  }

  /** The first `n` rows (in order); upstream work stops once they are produced. */
  limit(n: number): Dataset<T> {
    positiveInt(n, 'limit(n)', true);
    return this.with({ kind: 'limit', name: `limit(${n})`, input: this.plan, n });
  }

  /** Splits into `numBlocks` blocks of equal row counts (`shuffle`: rows spread at random). */
  repartition(numBlocks: number, options: { shuffle?: boolean } = {}): Dataset<T> {
    positiveInt(numBlocks, 'repartition(numBlocks)');
    return this.exchange(`repartition(${numBlocks})`, { kind: 'repartition', numBlocks, shuffle: !!options.shuffle });
  }

  /** All rows in a random order (a distributed shuffle). */
  randomShuffle(options: { seed?: number } = {}): Dataset<T> {
    return this.exchange('randomShuffle', { kind: 'randomShuffle', seed: options.seed });
  }

  /** Rows sorted by one or more columns (a distributed range-partitioned sort). */
  sort(key: string | readonly string[], options: { descending?: boolean } = {}): Dataset<T> {
    const keys = typeof key === 'string' ? [key] : [...key];
    if (keys.length === 0) throw new DataInvalidArgumentError('sort() needs at least one key column.');
    return this.exchange(`sort(${keys.join(', ')}${options.descending ? ', descending' : ''})`, {
      kind: 'sort',
      keys,
      descending: !!options.descending,
    });
  }

  private exchange(name: string, op: ExchangeOp): Dataset<T> {
    return this.with({ kind: 'exchange', name, input: this.plan, op });
  }

  /** Groups rows by key columns, for aggregations and `mapGroups`. `null` groups everything. */
  groupby(key: string | readonly string[] | null): GroupedData {
    const keys = key === null ? [] : typeof key === 'string' ? [key] : [...key];
    return new GroupedData(this.plan, keys);
  }

  /** Rows of both datasets whose keys match (a distributed hash join). */
  join(other: Dataset, options: JoinOptions): Dataset<Row> {
    const on = typeof options.on === 'string' ? [options.on] : [...(options.on ?? [])];
    if (on.length === 0) throw new DataInvalidArgumentError('join() needs `on`: the key column(s).');
    const how = options.how ?? 'inner';
    const hows: JoinHow[] = ['inner', 'left_outer', 'right_outer', 'full_outer', 'left_semi', 'left_anti'];
    if (!hows.includes(how))
      throw new DataInvalidArgumentError(`join(): how must be one of ${hows.join(', ')}; got '${how}'.`);
    return this.with({
      kind: 'join',
      name: `join(${on.join(', ')}, ${how})`,
      inputs: [this.plan, other.plan],
      on,
      how,
      numPartitions:
        options.numPartitions === undefined ? undefined : positiveInt(options.numPartitions, 'join() numPartitions'),
      suffix: options.suffix ?? '_right',
    });
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
    const ctx = DataContext.getCurrent();
    const env = { ctx, ...(await ctx.environment()) };
    const ex = new Executor(env);
    await ex.build(optimize(this.plan));
    try {
      yield* ex.run();
    } finally {
      this.lastStats = ex.stats();
    }
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
    const plan = optimize(this.plan);
    if (
      plan.kind === 'read' &&
      plan.steps.length === 0 &&
      plan.source.kind === 'files' &&
      plan.source.format === 'parquet' &&
      !plan.source.options.filter &&
      !plan.source.options.columns &&
      !plan.source.options.includePaths
    ) {
      return countParquetRows(plan.source);
    }
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
    const bundles = (m.plan as Extract<LogicalNode, { kind: 'blocks' }>).bundles;
    const total = bundles.reduce((s, b) => s + b.meta.numRows, 0);
    if (options.equal) {
      const each = Math.floor(total / n);
      const parts = await gatherCounts(
        bundles,
        Array.from({ length: n }, () => each),
      );
      return parts.map((p) => new MaterializedDataset<T>({ kind: 'blocks', name: 'split', bundles: [p] }));
    }
    // Whole blocks, dealt to keep row counts close.
    const out: Bundle[][] = Array.from({ length: n }, () => []);
    const rows = new Array<number>(n).fill(0);
    for (const b of bundles) {
      const i = rows.indexOf(Math.min(...rows));
      out[i].push(b);
      rows[i] += b.meta.numRows;
    }
    return out.map((bs) => new MaterializedDataset<T>({ kind: 'blocks', name: 'split', bundles: bs }));
  }

  /** Splits at row offsets: `[0, i0)`, `[i0, i1)`, ..., `[ik, end)`. */
  async splitAt(indices: readonly number[]): Promise<MaterializedDataset<T>[]> {
    const m = await this.materialize();
    const bundles = (m.plan as Extract<LogicalNode, { kind: 'blocks' }>).bundles;
    const total = bundles.reduce((s, b) => s + b.meta.numRows, 0);
    const cuts = [0, ...indices.map((i) => Math.min(Math.max(0, i), total)), total];
    const counts = cuts.slice(1).map((c, i) => Math.max(0, c - cuts[i]));
    const parts = await gatherCounts(bundles, counts);
    return parts.map(
      (p) => new MaterializedDataset<T>({ kind: 'blocks', name: 'split', bundles: p.meta.numRows ? [p] : [] }),
    );
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
    const s = this.lastStats;
    if (!s) return 'Dataset not executed yet.';
    const lines = [`Execution took ${(s.wallMs / 1000).toFixed(3)} s`];
    for (const o of s.operators) {
      lines.push(
        `  ${o.name}: ${o.tasks} tasks, ${o.blocksOut} blocks, ${o.rowsOut} rows, ${(o.bytesOut / 2 ** 20).toFixed(1)} MiB out` +
          (o.tasks ? `, ${(o.taskMs / Math.max(1, o.tasks)).toFixed(1)} ms/task` : '') +
          (o.actors ? `, ${o.actors} actors (peak ${o.peakActors})` : ''),
      );
    }
    return lines.join('\n');
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
    if (typeof dir !== 'string' || dir === '')
      throw new DataInvalidArgumentError(
        `write${format === 'json' ? 'Json' : format === 'csv' ? 'Csv' : 'Parquet'}() needs a directory path.`,
      );
    const abs = resolve(dir);
    const datasetId = `${Date.now().toString(36)}_${(datasetCounter++).toString(36)}`;
    const name = `write${format === 'json' ? 'Json' : format === 'csv' ? 'Csv' : 'Parquet'}(${dir})`;
    const plan = this.plan;
    // The write runs in the last map stage (a task or an actor of its pool), else in its own stage.
    const node: LogicalNode =
      plan.kind === 'map' && !plan.write
        ? { ...plan, name: `${plan.name}->${name}`, write: { format, dir: abs, datasetId } }
        : {
            kind: 'map',
            name,
            input: plan,
            steps: [],
            compute: { kind: 'tasks' },
            resources: { numCpus: 1, numGpus: 0 },
            write: { format, dir: abs, datasetId },
          };
    const ds = new Dataset(node);
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
    return (this.plan as Extract<LogicalNode, { kind: 'blocks' }>).bundles.length;
  }
  /** @internal The block refs (for libraries such as Train). */
  blockRefs(): ObjectRef<Uint8Array>[] {
    return (this.plan as Extract<LogicalNode, { kind: 'blocks' }>).bundles.map((b) => b.block);
  }
}
