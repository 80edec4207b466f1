// The same Dataset code on a 3-node cluster of real processes: work spreads over the nodes and
// blocks move between them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, init, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, metricRows, waitFor } from '@ray-ts/core/testing';
import { count, mean, range, readParquet } from '@ray-ts/data';
import { consume } from './fixtures/consume.js';
import { tagNode } from './fixtures/node-of.js';

let cluster: Cluster;
let dir: string;

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }, { numCpus: 1 }] });
  await init({ address: cluster.address });
  dir = mkdtempSync(join(tmpdir(), 'ray-ts-data-cluster-'));
}, 60_000);

afterAll(async () => {
  await shutdown();
  await cluster.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

it('runs map stages on every node and brings the blocks back in order', async () => {
  const rows = await range(4000, { numBlocks: 24 }).mapBatches(tagNode, { batchSize: null }).takeAll();
  expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 4000 }, (_, i) => i));
  expect(new Set(rows.map((r) => r.node)).size).toBeGreaterThanOrEqual(2);
});

it('sorts, shuffles and aggregates across nodes', async () => {
  const ds = range(5000, { numBlocks: 9 }).map((r) => ({ id: r.id, g: r.id % 5, x: ((r.id * 7919) % 5000) / 7 }));
  const sorted = (await ds.sort('x', { descending: true }).takeAll()).map((r) => r.x as number);
  expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
  expect(sorted.length).toBe(5000);
  const shuffled = (await ds.randomShuffle({ seed: 3 }).takeAll()).map((r) => r.id as number);
  expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  const groups = await ds.groupby('g').aggregate(count(), mean('id')).takeAll();
  expect(groups).toEqual([0, 1, 2, 3, 4].map((g) => ({ g, 'count()': 1000, 'mean(id)': 2497.5 + g })));
});

it('writes and reads Parquet, and runs an actor pool, on the cluster', async () => {
  const out = join(dir, 'pq');
  await range(3000, { numBlocks: 6 })
    .map((r) => ({ id: r.id, y: r.id * 2 }))
    .writeParquet(out);
  class Scale {
    call(b: { id: Int32Array; y: Float64Array }): Record<string, ArrayLike<unknown>> {
      return { id: b.id, z: Float64Array.from(b.y, (v) => v / 2) };
    }
  }
  const rows = await readParquet(out)
    .mapBatches(Scale, { compute: { size: 2 }, numCpus: 0.5 })
    .sort('id')
    .takeAll();
  expect(rows.length).toBe(3000);
  expect(rows.every((r) => r.z === r.id)).toBe(true);
});

it('feeds consumers on other nodes from a streaming split', async () => {
  const its = await range(2000, { numBlocks: 8 }).streamingSplit(2, { equal: true });
  const counts = await get(its.map((it) => consume.options({ schedulingStrategy: 'SPREAD' }).remote(it, 1)));
  expect(counts).toEqual([[1000], [1000]]);
});

/** The rows of `name` on the driver's Prometheus endpoint (found through the head's discovery). */
async function driverRows(name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const api = cluster.nodes.find((n) => n.isHead)!.jobApiAddress!;
  const sd = (await (await fetch(`${api}/api/prometheus/sd`, { headers: clusterAuthHeaders() })).json()) as {
    targets: string[];
  }[];
  const nodes = new Set(cluster.nodes.map((n) => n.metricsAddress));
  const driver = sd.flatMap((g) => g.targets).find((t) => !nodes.has(t))!;
  const text = await (await fetch(`http://${driver}/metrics`, { headers: clusterAuthHeaders() })).text();
  return metricRows(text, name);
}

it("exports rows and bytes out per operator on the driver's /metrics, under Ray Data's names", async () => {
  const rows = await range(1200, { numBlocks: 4 })
    .map((r) => ({ id: r.id, tag: 'per-operator-metrics' }))
    .takeAll();
  expect(rows.length).toBe(1200);
  // The operator of this run: its range(1200) with the map fused in.
  const mine = (r: { labels: Record<string, string> }) => /^range\(1200\).*_\d+$/.test(r.labels.operator ?? '');
  const out = await waitFor(
    async () => {
      const r = (await driverRows('ray_data_output_rows')).filter((x) => mine(x) && x.value === 1200);
      return r.length > 0 ? r : undefined; // the driver's thread sends its metrics every half second
    },
    { timeoutMs: 10_000, what: 'ray_data_output_rows of the map operator to reach 1200' },
  );
  const { dataset, operator } = out![out!.length - 1].labels;
  expect(dataset).toMatch(/^dataset_/);
  const bytes = (await driverRows('ray_data_output_bytes')).find(
    (x) => x.labels.dataset === dataset && x.labels.operator === operator,
  );
  expect(bytes?.value).toBeGreaterThan(1200 * 8);
  const submitted = (await driverRows('ray_data_num_tasks_submitted')).find(
    (x) => x.labels.dataset === dataset && x.labels.operator === operator,
  );
  expect(submitted?.value).toBe(4);
  const running = (await driverRows('ray_data_num_tasks_running')).find(
    (x) => x.labels.dataset === dataset && x.labels.operator === operator,
  );
  expect(running?.value).toBe(0);
});
