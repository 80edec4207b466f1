/** Making datasets: from numbers, JS values, Arrow tables, and files. */
import { Table } from 'apache-arrow';
import { fromRows, type Row } from './block.js';
import { Dataset, MaterializedDataset } from './dataset.js';
import type { ReadFileOptions } from './datasource/index.js';
import { DataInvalidArgumentError } from './errors.js';
import type { Expr } from './expr.js';
import type { Bundle } from './plan.js';
import { putBlock } from './tasks.js';

/** Options shared by the file readers. */
export interface ReadOptions {
  /** Read only these columns (pushed into Parquet reads). */
  columns?: readonly string[];
  /** Add a `path` column with each row's file. */
  includePaths?: boolean;
  /** Keep only files with these extensions when a directory is given (default: the format's). */
  fileExtensions?: readonly string[] | null;
}

/** Options of {@link readParquet}. */
export interface ReadParquetOptions extends ReadOptions {
  /** Keep only matching rows; pushed into the Parquet scan (row groups are skipped by statistics). */
  filter?: Expr;
}

/** Options of {@link readCsv}. */
export interface ReadCsvOptions extends ReadOptions {
  /** One character (default `,`). */
  delimiter?: string;
  /** Whether the first line names the columns (default true). */
  hasHeader?: boolean;
}

function checkPaths(paths: unknown, fn: string): readonly string[] {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new DataInvalidArgumentError(`${fn} needs a path, a directory, a glob pattern, or a non-empty list of them.`);
  }
  return list as string[];
}

function fileDataset(
  fn: string,
  format: 'parquet' | 'csv' | 'json' | 'text' | 'binary',
  paths: string | readonly string[],
  defaults: readonly string[] | undefined,
  o: ReadOptions,
  options: ReadFileOptions,
): Dataset {
  const list = checkPaths(paths, fn);
  const extensions = o.fileExtensions === null ? undefined : (o.fileExtensions ?? defaults);
  return new Dataset({
    kind: 'read',
    name: `${fn}`,
    steps: [],
    source: {
      kind: 'files',
      format,
      paths: list,
      extensions,
      options: {
        ...options,
        ...(o.columns ? { columns: [...o.columns] } : {}),
        ...(o.includePaths ? { includePaths: true } : {}),
      },
    },
  });
}

/**
 * Integers 0..n-1 in an `id` column (Int32; Float64 above 2^31-1).
 *
 * @example
 * await range(10).map((r) => ({ sq: r.id * r.id })).take(3); // [{ sq: 0 }, { sq: 1 }, { sq: 4 }]
 */
export function range(n: number, options: { numBlocks?: number } = {}): Dataset<{ id: number }> {
  if (!Number.isInteger(n) || n < 0)
    throw new DataInvalidArgumentError(`range(n): n must be a non-negative integer, got ${String(n)}.`);
  if (options.numBlocks !== undefined && !(Number.isInteger(options.numBlocks) && options.numBlocks > 0)) {
    throw new DataInvalidArgumentError(
      `range(): numBlocks must be a positive integer, got ${String(options.numBlocks)}.`,
    );
  }
  return new Dataset({
    kind: 'read',
    name: `range(${n})`,
    steps: [],
    source: { kind: 'range', n, numBlocks: options.numBlocks },
  });
}

/**
 * A dataset of JS values: objects become rows; other values go in an `item` column.
 * The rows are stored right away, in up to `numBlocks` blocks (default: min(rows, 200)).
 */
export function fromItems<T extends Row = Row>(
  items: readonly unknown[],
  options: { numBlocks?: number } = {},
): MaterializedDataset<T> {
  if (!Array.isArray(items)) throw new DataInvalidArgumentError(`fromItems() needs an array, got ${typeof items}.`);
  const rows: Row[] = items.map((x) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x) && !(x instanceof Date)
      ? (x as Row)
      : { item: x },
  );
  const nb = Math.max(1, Math.min(rows.length, options.numBlocks ?? 200));
  // Every block gets every column (missing values are null), so blocks share one schema.
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  const bundles: Bundle[] = [];
  for (let i = 0; i < nb && rows.length; i++) {
    const part = rows.slice(Math.floor((i * rows.length) / nb), Math.floor(((i + 1) * rows.length) / nb));
    const { ref, meta } = putBlock(fromRows(part, 'fromItems()', names));
    bundles.push({ block: ref, meta });
  }
  return new MaterializedDataset<T>({ kind: 'blocks', name: 'fromItems', bundles });
}

/** A dataset of Arrow tables (one block per table). */
export function fromArrow(tables: Table | readonly Table[]): MaterializedDataset {
  const list = tables instanceof Table ? [tables] : [...tables];
  for (const t of list)
    if (!(t instanceof Table)) throw new DataInvalidArgumentError('fromArrow() needs apache-arrow Tables.');
  const bundles: Bundle[] = list.map((t) => {
    const { ref, meta } = putBlock(t);
    return { block: ref, meta };
  });
  return new MaterializedDataset({ kind: 'blocks', name: 'fromArrow', bundles });
}

/**
 * Reads Parquet files: files, directories (their `.parquet` files) or glob patterns; one read task
 * per file. Column selection and `filter` are pushed into the scan.
 *
 * @example
 * readParquet('data/', { columns: ['x', 'category'], filter: col('category').lt(10) })
 */
export function readParquet(paths: string | readonly string[], options: ReadParquetOptions = {}): Dataset {
  return fileDataset(
    'readParquet',
    'parquet',
    paths,
    ['parquet'],
    options,
    options.filter ? { filter: options.filter.node } : {},
  );
}

/** Reads CSV files (a header line and column types inferred). */
export function readCsv(paths: string | readonly string[], options: ReadCsvOptions = {}): Dataset {
  const csv = {
    ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
    ...(options.hasHeader !== undefined ? { hasHeader: options.hasHeader } : {}),
  };
  return fileDataset('readCsv', 'csv', paths, ['csv'], options, Object.keys(csv).length ? { csv } : {});
}

/** Reads JSON-lines files (one object per line). */
export function readJson(paths: string | readonly string[], options: ReadOptions = {}): Dataset {
  return fileDataset('readJson', 'json', paths, ['json', 'jsonl'], options, {});
}

/** Reads text files: one row per line, in a `text` column. */
export function readText(paths: string | readonly string[], options: ReadOptions = {}): Dataset<{ text: string }> {
  return fileDataset('readText', 'text', paths, undefined, options, {}) as Dataset<{ text: string }>;
}

/** Reads whole files: one row per file, with `bytes` (Uint8Array) and `path`. */
export function readBinaryFiles(
  paths: string | readonly string[],
  options: ReadOptions = {},
): Dataset<{ bytes: Uint8Array; path: string }> {
  return fileDataset('readBinaryFiles', 'binary', paths, undefined, options, {}) as Dataset<{
    bytes: Uint8Array;
    path: string;
  }>;
}
