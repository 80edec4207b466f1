/**
 * How a Dataset runs and what its consuming methods build on: the optimized plan streamed through
 * the executor, row counts from Parquet metadata when nothing else must run, splits of
 * materialized blocks, the stage that writes files, and the statistics report.
 */
import { resolve } from 'node:path';
import { DataContext } from './context.js';
import { DataInvalidArgumentError } from './errors.js';
import { gatherCounts } from './exchange.js';
import { Executor, type ExecutionStats } from './executor.js';
import { optimize, type Bundle, type LogicalNode } from './plan.js';
import { countParquetRows } from './sources.js';

/** Streams the output blocks of `plan`; `onStats` gets the run's statistics when it ends or stops. */
export async function* executePlan(plan: LogicalNode, onStats: (s: ExecutionStats) => void): AsyncGenerator<Bundle> {
  const ctx = DataContext.getCurrent();
  const env = { ctx, ...(await ctx.environment()) };
  const ex = new Executor(env);
  await ex.build(optimize(plan));
  try {
    yield* ex.run();
  } finally {
    onStats(ex.stats());
  }
}

/** The row count of a bare Parquet read, from the files' metadata without reading the data; else undefined. */
export async function metadataRowCount(plan: LogicalNode): Promise<number | undefined> {
  const p = optimize(plan);
  if (
    p.kind === 'read' &&
    p.steps.length === 0 &&
    p.source.kind === 'files' &&
    p.source.format === 'parquet' &&
    !p.source.options.filter &&
    !p.source.options.columns &&
    !p.source.options.includePaths
  ) {
    return countParquetRows(p.source);
  }
  return undefined;
}

/**
 * Materialized blocks split `n` ways: with `equal`, `n` blocks of the same row count (up to n-1
 * rows dropped); else whole blocks, dealt to keep row counts close.
 */
export async function splitBlocks(bundles: readonly Bundle[], n: number, equal: boolean): Promise<Bundle[][]> {
  const total = bundles.reduce((s, b) => s + b.meta.numRows, 0);
  if (equal) {
    const each = Math.floor(total / n);
    const parts = await gatherCounts(
      bundles,
      Array.from({ length: n }, () => each),
    );
    return parts.map((p) => [p]);
  }
  const out: Bundle[][] = Array.from({ length: n }, () => []);
  const rows = new Array<number>(n).fill(0);
  for (const b of bundles) {
    const i = rows.indexOf(Math.min(...rows));
    out[i].push(b);
    rows[i] += b.meta.numRows;
  }
  return out;
}

/** Materialized blocks split at row offsets: `[0, i0)`, `[i0, i1)`, ..., `[ik, end)`, one block each. */
export async function splitBlocksAt(bundles: readonly Bundle[], indices: readonly number[]): Promise<Bundle[][]> {
  const total = bundles.reduce((s, b) => s + b.meta.numRows, 0);
  const cuts = [0, ...indices.map((i) => Math.min(Math.max(0, i), total)), total];
  const counts = cuts.slice(1).map((c, i) => Math.max(0, c - cuts[i]));
  const parts = await gatherCounts(bundles, counts);
  return parts.map((p) => (p.meta.numRows ? [p] : []));
}

let datasetCounter = 0;

/**
 * The plan that writes `plan`'s output as files into `dir`: in its last map stage (a task or an
 * actor of its pool) when there is one, else in a stage of its own. Its rows give each file's
 * `path` and `numRows`.
 * @throws DataInvalidArgumentError when `dir` is not a non-empty path.
 */
export function writePlan(plan: LogicalNode, format: 'parquet' | 'csv' | 'json', dir: string): LogicalNode {
  if (typeof dir !== 'string' || dir === '')
    throw new DataInvalidArgumentError(
      `write${format === 'json' ? 'Json' : format === 'csv' ? 'Csv' : 'Parquet'}() needs a directory path.`,
    );
  const abs = resolve(dir);
  const datasetId = `${Date.now().toString(36)}_${(datasetCounter++).toString(36)}`;
  const name = `write${format === 'json' ? 'Json' : format === 'csv' ? 'Csv' : 'Parquet'}(${dir})`;
  return plan.kind === 'map' && !plan.write
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
}

/** The report of `stats()`: per operator, tasks, blocks, rows, bytes and time. */
export function formatStats(s: ExecutionStats | undefined): string {
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
