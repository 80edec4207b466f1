/**
 * User metrics of one thread (a driver or a worker), aggregated where they are recorded: `inc`,
 * `set` and `observe` only change a number in a map, and every `intervalMs` (config.ts's
 * `metricsReportIntervalMs`) the thread hands what changed, as one batch, to its node (a worker
 * sends one `metrics` message; the driver's thread applies it to its node directly). So a hot loop
 * of `inc()` costs a map lookup per call, never a message.
 */

import type { MetricBatch, MetricDef, MetricPoint } from '../protocol/metrics.js';

export type { MetricBatch, MetricDef, MetricKind, MetricPoint } from '../protocol/metrics.js';

/** Where a thread's batches go: its node's table (driver), or a message to it (worker). */
export type MetricsFlush = (batch: MetricBatch) => void;

const SEP = '\u0000';

/** Index of the bucket `value` falls in: the first bound it does not exceed, else the `+Inf` one. */
export function bucketOf(boundaries: readonly number[], value: number): number {
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= boundaries[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class ThreadMetrics {
  private pending = new Map<MetricDef, Map<string, MetricPoint>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private target: MetricsFlush | undefined;
  private intervalMs = 500;

  /**
   * Sends this thread's batches to `target` every `intervalMs` from now on (what was recorded
   * before, with no runtime yet, goes with the first batch).
   */
  attach(target: MetricsFlush, intervalMs: number): void {
    this.target = target;
    this.intervalMs = Math.max(1, intervalMs);
    if (this.pending.size > 0) this.schedule();
  }

  /** Stops sending (the thread left its cluster); what is pending waits for the next `attach`. */
  detach(): void {
    this.target = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Records one update; `tags` are the values of `def.tagKeys`, in order, already checked. */
  record(def: MetricDef, tags: readonly string[], value: number): void {
    let series = this.pending.get(def);
    if (!series) this.pending.set(def, (series = new Map()));
    const key = tags.length === 1 ? tags[0] : tags.join(SEP);
    let p = series.get(key);
    if (def.kind === 'histogram') {
      if (!p) series.set(key, (p = { tags, v: 0, n: 0, b: new Array<number>(def.boundaries!.length + 1).fill(0) }));
      p.v += value;
      p.n! += 1;
      p.b![bucketOf(def.boundaries!, value)] += 1;
    } else if (!p) series.set(key, { tags, v: value });
    else if (def.kind === 'counter') p.v += value;
    else p.v = value;
    if (this.timer === undefined && this.target) this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Hands what changed to the target now (a worker about to exit, a driver shutting down). */
  flush(): void {
    if (!this.target || this.pending.size === 0) return;
    const batch: MetricBatch = [];
    for (const [def, series] of this.pending) batch.push({ def, points: [...series.values()] });
    this.pending = new Map();
    this.target(batch);
  }
}
