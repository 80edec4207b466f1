/**
 * Writing one block to one file, with Polars: Parquet (snappy), CSV (with header), JSON lines.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import nodePath from 'node:path';
import { Type } from 'apache-arrow';
import { DataInvalidArgumentError, DatasourceError } from '../errors.js';
import { blockSchema, blockToDataFrame } from './blocks.js';
import { firstLine } from './polars-expr.js';

/** The file formats {@link writeBlock} writes. */
export type WriteFormat = 'parquet' | 'csv' | 'json';

const EXTENSIONS: Record<WriteFormat, string> = { parquet: 'parquet', csv: 'csv', json: 'json' };

/**
 * The name of the file that task `taskIndex` writes for dataset `datasetId`:
 * `${datasetId}_000003.parquet` (`.csv`, `.json`).
 */
export function fileNameFor(format: WriteFormat, taskIndex: number, datasetId: string): string {
  checkFormat(format);
  if (!Number.isSafeInteger(taskIndex) || taskIndex < 0) {
    throw new DataInvalidArgumentError(`taskIndex must be a non-negative integer, got ${String(taskIndex)}.`);
  }
  return `${datasetId}_${String(taskIndex).padStart(6, '0')}.${EXTENSIONS[format]}`;
}

/**
 * Writes one block (Arrow IPC file bytes) to `dir/fileName`: Parquet with snappy compression, CSV
 * with a header row, or JSON lines (one object per row). Creates `dir` (and its parents) when
 * missing. The file appears complete or not at all: it is written under a hidden temporary name
 * (which readers skip) and renamed. An existing file of that name is replaced.
 *
 * @returns the written file's path and its number of rows.
 * @throws DatasourceError when `dir` is a regular file or cannot be created, when the block has
 *   binary columns and the format is CSV or JSON, or when writing fails.
 * @throws DataInvalidArgumentError when `fileName` is not a plain file name or the block is not
 *   Arrow IPC file bytes.
 */
export async function writeBlock(
  format: WriteFormat,
  block: Uint8Array,
  dir: string,
  fileName: string,
): Promise<{ path: string; numRows: number }> {
  checkFormat(format);
  if (fileName === '' || fileName === '.' || fileName === '..' || /[/\\]/.test(fileName)) {
    throw new DataInvalidArgumentError(
      `Invalid file name ${JSON.stringify(fileName)}: give a plain name without directories (put those in dir).`,
    );
  }
  const df = blockToDataFrame(block);
  if (format !== 'parquet') {
    const binary = blockSchema(block).fields.find((f) =>
      [Type.Binary, Type.LargeBinary, Type.BinaryView, Type.FixedSizeBinary].includes(f.typeId),
    );
    if (binary) {
      throw new DatasourceError(
        `Cannot write column ${JSON.stringify(binary.name)} to ${format}: it holds binary data, which ${format.toUpperCase()} cannot represent. ` +
          `Write Parquet instead, or drop or encode the column (e.g. base64) first.`,
        nodePath.join(dir, fileName),
      );
    }
  }
  await ensureDirectory(dir);
  const path = nodePath.resolve(dir, fileName);
  const tmp = nodePath.join(nodePath.dirname(path), `.${fileName}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    if (format === 'parquet') df.writeParquet(tmp, { compression: 'snappy' });
    else if (format === 'csv') df.writeCSV(tmp, { includeHeader: true });
    else df.writeJSON(tmp, { format: 'lines' });
    await fs.rename(tmp, path);
  } catch (cause) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new DatasourceError(
      `Could not write ${format} file ${path}: ${firstLine(cause)}. Check the disk space and permissions of ${dir}` +
        (format === 'parquet'
          ? '.'
          : `, and that every column can be written as ${format} (nested columns cannot be written to CSV).`),
      path,
      { cause },
    );
  }
  return { path, numRows: df.height };
}

function checkFormat(format: WriteFormat): void {
  if (!Object.hasOwn(EXTENSIONS, format)) {
    throw new DataInvalidArgumentError(`Unknown output format ${JSON.stringify(format)}: use parquet, csv or json.`);
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  const stats = await fs.stat(dir).catch(() => null);
  if (stats?.isDirectory()) return;
  if (stats) {
    throw new DatasourceError(
      `Cannot write into ${dir}: it exists and is not a directory (a regular file?). Choose another output path or remove it.`,
      dir,
    );
  }
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new DatasourceError(
      `Cannot create output directory ${dir}: ${(cause as Error).message}. Check that its parents are directories you may write to.`,
      dir,
      { cause },
    );
  }
}
