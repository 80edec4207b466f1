/**
 * All-to-all operations, distributed as map and reduce tasks over partitions (never gathered on
 * the driver, which only sees metadata and a small key sample):
 * - sort: sample keys -> range boundaries -> each map task splits its block by range -> each reduce
 *   task sorts one range. Output is globally sorted, range by range.
 * - groupby: the same range partitioning on the key, with a partial aggregate in every map task
 *   (a combiner), so reduce tasks merge small partials; output sorted by key, as Ray's.
 * - randomShuffle: random partitions, shuffled again in each reduce task.
 * - repartition: row slices gathered into equal blocks (or a random shuffle with `shuffle`).
 * - join: hash partitioning of both sides on the keys, a Polars join per partition.
 */
import { getLogger, get, type ObjectRef } from '@ray-ts/core';
import type { BlockMeta } from './block.js';
import type { PartitionSpec } from './compute.js';
import { boundariesOf } from './compute.js';
import { SchemaError } from './errors.js';
import type { ExecEnv } from './operators.js';
import type { Bundle, ExchangeOp, LogicalNode } from './plan.js';
import type { Step } from './steps.js';
import {
  gatherTask,
  partitionTask,
  reduceTask,
  sampleTask,
  zipTask,
  type PreSpec,
  type ReduceSpec,
  type SliceSpec,
  type SourceSpec,
} from './tasks.js';

const log = getLogger('ray-ts.data');

type Refs = [ObjectRef<Uint8Array>, ObjectRef<BlockMeta>];

/** Tasks launched by exchanges, per running exchange (for stats). */
export interface ExchangeCounter {
  tasks: number;
}
async function collect(results: Refs[], counter: ExchangeCounter): Promise<Bundle[]> {
  counter.tasks += results.length;
  const metas = await get(results.map((r) => r[1]));
  return results.map((r, i) => ({ block: r[0], meta: metas[i] }));
}

/** Map side: splits every input block into `P` partitions; returns partition refs by partition. */
function logTime(what: string, t0: number): void {
  if (log.isEnabledFor('debug')) log.debug(`${what}: ${(performance.now() - t0).toFixed(0)} ms`);
}

/** A map task's input: a stored block, or a read (fused with the partitioning). */
export type MapInput = Bundle | { readonly source: SourceSpec; readonly steps: readonly Step[] };

async function partitionAll(
  inputs: readonly MapInput[],
  spec: (i: number) => PartitionSpec,
  P: number,
  pre: PreSpec | null,
  name: string,
  counter: ExchangeCounter,
): Promise<ObjectRef<Uint8Array>[][]> {
  const byPartition: ObjectRef<Uint8Array>[][] = Array.from({ length: P }, () => []);
  counter.tasks += inputs.length;
  const outs = inputs.map((b, i) => {
    const f = partitionTask.options({ numReturns: P + 1 });
    return ('source' in b
      ? f.remote(null, pre, spec(i), name, b.source, b.steps as Step[])
      : f.remote(b.block as unknown as Uint8Array, pre, spec(i), name)) as unknown as ObjectRef<unknown>[];
  });
  // Wait for every map task (its first return), so failures surface here with the operator's name.
  const t0 = performance.now();
  await get(outs.map((o) => o[0]));
  logTime(`${name}: map side (${inputs.length} tasks x ${P} partitions)`, t0);
  for (const o of outs) for (let p = 0; p < P; p++) byPartition[p].push(o[p + 1] as ObjectRef<Uint8Array>);
  return byPartition;
}

async function reduceAll(
  byPartition: ObjectRef<Uint8Array>[][],
  spec: (p: number) => ReduceSpec,
  counter: ExchangeCounter,
): Promise<Bundle[]> {
  const t0 = performance.now();
  const out = await collect(
    byPartition.map((parts, p) => reduceTask.remote(spec(p), ...(parts as unknown as Uint8Array[])) as unknown as Refs),
    counter,
  );
  logTime(`reduce side (${byPartition.length} tasks)`, t0);
  return out;
}

async function rangeBoundaries(
  inputs: readonly Bundle[],
  key: string,
  P: number,
  name: string,
  counter: ExchangeCounter,
): Promise<unknown[]> {
  const perBlock = Math.max(10, Math.ceil((P * 20) / Math.max(1, inputs.length)));
  counter.tasks += inputs.length;
  const samples = await get(
    inputs
      .filter((b) => b.meta.numRows > 0)
      .map((b, i) => sampleTask.remote(b.block as unknown as Uint8Array, key, perBlock, i + 1, name)),
  );
  return boundariesOf(samples.flat(), P);
}

/** Runs an all-to-all operation over every input block. */
export async function runExchange(
  op: ExchangeOp,
  inputs: MapInput[],
  env: ExecEnv,
  name: string,
  counter: ExchangeCounter,
): Promise<Bundle[]> {
  if (inputs.some((i) => 'source' in i)) {
    // Fused reads: their sizes are unknown until they run; one partition per read.
    const P = Math.max(1, inputs.length);
    if (op.kind === 'randomShuffle' || (op.kind === 'repartition' && op.shuffle)) {
      const n = op.kind === 'repartition' ? op.numBlocks : P;
      const seed = (op.kind === 'randomShuffle' ? op.seed : undefined) ?? Math.floor(Math.random() * 2 ** 31);
      const parts = await partitionAll(
        inputs,
        (i) => ({ kind: 'random', partitions: n, seed: seed * 31 + i }),
        n,
        null,
        name,
        counter,
      );
      return reduceAll(parts, (p) => ({ kind: 'shuffle', seed: seed * 17 + p }), counter);
    }
    throw new Error(`internal: ${op.kind} cannot run fused with a read`);
  }
  const bundles = inputs as Bundle[];
  const nonEmpty = bundles.filter((b) => b.meta.numRows > 0);
  const P = Math.max(1, nonEmpty.length);
  switch (op.kind) {
    case 'repartition': {
      const n = op.numBlocks;
      if (op.shuffle) {
        const seed = Math.floor(Math.random() * 2 ** 31);
        const parts = await partitionAll(
          nonEmpty,
          (i) => ({ kind: 'random', partitions: n, seed: seed + i }),
          n,
          null,
          name,
          counter,
        );
        return reduceAll(parts, (p) => ({ kind: 'shuffle', seed: seed + 7919 * p }), counter);
      }
      return gatherEqual(nonEmpty, n, counter);
    }
    case 'randomShuffle': {
      const seed = op.seed ?? Math.floor(Math.random() * 2 ** 31);
      const parts = await partitionAll(
        nonEmpty,
        (i) => ({ kind: 'random', partitions: P, seed: seed * 31 + i }),
        P,
        null,
        name,
        counter,
      );
      return reduceAll(parts, (p) => ({ kind: 'shuffle', seed: seed * 17 + p }), counter);
    }
    case 'sort': {
      if (nonEmpty.length === 0) return [];
      const bounds = await rangeBoundaries(nonEmpty, op.keys[0], P, name, counter);
      const np = bounds.length + 1;
      const parts = await partitionAll(
        nonEmpty,
        () => ({ kind: 'range', key: op.keys[0], boundaries: bounds, descending: op.descending }),
        np,
        null,
        name,
        counter,
      );
      return reduceAll(parts, () => ({ kind: 'sort', keys: op.keys, descending: op.descending }), counter);
    }
    case 'aggregate': {
      if (nonEmpty.length === 0 && op.keys.length) return [];
      const pre: PreSpec = { kind: 'aggregate', keys: op.keys, aggs: op.aggs, op: name };
      const src = nonEmpty.length ? nonEmpty : bundles.slice(0, 1);
      if (op.keys.length === 0 || src.length === 0) {
        if (src.length === 0) return [];
        const parts = await partitionAll(src, () => ({ kind: 'hash', keys: [], partitions: 1 }), 1, pre, name, counter);
        return reduceAll(parts, () => ({ kind: 'aggregate', keys: [], aggs: op.aggs }), counter);
      }
      const bounds = await rangeBoundaries(src, op.keys[0], Math.min(P, env.numCpus * 2), name, counter);
      const parts = await partitionAll(
        src,
        () => ({ kind: 'range', key: op.keys[0], boundaries: bounds, descending: false }),
        bounds.length + 1,
        pre,
        name,
        counter,
      );
      return reduceAll(parts, () => ({ kind: 'aggregate', keys: op.keys, aggs: op.aggs }), counter);
    }
    case 'mapGroups': {
      if (nonEmpty.length === 0) return [];
      const bounds = await rangeBoundaries(nonEmpty, op.keys[0], P, name, counter);
      const parts = await partitionAll(
        nonEmpty,
        () => ({ kind: 'range', key: op.keys[0], boundaries: bounds, descending: false }),
        bounds.length + 1,
        null,
        name,
        counter,
      );
      return reduceAll(parts, () => ({ kind: 'mapGroups', keys: op.keys, step: op.step }), counter);
    }
  }
}

/** Row ranges that cut `inputs` into blocks of the given row counts. */
function slicesFor(inputs: readonly Bundle[], counts: readonly number[]): { slices: SliceSpec[]; blocks: number[] }[] {
  const out: { slices: SliceSpec[]; blocks: number[] }[] = [];
  let bi = 0,
    offset = 0;
  for (const want of counts) {
    const slices: SliceSpec[] = [];
    const blocks: number[] = [];
    let need = want;
    while (need > 0 && bi < inputs.length) {
      const rows = inputs[bi].meta.numRows;
      const take = Math.min(need, rows - offset);
      if (take > 0) {
        let local = blocks.indexOf(bi);
        if (local < 0) {
          local = blocks.length;
          blocks.push(bi);
        }
        slices.push({ block: local, start: offset, end: offset + take });
      }
      need -= take;
      offset += take;
      if (offset >= rows) {
        bi++;
        offset = 0;
      }
    }
    out.push({ slices, blocks });
  }
  return out;
}

/** Splits rows into blocks with the given row counts (in order). */
export async function gatherCounts(
  inputs: readonly Bundle[],
  counts: readonly number[],
  counter: ExchangeCounter = { tasks: 0 },
): Promise<Bundle[]> {
  const plans = slicesFor(inputs, counts);
  return collect(
    plans.map(
      (p) =>
        gatherTask.remote(
          p.slices,
          ...(p.blocks.map((i) => inputs[i].block) as unknown as Uint8Array[]),
        ) as unknown as Refs,
    ),
    counter,
  );
}

/** n blocks of (nearly) equal row counts. */
export function equalCounts(total: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

function gatherEqual(inputs: readonly Bundle[], n: number, counter: ExchangeCounter): Promise<Bundle[]> {
  const total = inputs.reduce((s, b) => s + b.meta.numRows, 0);
  return gatherCounts(inputs, equalCounts(total, n), counter);
}

/** Zips two datasets row by row: the right side is cut to the left side's blocks. */
export async function runZip(
  left: Bundle[],
  right: Bundle[],
  name: string,
  counter: ExchangeCounter,
): Promise<Bundle[]> {
  const l = left.reduce((s, b) => s + b.meta.numRows, 0);
  const r = right.reduce((s, b) => s + b.meta.numRows, 0);
  if (l !== r)
    throw new SchemaError(
      `${name}: the datasets have different numbers of rows (${l} and ${r}); zip needs equal counts.`,
    );
  const plans = slicesFor(
    right,
    left.map((b) => b.meta.numRows),
  );
  return collect(
    left.map(
      (b, i) =>
        zipTask.remote(
          b.block as unknown as Uint8Array,
          plans[i].slices,
          ...(plans[i].blocks.map((k) => right[k].block) as unknown as Uint8Array[]),
        ) as unknown as Refs,
    ),
    counter,
  );
}

/** Joins two datasets by hash partitioning both on the keys. */
export async function runJoin(
  left: Bundle[],
  right: Bundle[],
  node: Extract<LogicalNode, { kind: 'join' }>,
  env: ExecEnv,
  counter: ExchangeCounter,
): Promise<Bundle[]> {
  const P = node.numPartitions ?? Math.max(1, Math.min(Math.max(left.length, right.length), env.numCpus * 4));
  const spec: PartitionSpec = { kind: 'hash', keys: node.on, partitions: P };
  const [lp, rp] = await Promise.all([
    partitionAll(left, () => spec, P, null, node.name, counter),
    partitionAll(right, () => spec, P, null, node.name, counter),
  ]);
  const joined = lp.map((l, p) => [...l, ...rp[p]]);
  return reduceAll(
    joined,
    (p) => ({ kind: 'join', on: node.on, how: node.how, leftParts: lp[p].length, suffix: node.suffix }),
    counter,
  );
}
