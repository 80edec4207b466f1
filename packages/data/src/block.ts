/**
 * Blocks: the unit of data. A block is an Arrow table; in the object store it is the table's Arrow
 * IPC *file* bytes (a Uint8Array, stored zero-copy and readable by both apache-arrow and polars).
 * This module converts between blocks and the batch formats user functions see.
 */
import {
  Binary,
  Bool,
  DataType,
  DateMillisecond,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  Null,
  Struct,
  Type,
  Table,
  Uint16,
  Uint32,
  Uint8,
  Utf8,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { DataInvalidArgumentError } from './errors.js';

/** How a batch is handed to a user function. */
export type BatchFormat = 'arrow' | 'columns' | 'rows';

/** A row: column name to value. */
export type Row = Record<string, unknown>;

/**
 * Columns by name: numeric columns as typed arrays (Float64Array, Int32Array, BigInt64Array...),
 * other columns as plain arrays of values.
 */
export type Columns = Record<string, ArrayLike<unknown>>;

/** What a batch looks like in each format. */
export interface BatchOf {
  arrow: Table;
  columns: Columns;
  rows: Row[];
}

/** Size and shape of a block, known without reading it. */
export interface BlockMeta {
  readonly numRows: number;
  readonly sizeBytes: number;
  /** Column names and types (`name:type,...`), when known; union checks that its inputs agree. */
  readonly schema?: string;
}

const EMPTY = new Table();

/** Reads a block's bytes as a table (zero-copy over the bytes). */
export function decodeBlock(bytes: Uint8Array | null | undefined): Table {
  if (!bytes || bytes.byteLength === 0) return EMPTY;
  return tableFromIPC(bytes);
}

/** A table's block bytes. */
export function encodeBlock(table: Table): Uint8Array {
  if (table.numCols === 0) return new Uint8Array(0);
  return tableToIPC(table, 'file');
}

/** Metadata of a table about to be stored. */
export function metaOf(table: Table, bytes: Uint8Array): BlockMeta {
  return { numRows: table.numRows, sizeBytes: bytes.byteLength, schema: schemaKey(table) };
}

/** `name:type,...`, with string and binary views counted as their plain types. */
export function schemaKey(table: Table): string {
  return table.schema.fields
    .map((f) => `${f.name}:${String(f.type).replace('Utf8View', 'Utf8').replace('BinaryView', 'Binary')}`)
    .join(',');
}

/** Columns of a table: typed arrays for numeric columns without nulls, arrays of values otherwise. */
export function toColumns(table: Table): Columns {
  const out: Columns = {};
  for (const field of table.schema.fields) {
    const v = table.getChild(field.name) as Vector;
    out[field.name] = columnValues(v);
  }
  return out;
}

function columnValues(v: Vector): ArrayLike<unknown> {
  if (v.nullCount === 0 && isPrimitive(v.type)) return v.toArray() as ArrayLike<unknown>;
  const out = new Array<unknown>(v.length);
  let i = 0;
  for (const x of v) out[i++] = plain(x);
  return out;
}

function isPrimitive(t: DataType): boolean {
  return DataType.isInt(t) || DataType.isFloat(t);
}

/** Arrow row and list proxies to plain JS values. */
function plain(x: unknown): unknown {
  if (x === null || typeof x !== 'object') return x;
  if (ArrayBuffer.isView(x)) return x;
  const maybe = x as { toJSON?: () => unknown; toArray?: () => unknown };
  if (typeof maybe.toArray === 'function' && typeof (x as { get?: unknown }).get === 'function' && 'length' in x) {
    // A List value (a Vector): its elements (a typed array for numeric lists).
    return maybe.toArray();
  }
  if (typeof maybe.toJSON === 'function') return maybe.toJSON();
  return x;
}

/** Rows of a table as plain objects. */
export function toRows(table: Table): Row[] {
  const cols = toColumns(table);
  const names = Object.keys(cols);
  const n = table.numRows;
  const rows = new Array<Row>(n);
  for (let i = 0; i < n; i++) {
    const r: Row = {};
    for (const name of names) r[name] = cols[name][i];
    rows[i] = r;
  }
  return rows;
}

/** A batch in the asked format. */
export function toBatch<F extends BatchFormat>(table: Table, format: F): BatchOf[F] {
  switch (format) {
    case 'arrow':
      return table as BatchOf[F];
    case 'columns':
      return toColumns(table) as BatchOf[F];
    case 'rows':
      return toRows(table) as BatchOf[F];
  }
  throw new DataInvalidArgumentError(`Unknown batch format '${String(format)}': use 'arrow', 'columns' or 'rows'.`);
}

/**
 * A table from what a user function returned: an Arrow table, columns, or an array of rows.
 * `what` names the operator in errors.
 */
export function fromBatch(value: unknown, what: string, hints?: TypeHints): Table {
  if (value instanceof Table) return value;
  if (Array.isArray(value)) return fromRows(value as Row[], what, undefined, hints);
  if (value !== null && typeof value === 'object') return fromColumns(value as Columns, what, hints);
  throw new DataInvalidArgumentError(
    `${what} returned ${value === undefined ? 'undefined' : typeof value}; it must return a batch: an object of ` +
      `columns ({ name: array }), an array of row objects, or an Arrow Table.`,
  );
}

/**
 * Column types to keep where a function's output still fits them (its input's): without them,
 * a row's numbers would come back as Float64, dates and timestamps as numbers, decimals as words.
 */
export type TypeHints = ReadonlyMap<string, DataType>;

/** The column types of a table, as hints for what a function makes of its rows. */
export function typeHints(t: Table): TypeHints {
  return new Map(t.schema.fields.map((f) => [f.name, f.type]));
}

/** A table from rows (plain objects). Columns are the union of the rows' keys, in first-seen order. */
export function fromRows(rows: readonly Row[], what: string, columns?: readonly string[], hints?: TypeHints): Table {
  if (rows.length === 0) return EMPTY;
  const names: string[] = columns ? [...columns] : [];
  const seen = new Set<string>(names);
  for (const r of rows) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      throw new DataInvalidArgumentError(
        `${what} produced a row that is not an object (${JSON.stringify(r)}); rows must be objects like { id: 1 }.`,
      );
    }
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  const cols: Record<string, unknown[]> = {};
  for (const name of names) {
    const c = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) c[i] = rows[i][name];
    cols[name] = c;
  }
  return fromColumns(cols, what, hints);
}

/** A table from columns; every column must have the same length. */
export function fromColumns(cols: Columns, what: string, hints?: TypeHints): Table {
  const names = Object.keys(cols);
  if (names.length === 0) return EMPTY;
  const vectors: Record<string, Vector> = {};
  let len = -1;
  for (const name of names) {
    const c = cols[name];
    if (c === null || typeof c !== 'object' || typeof c.length !== 'number') {
      throw new DataInvalidArgumentError(`${what} returned column '${name}' that is not an array (${typeof c}).`);
    }
    if (len >= 0 && c.length !== len) {
      throw new DataInvalidArgumentError(
        `${what} returned columns of different lengths ('${names[0]}' has ${len} values, '${name}' has ${c.length}); every column of a batch must have one value per row.`,
      );
    }
    len = c.length;
    vectors[name] = toVector(c, name, what, hints?.get(name));
  }
  return new Table(vectors);
}

/**
 * One column as an Arrow vector, with types inferred from JS values (numbers are Float64), or of
 * `hint`'s type (the input column's) when the values still fit it.
 */
export function toVector(c: ArrayLike<unknown>, name: string, what: string, hint?: DataType): Vector {
  if (ArrayBuffer.isView(c) && !(c instanceof DataView)) {
    if (c instanceof Uint8ClampedArray) return makeVector(new Uint8Array(c.buffer, c.byteOffset, c.length));
    return makeVector(c as Float64Array);
  }
  const arr = c as readonly unknown[];
  const type = inferType(arr, name, what);
  if (hint && String(hint) !== String(type) && keepsType(type, hint, arr)) {
    try {
      return vectorFromArray(arr as unknown[], hint);
    } catch {
      // not after all: the inferred type
    }
  }
  try {
    return vectorFromArray(arr as unknown[], type);
  } catch (err) {
    throw new DataInvalidArgumentError(
      `${what}: column '${name}' could not be stored as ${String(type)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function inferType(arr: readonly unknown[], name: string, what: string): DataType {
  let sample: unknown = undefined;
  for (const x of arr) {
    if (x !== null && x !== undefined) {
      sample = x;
      break;
    }
  }
  if (sample === undefined) return new Null();
  switch (typeof sample) {
    case 'number':
      return new Float64();
    case 'bigint':
      return new Int64();
    case 'string':
      return new Utf8();
    case 'boolean':
      return new Bool();
  }
  if (sample instanceof Date) return new DateMillisecond();
  if (sample instanceof Uint8Array) return new Binary();
  if (ArrayBuffer.isView(sample)) return new List(new Field('item', typedArrayType(sample), true));
  if (Array.isArray(sample)) {
    const inner: unknown[] = [];
    for (const x of arr) if (Array.isArray(x)) for (const y of x as unknown[]) inner.push(y);
    return new List(new Field('item', inferType(inner, name, what), true));
  }
  if (typeof sample === 'object') {
    const keys = Object.keys(sample as object);
    return new Struct(
      keys.map(
        (k) =>
          new Field(
            k,
            inferType(
              arr.map((r) => (r as Record<string, unknown> | null)?.[k]),
              `${name}.${k}`,
              what,
            ),
            true,
          ),
      ),
    );
  }
  throw new DataInvalidArgumentError(
    `${what}: column '${name}' holds ${typeof sample} values, which cannot be stored in a block; use numbers, strings, booleans, bigints, Dates, Uint8Arrays, arrays or plain objects.`,
  );
}

/**
 * Whether values whose inferred type is `inferred` still fit the input column's type `hint`:
 * integers in range for a narrower integer, numbers or Dates for dates and timestamps (ms, as rows
 * show them), the words rows show for decimals, strings for large strings, and so on inside lists
 * and structs. A column the function changed in kind gets the inferred type.
 */
function keepsType(inferred: DataType, hint: DataType, arr: readonly unknown[]): boolean {
  if (inferred.typeId === Type.Null) return true; // only nulls: any type holds them
  if (DataType.isInt(hint)) {
    if (hint.bitWidth === 64) return DataType.isInt(inferred) && inferred.bitWidth === 64;
    if (!DataType.isFloat(inferred)) return false;
    const lo = hint.isSigned ? -(2 ** (hint.bitWidth - 1)) : 0;
    const hi = hint.isSigned ? 2 ** (hint.bitWidth - 1) - 1 : 2 ** hint.bitWidth - 1;
    return arr.every((x) => x == null || (Number.isInteger(x) && (x as number) >= lo && (x as number) <= hi));
  }
  if (DataType.isFloat(hint)) return DataType.isFloat(inferred);
  if (DataType.isUtf8(hint) || DataType.isLargeUtf8(hint)) return DataType.isUtf8(inferred);
  if (DataType.isBinary(hint) || DataType.isLargeBinary(hint)) return DataType.isBinary(inferred);
  if (DataType.isDate(hint) || DataType.isTimestamp(hint))
    return DataType.isFloat(inferred) || DataType.isDate(inferred);
  if (DataType.isDecimal(hint)) {
    const words = hint.bitWidth / 32;
    return arr.every((x) => x == null || (x instanceof Uint32Array && x.length === words));
  }
  if (DataType.isList(hint) || DataType.isLargeList(hint)) {
    if (!DataType.isList(inferred)) return false;
    const inner: unknown[] = [];
    for (const x of arr) {
      const list = x as ArrayLike<unknown> | null | undefined;
      if (list != null) for (let i = 0; i < list.length; i++) inner.push(list[i]);
    }
    return keepsType(inferred.children[0].type, hint.children[0].type, inner);
  }
  if (DataType.isStruct(hint)) {
    if (!DataType.isStruct(inferred)) return false;
    const names = hint.children.map((f) => f.name);
    if (inferred.children.length !== names.length || !inferred.children.every((f) => names.includes(f.name)))
      return false;
    return hint.children.every((f) =>
      keepsType(
        inferred.children.find((g) => g.name === f.name)!.type,
        f.type,
        arr.map((r) => (r as Record<string, unknown> | null)?.[f.name]),
      ),
    );
  }
  return false;
}

function typedArrayType(x: ArrayBufferView): DataType {
  if (x instanceof Float32Array) return new Float32();
  if (x instanceof Float64Array) return new Float64();
  if (x instanceof Int8Array) return new Int8();
  if (x instanceof Int16Array) return new Int16();
  if (x instanceof Int32Array) return new Int32();
  if (x instanceof Uint16Array) return new Uint16();
  if (x instanceof Uint32Array) return new Uint32();
  if (x instanceof BigInt64Array) return new Int64();
  return new Uint8();
}

/** Tables one after another (same columns); an empty list gives an empty table. */
export function concatTables(tables: readonly Table[]): Table {
  const nonEmpty = tables.filter((t) => t.numCols > 0);
  if (nonEmpty.length === 0) return EMPTY;
  if (nonEmpty.length === 1) return nonEmpty[0];
  return nonEmpty[0].concat(...nonEmpty.slice(1));
}

/** Column names and types, as `schema()` shows them. */
export interface SchemaInfo {
  readonly names: string[];
  readonly types: string[];
}

export function schemaOf(table: Table): SchemaInfo {
  return { names: table.schema.fields.map((f) => f.name), types: table.schema.fields.map((f) => String(f.type)) };
}
