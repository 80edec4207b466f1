/**
 * The logical plans of Dataset's transformations: each function checks the user's arguments
 * (clear errors at the call, not deep in a task) and returns the node that extends `input`.
 * `Dataset` wraps the node in a new dataset; nothing runs until one is consumed.
 */
import { portable } from '@ray-ts/core';
import { checkFunction, fnName, positiveInt } from './args.js';
import type { BatchFormat, BatchOf } from './block.js';
import type { JoinHow } from './compute.js';
import { DataContext } from './context.js';
import type { BatchFn, JoinOptions, MapBatchesOptions, MapOptions } from './dataset-options.js';
import { DataInvalidArgumentError } from './errors.js';
import { Expr } from './expr.js';
import type { Compute, ExchangeOp, LogicalNode, StageResources } from './plan.js';
import type { Step } from './steps.js';

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

/** A map stage over `input` running `steps` (as tasks, by default, of 1 CPU). */
export function mapNode(
  input: LogicalNode,
  name: string,
  steps: Step[],
  compute: Compute = { kind: 'tasks' },
  resources: StageResources = { numCpus: 1, numGpus: 0 },
): LogicalNode {
  return { kind: 'map', name, input, steps, compute, resources };
}

/** `map(fn)` (one row out per row) or `flatMap(fn)` (zero or more). */
export function rowMapPlan(input: LogicalNode, kind: 'map' | 'flatMap', fn: unknown, options: MapOptions): LogicalNode {
  checkFunction(fn, `${kind}()`);
  const name = `${kind}(${fnName(fn)})`;
  return {
    ...mapNode(input, name, [{ kind, name, fn: portable(fn as never, `${kind}()`) }]),
    resources: resourcesOf(options, `${kind}()`),
  } as LogicalNode;
}

/** `filter(predicate)`: an {@link Expr} runs vectorized (and is pushed into Parquet reads). */
export function filterPlan(input: LogicalNode, predicate: unknown, options: MapOptions): LogicalNode {
  if (predicate instanceof Expr) {
    const name = `filter(${predicate.toString()})`;
    return mapNode(input, name, [{ kind: 'filterExpr', name, expr: predicate.node }]);
  }
  checkFunction(predicate, 'filter()');
  const name = `filter(${fnName(predicate)})`;
  return {
    ...mapNode(input, name, [{ kind: 'filterFn', name, fn: portable(predicate as never, 'filter()') }]),
    resources: resourcesOf(options, 'filter()'),
  } as LogicalNode;
}

/** `mapBatches(fn, options)`: batches to a function (tasks) or a class (an actor pool). */
export function mapBatchesPlan<F extends BatchFormat>(
  input: LogicalNode,
  fn: BatchFn<F>,
  options: MapBatchesOptions<F>,
): LogicalNode {
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
  return {
    ...mapNode(input, name, [step], compute),
    resources: resourcesOf(options, 'mapBatches()'),
  } as LogicalNode;
}

/** `addColumn(column, fn)`: `fn` returns one value per row of each batch. */
export function addColumnPlan<F extends BatchFormat>(
  input: LogicalNode,
  column: string,
  fn: (batch: BatchOf[F]) => ArrayLike<unknown> | Promise<ArrayLike<unknown>>,
  options: { batchFormat?: F },
): LogicalNode {
  checkFunction(fn, 'addColumn()');
  const name = `addColumn(${column})`;
  return mapNode(input, name, [
    {
      kind: 'addColumn',
      name,
      column,
      fn: portable(fn as never, 'addColumn()'),
      batchFormat: options.batchFormat ?? 'columns',
    },
  ]);
}

/** `selectColumns(columns)` or `dropColumns(columns)`. */
export function columnsPlan(
  input: LogicalNode,
  kind: 'select' | 'drop',
  columns: string | readonly string[],
): LogicalNode {
  const cols = typeof columns === 'string' ? [columns] : [...columns];
  const name = `${kind === 'select' ? 'selectColumns' : 'dropColumns'}(${cols.join(', ')})`;
  return mapNode(input, name, [{ kind, name, columns: cols }]);
}

/** `renameColumns({ old: 'new' })`. */
export function renamePlan(input: LogicalNode, mapping: Readonly<Record<string, string>>): LogicalNode {
  const name = `renameColumns(${Object.entries(mapping)
    .map(([a, b]) => `${a}->${b}`)
    .join(', ')})`;
  return mapNode(input, name, [{ kind: 'rename', name, mapping: { ...mapping } }]);
}

/** An all-to-all stage (repartition, shuffle, sort) over `input`. */
export function exchangePlan(input: LogicalNode, name: string, op: ExchangeOp): LogicalNode {
  return { kind: 'exchange', name, input, op };
}

/** `sort(key, { descending })`: a range-partitioned sort. */
export function sortPlan(
  input: LogicalNode,
  key: string | readonly string[],
  options: { descending?: boolean },
): LogicalNode {
  const keys = typeof key === 'string' ? [key] : [...key];
  if (keys.length === 0) throw new DataInvalidArgumentError('sort() needs at least one key column.');
  return exchangePlan(input, `sort(${keys.join(', ')}${options.descending ? ', descending' : ''})`, {
    kind: 'sort',
    keys,
    descending: !!options.descending,
  });
}

/** `left.join(right, options)`: a hash join on the key columns. */
export function joinPlan(left: LogicalNode, right: LogicalNode, options: JoinOptions): LogicalNode {
  const on = typeof options.on === 'string' ? [options.on] : [...(options.on ?? [])];
  if (on.length === 0) throw new DataInvalidArgumentError('join() needs `on`: the key column(s).');
  const how = options.how ?? 'inner';
  const hows: JoinHow[] = ['inner', 'left_outer', 'right_outer', 'full_outer', 'left_semi', 'left_anti'];
  if (!hows.includes(how))
    throw new DataInvalidArgumentError(`join(): how must be one of ${hows.join(', ')}; got '${how}'.`);
  return {
    kind: 'join',
    name: `join(${on.join(', ')}, ${how})`,
    inputs: [left, right],
    on,
    how,
    numPartitions:
      options.numPartitions === undefined ? undefined : positiveInt(options.numPartitions, 'join() numPartitions'),
    suffix: options.suffix ?? '_right',
  };
}
