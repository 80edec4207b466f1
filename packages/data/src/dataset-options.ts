/**
 * The options of Dataset's transformations and writes: per-row and per-batch maps (tasks or an
 * actor pool), joins, and what a write returns.
 */
import type { ActorClass, RemoteFunction } from '@ray-ts/core';
import type { BatchFormat, BatchOf } from './block.js';
import type { JoinHow } from './compute.js';

/** Options of per-row and per-batch transformations that run as tasks. */
export interface MapOptions {
  /** CPUs each task reserves (default 1). */
  numCpus?: number;
  /** GPUs each task (or actor) reserves (default 0). */
  numGpus?: number;
}

/** An actor pool for `mapBatches`: a fixed `size`, or autoscaling between `minSize` and `maxSize`. */
export type ActorPoolOptions = { size: number } | { minSize: number; maxSize: number };

/** Options of `Dataset.mapBatches()`. */
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

/** Options of `Dataset.join()`. */
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
