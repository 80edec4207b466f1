// The Grafana dashboard shipped for Serve (docs/grafana/ray-ts-serve.json) queries only metrics
// that Serve's proxies, replicas, routers and controller export.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram } from '@ray-ts/core';
import { ControllerMetrics } from './controller-metrics.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { ReplicaMetrics } from './replica-metrics.js';
import { RouterMetrics } from './router-metrics.js';

/** The Prometheus names (with `ray_`, and a histogram's `_bucket`, `_sum`, `_count`) of the metrics an object declares. */
function exported(holder: object): string[] {
  const out: string[] = [];
  for (const v of Object.values(holder)) {
    if (v instanceof Histogram) out.push(...['_bucket', '_sum', '_count'].map((s) => `ray_${v.name}${s}`));
    else if (v instanceof Counter || v instanceof Gauge) out.push(`ray_${v.name}`);
  }
  return out;
}

describe('the Grafana dashboard shipped for Serve (docs/grafana/ray-ts-serve.json)', () => {
  it('queries only metrics that Serve exports, and every one of them', () => {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/grafana/ray-ts-serve.json');
    const dash = JSON.parse(fs.readFileSync(file, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\bray_\w+/g) ?? [])));
    const names = new Set([
      ...exported(new ProxyMetrics()),
      ...exported(new ReplicaMetrics({ deployment: 'd', replica: 'r', application: 'a' })),
      ...exported(new RouterMetrics('h')),
      ...exported(new ControllerMetrics()),
    ]);
    expect(names.size).toBeGreaterThanOrEqual(13);
    for (const name of used) expect([...names]).toContain(name);
    // Every metric Serve exports has a panel (a histogram through its buckets).
    for (const name of names) if (!/_(sum|count)$/.test(name)) expect([...used]).toContain(name);
  });
});
