/**
 * Exchange kernels in plain JavaScript for blocks whose columns are all numbers without nulls
 * (the common case of shuffles and sorts): partition, concatenate, sort and shuffle straight on
 * typed arrays. On these machines every copy into fresh memory costs page faults, so the kernels
 * make as few copies as they can (a Polars round trip makes several); other blocks go to Polars.
 */
import type { SeededRng } from '@ray-ts/core';
import { DataType, RecordBatchFileWriter, Table, makeVector, type Vector } from 'apache-arrow';

type Numeric =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;
type Ctor = { new (n: number): Numeric };

/** Columns of a table as typed arrays, when every column is a number column without nulls. */
export function numericColumns(t: Table): { names: string[]; cols: Numeric[] } | undefined {
  if (t.numCols === 0) return undefined;
  const names: string[] = [];
  const cols: Numeric[] = [];
  for (const f of t.schema.fields) {
    if (!(DataType.isInt(f.type) || DataType.isFloat(f.type))) return undefined;
    const v = t.getChild(f.name) as Vector;
    if (v.nullCount > 0) return undefined;
    // Float16 has no typed array of its own: leave it to Polars.
    if (DataType.isFloat(f.type) && (f.type as { precision: number }).precision === 0) return undefined;
    names.push(f.name);
    cols.push(v.toArray() as Numeric);
  }
  return { names, cols };
}

function tableOf(names: readonly string[], cols: readonly Numeric[]): Table {
  const vs: Record<string, Vector> = {};
  names.forEach((n, i) => (vs[n] = makeVector(cols[i] as Float64Array)));
  return new Table(vs);
}

/**
 * Scratch memory reused by this thread's kernels for arrays that live only until their block is
 * encoded: fresh memory costs a page fault per page on first touch, reused memory does not.
 */
const scratch: ArrayBuffer[] = [];
let scratchUsed = 0;

/** A typed array over reused scratch memory (valid until {@link releaseScratch}). */
function scratchArray(C: Ctor, length: number): Numeric {
  const bytes = length * (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const need = Math.max(8, Math.ceil(bytes / 8) * 8);
  let buf = scratch[scratchUsed];
  if (!buf || buf.byteLength < need) {
    buf = new ArrayBuffer(Math.max(need, (buf?.byteLength ?? 0) * 2));
    scratch[scratchUsed] = buf;
  }
  scratchUsed++;
  return new (C as unknown as new (b: ArrayBuffer, o: number, n: number) => Numeric)(buf, 0, length);
}

/** Frees the scratch arrays handed out since the last call (their blocks have been encoded). */
export function releaseScratch(): void {
  scratchUsed = 0;
}

/** 64-bit integer columns as pairs of 32-bit words: moving a BigInt64Array element makes a BigInt. */
function words(c: Numeric): Int32Array | undefined {
  return c instanceof BigInt64Array || c instanceof BigUint64Array
    ? new Int32Array(c.buffer, c.byteOffset, c.length * 2)
    : undefined;
}

/** Rows reordered by `order` (a gather), one array per column, in scratch memory. */
function gather(cols: readonly Numeric[], order: Uint32Array): Numeric[] {
  return cols.map((c) => {
    const out = scratchArray(c.constructor as Ctor, order.length);
    const w = words(c);
    if (w) {
      const o = words(out)!;
      for (let i = 0; i < order.length; i++) {
        const k = order[i] * 2;
        o[2 * i] = w[k];
        o[2 * i + 1] = w[k + 1];
      }
    } else for (let i = 0; i < order.length; i++) out[i] = c[order[i]];
    return out;
  });
}

/**
 * Splits rows by partition id into `P` tables (views of one gathered copy of each column), in
 * row order within each partition.
 */
export function scatter(names: readonly string[], cols: readonly Numeric[], pid: Int32Array, P: number): Table[] {
  const n = pid.length;
  const offsets = new Uint32Array(P + 1);
  for (let i = 0; i < n; i++) offsets[pid[i] + 1]++;
  for (let p = 0; p < P; p++) offsets[p + 1] += offsets[p];
  // Each row's slot in the output (a counting sort), computed once for all columns.
  const next = offsets.slice(0, P);
  const slot = new Uint32Array(n);
  for (let i = 0; i < n; i++) slot[i] = next[pid[i]]++;
  // Read each column once, in order, and write into P sequential streams (cache-friendly, where a
  // gather by partition would read the whole column once per partition).
  const sorted = cols.map((c) => {
    const out = scratchArray(c.constructor as Ctor, n);
    const w = words(c);
    if (w) {
      const o = words(out)!;
      for (let i = 0; i < n; i++) {
        const k = slot[i] * 2;
        o[k] = w[2 * i];
        o[k + 1] = w[2 * i + 1];
      }
    } else for (let i = 0; i < n; i++) out[slot[i]] = c[i];
    return out;
  });
  const out: Table[] = [];
  for (let p = 0; p < P; p++) {
    out.push(
      tableOf(
        names,
        sorted.map((c) => c.subarray(offsets[p], offsets[p + 1]) as Numeric),
      ),
    );
  }
  return out;
}

/** The tables' rows one after another, if they all have the same numeric columns. */
export function concatNumeric(tables: readonly Table[]): { names: string[]; cols: Numeric[] } | undefined {
  const parts = tables.filter((t) => t.numCols > 0).map(numericColumns);
  if (parts.length === 0 || parts.some((p) => !p)) return undefined;
  const first = parts[0]!;
  for (const p of parts) {
    if (
      p!.names.length !== first.names.length ||
      p!.names.some((n, i) => n !== first.names[i] || p!.cols[i].constructor !== first.cols[i].constructor)
    )
      return undefined;
  }
  if (parts.length === 1) return first;
  const total = parts.reduce((s, p) => s + p!.cols[0].length, 0);
  const cols = first.cols.map((c, j) => {
    const out = scratchArray(c.constructor as Ctor, total);
    let at = 0;
    for (const p of parts) {
      out.set(p!.cols[j] as never, at);
      at += p!.cols[j].length;
    }
    return out;
  });
  return { names: first.names, cols };
}

/**
 * The rows in a random order: one seeded permutation (Fisher-Yates on row indices, a small array),
 * then one gather per column into scratch memory.
 */
export function shuffleColumns(cols: readonly Numeric[], rng: SeededRng): Numeric[] {
  return gather(cols, randomPermutation(cols[0]?.length ?? 0, rng));
}

/** 0..n-1 in a random order (Fisher-Yates). */
export function randomPermutation(n: number, rng: SeededRng): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const x = perm[i];
    perm[i] = perm[j];
    perm[j] = x;
  }
  return perm;
}

/** Sortable 32-bit halves of each key: unsigned order of (hi, lo) is the numeric order. */
function sortableKeys(c: Numeric): { hi: Uint32Array | undefined; lo: Uint32Array } {
  const n = c.length;
  const lo = new Uint32Array(n);
  if (c instanceof Float64Array || c instanceof BigInt64Array || c instanceof BigUint64Array) {
    const words = new Uint32Array(c.buffer, c.byteOffset, n * 2);
    const hi = new Uint32Array(n);
    const isFloat = c instanceof Float64Array;
    const signed = !(c instanceof BigUint64Array);
    for (let i = 0; i < n; i++) {
      let h = words[2 * i + 1];
      let l = words[2 * i];
      if (isFloat) {
        if (h & 0x80000000) {
          h = ~h >>> 0;
          l = ~l >>> 0;
        } else h = (h | 0x80000000) >>> 0;
      } else if (signed) h = (h ^ 0x80000000) >>> 0;
      hi[i] = h;
      lo[i] = l;
    }
    return { hi, lo };
  }
  if (c instanceof Float32Array) {
    const words = new Uint32Array(c.buffer, c.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const w = words[i];
      lo[i] = w & 0x80000000 ? ~w >>> 0 : (w | 0x80000000) >>> 0;
    }
    return { hi: undefined, lo };
  }
  const signed = c instanceof Int32Array || c instanceof Int16Array || c instanceof Int8Array;
  for (let i = 0; i < n; i++) lo[i] = signed ? ((c[i] as number) ^ 0x80000000) >>> 0 : (c[i] as number) >>> 0;
  return { hi: undefined, lo };
}

/** One stable LSD radix pass on a 16-bit digit of `key`, reordering `order`. */
function radixPass(order: Uint32Array, tmp: Uint32Array, key: Uint32Array, shift: number): void {
  const count = new Uint32Array(65537);
  const n = order.length;
  for (let i = 0; i < n; i++) count[((key[order[i]] >>> shift) & 0xffff) + 1]++;
  for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
  for (let i = 0; i < n; i++) {
    const o = order[i];
    tmp[count[(key[o] >>> shift) & 0xffff]++] = o;
  }
  order.set(tmp);
}

/**
 * The row order that sorts by the key columns (first key first), stable; descending reverses it.
 * LSD radix sort on 16-bit digits: linear time, no comparisons.
 */
export function argsort(keys: readonly Numeric[], descending: boolean): Uint32Array {
  const n = keys[0]?.length ?? 0;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const tmp = new Uint32Array(n);
  for (let k = keys.length - 1; k >= 0; k--) {
    const { hi, lo } = sortableKeys(keys[k]);
    radixPass(order, tmp, lo, 0);
    radixPass(order, tmp, lo, 16);
    if (hi) {
      radixPass(order, tmp, hi, 0);
      radixPass(order, tmp, hi, 16);
    }
  }
  if (descending) order = order.reverse();
  return order;
}

/** Rows sorted by key columns (all numeric), as a table. */
export function sortNumeric(
  names: readonly string[],
  cols: readonly Numeric[],
  keys: readonly string[],
  descending: boolean,
): Table | undefined {
  const idx = keys.map((k) => names.indexOf(k));
  if (idx.some((i) => i < 0)) return undefined;
  const order = argsort(
    idx.map((i) => cols[i]),
    descending,
  );
  return tableOf(names, gather(cols, order));
}

export { tableOf };

/**
 * Reused memory for the bytes a task returns. Core copies a task's results into the object store
 * as the task ends, before this thread starts another task, so the next task may write over them:
 * each task's outputs are laid out one after another, from the start again at the next task.
 * Only for tasks, which a worker runs one at a time (not for actors, whose calls may interleave).
 */
class OutputArena {
  private buf = new ArrayBuffer(0);
  private used = 0;
  reset(): void {
    this.used = 0;
  }
  alloc(n: number): Uint8Array {
    const start = Math.ceil(this.used / 8) * 8;
    if (start + n > this.buf.byteLength) {
      // Views already handed out keep the old buffer alive; later tasks use the bigger one.
      this.buf = new ArrayBuffer(Math.max(n * 2, this.buf.byteLength * 2, 1 << 20));
      this.used = 0;
      return this.alloc(n);
    }
    this.used = start + n;
    return new Uint8Array(this.buf, start, n);
  }
}

/** This thread's output arena (see {@link OutputArena}). */
export const outputArena = new OutputArena();

/** Arrow IPC file bytes of a table, written into `alloc`'s memory instead of a fresh buffer. */
export function encodeInto(table: Table, alloc: (n: number) => Uint8Array): Uint8Array {
  const writer = RecordBatchFileWriter.writeAll(table) as unknown as {
    _sink?: { _values?: Uint8Array[] };
    toUint8Array(sync: true): Uint8Array;
  };
  const chunks = writer._sink?._values;
  // apache-arrow keeps the written chunks in its sink; if that ever changes, take its own copy.
  if (!Array.isArray(chunks)) return writer.toUint8Array(true);
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = alloc(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
