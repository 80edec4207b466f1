/**
 * User metrics as a thread sends them to its node (metrics/thread-metrics.ts aggregates them; the
 * node's metrics/user-table.ts sums them): plain data, in the `metrics` worker message.
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** A user metric as declared (`new Counter(name, ...)`), sent with each batch that has its points. */
export interface MetricDef {
  readonly name: string;
  readonly kind: MetricKind;
  readonly description: string;
  readonly tagKeys: readonly string[];
  /** Histograms: the upper bounds of its buckets, increasing (a last `+Inf` bucket is implied). */
  readonly boundaries?: readonly number[];
}

/**
 * One series' change since the last batch. `tags`: its tag values in `tagKeys`' order. Counters:
 * `v` is the increase; gauges: the value last set; histograms: `v` the sum and `n` the number of
 * observations added, `b` the observations added per bucket (`boundaries.length + 1` of them).
 */
export interface MetricPoint {
  readonly tags: readonly string[];
  v: number;
  n?: number;
  b?: number[];
}

/** What a thread sends its node: each metric that changed, with its changed series. */
export type MetricBatch = { def: MetricDef; points: MetricPoint[] }[];
