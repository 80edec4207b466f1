/**
 * Values as they are stored and moved: V8 structured serialization, with ObjectRefs, actor handles
 * and remote functions nested in a value replaced by markers (and their ids recorded, so the store
 * keeps nested objects alive), and top-level typed arrays stored raw for zero-copy reads.
 */
import v8 from 'node:v8';
import { DeserializationError, SerializationError, type WireError, errorFromWire } from '../errors.js';
import { allocShared } from './memory.js';
import { allocBlock, readerBuffer } from './arena.js';
import { ObjectRef, refFor } from './object-ref.js';

/** Names of typed array classes stored raw. */
const typedArrayCtors = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const satisfies Record<Exclude<TypedArrayName, 'Buffer' | 'ArrayBuffer' | 'DataView'>, unknown>;

export type { StoredValue } from '../protocol/values.js';
import type { StoredValue, TypedArrayName } from '../protocol/values.js';

/** Objects that serialize themselves as markers (actor handles, remote functions). */
export const MARKER = '__rayts__';
export const toMarker = Symbol.for('ray-ts.to-marker');
export interface Markable {
  [toMarker](): Record<string, unknown>;
}

/**
 * A nested ObjectRef is stored as this prefix plus its id: a string deserializes ~5x faster than
 * a marker object (10k refs: 1.3 ms against 7 ms), and a value full of refs is common (a list of
 * block refs). A string of the user's that begins with it is stored as a `str` marker object.
 */
const REF_PREFIX = '\u0000\u0001ref:';

function isRefString(v: unknown): v is string {
  return typeof v === 'string' && v.charCodeAt(0) === 0 && v.startsWith(REF_PREFIX);
}

interface EncodeCtx {
  refs: string[];
  special: boolean;
  seen: Map<object, unknown>;
}

function isPlainish(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function encode(v: unknown, ctx: EncodeCtx): unknown {
  if (typeof v !== 'object' || v === null) {
    if (isRefString(v)) {
      ctx.special = true;
      return { [MARKER]: 'str', v };
    }
    return v;
  }
  if (v instanceof ObjectRef) {
    ctx.refs.push(v.id);
    ctx.special = true;
    return REF_PREFIX + v.id;
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v;
  if (toMarker in v) {
    ctx.special = true;
    return { [MARKER]: 'obj', ...(v as Markable)[toMarker]() };
  }
  if (v instanceof Date || v instanceof RegExp || v instanceof Error) return v;
  const seen = ctx.seen.get(v);
  if (seen !== undefined) return seen;
  if (Array.isArray(v)) {
    ctx.seen.set(v, v);
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e = v[i] as unknown;
      const enc = encode(e, ctx);
      if (enc !== e && !out) {
        out = v.slice(0, i);
        ctx.seen.set(v, out);
      }
      if (out) out.push(enc);
    }
    return out ?? v;
  }
  if (v instanceof Map) {
    ctx.seen.set(v, v);
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, e] of v) {
      const ek = encode(k, ctx);
      const ev = encode(e, ctx);
      if (ek !== k || ev !== e) changed = true;
      entries.push([ek, ev]);
    }
    if (!changed) return v;
    const m = new Map(entries);
    ctx.seen.set(v, m);
    return m;
  }
  if (v instanceof Set) {
    ctx.seen.set(v, v);
    let changed = false;
    const items: unknown[] = [];
    for (const e of v) {
      const ee = encode(e, ctx);
      if (ee !== e) changed = true;
      items.push(ee);
    }
    if (!changed) return v;
    const s = new Set(items);
    ctx.seen.set(v, s);
    return s;
  }
  ctx.seen.set(v, v);
  let out: Record<string, unknown> | undefined;
  const rec = v as Record<string, unknown>;
  const keys = Object.keys(rec);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const e = rec[k];
    const enc = encode(e, ctx);
    if ((enc !== e || !isPlainish(v)) && !out) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = rec[keys[j]];
      ctx.seen.set(v, out);
    }
    if (out) out[k] = enc;
  }
  return out ?? v;
}

/** How markers turn back into live objects in the receiving thread. */
export interface Reviver {
  revive(marker: Record<string, unknown>): unknown;
}

function revive(v: unknown, reviver: Reviver, seen: Set<object>): unknown {
  if (typeof v !== 'object' || v === null) {
    return isRefString(v) ? refFor(v.slice(REF_PREFIX.length)) : v;
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v;
  if (seen.has(v)) return v;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i], reviver, seen);
    return v;
  }
  if (v instanceof Map) {
    const entries = [...v].map(([k, e]) => [revive(k, reviver, seen), revive(e, reviver, seen)] as const);
    v.clear();
    for (const [k, e] of entries) v.set(k, e);
    return v;
  }
  if (v instanceof Set) {
    const items = [...v].map((e) => revive(e, reviver, seen));
    v.clear();
    for (const e of items) v.add(e);
    return v;
  }
  const rec = v as Record<string, unknown>;
  const kind = rec[MARKER];
  if (kind === 'str') return rec.v;
  if (kind === 'obj') return reviver.revive(rec);
  for (const k of Object.keys(rec)) rec[k] = revive(rec[k], reviver, seen);
  return v;
}

function typedArrayName(v: ArrayBufferView | ArrayBuffer): TypedArrayName | undefined {
  if (v instanceof ArrayBuffer) return 'ArrayBuffer';
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (v instanceof DataView) return 'DataView';
  const name = v.constructor.name;
  return name in typedArrayCtors ? (name as TypedArrayName) : undefined;
}

function bytesOf(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Shared memory for a large stored value of `bytes`: a block of this thread's arena (warm memory,
 * see arena.ts) when it has room, else a fresh buffer. Its contents are undefined.
 */
export function allocStored(bytes: number): Uint8Array {
  return allocBlock(bytes) ?? new Uint8Array(allocShared(bytes));
}

/**
 * Copies `src` into shared memory when it is larger than `sharedAbove` bytes (so that threads read
 * it without copies), else returns it unchanged (`copy` forces a private copy).
 */
export function intoShared(src: Uint8Array, sharedAbove: number, copy: boolean): Uint8Array {
  if (src.byteLength > sharedAbove) {
    // Always a buffer of our own, even for a view of shared memory: stored buffers get reused once
    // nobody reads them, so one must never be shared between two objects.
    if (src.buffer instanceof SharedArrayBuffer && !copy) return src;
    const out = allocStored(src.byteLength);
    out.set(src);
    return out;
  }
  return copy ? src.slice() : src;
}

/**
 * Serializes `value` for storage or transfer. Values larger than `sharedAbove` bytes end up in a
 * SharedArrayBuffer. `what` names the value in errors ("argument 2 of task 'f'").
 */
export function serialize(value: unknown, what: string, sharedAbove: number): StoredValue {
  // Primitives travel as they are (postMessage clones them): no serializer for the common case.
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return { t: 'js', v: value };
    case 'string':
      if (value.length <= 4096) return { t: 'js', v: value };
      break;
    case 'object':
      if (value === null) return { t: 'js', v: null };
  }
  if (typeof value === 'object' && value !== null && (ArrayBuffer.isView(value) || value instanceof ArrayBuffer)) {
    const ctor = typedArrayName(value);
    if (ctor) return { t: 'raw', ctor, b: intoShared(bytesOf(value), sharedAbove, true) };
  }
  const ctx: EncodeCtx = { refs: [], special: false, seen: new Map() };
  let bytes: Uint8Array;
  try {
    const encoded = encode(value, ctx);
    bytes = v8.serialize(encoded);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SerializationError(
      `Could not serialize ${what}: ${reason}. Values cross threads by structured clone: pass plain data, ` +
        `typed arrays, ObjectRefs, actor handles or remote functions (not plain functions, symbols or sockets).`,
      { cause: err },
    );
  }
  const out: StoredValue = { t: 'v8', b: intoShared(bytes, sharedAbove, false) };
  if (ctx.refs.length) out.refs = ctx.refs;
  if (ctx.special) out.special = true;
  return out;
}

/** Serializes an error as a stored value (what `get` of a failed task reads). */
export function storedError(e: WireError): StoredValue {
  return { t: 'err', e };
}

/** The byte size of a stored value (its share of the object store's capacity). */
export function storedSize(v: StoredValue): number {
  if (v.t === 'js') return typeof v.v === 'string' ? v.v.length * 2 : 8;
  return v.t === 'err' ? 256 : v.b.byteLength;
}

/** Ids of the objects a stored value refers to (kept alive while it lives). */
export function nestedRefs(v: StoredValue): readonly string[] {
  return v.t === 'v8' && v.refs ? v.refs : [];
}

/**
 * v8.deserialize, failing with DeserializationError (naming `what`) on bytes it cannot read:
 * truncated or garbage bytes (V8 throws an Error), or nesting so deep that it overflows the stack
 * (a RangeError, which V8 throws and unwinds cleanly).
 */
export function decodeV8(bytes: Uint8Array, what: string): unknown {
  try {
    return v8.deserialize(bytes);
  } catch (err) {
    throw new DeserializationError(
      `Could not decode ${what} (${bytes.byteLength} bytes): ${(err as Error).message}. The bytes are ` +
        'truncated or corrupt, or nest values deeper than V8 reads back.',
      { cause: err },
    );
  }
}

/**
 * Turns a stored value back into a value. Raw typed arrays are returned as views over the stored
 * bytes (zero-copy: do not mutate them). A stored error is thrown.
 */
export function deserialize(v: StoredValue, reviver: Reviver): unknown {
  switch (v.t) {
    case 'js':
      return v.v;
    case 'raw': {
      const b = v.b;
      if (v.ctor === 'ArrayBuffer') {
        return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer
          ? b.buffer
          : b.slice().buffer;
      }
      // A view over an arena block gets a buffer object of its own, which counts as a reader.
      const buf = readerBuffer(b) as ArrayBuffer;
      if (v.ctor === 'Buffer') return Buffer.from(buf, b.byteOffset, b.byteLength);
      if (v.ctor === 'DataView') return new DataView(buf, b.byteOffset, b.byteLength);
      const C = typedArrayCtors[v.ctor];
      if (b.byteOffset % C.BYTES_PER_ELEMENT !== 0) {
        const copy = b.slice();
        return new C(copy.buffer, 0, copy.byteLength / C.BYTES_PER_ELEMENT);
      }
      return new C(buf, b.byteOffset, b.byteLength / C.BYTES_PER_ELEMENT);
    }
    case 'v8': {
      const value = decodeV8(v.b, 'a value');
      return v.special ? revive(value, reviver, new Set()) : value;
    }
    case 'err':
      throw errorFromWire(v.e);
  }
}
