/**
 * @ray-ts/data: streaming distributed datasets on Arrow blocks, for data loading, transformation
 * and batch inference, as Ray Data is for Python. Datasets are lazy; consuming one streams its
 * blocks through tasks and actor pools of @ray-ts/core with backpressure under a memory budget.
 *
 * @example
 * import { init, shutdown } from '@ray-ts/core';
 * import { range } from '@ray-ts/data';
 * await init();
 * const ds = range(1_000_000).mapBatches((b) => ({ id: b.id, sq: Float64Array.from(b.id, (x) => x * x) }));
 * console.log(await ds.count(), await ds.take(2));
 * await shutdown();
 *
 * @packageDocumentation
 */
export { range, fromItems, fromArrow, readParquet, readCsv, readJson, readText, readBinaryFiles } from './read-api.js';
export type { ReadOptions, ReadParquetOptions, ReadCsvOptions } from './read-api.js';
export { Dataset, MaterializedDataset } from './dataset.js';
export { count, sum, min, max, mean, std } from './grouped.js';
export { GroupedData } from './dataset.js';
export type {
  MapOptions,
  MapBatchesOptions,
  ActorPoolOptions,
  BatchFn,
  JoinOptions,
  WriteResult,
} from './dataset-options.js';
export type { IterBatchesOptions } from './iterator.js';
export { DataIterator } from './iterator.js';
export { DataContext } from './context.js';
export { col, lit, Expr } from './expr.js';
export type { ExprNode } from './expr.js';
export type { BatchFormat, BatchOf, Columns, Row, SchemaInfo, BlockMeta } from './block.js';
export type { AggSpec, JoinHow } from './compute.js';
export type { ExecutionStats, OperatorStats } from './executor.js';
export { DataInvalidArgumentError, DatasourceError, UserFunctionError, SchemaError } from './errors.js';
