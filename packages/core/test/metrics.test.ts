// Prometheus metrics on a real cluster (a head, a node, a driver: real processes on 127.0.0.1):
// every member serves /metrics with the cluster's token (401 without), Ray's metric names reflect
// what ran (ray_tasks, ray_actors, ray_resources), a user Counter and Histogram incremented in a
// task on another node show on that node's endpoint with their tags, and the head's service
// discovery (HTTP and Ray's file) lists every member's endpoint, as nodes come and go.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counter, get, init, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, metricValue, waitFor } from '@ray-ts/core/testing';
import {
  failsOnce,
  holdUntilFile,
  MetricsActorClass,
  metricsNamedTask,
  recordUserMetrics,
} from './fixtures/metrics.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-test-'));
const sessionDir = path.join(tmp, 'session');
// The head is given a session directory of its own (for the discovery file); the token is this
// test's, so that it does not make one there that the other processes would not know.
const savedToken = process.env.RAY_TS_AUTH_TOKEN;
process.env.RAY_TS_AUTH_TOKEN = crypto.randomBytes(16).toString('hex');

let cluster: Cluster;
let api: string;

beforeAll(async () => {
  cluster = await Cluster.start({
    head: { numCpus: 1 },
    nodes: [{ numCpus: 1, resources: { metricsNode: 2 } }],
    sessionDir,
    nodeTimeoutMs: 2_000,
  });
  api = cluster.nodes[0].jobApiAddress!;
  await init({ address: cluster.address });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  if (savedToken === undefined) delete process.env.RAY_TS_AUTH_TOKEN;
  else process.env.RAY_TS_AUTH_TOKEN = savedToken;
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function scrape(address: string): Promise<string> {
  const res = await fetch(`http://${address}/metrics`, { headers: clusterAuthHeaders() });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

const value = metricValue;

const worker = () => cluster.nodes[1];

describe('Prometheus metrics on a cluster', () => {
  it("serves /metrics on every node with the cluster's token, and refuses scrapes without it", async () => {
    for (const n of cluster.nodes) {
      expect(n.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      const text = await scrape(n.metricsAddress!);
      expect(value(text, 'ray_node_mem_total')).toBeGreaterThan(0);
      expect(text).toMatch(/ray_node_cpu_utilization\{[^}]*SessionName="cluster_/);
      const bare = await fetch(`http://${n.metricsAddress}/metrics`);
      expect(bare.status).toBe(401);
      expect(await bare.text()).toMatch(/RAY_TS_AUTH_TOKEN/);
      const wrong = await fetch(`http://${n.metricsAddress}/metrics`, {
        headers: { authorization: 'Bearer not-the-token' },
      });
      expect(wrong.status).toBe(401);
    }
  });

  it('counts finished tasks by name on the node that ran them (ray_tasks)', async () => {
    const n = 5;
    const results = await get(
      Array.from({ length: n }, (_, i) => metricsNamedTask.options({ resources: { metricsNode: 1 } }).remote(i)),
    );
    expect(results).toEqual([1, 2, 3, 4, 5]);
    const finished = async () =>
      value(await scrape(worker().metricsAddress!), 'ray_tasks', { Name: 'metricsNamedTask', State: 'FINISHED' });
    await waitFor(async () => (await finished()) === n, { what: 'ray_tasks FINISHED to reach 5' });
    // Counted once: not by the head, which only owned them.
    expect(value(await scrape(cluster.nodes[0].metricsAddress!), 'ray_tasks', { Name: 'metricsNamedTask' })).toBe(0);
  });

  it('counts a retried attempt with IsRetry="1" (ray_tasks)', async () => {
    const file = path.join(tmp, `fails-once-${crypto.randomUUID()}`);
    const ref = failsOnce.options({ resources: { metricsNode: 1 }, maxRetries: 1, retryExceptions: true }).remote(file);
    expect(await get(ref)).toBe('retried');
    const rows = async (IsRetry: string) =>
      value(await scrape(worker().metricsAddress!), 'ray_tasks', { Name: 'metricsFailsOnce', IsRetry });
    await waitFor(async () => (await rows('1')) === 1, { what: 'the retry to be counted with IsRetry="1"' });
    const text = await scrape(worker().metricsAddress!);
    expect(value(text, 'ray_tasks', { Name: 'metricsFailsOnce', IsRetry: '1', State: 'FINISHED' })).toBe(1);
    expect(value(text, 'ray_tasks', { Name: 'metricsFailsOnce', IsRetry: '0', State: 'FINISHED' })).toBe(0);
  });

  it("times placements on the node that ran the work, and its gRPC server's requests per method", async () => {
    await get(metricsNamedTask.options({ resources: { metricsNode: 1 } }).remote(0));
    const text = await scrape(worker().metricsAddress!);
    expect(value(text, 'ray_scheduler_placement_time_ms_count', { WorkloadType: 'Task' })).toBeGreaterThan(0);
    expect(value(text, 'ray_scheduler_placement_time_ms_bucket', { WorkloadType: 'Task', le: '+Inf' })).toBe(
      value(text, 'ray_scheduler_placement_time_ms_count', { WorkloadType: 'Task' }),
    );
    // The head's GCS answered every member's registration and heartbeats; unary calls are timed.
    const head = await scrape(cluster.nodes[0].metricsAddress!);
    const hb = { Method: 'Gcs.grpc_server.Heartbeat' };
    expect(value(head, 'ray_grpc_server_req_new_total', hb)).toBeGreaterThan(0);
    expect(value(head, 'ray_grpc_server_req_succeeded_total', hb)).toBeGreaterThan(0);
    expect(value(head, 'ray_grpc_server_req_process_time_ms_count', hb)).toBeGreaterThan(0);
  });

  it('shows CPU and custom resources USED while a task runs, AVAILABLE again after (ray_resources)', async () => {
    const file = path.join(tmp, `release-${crypto.randomUUID()}`);
    const ref = holdUntilFile.options({ resources: { metricsNode: 1 } }).remote(file);
    const used = async (name: string) =>
      value(await scrape(worker().metricsAddress!), 'ray_resources', { Name: name, State: 'USED' });
    await waitFor(async () => (await used('CPU')) === 1 && (await used('metricsNode')) === 1, {
      what: 'the task to hold its CPU',
    });
    const running = value(await scrape(worker().metricsAddress!), 'ray_tasks', {
      Name: 'holdUntilFile',
      State: 'RUNNING',
    });
    expect(running).toBe(1);
    fs.writeFileSync(file, '');
    expect(await get(ref)).toBe('released');
    await waitFor(async () => (await used('CPU')) === 0, { what: 'the CPU to be free again' });
    const text = await scrape(worker().metricsAddress!);
    expect(value(text, 'ray_resources', { Name: 'metricsNode', State: 'AVAILABLE' })).toBe(2);
  });

  it('lists an alive actor by class (ray_actors), its calls in ray_tasks', async () => {
    const actor = MetricsActorClass.options({ resources: { metricsNode: 0.5 } }).remote();
    expect(await get(actor.ping.remote())).toBe('pong');
    let text = await scrape(worker().metricsAddress!);
    expect(value(text, 'ray_actors', { Name: 'MetricsActor', State: 'ALIVE' })).toBe(1);
    const file = path.join(tmp, `release-${crypto.randomUUID()}`);
    const held = actor.holdUntil.remote(file);
    const running = async () =>
      value(await scrape(worker().metricsAddress!), 'ray_tasks', { Name: 'MetricsActor.holdUntil', State: 'RUNNING' });
    await waitFor(async () => (await running()) === 1, { what: 'the call to show as RUNNING' });
    fs.writeFileSync(file, '');
    expect(await get(held)).toBe('released');
    await waitFor(async () => (await running()) === 0, { what: 'the call to end' });
    text = await scrape(worker().metricsAddress!);
    expect(value(text, 'ray_tasks', { Name: 'MetricsActor.ping', State: 'FINISHED' })).toBe(1);
  });

  it("shows user metrics recorded in a task on another node on that node's endpoint, with their tags", async () => {
    expect(await get(recordUserMetrics.options({ resources: { metricsNode: 1 } }).remote(3))).toBe(3);
    const text = (await waitFor(
      async () => {
        const t = await scrape(worker().metricsAddress!);
        return value(t, 'ray_fixture_calls', { where: 'task', kind: 'loop' }) === 3 ? t : undefined;
      },
      { what: 'ray_fixture_calls to reach 3' },
    ))!;
    expect(text).toContain('# HELP ray_fixture_calls calls made in a test task');
    expect(text).toContain('# TYPE ray_fixture_calls counter');
    expect(value(text, 'ray_fixture_sizes_count')).toBe(3);
    expect(value(text, 'ray_fixture_sizes_bucket', { le: '1' })).toBe(2); // 0 and 1
    expect(value(text, 'ray_fixture_sizes_sum')).toBe(3);
  });

  it("serves the driver's own user metrics on the driver's endpoint", async () => {
    new Counter('driver_side_total', { tagKeys: ['who'] }).inc(2, { who: 'driver' });
    const sd = (await (await fetch(`${api}/api/prometheus/sd`, { headers: clusterAuthHeaders() })).json()) as {
      targets: string[];
    }[];
    const nodeTargets = new Set<string | undefined>(cluster.nodes.map((n) => n.metricsAddress));
    const driverTarget = sd[0].targets.find((t) => !nodeTargets.has(t));
    expect(driverTarget).toBeDefined();
    await waitFor(async () => value(await scrape(driverTarget!), 'ray_driver_side_total', { who: 'driver' }) === 2, {
      what: "the driver's counter on its endpoint",
    });
  });

  it("lists every member's endpoint for Prometheus (HTTP SD and Ray's file), as nodes come and go", async () => {
    const bare = await fetch(`${api}/api/prometheus/sd`);
    expect(bare.status).toBe(401);
    const sd = async () =>
      (
        (await (await fetch(`${api}/api/prometheus/sd`, { headers: clusterAuthHeaders() })).json()) as {
          targets: string[];
          labels: Record<string, string>;
        }[]
      )[0];
    const first = await sd();
    expect(first.labels).toEqual({ job: 'ray' });
    for (const n of cluster.nodes) expect(first.targets).toContain(n.metricsAddress!);
    expect(first.targets).toHaveLength(cluster.nodes.length + 1); // and the driver
    const file = path.join(sessionDir, 'prom_metrics_service_discovery.json');
    const fromFile = () => JSON.parse(fs.readFileSync(file, 'utf8')) as { targets: string[] }[];
    await waitFor(() => fromFile()[0].targets.length === first.targets.length, { what: 'the file to list them' });
    expect(fromFile()[0].targets).toEqual(first.targets);

    const added = await cluster.addNode({ numCpus: 1 });
    await waitFor(async () => (await sd()).targets.includes(added.metricsAddress!), { what: 'the new node in SD' });
    await waitFor(() => fromFile()[0].targets.includes(added.metricsAddress!), { what: 'the new node in the file' });
    cluster.killNode(added.nodeId);
    await waitFor(async () => !(await sd()).targets.includes(added.metricsAddress!), {
      what: 'the killed node to leave SD',
      timeoutMs: 15_000,
    });
    await waitFor(() => !fromFile()[0].targets.includes(added.metricsAddress!), {
      what: 'the killed node to leave the file',
    });
  });

  it('serves nothing with RAY_TS_METRICS_ENABLED=0, and answers without the token with RAY_TS_METRICS_AUTH_MODE=disabled', async () => {
    const off = await cluster.addNode({ numCpus: 1, env: { RAY_TS_METRICS_ENABLED: '0' } });
    const open = await cluster.addNode({ numCpus: 1, env: { RAY_TS_METRICS_AUTH_MODE: 'disabled' } });
    expect(off.metricsAddress).toBeUndefined();
    const bare = await fetch(`http://${open.metricsAddress}/metrics`);
    expect(bare.status).toBe(200);
    expect(value(await bare.text(), 'ray_node_mem_total')).toBeGreaterThan(0);
    const sd = (await (await fetch(`${api}/api/prometheus/sd`, { headers: clusterAuthHeaders() })).json()) as {
      targets: string[];
    }[];
    expect(sd[0].targets).toContain(open.metricsAddress);
    expect(sd[0].targets).toHaveLength(4); // the head, the first node, `open` and the driver: not `off`
    cluster.killNode(off.nodeId);
    cluster.killNode(open.nodeId);
  });
});
