// Monte Carlo pi: each task throws darts. Defined in the app's own module, so it is loaded by
// reference: nodes on other hosts load it from their copy of the shipped working directory.
import { getRuntimeContext, remote } from '@ray-ts/core';

export function darts(n, seed) {
  let s = seed >>> 0 || 1;
  const rand = () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const x = rand();
    const y = rand();
    if (x * x + y * y <= 1) inside++;
  }
  return inside;
}

/** Hits out of `n` darts, and the node that threw them. */
export const samplePi = remote((n, seed) => ({ inside: darts(n, seed), nodeId: getRuntimeContext().nodeId }));
