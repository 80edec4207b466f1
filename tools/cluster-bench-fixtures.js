// Remote functions of tools/cluster-bench.js (loaded by reference on every node).
import { remote } from '@ray-ts/core';

const PIN = { resources: { node2: 0.001 } };

export const f = remote(() => 1, PIN);
export const makeArray = remote((n) => [new Uint8Array(n).fill(1), 1], { ...PIN, numReturns: 2 });
export const nbytes = remote((a) => a.byteLength, PIN);

export class Pinger {
  ping() {
    return null;
  }
}
export const PingerRemote = remote(Pinger, { numCpus: 0, ...PIN });
