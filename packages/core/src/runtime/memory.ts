/**
 * Shared memory hygiene. V8 does not count SharedArrayBuffer bytes towards its GC heuristics, so
 * dropped shared buffers (spilled or freed objects, results already sent to the node) would stay
 * allocated until an unrelated GC. Each thread counts the shared bytes it allocates and runs a
 * full GC once that passes a threshold, which keeps process memory bounded by the store's
 * capacity plus what user code still holds.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gcFn: (() => void) | undefined | null = null;
let sinceGc = 0;
let thresholdBytes = Number(process.env.RAY_TS_SHARED_GC_THRESHOLD_BYTES) || 128 * 1024 * 1024;

function gc(): (() => void) | undefined {
  if (gcFn === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      try {
        v8.setFlagsFromString('--expose-gc');
        gcFn = vm.runInNewContext('gc') as () => void;
      } catch {
        gcFn = undefined;
      }
    }
  }
  return gcFn;
}

/** Runs a full garbage collection now (where the runtime allows it). */
export function runFullGc(): void {
  gc()?.();
}

/** Records `bytes` of new shared memory in this thread; may run a GC to reclaim dropped buffers. */
function noteSharedAllocation(bytes: number): void {
  sinceGc += bytes;
  if (sinceGc >= thresholdBytes) {
    sinceGc = 0;
    gc()?.();
  }
}

/**
 * Shared buffers this thread made for copies, and a pool of them for reuse. Writing into memory
 * that is already mapped is several times faster than into a new buffer (no page faults), which
 * is most of the cost of putting large values. Only buffers made here and never handed to a
 * reader are reused, so nobody can see their bytes change.
 */
const owned = new WeakSet<SharedArrayBuffer>();
const pool = new Map<number, SharedArrayBuffer[]>();
let pooledBytes = 0;
let poolLimitBytes = 0;

/** A shared buffer of exactly `bytes`, from the pool when one is there. Its contents are undefined. */
export function allocShared(bytes: number): SharedArrayBuffer {
  let reused = pool.get(bytes)?.pop();
  if (!reused && bytes >= 1024 * 1024 && poolLimitBytes > 0 && pressureHook && sinceGc + bytes >= thresholdBytes) {
    // Values dropped since the last GC may be waiting for their finalizers: collect and sweep now.
    sinceGc = 0;
    gc()?.();
    pressureHook();
    reused = pool.get(bytes)?.pop();
  }
  if (reused) {
    pooledBytes -= bytes;
    return reused;
  }
  noteSharedAllocation(bytes);
  const buf = new SharedArrayBuffer(bytes);
  owned.add(buf);
  return buf;
}

/** Takes a buffer this thread made earlier back from another thread (which let go of it) for reuse. */
export function adoptShared(buf: SharedArrayBuffer): void {
  owned.add(buf);
  recycleShared(buf);
}

/** Offers a buffer nobody reads any more for reuse; ignored unless this thread made it. */
export function recycleShared(buf: ArrayBufferLike): void {
  if (!(buf instanceof SharedArrayBuffer) || !owned.has(buf)) return;
  if (pooledBytes + buf.byteLength > poolLimitBytes) return;
  let list = pool.get(buf.byteLength);
  if (!list) pool.set(buf.byteLength, (list = []));
  list.push(buf);
  pooledBytes += buf.byteLength;
}

let pressureHook: (() => void) | undefined;
/** Called after a forced GC when a large buffer is needed and none is free (frees dropped refs). */
export function setMemoryPressureHook(hook: (() => void) | undefined): void {
  pressureHook = hook;
}

/** Sets how many bytes of free buffers may be kept for reuse (0 turns reuse off and empties the pool). */
export function setSharedPoolLimit(bytes: number): void {
  poolLimitBytes = bytes;
  if (bytes === 0) {
    pool.clear();
    pooledBytes = 0;
  }
}

/** Sets the number of shared bytes allocated between forced GCs (tests use small values). */
export function setSharedGcThreshold(bytes: number): void {
  thresholdBytes = bytes;
}
