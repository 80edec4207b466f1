// The actor of tools/collective-bench.mjs (loaded by reference in workers).
import { collective, remote } from '@ray-ts/core';

class BenchMember {
  /** Runs `iters` allreduces of `bytes` (Float32) after one warm-up; returns the seconds of the timed ones. */
  async allreduce(bytes, iters, group) {
    const a = new Float32Array(bytes / 4).fill(1);
    await collective.allreduce(a, { groupName: group });
    await collective.barrier({ groupName: group });
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await collective.allreduce(a, { groupName: group });
    return (performance.now() - t0) / 1000;
  }
}
export const BenchMemberActor = remote(BenchMember);
