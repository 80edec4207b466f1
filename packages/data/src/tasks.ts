/**
 * The remote functions and the actor class Data runs. They are registered at the top level of this
 * module, in a fixed order, so a worker that imports it finds each by position (core's rule for
 * library code).
 */
import { put, remote, SeededRng } from '@ray-ts/core';
import { Table, Utf8, makeVector, vectorFromArray, type Vector } from 'apache-arrow';
import { concatTables, decodeBlock, encodeBlock, metaOf, type BlockMeta } from './block.js';
import {
  concatDfs,
  finishAggregate,
  fromDf,
  joinDfs,
  partialAggregate,
  partitionBlock,
  sampleKeys,
  shuffleDf,
  sortDf,
  toDf,
  dfToTable,
  frameToTable,
  numericFrameToTable,
  type AggSpec,
  type JoinHow,
  type PartitionSpec,
} from './compute.js';
import { readFrame, writeBlock, type ReadFileOptions } from './datasource/index.js';
import {
  concatNumeric,
  encodeInto,
  outputArena,
  releaseScratch,
  shuffleColumns,
  sortNumeric,
  tableOf,
} from './kernels.js';
import { DataInvalidArgumentError } from './errors.js';
import { constructInstances, runSteps, type Instances, type Step } from './steps.js';

/** Where a stage's input comes from when it is not a block. */
export type SourceSpec =
  | { readonly kind: 'range'; readonly start: number; readonly end: number; readonly float: boolean }
  | {
      readonly kind: 'file';
      readonly format: 'parquet' | 'csv' | 'json' | 'text' | 'binary';
      readonly path: string;
      readonly options: ReadFileOptions;
    };

/** What a write stage does with each block after the steps. */
export interface WriteSpec {
  readonly format: 'parquet' | 'csv' | 'json';
  readonly dir: string;
  readonly fileName: string;
}

/** A stage's result: the block and its metadata (two objects, so the driver reads only the small one). */
export type StageResult = [Uint8Array, BlockMeta];

function rangeTable(s: Extract<SourceSpec, { kind: 'range' }>): Table {
  const n = Math.max(0, s.end - s.start);
  const ids = s.float ? new Float64Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = s.start + i;
  return new Table({ id: makeVector(ids) });
}

async function inputTable(block: Uint8Array | null, source: SourceSpec | null): Promise<Table> {
  if (!source) return decodeBlock(block);
  if (source.kind === 'range') return rangeTable(source);
  // Numeric columns come over as typed arrays (one copy); other frames through IPC.
  return frameToTable(await readFrame(source.format, source.path, source.options));
}

/** Block bytes of a table: in the output arena for tasks, in a buffer of their own for actors. */
function encodeOut(t: Table, arena: boolean): Uint8Array {
  return arena ? encodeInto(t, (n) => outputArena.alloc(n)) : encodeBlock(t);
}

async function stage(
  block: Uint8Array | null,
  source: SourceSpec | null,
  steps: readonly Step[],
  write: WriteSpec | null,
  instances: Instances | undefined,
  arena: boolean,
): Promise<StageResult> {
  if (steps.length === 0 && !write && source?.kind === 'file') {
    // A plain read. Numeric columns come over as typed arrays (cheap after the first read) and are
    // encoded into reused memory; other frames' IPC bytes are the block as they are.
    const df = await readFrame(source.format, source.path, source.options);
    const t = numericFrameToTable(df);
    if (t) {
      const bytes = encodeOut(t, arena);
      return [bytes, metaOf(t, bytes)];
    }
    const bytes = fromDf(df);
    return [bytes, metaOf(decodeBlock(bytes), bytes)];
  }
  const t = await runSteps(await inputTable(block, source), steps, instances);
  const bytes = encodeOut(t, arena);
  if (write) {
    // No file for an empty block (a filter that kept nothing, a group-less partition).
    if (t.numRows === 0) return [new Uint8Array(0), { numRows: 0, sizeBytes: 0 }];
    const w = await writeBlock(write.format, bytes, write.dir, write.fileName);
    // A write stage's output is one row per file written: its path and rows.
    const summary = new Table({
      path: vectorFromArray([w.path], new Utf8()),
      numRows: makeVector(new Float64Array([w.numRows])),
    });
    const out = encodeBlock(summary);
    return [out, metaOf(summary, out)];
  }
  return [bytes, metaOf(t, bytes)];
}

/** Reads or takes one block and runs the fused steps over it (and writes it, for a write stage). */
export const stageTask = remote(
  async function dataStage(
    block: Uint8Array | null,
    source: SourceSpec | null,
    steps: Step[],
    write: WriteSpec | null,
  ): Promise<StageResult> {
    outputArena.reset();
    return stage(block, source, steps, write, undefined, true);
  },
  { numReturns: 2 },
);

/** An actor of a `mapBatches` actor pool: builds the user's class once, then runs blocks through it. */
class DataMapWorkerClass {
  private readonly instances: Instances = new Map();
  private readonly ready: Promise<void>;
  constructor(private readonly steps: Step[]) {
    this.ready = constructInstances(steps, this.instances);
    this.ready.catch(() => undefined);
  }
  async ready_(): Promise<boolean> {
    await this.ready;
    return true;
  }
  async process(block: Uint8Array | null, source: SourceSpec | null, write: WriteSpec | null): Promise<StageResult> {
    await this.ready;
    return stage(block, source, this.steps, write, this.instances, false);
  }
}
export const MapWorker = remote(DataMapWorkerClass);

/** An instance of {@link MapWorker}. */
export type MapWorkerInstance = InstanceType<typeof DataMapWorkerClass>;

/** Up to k random values of `key` in a block (sort boundaries are cut from these). */
export const sampleTask = remote(async function dataSample(
  block: Uint8Array,
  key: string,
  k: number,
  seed: number,
  op: string,
): Promise<unknown[]> {
  return sampleKeys(block, key, k, seed, op);
});

/** What a map task does to its block before partitioning it. */
export type PreSpec = {
  readonly kind: 'aggregate';
  readonly keys: readonly string[];
  readonly aggs: readonly AggSpec[];
  readonly op: string;
};

/**
 * Map side of an exchange: splits a block into partitions. Returns the rows per partition, then one
 * block per partition (call with `numReturns: partitions + 1`).
 */
export const partitionTask = remote(async function dataPartition(
  block: Uint8Array | null,
  pre: PreSpec | null,
  spec: PartitionSpec,
  op: string,
  source: SourceSpec | null = null,
  steps: Step[] = [],
): Promise<unknown[]> {
  outputArena.reset();
  let input: Uint8Array | Table;
  if (source) {
    // The read runs here, fused with the map side of the exchange (no block stored in between).
    input =
      source.kind === 'file' && steps.length === 0
        ? frameToTable(await readFrame(source.format, source.path, source.options))
        : await runSteps(await inputTable(null, source), steps);
  } else input = block ?? new Uint8Array(0);
  if (pre) {
    const bytes = input instanceof Table ? encodeBlock(input) : input;
    if (bytes.byteLength > 0) input = fromDf(partialAggregate(toDf(bytes), pre.keys, pre.aggs, pre.op));
  }
  const parts = partitionBlock(input, spec, op, (t) => encodeInto(t, (n) => outputArena.alloc(n)));
  const rows = parts.map((p) => (p.byteLength === 0 ? 0 : decodeBlock(p).numRows));
  return [rows, ...parts];
});

/** Reduce side of an exchange. */
export type ReduceSpec =
  | { readonly kind: 'concat' }
  | { readonly kind: 'sort'; readonly keys: readonly string[]; readonly descending: boolean }
  | { readonly kind: 'shuffle'; readonly seed: number }
  | { readonly kind: 'aggregate'; readonly keys: readonly string[]; readonly aggs: readonly AggSpec[] }
  | { readonly kind: 'mapGroups'; readonly keys: readonly string[]; readonly step: Step }
  | {
      readonly kind: 'join';
      readonly on: readonly string[];
      readonly how: JoinHow;
      readonly leftParts: number;
      readonly suffix: string;
    };

/** Concat, sort and shuffle of all-numeric blocks, in plain JS (undefined: not all numeric). */
function reduceNumeric(spec: ReduceSpec, parts: Uint8Array[]): Table | undefined {
  if (spec.kind !== 'concat' && spec.kind !== 'sort' && spec.kind !== 'shuffle') return undefined;
  const tables = parts.filter((p) => p.byteLength > 0).map((p) => decodeBlock(p));
  const c = concatNumeric(tables);
  if (!c) return undefined;
  if (spec.kind === 'sort') return sortNumeric(c.names, c.cols, spec.keys, spec.descending);
  if (spec.kind === 'shuffle') return tableOf(c.names, shuffleColumns(c.cols, new SeededRng(spec.seed)));
  return tableOf(c.names, c.cols);
}

async function reduce(spec: ReduceSpec, parts: Uint8Array[]): Promise<Table> {
  const fast = reduceNumeric(spec, parts);
  if (fast) return fast;
  switch (spec.kind) {
    case 'concat':
      return dfToTable(concatDfs(parts));
    case 'sort':
      return dfToTable(sortDf(concatDfs(parts), spec.keys, spec.descending));
    case 'shuffle':
      return dfToTable(shuffleDf(concatDfs(parts), spec.seed));
    case 'aggregate':
      return dfToTable(finishAggregate(concatDfs(parts), spec.keys, spec.aggs));
    case 'join': {
      const left = concatDfs(parts.slice(0, spec.leftParts));
      const right = concatDfs(parts.slice(spec.leftParts));
      if (left.width === 0 || right.width === 0) {
        if (spec.how === 'inner' || spec.how === 'left_semi') return new Table();
        if (spec.how === 'left_outer' || spec.how === 'left_anti') return dfToTable(left);
        if (spec.how === 'right_outer') return dfToTable(right);
        return dfToTable(left.width === 0 ? right : left);
      }
      return dfToTable(joinDfs(left, right, spec.on, spec.how, spec.suffix));
    }
    case 'mapGroups': {
      const df = concatDfs(parts);
      if (df.height === 0) return new Table();
      const sorted = dfToTable(sortDf(df, spec.keys, false));
      const keyCols = spec.keys.map((k) => {
        const v = sorted.getChild(k);
        if (!v) throw new DataInvalidArgumentError(`mapGroups: no column '${k}'.`);
        return v.nullCount === 0 ? (v.toArray() as ArrayLike<unknown>) : [...v];
      });
      const outs: Table[] = [];
      let start = 0;
      const n = sorted.numRows;
      for (let i = 1; i <= n; i++) {
        if (i < n && keyCols.every((c) => c[i] === c[start] || (typeof c[i] === 'bigint' && c[i] === c[start])))
          continue;
        outs.push(await runSteps(sorted.slice(start, i), [spec.step]));
        start = i;
      }
      return concatTables(outs);
    }
  }
}

/** Reduce side of an exchange: merges the partitions it is given (sorting, shuffling, aggregating...). */
export const reduceTask = remote(
  async function dataReduce(spec: ReduceSpec, ...parts: Uint8Array[]): Promise<StageResult> {
    outputArena.reset();
    const t = await reduce(spec, parts);
    const bytes = encodeOut(t, true);
    releaseScratch();
    return [bytes, metaOf(t, bytes)];
  },
  { numReturns: 2 },
);

/** A row range of one input block, for gather and zip. */
export interface SliceSpec {
  readonly block: number;
  readonly start: number;
  readonly end: number;
}

function gather(slices: readonly SliceSpec[], blocks: readonly Uint8Array[]): Uint8Array {
  const parts = slices.map((s) => encodeBlock(decodeBlock(blocks[s.block]).slice(s.start, s.end)));
  return fromDf(concatDfs(parts));
}

/** One output block made of row ranges of several input blocks (repartition, split). */
export const gatherTask = remote(
  async function dataGather(slices: SliceSpec[], ...blocks: Uint8Array[]): Promise<StageResult> {
    const bytes = gather(slices, blocks);
    return [bytes, { numRows: decodeBlock(bytes).numRows, sizeBytes: bytes.byteLength }];
  },
  { numReturns: 2 },
);

/** Columns of a left block side by side with the matching rows of the right dataset. */
export const zipTask = remote(
  async function dataZip(left: Uint8Array, slices: SliceSpec[], ...blocks: Uint8Array[]): Promise<StageResult> {
    const l = decodeBlock(left);
    const r = decodeBlock(gather(slices, blocks));
    const cols: Record<string, unknown> = {};
    for (const f of l.schema.fields) cols[f.name] = l.getChild(f.name);
    for (const f of r.schema.fields) {
      let name = f.name;
      for (let k = 1; name in cols; k++) name = `${f.name}_${k}`;
      cols[name] = r.getChild(f.name);
    }
    const t = new Table(cols as unknown as Record<string, Vector>);
    const bytes = encodeBlock(t);
    return [bytes, metaOf(t, bytes)];
  },
  { numReturns: 2 },
);

/** Stores a block made on the driver (fromItems, fromArrow). */
export function putBlock(t: Table): { ref: ReturnType<typeof put<Uint8Array>>; meta: BlockMeta } {
  const bytes = encodeBlock(t);
  return { ref: put(bytes), meta: metaOf(t, bytes) };
}
