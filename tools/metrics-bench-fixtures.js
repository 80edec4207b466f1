// Remote functions of tools/metrics-bench.mjs (loaded by reference in workers).
import { Counter, remote } from '@ray-ts/core';

export const f = remote(() => 1);

let calls;
/** A task that records one user metric (Ray's ray.util.metrics Counter) per call. */
export const counted = remote(() => {
  calls ??= new Counter('bench_calls', { tagKeys: ['kind'] });
  calls.inc(1, { kind: 'task' });
  return 1;
});

export class Pinger {
  ping() {
    return null;
  }
}
export const PingerRemote = remote(Pinger);
