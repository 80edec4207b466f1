/**
 * The logical plan of a Dataset and its optimizer. A Dataset is an immutable chain of logical
 * nodes; executing it first rewrites the chain (fusing per-block steps into one stage, pushing
 * column selection, filters and limits down into reads), then hands it to the streaming executor.
 */
import type { ObjectRef } from '@ray-ts/core';
import type { BlockMeta } from './block.js';
import type { AggSpec, JoinHow } from './compute.js';
import type { Step } from './steps.js';
import type { WriteSpec } from './tasks.js';
import type { ReadFileOptions } from './datasource/index.js';
import type { ExprNode } from './expr.js';

/** A block in the object store, with its metadata. */
export interface Bundle {
  readonly block: ObjectRef<Uint8Array>;
  readonly meta: BlockMeta;
}

/** How a map stage runs: as tasks, or on a pool of actors (stateful, e.g. a model loaded once). */
export type Compute =
  | { readonly kind: 'tasks' }
  | {
      readonly kind: 'actors';
      readonly minSize: number;
      readonly maxSize: number;
      readonly maxTasksInFlightPerActor: number;
    };

export interface StageResources {
  readonly numCpus: number;
  readonly numGpus: number;
}

/** An all-to-all operation: every output block may depend on every input block. */
export type ExchangeOp =
  | { readonly kind: 'repartition'; readonly numBlocks: number; readonly shuffle: boolean }
  | { readonly kind: 'randomShuffle'; readonly seed: number | undefined }
  | { readonly kind: 'sort'; readonly keys: readonly string[]; readonly descending: boolean }
  | { readonly kind: 'aggregate'; readonly keys: readonly string[]; readonly aggs: readonly AggSpec[] }
  | { readonly kind: 'mapGroups'; readonly keys: readonly string[]; readonly step: Step };

/**
 * Where a read gets its data: plain data (it travels to a split coordinator actor), turned into
 * read tasks at execution, when paths are listed (bad paths fail then, before any task runs).
 */
export type SourceDesc =
  | { readonly kind: 'range'; readonly n: number; readonly numBlocks: number | undefined }
  | {
      readonly kind: 'files';
      readonly format: 'parquet' | 'csv' | 'json' | 'text' | 'binary';
      readonly paths: readonly string[];
      readonly extensions: readonly string[] | undefined;
      readonly options: ReadFileOptions;
    };

export type LogicalNode =
  | {
      readonly kind: 'read';
      readonly name: string;
      readonly source: SourceDesc;
      readonly steps: readonly Step[];
      /** Set when an actor-pool stage took the read in (its actors read the files). */
      readonly compute?: Compute;
      readonly resources?: StageResources;
      /** Set when that stage also writes its output. */
      readonly write?: Omit<WriteSpec, 'fileName'> & { readonly datasetId: string };
    }
  | { readonly kind: 'blocks'; readonly name: string; readonly bundles: readonly Bundle[] }
  | {
      readonly kind: 'map';
      readonly name: string;
      readonly input: LogicalNode;
      readonly steps: readonly Step[];
      readonly compute: Compute;
      readonly resources: StageResources;
      readonly write?: Omit<WriteSpec, 'fileName'> & { readonly datasetId: string };
    }
  | { readonly kind: 'limit'; readonly name: string; readonly input: LogicalNode; readonly n: number }
  | {
      readonly kind: 'exchange';
      readonly name: string;
      readonly input: LogicalNode;
      readonly op: ExchangeOp;
      /** The input is a read whose tasks are the exchange's map tasks (read and partition fused). */
      readonly fusedRead?: boolean;
    }
  | { readonly kind: 'union'; readonly name: string; readonly inputs: readonly LogicalNode[] }
  | { readonly kind: 'zip'; readonly name: string; readonly inputs: readonly [LogicalNode, LogicalNode] }
  | {
      readonly kind: 'join';
      readonly name: string;
      readonly inputs: readonly [LogicalNode, LogicalNode];
      readonly on: readonly string[];
      readonly how: JoinHow;
      readonly numPartitions: number | undefined;
      readonly suffix: string;
    };

/** Steps that keep one output row per input row, in order (a limit may move before them). */
function rowPreserving(steps: readonly Step[]): boolean {
  return steps.every(
    (s) =>
      s.kind === 'map' || s.kind === 'select' || s.kind === 'drop' || s.kind === 'rename' || s.kind === 'addColumn',
  );
}

const DEFAULT_RESOURCES: StageResources = { numCpus: 1, numGpus: 0 };

function sameResources(a: StageResources, b: StageResources): boolean {
  return a.numCpus === b.numCpus && a.numGpus === b.numGpus;
}

/** Rewrites a plan for execution. Pure: the input plan is not changed. */
export function optimize(node: LogicalNode): LogicalNode {
  switch (node.kind) {
    case 'read':
    case 'blocks':
      return node;
    case 'limit': {
      const input = optimize(node.input);
      // limit(map(x)) -> map(limit(x)) when the map keeps rows: fewer rows flow through the map.
      if (input.kind === 'map' && input.compute.kind === 'tasks' && !input.write && rowPreserving(input.steps)) {
        return optimize({ ...input, input: { ...node, input: input.input } });
      }
      // A limit right after a read also caps each read task (a task never makes more than n rows).
      if (input.kind === 'read' && rowPreserving(input.steps)) {
        return {
          ...node,
          input: { ...input, steps: [...input.steps, { kind: 'limit', name: `limit(${node.n})`, n: node.n }] },
        };
      }
      if (input.kind === 'limit') return { ...node, n: Math.min(node.n, input.n), input: input.input };
      return { ...node, input };
    }
    case 'map': {
      const input = optimize(node.input);
      if (node.compute.kind === 'tasks' && sameResources(node.resources, DEFAULT_RESOURCES) && !node.write) {
        // Fuse into the read: the read task runs the steps too (no block goes through the store in between).
        if (input.kind === 'read' && !input.compute)
          return pushIntoRead({ ...input, steps: [...input.steps, ...node.steps] });
      }
      // An actor pool right after a read does the reading itself: no read task needs a CPU that
      // the pool's actors hold (with tasks, a pool as large as the cluster would starve its reads).
      if (node.compute.kind === 'actors' && input.kind === 'read' && !input.compute) {
        return {
          ...input,
          name: `${input.name}->${node.name}`,
          steps: [...input.steps, ...node.steps],
          compute: node.compute,
          resources: node.resources,
          ...(node.write ? { write: node.write } : {}),
        };
      }
      if (
        node.compute.kind === 'tasks' &&
        input.kind === 'map' &&
        input.compute.kind === 'tasks' &&
        !input.write &&
        sameResources(node.resources, input.resources)
      ) {
        return {
          ...node,
          name: `${input.name}->${node.name}`,
          input: input.input,
          steps: [...input.steps, ...node.steps],
        };
      }
      return { ...node, input };
    }
    case 'exchange': {
      const input = optimize(node.input);
      // A shuffle right after a read partitions in the read tasks: no block is stored between them.
      const shuffles = node.op.kind === 'randomShuffle' || (node.op.kind === 'repartition' && node.op.shuffle);
      if (shuffles && input.kind === 'read' && !input.compute && !input.write)
        return { ...node, input, fusedRead: true };
      return { ...node, input };
    }
    case 'union':
      return { ...node, inputs: node.inputs.map(optimize) };
    case 'zip':
    case 'join':
      return { ...node, inputs: [optimize(node.inputs[0]), optimize(node.inputs[1])] as const };
  }
}

/**
 * Moves leading `select` and expression `filter` steps of a Parquet read into the read itself,
 * so the reader skips the columns and rows they drop.
 */
function pushIntoRead(node: Extract<LogicalNode, { kind: 'read' }>): LogicalNode {
  const src = node.source;
  if (src.kind !== 'files' || src.format !== 'parquet') return node;
  let columns = src.options.columns;
  let filter: ExprNode | undefined = src.options.filter;
  let i = 0;
  for (; i < node.steps.length; i++) {
    const s = node.steps[i];
    if (s.kind === 'select') columns = s.columns;
    else if (s.kind === 'filterExpr') filter = filter ? { op: 'and', args: [filter, s.expr] } : s.expr;
    else break;
  }
  if (i === 0) return node;
  const options: ReadFileOptions = { ...src.options, ...(columns ? { columns } : {}), ...(filter ? { filter } : {}) };
  return { ...node, source: { ...src, options }, steps: node.steps.slice(i) };
}

/** A readable plan, one operator per line, for `explain()` and stats. */
export function describe(node: LogicalNode, indent = ''): string {
  const line = `${indent}${node.name}`;
  switch (node.kind) {
    case 'read':
      return node.steps.length && !node.compute ? `${line} -> ${node.steps.map((s) => s.name).join(' -> ')}` : line;
    case 'blocks':
      return line;
    case 'exchange':
      if (node.fusedRead) return `${describe(node.input, indent)} -> ${node.name} (partitioned in the read tasks)`;
      return `${describe(node.input, indent)}\n${line}`;
    case 'map':
    case 'limit':
      return `${describe(node.input, indent)}\n${line}`;
    case 'union':
    case 'zip':
    case 'join':
      return `${line}\n${node.inputs.map((i) => describe(i, indent + '  ')).join('\n')}`;
  }
}
