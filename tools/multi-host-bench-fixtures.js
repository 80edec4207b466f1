// Remote functions of tools/multi-host-bench-driver.mjs (loaded by reference on every node). All
// are pinned to the worker node on host B by its custom resource `hostB`, as the Ray side's are.
import { getRuntimeContext, remote } from '@ray-ts/core';

const ON_B = { resources: { hostB: 0.001 } };

export const noop = remote(() => 1, ON_B);
/** A byte array made on B, and a small second return that says it exists (timing the get only). */
export const makeArray = remote((n) => [new Uint8Array(n).fill(1), 1], { ...ON_B, numReturns: 2 });
export const nbytes = remote((a) => a.byteLength, ON_B);
export const whereAmI = remote(() => getRuntimeContext().nodeId, ON_B);

export class Pinger {
  ping() {
    return null;
  }
  node() {
    return getRuntimeContext().nodeId;
  }
}
export const PingerRemote = remote(Pinger, { numCpus: 0, ...ON_B });
