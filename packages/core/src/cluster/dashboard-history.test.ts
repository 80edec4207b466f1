import { describe, expect, it } from 'vitest';
import { HistoryRing, histogramQuantile, sampleOf, type NodePage } from './dashboard-history.js';

describe('HistoryRing', () => {
  it('keeps the last `capacity` samples, oldest first, as aligned series', () => {
    const ring = new HistoryRing(3);
    ring.push(1, { a: 1 });
    ring.push(2, { a: 2, b: 20 });
    ring.push(3, { b: 30 });
    ring.push(4, { a: 4 });
    expect(ring.size).toBe(3);
    expect(ring.since(0)).toEqual({ t: [2, 3, 4], series: { a: [2, null, 4], b: [20, 30, null] } });
    expect(ring.since(3)).toEqual({ t: [3, 4], series: { b: [30, null], a: [null, 4] } });
    expect(ring.since(5)).toEqual({ t: [], series: {} });
    for (let t = 5; t < 100; t++) ring.push(t, { a: t });
    expect(ring.since(0).t).toEqual([97, 98, 99]);
    expect(() => new HistoryRing(0)).toThrow(RangeError);
  });
});

describe('sampleOf', () => {
  const page = (nodeId: string, text: string | undefined, objectStoreUsed = 0): NodePage => ({
    nodeId,
    objectStoreUsed,
    text,
  });
  const metrics = (requests: number, buckets: [string, number][]) =>
    [
      'ray_node_cpu_utilization{SessionName="s"} 12.5',
      'ray_node_mem_used{SessionName="s"} 1000',
      'ray_node_mem_total{SessionName="s"} 4000',
      'ray_tasks{State="FINISHED",Name="f"} 3',
      'ray_tasks{State="FINISHED",Name="g"} 2',
      'ray_tasks{State="RUNNING",Name="f"} 1',
      `ray_serve_deployment_request_counter_total{deployment="D",replica="r1",route="/",application="app"} ${requests}`,
      ...buckets.map(
        ([le, n]) => `ray_serve_deployment_processing_latency_ms_bucket{deployment="D",replica="r1",le="${le}"} ${n}`,
      ),
    ].join('\n');

  it("reads each node's use, sums task states, and turns Serve's counters into rates and quantiles", () => {
    const first = new Map<string, number>();
    const a = sampleOf(
      [
        page(
          'n1',
          metrics(100, [
            ['10', 50],
            ['100', 100],
            ['+Inf', 100],
          ]),
          7,
        ),
        page('n2', undefined, 9),
      ],
      0,
      undefined,
      first,
    );
    expect(a.values).toMatchObject({
      'cpu:n1': 12.5,
      'mem:n1': 1000,
      'objstore:n1': 7,
      'objstore:n2': 9,
      'tasks:FINISHED': 5,
      'tasks:RUNNING': 1,
    });
    expect(a.values['cpu:n2']).toBeUndefined(); // it did not answer
    expect(a.values['serve_rps:D']).toBeUndefined(); // a rate needs two samples
    expect(a.machines.get('n1')).toEqual({ cpuPercent: 12.5, memUsedBytes: 1000, memTotalBytes: 4000 });
    // 2 s later: 40 more requests, all of them under 10 ms.
    const b = sampleOf(
      [
        page(
          'n1',
          metrics(140, [
            ['10', 90],
            ['100', 140],
            ['+Inf', 140],
          ]),
        ),
      ],
      2_000,
      first,
      new Map(),
    );
    expect(b.values['serve_rps:D']).toBe(20);
    expect(b.values['serve_p50_ms:D']).toBe(5);
    expect(b.values['serve_p99_ms:D']).toBeCloseTo(9.9);
  });

  it('interpolates quantiles within their bucket, and knows nothing of an empty histogram', () => {
    const buckets = [
      { le: 10, count: 0 },
      { le: 20, count: 10 },
      { le: Infinity, count: 10 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBe(15);
    expect(histogramQuantile(0.5, [{ le: 10, count: 0 }])).toBeNull();
    expect(
      histogramQuantile(0.99, [
        { le: 5, count: 1 },
        { le: Infinity, count: 100 },
      ]),
    ).toBe(5);
  });
});
