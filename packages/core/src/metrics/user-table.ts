/**
 * A node's user metrics: the batches of its driver's and workers' threads (thread-metrics.ts),
 * summed (counters, histograms) or last-written (gauges) per series, read by the node's Prometheus
 * exporter at scrape time (cluster/metrics-exporter.ts).
 */
import { ignored } from '../log.js';
import type { MetricBatch, MetricDef } from './thread-metrics.js';

export interface SeriesValue {
  readonly tags: readonly string[];
  /** Counter: the total; gauge: the last value set; histogram: the sum of observations. */
  value: number;
  /** Histogram: observations, and per bucket (not cumulative). */
  count: number;
  buckets: number[] | undefined;
}

export interface UserMetric {
  readonly def: MetricDef;
  readonly series: Map<string, SeriesValue>;
}

const sameDef = (a: MetricDef, b: MetricDef) =>
  a.kind === b.kind &&
  a.tagKeys.join(',') === b.tagKeys.join(',') &&
  (a.boundaries ?? []).join(',') === (b.boundaries ?? []).join(',');

export class UserMetricsTable {
  private readonly metrics = new Map<string, UserMetric>();

  /** Adds a thread's batch. A metric declared elsewhere under the same name differently is dropped (named at debug level). */
  apply(batch: MetricBatch): void {
    for (const { def, points } of batch) {
      let m = this.metrics.get(def.name);
      if (!m) this.metrics.set(def.name, (m = { def, series: new Map() }));
      else if (!sameDef(m.def, def)) {
        ignored(`user metric '${def.name}' declared again as a ${def.kind} with other tag keys or boundaries`)(
          new Error(`it is a ${m.def.kind} with tag keys [${m.def.tagKeys.join(', ')}] on this node; updates dropped`),
        );
        continue;
      }
      for (const p of points) {
        const key = p.tags.join('\u0000');
        const s = m.series.get(key);
        if (!s) {
          m.series.set(key, { tags: p.tags, value: p.v, count: p.n ?? 0, buckets: p.b ? [...p.b] : undefined });
        } else if (def.kind === 'gauge') s.value = p.v;
        else {
          s.value += p.v;
          s.count += p.n ?? 0;
          if (s.buckets && p.b) for (let i = 0; i < p.b.length; i++) s.buckets[i] += p.b[i];
        }
      }
    }
  }

  values(): IterableIterator<UserMetric> {
    return this.metrics.values();
  }
}
