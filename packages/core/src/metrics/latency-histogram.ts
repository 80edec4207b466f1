/**
 * A histogram with fixed bucket bounds that runtime code (the scheduler, the gRPC servers) records
 * into on its hot paths: `observe()` is a binary search over a few bounds and three additions, no
 * allocation. The node's exporter renders it at scrape time (cluster/metrics-latency.ts).
 */
import { bucketOf } from './thread-metrics.js';

export class LatencyHistogram {
  /** Observations per bucket (not cumulative); the last is the `+Inf` one. */
  readonly buckets: number[];
  sum = 0;
  count = 0;

  /** `bounds`: upper bounds of the buckets, increasing (a `+Inf` bucket is added). */
  constructor(readonly bounds: readonly number[]) {
    this.buckets = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    this.buckets[bucketOf(this.bounds, value)]++;
    this.sum += value;
    this.count++;
  }
}
