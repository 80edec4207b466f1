import { afterEach, describe, expect, it } from 'vitest';
import { MetricsError } from '../errors.js';
import { threadState } from '../runtime/thread-state.js';
import type { MetricBatch } from './thread-metrics.js';
import { bucketOf, ThreadMetrics } from './thread-metrics.js';
import { Counter, Gauge, Histogram } from './user-metrics.js';
import { UserMetricsTable } from './user-table.js';

/** This thread's batches, flushed by hand (the interval is long). */
function capture(): MetricBatch[] {
  const batches: MetricBatch[] = [];
  const m = new ThreadMetrics();
  m.attach((b) => batches.push(b), 60_000);
  threadState().metrics = m;
  return batches;
}

afterEach(() => {
  threadState().metrics?.detach();
  threadState().metrics = undefined;
});

describe('user metrics (ray.util.metrics)', () => {
  it('aggregates a thread’s updates into one batch per flush', () => {
    const batches = capture();
    const c = new Counter('req_total', { description: 'requests', tagKeys: ['route'] });
    const g = new Gauge('queue_len');
    for (let i = 0; i < 1000; i++) c.inc(1, { route: '/a' });
    c.inc(2.5, { route: '/b' });
    g.set(3);
    g.set(7);
    expect(batches).toEqual([]); // nothing sent per call
    threadState().metrics!.flush();
    expect(batches).toHaveLength(1);
    const byName = Object.fromEntries(batches[0].map((e) => [e.def.name, e]));
    expect(byName.req_total.points.map((p) => [p.tags, p.v])).toEqual([
      [['/a'], 1000],
      [['/b'], 2.5],
    ]);
    expect(byName.queue_len.points.map((p) => p.v)).toEqual([7]);
    threadState().metrics!.flush();
    expect(batches).toHaveLength(1); // nothing changed: nothing sent
  });

  it('buckets histogram observations as Prometheus does (le: value <= bound)', () => {
    expect(bucketOf([1, 10, 100], 0.5)).toBe(0);
    expect(bucketOf([1, 10, 100], 1)).toBe(0);
    expect(bucketOf([1, 10, 100], 10.5)).toBe(2);
    expect(bucketOf([1, 10, 100], 1000)).toBe(3);
    const batches = capture();
    const h = new Histogram('latency_ms', { boundaries: [1, 10, 100] });
    for (const v of [0.5, 5, 50, 500, 5]) h.observe(v);
    threadState().metrics!.flush();
    const [p] = batches[0][0].points;
    expect(p).toEqual({ tags: [], v: 560.5, n: 5, b: [1, 2, 1, 1] });
  });

  it('uses default tags, and tags given override them', () => {
    const batches = capture();
    const c = new Counter('jobs_done', { tagKeys: ['team', 'kind'] }).setDefaultTags({ team: 'core' });
    c.inc(1, { kind: 'x' });
    c.inc(1, { kind: 'x', team: 'data' });
    threadState().metrics!.flush();
    expect(batches[0][0].points.map((p) => p.tags)).toEqual([
      ['core', 'x'],
      ['data', 'x'],
    ]);
  });

  it('throws MetricsError for what Ray refuses, naming what to do', () => {
    capture();
    expect(() => new Counter('')).toThrow(MetricsError);
    expect(() => new Counter('bad-name')).toThrow(/Prometheus names/);
    expect(() => new Counter('tasks')).toThrow(/taken by ray-ts's own 'ray_tasks'/);
    expect(() => new Counter('ok', { tagKeys: ['a-b'] })).toThrow(/Tag key "a-b"/);
    expect(() => new Counter('ok', { tagKeys: ['a', 'a'] })).toThrow(/twice/);
    expect(() => new Histogram('h', { boundaries: [] })).toThrow(/needs boundaries/);
    expect(() => new Histogram('h', { boundaries: [1, -2] })).toThrow(/index 1/);
    expect(() => new Histogram('h', { boundaries: [5, 2] })).toThrow(/must increase/);
    const c = new Counter('ok_total', { tagKeys: ['route'] });
    expect(() => c.inc(1, { route: '/', other: 'x' })).toThrow(/Unrecognized tag key 'other'/);
    expect(() => c.inc(1)).toThrow(/Missing value for tag key 'route'/);
    expect(() => c.inc(0, { route: '/' })).toThrow(/value must be >0/);
    expect(() => c.setDefaultTags({ nope: 'x' })).toThrow(MetricsError);
    expect(() => new Gauge('g').set(Number.NaN)).toThrow(/must be a number/);
  });

  it('keeps what is recorded before its thread is attached, and sends it once attached', () => {
    const m = new ThreadMetrics();
    threadState().metrics = m;
    new Counter('early_total').inc();
    const batches: MetricBatch[] = [];
    m.attach((b) => batches.push(b), 60_000);
    m.flush();
    expect(batches[0][0].points[0].v).toBe(1);
  });
});

describe("a node's table of user metrics", () => {
  it('sums counters and histograms over threads, keeps a gauge’s last value', () => {
    const t = new UserMetricsTable();
    const counter = { name: 'c', kind: 'counter' as const, description: '', tagKeys: ['k'] };
    const gauge = { name: 'g', kind: 'gauge' as const, description: '', tagKeys: [] };
    const hist = { name: 'h', kind: 'histogram' as const, description: '', tagKeys: [], boundaries: [1] };
    t.apply([{ def: counter, points: [{ tags: ['a'], v: 2 }] }]);
    t.apply([
      { def: counter, points: [{ tags: ['a'], v: 3 }] },
      { def: gauge, points: [{ tags: [], v: 4 }] },
      { def: hist, points: [{ tags: [], v: 3, n: 2, b: [1, 1] }] },
    ]);
    t.apply([
      { def: gauge, points: [{ tags: [], v: 1 }] },
      { def: hist, points: [{ tags: [], v: 0.5, n: 1, b: [1, 0] }] },
    ]);
    const rows = Object.fromEntries([...t.values()].map((m) => [m.def.name, [...m.series.values()]]));
    expect(rows.c[0].value).toBe(5);
    expect(rows.g[0].value).toBe(1);
    expect(rows.h[0]).toMatchObject({ value: 3.5, count: 3, buckets: [2, 1] });
  });

  it('drops updates of a name declared again as another kind', () => {
    const t = new UserMetricsTable();
    t.apply([{ def: { name: 'x', kind: 'counter', description: '', tagKeys: [] }, points: [{ tags: [], v: 1 }] }]);
    t.apply([{ def: { name: 'x', kind: 'gauge', description: '', tagKeys: [] }, points: [{ tags: [], v: 9 }] }]);
    expect([...[...t.values()][0].series.values()][0].value).toBe(1);
  });
});
