/**
 * Reading Prometheus's text format (a `/metrics` page): the rows of a metric, their labels and
 * values. The head's dashboard reads its nodes' pages with it; tests read them through
 * `@ray-ts/core/testing`'s metricRows and metricValue.
 */

/** One row of a metric: its labels and value. */
export interface MetricRow {
  labels: Record<string, string>;
  value: number;
}

/** The rows of metric `name` in Prometheus's text format: labels and value of each. */
export function metricRows(text: string, name: string): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    rows.push({ labels, value: Number(m[3]) });
  }
  return rows;
}

/** The sum of the rows of metric `name` whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return metricRows(text, name)
    .filter((r) => Object.entries(labels).every(([k, v]) => r.labels[k] === v))
    .reduce((sum, r) => sum + r.value, 0);
}
