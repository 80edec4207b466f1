/**
 * Faults in the pages of a large receive buffer from a helper thread while chunks arrive, so the
 * receiving thread does not pay for first-touch page faults alone (they cost ~3 s/GB on the
 * development VM, more than the copy itself). The helper walks from the end backwards and the
 * receiver copies from the start, so each faults about half. It touches a page with an atomic
 * compare-exchange of 0 with 0: that never changes a byte the receiver already wrote, whatever
 * the interleaving.
 */
import { Worker } from 'node:worker_threads';

const PAGE = 4096;
const source = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ buf, progress }) => {
  const words = new Int32Array(buf, 0, Math.floor(buf.byteLength / 4));
  const prog = new Int32Array(progress);
  for (let off = Math.floor((buf.byteLength - 4) / ${PAGE}) * ${PAGE}; off >= 0; off -= ${PAGE}) {
    if (Atomics.load(prog, 0) >= off) break; // the receiver got here first
    Atomics.compareExchange(words, off >> 2, 0, 0);
  }
});`;

let helper: Worker | undefined;

/** A receive buffer being filled: report progress after each chunk. */
export interface Prefault {
  /** The receiver has written bytes up to `offset`. */
  advance(offset: number): void;
}

/** Starts faulting in `buf` (a whole SharedArrayBuffer) from its end; returns the progress hook. */
export function prefault(buf: SharedArrayBuffer): Prefault {
  if (!helper) {
    helper = new Worker(source, { eval: true });
    helper.unref();
    helper.on('error', () => {
      helper = undefined;
    });
  }
  const progress = new SharedArrayBuffer(4);
  const prog = new Int32Array(progress);
  helper.postMessage({ buf, progress });
  return { advance: (offset) => Atomics.store(prog, 0, Math.min(offset, 0x7fffffff)) };
}
