/**
 * Shared memory for large stored values, mapped once and reused, as Ray's plasma store does.
 *
 * Fresh memory is what makes large values slow here: the first touch of each 4 KiB page faults,
 * about 3-4 ms per MiB on these VMs, against 0.07 ms to copy a MiB that is already mapped (and
 * glibc's huge-page tunable, which cuts the faults, only applies to processes started with it).
 * So each thread of a node that makes large values (the node's own thread, which is also the
 * embedded driver's, and each worker thread) keeps an arena: a few large SharedArrayBuffers
 * ("segments") that it carves blocks from. Once a segment's pages have been touched, writing a
 * value into a block of it runs at memcpy speed.
 *
 * A block is only ever written by the thread that allocated it, before anyone else sees it; then
 * it is read-only. Each block has a 64-byte header in its segment, just before its bytes, with a
 * reference count that any thread changes with Atomics:
 * - the allocation counts 1: the stored value. The node's object store gives it up when the
 *   object is freed or spilled ({@link releaseBlock}); a value that never reaches a store is
 *   released by whoever drops it;
 * - each zero-copy reader counts 1 ({@link readerBuffer}): deserializing a raw typed array gives
 *   the user a view over the block, through a SharedArrayBuffer object of its own (a clone of the
 *   segment's handle, so every view made from it, subarrays included, keeps that object alive);
 *   when the collector finds the object unreachable, no view of it is left in that thread and
 *   the count drops.
 * The owner reuses a block once its count is 0. Blocks are found free lazily, when an allocation
 * finds no room; then, at the arena's limit, a GC and the ref trackers' sweep (which lets the
 * store free dropped refs) run first, and the owner waits briefly for releases from other threads.
 * An allocation that still finds no room gets a fresh SharedArrayBuffer, as without the arena.
 *
 * A view handed to another thread by user code (postMessage) is not counted: copy it first.
 */
import { prefault } from './prefault.js';
import { allocShared, runFullGc } from './memory.js';

const MAGIC = 0x41524e41; // 'ARNA'
/** Bytes of a block's header (before its bytes): [0] MAGIC, [1] references, [2] its offset. */
const HEADER = 64;
/** Bytes at a segment's start: [0] a counter bumped (and notified) whenever a block's count drops to 0. */
const SEGMENT_HEADER = 64;
const ALIGN = 64;
const MIN_SEGMENT = 64 * 1024 * 1024;
const SEGMENT_STEP = 2 * 1024 * 1024;
const PREFAULT_ABOVE = 16 * 1024 * 1024;
/** How long an allocation at the limit waits for other threads to release blocks. */
const RELEASE_WAIT_MS = 50;
/** After that found nothing, how long allocations at the limit take fresh memory at once. */
const QUIET_MS = 1000;

interface Span {
  off: number;
  len: number;
}

class Segment {
  readonly words: Int32Array;
  /** Free spans, by offset, never adjacent (coalesced). */
  readonly free: Span[];
  /** Allocated blocks: header offset -> span length (header included). */
  readonly live = new Map<number, number>();

  constructor(readonly sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab, 0, SEGMENT_HEADER / 4);
    this.free = [{ off: SEGMENT_HEADER, len: sab.byteLength - SEGMENT_HEADER }];
  }

  take(len: number): number | undefined {
    for (let i = 0; i < this.free.length; i++) {
      const s = this.free[i];
      if (s.len < len) continue;
      const off = s.off;
      if (s.len === len) this.free.splice(i, 1);
      else {
        s.off += len;
        s.len -= len;
      }
      this.live.set(off, len);
      return off;
    }
    return undefined;
  }

  /** The release counter when {@link reclaim} last looked. */
  private seen = 0;

  /** Frees the blocks nobody references any more; returns how many bytes that freed. */
  reclaim(): number {
    const releases = Atomics.load(this.words, 0);
    if (releases === this.seen) return 0; // no count dropped to 0 since
    this.seen = releases;
    let freed = 0;
    for (const [off, len] of this.live) {
      if (Atomics.load(new Int32Array(this.sab, off, 2), 1) !== 0) continue;
      this.live.delete(off);
      this.give({ off, len });
      freed += len;
    }
    return freed;
  }

  private give(span: Span): void {
    const f = this.free;
    let i = 0;
    while (i < f.length && f[i].off < span.off) i++;
    const prev = i > 0 ? f[i - 1] : undefined;
    const next = i < f.length ? f[i] : undefined;
    if (prev && prev.off + prev.len === span.off) {
      prev.len += span.len;
      if (next && prev.off + prev.len === next.off) {
        prev.len += next.len;
        f.splice(i, 1);
      }
    } else if (next && span.off + span.len === next.off) {
      next.off = span.off;
      next.len += span.len;
    } else f.splice(i, 0, span);
  }

  get empty(): boolean {
    return this.live.size === 0;
  }

  /** Since when it has been seen empty (by {@link trimArena}). */
  emptySince: number | undefined;
}

const segments: Segment[] = [];
let arenaBytes = 0;
let limitBytes = 0;
let pressureHook: (() => number) | undefined;
let quietUntil = 0;

/** How much a thread's arena may map on a node whose store holds `capacity` bytes: a quarter, 2 GiB at most. */
export function arenaLimitFor(capacity: number): number {
  return Math.min(2 * 1024 ** 3, Math.floor(capacity / 4));
}

/**
 * Sets how many bytes of segments this thread may keep (0 turns the arena off and drops the
 * segments; blocks in use stay valid, their memory is freed once nobody references it).
 */
export function setArenaLimit(bytes: number): void {
  limitBytes = bytes;
  quietUntil = 0;
  if (bytes === 0) {
    segments.length = 0;
    arenaBytes = 0;
    if (trimTimer) clearInterval(trimTimer);
    trimTimer = undefined;
  }
}

/** Segments empty for this long are given back (the memory of one idle phase is not kept for good). */
const TRIM_AFTER_MS = 60_000;
/** What a thread keeps mapped however idle it is: one segment's worth of warm memory. */
const KEEP_BYTES = MIN_SEGMENT;
let trimTimer: NodeJS.Timeout | undefined;

/**
 * Drops segments that have been empty since `TRIM_AFTER_MS` before `now`, largest first, down to
 * `KEEP_BYTES` (a timer runs it every 10 s while the thread has segments). Their memory is freed
 * once the collector finds them unreachable. Returns how many bytes it dropped.
 */
export function trimArena(now: number = performance.now()): number {
  reclaimAll();
  const idle: Segment[] = [];
  for (const s of segments) {
    if (!s.empty) s.emptySince = undefined;
    else if ((s.emptySince ??= now) <= now - TRIM_AFTER_MS) idle.push(s);
  }
  let dropped = 0;
  for (const s of idle.sort((a, b) => b.sab.byteLength - a.sab.byteLength)) {
    if (arenaBytes - s.sab.byteLength < KEEP_BYTES) continue;
    segments.splice(segments.indexOf(s), 1);
    arenaBytes -= s.sab.byteLength;
    dropped += s.sab.byteLength;
  }
  return dropped;
}

/**
 * Called when the arena is at its limit, after a GC: it releases refs the GC found dropped (so
 * that the store frees their objects) and returns how many, so the arena knows whether waiting
 * for releases is worth it.
 */
export function setArenaPressureHook(hook: (() => number) | undefined): void {
  pressureHook = hook;
}

/** Bytes of this thread's segments, and of the blocks in them now in use. */
export function arenaStats(): { segmentBytes: number; liveBytes: number; segments: number } {
  let live = 0;
  for (const s of segments) for (const len of s.live.values()) live += len;
  return { segmentBytes: arenaBytes, liveBytes: live, segments: segments.length };
}

function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}

function tryTake(len: number, bytes: number): Uint8Array | undefined {
  for (const s of segments) {
    const off = s.take(len);
    if (off !== undefined) return block(s, off, bytes);
  }
  return undefined;
}

function block(s: Segment, off: number, bytes: number): Uint8Array {
  const h = new Int32Array(s.sab, off, 3);
  h[0] = MAGIC;
  Atomics.store(h, 1, 1);
  h[2] = off;
  return new Uint8Array(s.sab, off + HEADER, bytes);
}

function reclaimAll(): number {
  let freed = 0;
  for (const s of segments) freed += s.reclaim();
  return freed;
}

/** Makes room for a segment of `size` bytes under the limit by dropping empty segments; whether it fits. */
function roomFor(size: number): boolean {
  for (let i = segments.length - 1; i >= 0 && arenaBytes + size > limitBytes; i--) {
    if (!segments[i].empty) continue;
    arenaBytes -= segments[i].sab.byteLength;
    segments.splice(i, 1);
  }
  return arenaBytes + size <= limitBytes;
}

function grow(len: number, bytes: number): Uint8Array | undefined {
  const size = Math.max(MIN_SEGMENT, roundUp(len + SEGMENT_HEADER, SEGMENT_STEP));
  if (!roomFor(size)) return undefined;
  const sab = allocShared(size);
  // For a large value that fills most of it, a helper thread faults the pages in from the end
  // while the writer fills it from the start. Not for small blocks: faulting a whole segment
  // ahead of need costs a core the workers may want (seen in Data's exchanges).
  if (len >= PREFAULT_ABOVE && len * 2 >= size) prefault(sab);
  const s = new Segment(sab);
  segments.push(s);
  arenaBytes += size;
  trimTimer ??= setInterval(() => trimArena(), 10_000).unref();
  const off = s.take(len)!;
  return block(s, off, bytes);
}

/** Waits up to RELEASE_WAIT_MS for another thread to release one of this thread's blocks. */
function waitForRelease(len: number, bytes: number): Uint8Array | undefined {
  const deadline = Date.now() + RELEASE_WAIT_MS;
  for (;;) {
    if (reclaimAll() > 0) {
      const b = tryTake(len, bytes);
      if (b) return b;
    }
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    // Any segment's counter moves on a release in it; wait on the largest (likeliest) with a short timeout.
    const s = segments.reduce((a, b) => (b.sab.byteLength > a.sab.byteLength ? b : a));
    Atomics.wait(s.words, 0, Atomics.load(s.words, 0), Math.min(left, 5));
  }
}

/**
 * A block of exactly `bytes` for a stored value, from this thread's arena (its count is 1: see
 * {@link releaseBlock}); undefined when the arena is off, the value too large for it, or no room
 * could be made: use fresh memory then.
 */
export function allocBlock(bytes: number): Uint8Array | undefined {
  if (limitBytes === 0) return undefined;
  const len = roundUp(bytes, ALIGN) + HEADER;
  if (len + SEGMENT_HEADER > limitBytes / 2) return undefined;
  // Released blocks first (their pages are warm), then the rest of the segments.
  reclaimAll();
  const b = tryTake(len, bytes);
  if (b) return b;
  // No room in warm memory. A new segment costs page faults (~3 ms a MiB), a full GC a few ms:
  // first find the refs and reader views that were dropped, so that their blocks come back.
  // After such an attempt freed nothing at the limit, the thread holds its arena full of live
  // values: it skips the attempts for a while (fresh memory at once, not a GC and a wait each).
  const trying = performance.now() >= quietUntil;
  let released = 0;
  if (trying && segments.some((s) => !s.empty)) {
    runFullGc();
    released = (pressureHook?.() ?? 0) + sweepReaders();
    const again = reclaimAll() > 0 ? tryTake(len, bytes) : undefined;
    if (again) return again;
  }
  const grown = grow(len, bytes);
  if (grown || !trying) return grown;
  // At the limit, releases from other threads (a worker's dropped refs that the node frees, the
  // node's own garbage) are worth a moment's wait.
  const waited = released > 0 ? waitForRelease(len, bytes) : undefined;
  if (!waited) quietUntil = performance.now() + QUIET_MS;
  return waited;
}

/** The header words of `b` if it is a block of an arena (of any thread), else undefined. */
function headerOf(b: Uint8Array): Int32Array | undefined {
  const off = b.byteOffset - HEADER;
  if (off < SEGMENT_HEADER || !(b.buffer instanceof SharedArrayBuffer) || off % ALIGN !== 0) return undefined;
  const h = new Int32Array(b.buffer, off, 3);
  return h[0] === MAGIC && h[2] === off ? h : undefined;
}

/** Whether `b` is a block of an arena. */
export function isBlock(b: Uint8Array): boolean {
  return headerOf(b) !== undefined;
}

/** Drops one reference to the block `b` (ignored for other memory). */
export function releaseBlock(b: Uint8Array): void {
  const h = headerOf(b);
  if (h) releaseHeader(b.buffer as SharedArrayBuffer, h);
}

function releaseHeader(sab: SharedArrayBuffer, h: Int32Array): void {
  if (Atomics.sub(h, 1, 1) !== 1) return;
  const seg = new Int32Array(sab, 0, 1);
  Atomics.add(seg, 0, 1);
  Atomics.notify(seg, 0);
}

interface Reader {
  readonly sab: SharedArrayBuffer;
  readonly off: number;
  readonly weak: WeakRef<SharedArrayBuffer>;
}
const readers = new Set<Reader>();
const readerGone = new FinalizationRegistry<Reader>((r) => dropReader(r));

function dropReader(r: Reader): void {
  if (!readers.delete(r)) return;
  releaseHeader(r.sab, new Int32Array(r.sab, r.off, 3));
}

/**
 * Bytes read in place since this thread last looked for dropped readers. Another thread's arena
 * waits on them, and this thread may allocate nothing (no GC would ever run for them here): after
 * READ_GC_BYTES, a full GC and a sweep run once the current work yields.
 */
let readSinceSweep = 0;
let sweepScheduled = false;
const READ_GC_BYTES = 128 * 1024 * 1024;

function noteRead(bytes: number): void {
  readSinceSweep += bytes;
  if (readSinceSweep < READ_GC_BYTES || sweepScheduled) return;
  sweepScheduled = true;
  setImmediate(() => {
    sweepScheduled = false;
    readSinceSweep = 0;
    runFullGc();
    sweepReaders();
  });
}

let nextCollection = 0;
/**
 * Another thread's arena waits for blocks this thread may hold garbage refs or views to: a full
 * GC, the pressure hook's sweep and the readers'. Refs the GC found dropped and nobody swept are
 * released by their finalizers, in the next turns. At most 10% of the time goes to these GCs (a
 * driver with a large heap collects less often).
 */
export function collectGarbage(): void {
  const start = performance.now();
  if (start < nextCollection) return;
  runFullGc();
  pressureHook?.();
  sweepReaders();
  const end = performance.now();
  nextCollection = end + Math.max(20, 9 * (end - start));
}

/** Releases the readers whose buffers the last GC collected; returns how many. */
function sweepReaders(): number {
  let n = 0;
  for (const r of readers) {
    if (r.weak.deref() !== undefined) continue;
    readerGone.unregister(r);
    dropReader(r);
    n++;
  }
  return n;
}

/**
 * The buffer to make zero-copy views of `b` over: for a block, a SharedArrayBuffer object of the
 * reader's own, counted as a reference until the collector finds it (and every view over it)
 * unreachable; for other memory, `b.buffer`. Make views at `b.byteOffset`.
 */
export function readerBuffer(b: Uint8Array): ArrayBufferLike {
  const h = headerOf(b);
  if (!h) return b.buffer;
  const sab = b.buffer as SharedArrayBuffer;
  Atomics.add(h, 1, 1);
  noteRead(b.byteLength);
  const own = structuredClone(sab);
  const r: Reader = { sab, off: h.byteOffset, weak: new WeakRef(own) };
  readers.add(r);
  readerGone.register(own, r, r);
  return own;
}
