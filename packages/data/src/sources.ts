/** Read tasks of a source, made at execution time on the driver. */
import { stat } from 'node:fs/promises';
import { expandPaths, parquetRowCount } from './datasource/index.js';
import type { DataContext } from './context.js';
import type { SourceDesc } from './plan.js';
import type { SourceSpec } from './tasks.js';

/** The read tasks of a source: one per block of a range, one per file of a read. */
export async function resolveSource(src: SourceDesc, ctx: DataContext, numCpus: number): Promise<SourceSpec[]> {
  if (src.kind === 'range') {
    const n = src.n;
    // Ray's rule: at least 2 blocks per CPU, at most readParallelism, blocks of at least targetMinBlockBytes.
    const byBytes = Math.ceil((n * 8) / ctx.targetMinBlockBytes);
    const blocks = Math.max(
      1,
      Math.min(n, src.numBlocks ?? Math.max(2 * numCpus, Math.min(ctx.readParallelism, byBytes))),
    );
    const float = n > 2 ** 31 - 1;
    const out: SourceSpec[] = [];
    for (let i = 0; i < blocks; i++) {
      const start = Math.floor((i * n) / blocks);
      const end = Math.floor(((i + 1) * n) / blocks);
      out.push({ kind: 'range', start, end, float });
    }
    return out;
  }
  const files = await expandPaths(src.paths, src.extensions ? { extensions: src.extensions } : {});
  const out: SourceSpec[] = [];
  for (const path of files) {
    const size = src.format === 'parquet' ? (await stat(path)).size : 0;
    if (size <= ctx.targetMaxBlockBytes) {
      out.push({ kind: 'file', format: src.format, path, options: src.options });
      continue;
    }
    // A Parquet file larger than a block is read by several tasks, each a range of its rows.
    const rows = parquetRowCount(path);
    const pieces = Math.max(1, Math.min(rows, Math.ceil(size / ctx.targetMaxBlockBytes)));
    for (let i = 0; i < pieces; i++) {
      const offset = Math.floor((i * rows) / pieces);
      const length = Math.floor(((i + 1) * rows) / pieces) - offset;
      out.push({ kind: 'file', format: src.format, path, options: { ...src.options, rows: { offset, length } } });
    }
  }
  return out;
}

/** Rows of a Parquet read, from the files' metadata. */
export async function countParquetRows(src: Extract<SourceDesc, { kind: 'files' }>): Promise<number> {
  const files = await expandPaths(src.paths, src.extensions ? { extensions: src.extensions } : {});
  let n = 0;
  for (const f of files) n += parquetRowCount(f);
  return n;
}
