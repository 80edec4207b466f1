import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { NodeMetricsState } from '../node/node-manager.js';
import { UserMetricsTable } from '../metrics/user-table.js';
import { CORE_METRIC_NAMES } from '../metrics/user-metrics.js';
import { PlacementTimes } from '../node/placement-times.js';
import { GrpcServerStats } from './grpc-stats.js';
import { registerCoreMetrics, registerUserMetrics } from './metrics-core.js';
import { targetGroups, writeDiscoveryFile } from './metrics-sd.js';

function state(over: Partial<NodeMetricsState> = {}): NodeMetricsState {
  return {
    tasks: new Map([
      ['FINISHED\0f', 3],
      ['RUNNING\0g', 1],
    ]),
    retries: new Map([['FINISHED\0f', 2]]),
    placement: undefined,
    actors: new Map([['ALIVE\0Counter', 2]]),
    total: { CPU: 4, GPU: 1 },
    available: { CPU: 1.5, GPU: 1 },
    store: {
      numObjects: 5,
      usedBytes: 1000,
      capacityBytes: 4000,
      spilledObjects: 1,
      spilledBytes: 300,
      spilledBytesTotal: 300,
      spillsTotal: 1,
      restoresTotal: 0,
      restoredBytesTotal: 0,
      failedSpillsTotal: 0,
    },
    workers: 2,
    ...over,
  };
}

/** Sample lines of `name` (with labels), as `labels -> value`. */
function rows(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out[m[2] ?? ''] = Number(m[3]);
  }
  return out;
}

describe("a node's Prometheus rows, under Ray's names", () => {
  it('reads tasks, actors, resources and the store at scrape time', async () => {
    let st = state();
    const reg = new client.Registry();
    const table = new UserMetricsTable();
    const core = registerCoreMetrics(reg, { node: { metricsState: () => st, userMetrics: table }, hasGpus: false });
    core.beginScrape();
    let text = await reg.metrics();
    expect(rows(text, 'ray_tasks')).toEqual({
      '{State="FINISHED",Name="f",IsRetry="0"}': 3,
      '{State="RUNNING",Name="g",IsRetry="0"}': 1,
      '{State="FINISHED",Name="f",IsRetry="1"}': 2,
    });
    expect(rows(text, 'ray_actors')).toEqual({ '{State="ALIVE",Name="Counter"}': 2 });
    expect(rows(text, 'ray_resources')).toMatchObject({
      '{Name="CPU",State="USED"}': 2.5,
      '{Name="CPU",State="AVAILABLE"}': 1.5,
      '{Name="GPU",State="USED"}': 0,
    });
    expect(rows(text, 'ray_object_store_memory')).toEqual({
      '{Location="MMAP_SHM",ObjectState="SEALED"}': 1000,
      '{Location="SPILLED",ObjectState="SEALED"}': 300,
    });
    expect(rows(text, 'ray_object_store_available_memory')).toEqual({ '': 3000 });
    expect(rows(text, 'ray_spill_manager_request_total')).toMatchObject({ '{Type="Spilled"}': 1 });
    expect(rows(text, 'ray_node_mem_total')[''] ?? 0).toBeGreaterThan(0);
    expect(text).not.toContain('ray_node_gpus_utilization'); // no GPUs on this node

    // The next scrape reads the node again: rows that are gone go.
    st = state({ tasks: new Map([['FINISHED\0f', 4]]), retries: new Map() });
    core.beginScrape();
    text = await reg.metrics();
    expect(rows(text, 'ray_tasks')).toEqual({ '{State="FINISHED",Name="f",IsRetry="0"}': 4 });
  });

  it('reports GPUs when the node has them', async () => {
    const reg = new client.Registry();
    registerCoreMetrics(reg, {
      node: { metricsState: () => state(), userMetrics: new UserMetricsTable() },
      hasGpus: true,
      gpus: async () => [{ index: 0, name: 'NVIDIA H100', utilization: 42, memUsed: 10, memTotal: 100 }],
    });
    const text = await reg.metrics();
    expect(rows(text, 'ray_node_gpus_utilization')).toEqual({ '{GpuIndex="0",GpuDeviceName="NVIDIA H100"}': 42 });
    expect(rows(text, 'ray_node_gram_available')).toEqual({ '{GpuIndex="0",GpuDeviceName="NVIDIA H100"}': 90 });
    expect(rows(text, 'ray_node_gpus_available')).toEqual({ '': 1 });
    // Every name ray-ts exports is reserved from user metrics.
    for (const m of reg.getMetricsAsArray()) expect(CORE_METRIC_NAMES).toContain(m.name.slice('ray_'.length));
  });

  it("renders the scheduler's placement times and the gRPC server's requests per method", async () => {
    const placement = new PlacementTimes();
    placement.task.observe(0.5);
    placement.task.observe(40);
    placement.actor.observe(2);
    const grpc = new GrpcServerStats();
    const kv = grpc.method('/raytscore.Gcs/KvGet', true);
    kv.started = 3;
    kv.succeeded = 2;
    kv.failed = 1;
    kv.latency!.observe(0.05);
    kv.latency!.observe(3);
    grpc.method('/raytscore.Node/Peer', false).started = 1; // a stream: counted, not timed
    const reg = new client.Registry();
    registerCoreMetrics(reg, {
      node: { metricsState: () => state({ placement }), userMetrics: new UserMetricsTable() },
      hasGpus: false,
      grpc,
    });
    const text = await reg.metrics();
    expect(text).toContain('# TYPE ray_scheduler_placement_time_ms histogram');
    expect(rows(text, 'ray_scheduler_placement_time_ms_bucket')).toMatchObject({
      '{WorkloadType="Task",le="1"}': 1,
      '{WorkloadType="Task",le="100"}': 2,
      '{WorkloadType="Task",le="+Inf"}': 2,
      '{WorkloadType="Actor",le="1"}': 0,
      '{WorkloadType="Actor",le="10"}': 1,
    });
    expect(rows(text, 'ray_scheduler_placement_time_ms_count')).toEqual({
      '{WorkloadType="Task"}': 2,
      '{WorkloadType="Actor"}': 1,
    });
    expect(rows(text, 'ray_grpc_server_req_process_time_ms_bucket')).toMatchObject({
      '{Method="Gcs.grpc_server.KvGet",le="0.1"}': 1,
      '{Method="Gcs.grpc_server.KvGet",le="10"}': 2,
    });
    expect(rows(text, 'ray_grpc_server_req_process_time_ms_count')).toEqual({ '{Method="Gcs.grpc_server.KvGet"}': 2 });
    expect(text).toContain('# TYPE ray_grpc_server_req_new_total counter');
    expect(rows(text, 'ray_grpc_server_req_new_total')).toEqual({
      '{Method="Gcs.grpc_server.KvGet"}': 3,
      '{Method="Node.grpc_server.Peer"}': 1,
    });
    expect(rows(text, 'ray_grpc_server_req_succeeded_total')).toMatchObject({ '{Method="Gcs.grpc_server.KvGet"}': 2 });
    expect(rows(text, 'ray_grpc_server_req_failed_total')).toMatchObject({ '{Method="Gcs.grpc_server.KvGet"}': 1 });
    expect(rows(text, 'ray_grpc_server_req_finished_total')).toMatchObject({ '{Method="Gcs.grpc_server.KvGet"}': 3 });
    for (const m of reg.getMetricsAsArray()) expect(CORE_METRIC_NAMES).toContain(m.name.slice('ray_'.length));
  });

  it('has no placement rows while metrics are off', async () => {
    const reg = new client.Registry();
    registerCoreMetrics(reg, {
      node: { metricsState: () => state(), userMetrics: new UserMetricsTable() },
      hasGpus: false,
    });
    expect(rows(await reg.metrics(), 'ray_scheduler_placement_time_ms_count')).toEqual({});
  });

  it('renders user metrics as ray_<name>, histograms with cumulative buckets', async () => {
    const reg = new client.Registry();
    const table = new UserMetricsTable();
    table.apply([
      {
        def: { name: 'calls', kind: 'counter', description: 'calls', tagKeys: ['k'] },
        points: [{ tags: ['a'], v: 3 }],
      },
      {
        def: { name: 'lat', kind: 'histogram', description: '', tagKeys: [], boundaries: [1, 10] },
        points: [{ tags: [], v: 16, n: 3, b: [1, 1, 1] }],
      },
    ]);
    registerUserMetrics(reg, table);
    registerUserMetrics(reg, table); // registered once
    const text = await reg.metrics();
    expect(text).toContain('# TYPE ray_calls counter');
    expect(rows(text, 'ray_calls')).toEqual({ '{k="a"}': 3 });
    expect(rows(text, 'ray_lat_bucket')).toEqual({ '{le="1"}': 1, '{le="10"}': 2, '{le="+Inf"}': 3 });
    expect(rows(text, 'ray_lat_sum')).toEqual({ '': 16 });
    expect(rows(text, 'ray_lat_count')).toEqual({ '': 3 });
  });
});

describe('Prometheus service discovery', () => {
  it("lists alive nodes' endpoints once, in Ray's group", () => {
    expect(
      targetGroups([
        { state: 'ALIVE', metricsAddress: '10.0.0.2:9000' },
        { state: 'DEAD', metricsAddress: '10.0.0.3:9000' },
        { state: 'ALIVE', metricsAddress: '' },
        { state: 'ALIVE', metricsAddress: '10.0.0.1:9000' },
      ]),
    ).toEqual([{ targets: ['10.0.0.1:9000', '10.0.0.2:9000'], labels: { job: 'ray' } }]);
  });

  it('writes the file whole, again when the targets change, and removes it on stop', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-sd-'));
    const file = path.join(dir, 'prom_metrics_service_discovery.json');
    let targets = ['a:1'];
    const w = writeDiscoveryFile(file, () => [{ targets, labels: {} }], 60_000);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual([{ targets: ['a:1'], labels: {} }]);
    targets = ['a:1', 'b:2'];
    w.writeNow();
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))[0].targets).toEqual(['a:1', 'b:2']);
    expect(fs.readdirSync(dir)).toEqual(['prom_metrics_service_discovery.json']); // no temporary left
    w.stop();
    expect(fs.existsSync(file)).toBe(false);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('the Grafana dashboard shipped for core (docs/grafana/ray-ts-core.json)', () => {
  it('queries only metrics that ray-ts exports', () => {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/grafana/ray-ts-core.json');
    const dash = JSON.parse(fs.readFileSync(file, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const used = new Set(
      dash.panels.flatMap((p) =>
        // A histogram is queried through its buckets.
        p.targets.flatMap((t) => (t.expr.match(/\bray_\w+/g) ?? []).map((n) => n.replace(/_bucket$/, ''))),
      ),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(CORE_METRIC_NAMES).toContain(name.slice('ray_'.length));
  });
});
