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

/** Records `bytes` of new shared memory in this thread; may run a GC to reclaim dropped buffers. */
export function noteSharedAllocation(bytes: number): void {
  sinceGc += bytes;
  if (sinceGc >= thresholdBytes) {
    sinceGc = 0;
    gc()?.();
  }
}

/** Sets the number of shared bytes allocated between forced GCs (tests use small values). */
export function setSharedGcThreshold(bytes: number): void {
  thresholdBytes = bytes;
}
