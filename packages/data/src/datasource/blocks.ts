/**
 * Blocks ↔ Polars. A block is an Arrow table serialized in the Arrow IPC **file** format, held in
 * a plain `Uint8Array` that owns its whole `ArrayBuffer` (so it can be transferred to a worker).
 */
import { Table, tableFromIPC, tableToIPC, type Schema } from 'apache-arrow';
import pl from 'nodejs-polars';
import { DataInvalidArgumentError } from '../errors.js';

/**
 * Reads a block into a Polars DataFrame, without copying the bytes.
 *
 * @throws DataInvalidArgumentError when the bytes are not an Arrow IPC file (e.g. IPC stream bytes).
 */
export function blockToDataFrame(block: Uint8Array): pl.DataFrame {
  // Zero bytes: the empty block of a table without columns (see encodeBlock in ../block.ts).
  if (block.byteLength === 0) return pl.DataFrame();
  try {
    return pl.readIPC(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
  } catch (cause) {
    throw new DataInvalidArgumentError(
      `Not a block: ${block.byteLength} bytes that are not an Arrow IPC file (${(cause as Error).message}). ` +
        `Blocks must be Arrow IPC file format (tableToIPC(table, 'file') or df.writeIPC()), not the stream format.`,
      { cause },
    );
  }
}

/** The Arrow schema of a block (zero-copy over the bytes; the empty block has no fields). */
export function blockSchema(block: Uint8Array): Schema {
  return tableFromIPC(block.byteLength === 0 ? EMPTY_BLOCK : block).schema;
}

/**
 * Serializes a DataFrame as one or more blocks of at most `targetRowsPerBlock` rows each (one
 * block when not given; always at least one block, so an empty result keeps its schema).
 * Categorical and Enum columns are cast to strings first: blocks never hold dictionary columns.
 */
export function dataFrameToBlocks(df: pl.DataFrame, targetRowsPerBlock?: number): Uint8Array[] {
  const plain = withoutDictionaries(df);
  const rows = plain.height;
  if (targetRowsPerBlock === undefined || rows <= targetRowsPerBlock) return [ownedBytes(plain.writeIPC())];
  const blocks: Uint8Array[] = [];
  for (let offset = 0; offset < rows; offset += targetRowsPerBlock) {
    blocks.push(ownedBytes(plain.slice(offset, Math.min(targetRowsPerBlock, rows - offset)).writeIPC()));
  }
  return blocks;
}

/** Casts Categorical (and Enum) columns to String; a no-op without them. */
export function withoutDictionaries(df: pl.DataFrame): pl.DataFrame {
  // Most frames have none: skip the lazy round trip (a copy of every column) for them.
  try {
    if (!df.getColumns().some((c) => /^(Categorical|Enum)/.test(String((c.dtype as { variant?: string }).variant))))
      return df;
  } catch {
    // dtype of some columns (Binary) cannot be shown in JS; cast to be safe.
  }
  return df.lazy().withColumns(pl.col(pl.Categorical).cast(pl.Utf8)).collectSync();
}

/**
 * A plain Uint8Array that owns its whole ArrayBuffer. Node pools small Buffers inside a shared
 * 8 KiB ArrayBuffer; those are copied, larger ones are wrapped without a copy.
 */
export function ownedBytes(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) {
    return new Uint8Array(buf.buffer);
  }
  return new Uint8Array(buf);
}

const EMPTY_BLOCK = tableToIPC(new Table(), 'file');
