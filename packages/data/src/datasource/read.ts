/**
 * Reading one file into blocks, with Polars: Parquet, CSV, JSON lines, text and binary files.
 * Column projection and filters are pushed down into the Parquet, CSV and JSON scans.
 */
import { promises as fs } from 'node:fs';
import { Binary, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import pl from 'nodejs-polars';
import { DataInvalidArgumentError, DatasourceError } from '../errors.js';
import { exprToString, type ExprNode } from '../expr.js';
import { dataFrameToBlocks } from './blocks.js';
import { firstLine, formatColumns, missingColumn, toPolarsExpr } from './polars-expr.js';

/** The file formats {@link readFile} reads. */
export type ReadFormat = 'parquet' | 'csv' | 'json' | 'text' | 'binary';

/** Options of {@link readFile}. */
export interface ReadFileOptions {
  /** Keep only these columns, in this order (the `path` column is added when `includePaths`). */
  readonly columns?: readonly string[];
  /** Keep only the rows where this expression is true. It may read columns not in `columns`. */
  readonly filter?: ExprNode;
  /**
   * Add a `path` column (Utf8) holding the file's path to every row (it replaces a column of that
   * name in the file). Binary files always have it.
   */
  readonly includePaths?: boolean;
  /** CSV only. `delimiter`: one character, default `,`. `hasHeader`: default true; without a header columns are named `column_1`, `column_2`... */
  readonly csv?: { readonly delimiter?: string; readonly hasHeader?: boolean };
  /** Split the rows into blocks of at most this many rows (default: one block per file). */
  readonly targetRowsPerBlock?: number;
  /** Parquet only: read just these rows of the file (before the filter), so one large file can be read by several tasks. */
  readonly rows?: { readonly offset: number; readonly length: number };
}

/** Rows that CSV and JSON readers look at to infer column types. */
const INFER_SCHEMA_ROWS = 10_000;

/**
 * Reads one file into one or more blocks (Arrow IPC file bytes).
 *
 * - `parquet`: any Parquet file; projection and filter are pushed into the scan (row groups whose
 *   statistics rule the filter out are skipped).
 * - `csv`: header and column types inferred (from the first 10,000 rows).
 * - `json`: JSON lines, one object per line; column types inferred (first 10,000 lines).
 * - `text`: one row per line in a `text` column (Utf8); `\n` or `\r\n` line ends; a trailing empty
 *   line is dropped.
 * - `binary`: one row for the whole file: `bytes` (Binary) and `path` (Utf8).
 *
 * Strings come back as Utf8View and binary as BinaryView (what Polars writes); blocks never hold
 * dictionary-encoded columns. An empty result is one block with no rows, with the columns.
 *
 * @throws DatasourceError when the file does not exist, cannot be parsed as `format`, or lacks a
 *   requested column (the message names the file, the column and the file's columns).
 * @throws DataInvalidArgumentError on invalid options.
 */
export async function readFile(format: ReadFormat, path: string, opts: ReadFileOptions = {}): Promise<Uint8Array[]> {
  return dataFrameToBlocks(await readFrame(format, path, opts), opts.targetRowsPerBlock);
}

/** Reads one file into a Polars frame (what {@link readFile} cuts into blocks); same errors. */
export async function readFrame(format: ReadFormat, path: string, opts: ReadFileOptions = {}): Promise<pl.DataFrame> {
  validateOptions(format, opts);
  await checkReadable(path);
  let lf = await open(format, path, opts);
  if (opts.rows && format === 'parquet') lf = lf.slice(opts.rows.offset, opts.rows.length);
  let available: string[];
  try {
    available = lf.columns;
  } catch (cause) {
    throw parseError(format, path, cause);
  }
  const withPath = format === 'binary' || opts.includePaths === true;
  if (withPath && format !== 'binary') {
    lf = lf.withColumns(pl.lit(path).alias('path'));
    if (!available.includes('path')) available = [...available, 'path'];
  }
  const missing = opts.columns?.find((c) => !available.includes(c));
  if (missing !== undefined) {
    throw new DatasourceError(
      `Column ${JSON.stringify(missing)} is not in ${format} file ${path}. Its columns: ${formatColumns(available)}. Check the columns option.`,
      path,
    );
  }
  if (opts.filter) {
    const missingInFilter = missingColumn(opts.filter, available);
    if (missingInFilter !== undefined) {
      throw new DatasourceError(
        `filter(${exprToString(opts.filter)}) reads column ${JSON.stringify(missingInFilter)}, which is not in ${format} file ${path}. ` +
          `Its columns: ${formatColumns(available)}.`,
        path,
      );
    }
    lf = lf.filter(toPolarsExpr(opts.filter));
  }
  if (opts.columns) {
    const columns = [...opts.columns];
    if (withPath && format !== 'binary' && !columns.includes('path')) columns.push('path');
    lf = lf.select(columns);
  }
  let df: pl.DataFrame;
  try {
    // Synchronous: read tasks run in workers, where nothing else waits on the event loop, and the
    // async collect costs a thread hop per read.
    df = lf.collectSync();
  } catch (cause) {
    throw parseError(format, path, cause, opts.filter);
  }
  return decodeDictionaries(df);
}

/**
 * Dictionary-encoded columns (pandas categoricals, Spark's and DuckDB's low-cardinality strings:
 * Polars reads them as Categorical) as plain strings. Each row group may carry a dictionary of its
 * own, which Arrow IPC files (blocks) cannot hold, and blocks of different files would carry
 * different dictionaries; decoded, every block of every file agrees, and they write back as strings.
 */
function decodeDictionaries(df: pl.DataFrame): pl.DataFrame {
  const names = df.columns.filter((name) => {
    try {
      return ['Categorical', 'Enum'].includes(String(df.getColumn(name).dtype.variant));
    } catch {
      return false; // a type nodejs-polars cannot show in JS (Binary): not a dictionary
    }
  });
  return names.length ? df.withColumns(...names.map((n) => pl.col(n).cast(pl.Utf8))) : df;
}

function validateOptions(format: ReadFormat, opts: ReadFileOptions): void {
  if (!['parquet', 'csv', 'json', 'text', 'binary'].includes(format)) {
    throw new DataInvalidArgumentError(
      `Unknown file format ${JSON.stringify(format)}: use parquet, csv, json, text or binary.`,
    );
  }
  const t = opts.targetRowsPerBlock;
  if (t !== undefined && !(Number.isSafeInteger(t) && t > 0)) {
    throw new DataInvalidArgumentError(`targetRowsPerBlock must be a positive integer, got ${String(t)}.`);
  }
  if (opts.columns) {
    if (opts.columns.length === 0)
      throw new DataInvalidArgumentError('columns is empty: list the columns to read, or omit it to read them all.');
    const dup = opts.columns.find((c, i) => opts.columns!.indexOf(c) !== i);
    if (dup !== undefined)
      throw new DataInvalidArgumentError(`columns lists ${JSON.stringify(dup)} twice; list each column once.`);
  }
  const delimiter = opts.csv?.delimiter;
  if (delimiter !== undefined && delimiter.length !== 1) {
    throw new DataInvalidArgumentError(`csv.delimiter must be a single character, got ${JSON.stringify(delimiter)}.`);
  }
}

async function checkReadable(path: string): Promise<void> {
  let stats;
  try {
    stats = await fs.stat(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DatasourceError(
        `No such file or directory: ${path}. Check the path; relative paths resolve from ${process.cwd()}.`,
        path,
        { cause },
      );
    }
    throw new DatasourceError(`Cannot access ${path}: ${(cause as Error).message}. Check its permissions.`, path, {
      cause,
    });
  }
  if (!stats.isFile()) {
    throw new DatasourceError(
      `${path} is not a regular file${stats.isDirectory() ? ' but a directory' : ''}; readFile reads one file (expand directories with expandPaths).`,
      path,
    );
  }
}

/** A lazy frame over the file. Scans are lazy; text and binary files are read here. */
async function open(format: ReadFormat, path: string, opts: ReadFileOptions): Promise<pl.LazyDataFrame> {
  try {
    switch (format) {
      case 'parquet':
        return pl.scanParquet(path, { glob: false, hivePartitioning: false });
      case 'csv':
        return pl.scanCSV(path, {
          glob: false,
          hasHeader: opts.csv?.hasHeader ?? true,
          sep: opts.csv?.delimiter ?? ',',
          inferSchemaLength: INFER_SCHEMA_ROWS,
        });
      case 'json':
        // scanJson always expands glob patterns (no `glob: false` in nodejs-polars 0.25.2), so a
        // name holding glob characters is read into memory first. readJSON(path) is not usable:
        // with format 'lines' it calls a native function that the 0.25.2 build lacks.
        if (/[*?[\]{}]/.test(path)) {
          return pl.readJSON(await fs.readFile(path), { format: 'lines', inferSchemaLength: INFER_SCHEMA_ROWS }).lazy();
        }
        return pl.scanJson(path, { inferSchemaLength: INFER_SCHEMA_ROWS });
      case 'text':
        return pl.DataFrame([pl.Series('text', splitLines(await fs.readFile(path, 'utf8')), pl.Utf8)]).lazy();
      case 'binary':
        return binaryFrame(path, await fs.readFile(path)).lazy();
    }
  } catch (cause) {
    throw parseError(format, path, cause);
  }
}

/** Lines of a text file: `\n` or `\r\n` ends a line; a trailing empty line is dropped. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** One row: the file's bytes and path. Built with Arrow JS, as nodejs-polars cannot build Binary series from JS. */
function binaryFrame(path: string, bytes: Uint8Array): pl.DataFrame {
  const table = new Table({
    bytes: vectorFromArray([bytes], new Binary()),
    path: vectorFromArray([path], new Utf8()),
  });
  const ipc = tableToIPC(table, 'file');
  return pl.readIPC(Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength));
}

function parseError(format: ReadFormat, path: string, cause: unknown, filter?: ExprNode): DatasourceError {
  const what = format === 'json' ? 'JSON lines (one object per line)' : format;
  const withFilter = filter ? ` with filter ${exprToString(filter)}` : '';
  const hint = filter
    ? `Check that the file is valid ${what} and that the filter fits its column types.`
    : `Check that the file is valid ${what}.`;
  return new DatasourceError(`Could not read ${path} as ${format}${withFilter}: ${firstLine(cause)}. ${hint}`, path, {
    cause,
  });
}

/** Rows of a Parquet file, from its metadata (the data is not read). */
export function parquetRowCount(path: string): number {
  try {
    const df = pl.scanParquet(path, { glob: false, hivePartitioning: false }).select(pl.len().alias('n')).collectSync();
    return Number(df.getColumn('n').get(0));
  } catch (cause) {
    throw parseError('parquet', path, cause);
  }
}
