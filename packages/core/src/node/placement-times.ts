/**
 * How long work waits between being ready to run (its arguments here: queued for resources) and
 * being placed on a worker of this node, by Ray's `WorkloadType` (`Task`, `Actor`): the rows of
 * `ray_scheduler_placement_time_ms` (Ray's buckets). Recorded only while metrics are on; the
 * scheduler pays one `performance.now()` when work is queued and a histogram update when it runs.
 */
import { LatencyHistogram } from '../metrics/latency-histogram.js';

/** Ray's `scheduler_placement_time_ms` bounds. */
export const PLACEMENT_BUCKETS_MS: readonly number[] = [1, 10, 100, 1000, 10000];

export class PlacementTimes {
  readonly task = new LatencyHistogram(PLACEMENT_BUCKETS_MS);
  readonly actor = new LatencyHistogram(PLACEMENT_BUCKETS_MS);
}
