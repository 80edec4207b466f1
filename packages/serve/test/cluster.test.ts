// Serve on a 3-node cluster of real processes: a proxy on every node, replicas spread over the
// nodes, and a node killed with SIGKILL under load.
import { afterAll, beforeAll, expect, it } from 'vitest';
import autocannon from 'autocannon';
import { init, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, metricValue, waitFor } from '@ray-ts/core/testing';
import * as serve from '@ray-ts/serve';
import * as f from './fixtures/apps.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }, { numCpus: 1 }], nodeTimeoutMs: 2000 });
  await init({ address: cluster.address });
}, 60_000);

afterAll(async () => {
  await serve.shutdown().catch(() => undefined);
  await shutdown();
  await cluster.shutdown();
});

const where = async (port: number) =>
  (await (await fetch(`http://127.0.0.1:${port}/where`)).json()) as { node: string; replica: string };

it('runs a proxy on every node and spreads replicas over the nodes', async () => {
  // Port 0: the nodes share this machine, so each picks a free port (on real machines, one port for all).
  await serve.start({ http: { host: '127.0.0.1', port: 0, proxiesPerNode: 1 } });
  await serve.run(f.Where.bind(), { name: 'where', routePrefix: '/where' });
  const st = await serve.status();
  const proxies = Object.entries(st.proxies);
  expect(proxies.map(([id]) => id).sort()).toEqual(cluster.nodes.map((n) => n.nodeId).sort());
  for (const [, p] of proxies) expect(p.status).toBe('HEALTHY');
  const nodesServing = new Set<string>();
  for (const [, p] of proxies) {
    for (let i = 0; i < 12; i++) nodesServing.add((await where(p.httpPort!)).node);
  }
  expect(nodesServing.size).toBe(3);
});

/** The sum of the rows of `name` on a node's Prometheus endpoint whose labels include `labels`. */
async function scraped(address: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`, { headers: clusterAuthHeaders() })).text();
  return metricValue(text, name, labels);
}

it("counts each proxy's requests on its node's /metrics, under Ray Serve's names", async () => {
  const st = await serve.status();
  const head = cluster.nodes.find((n) => n.isHead)!;
  const port = st.proxies[head.nodeId].httpPort!;
  for (let i = 0; i < 5; i++) await where(port);
  expect((await fetch(`http://127.0.0.1:${port}/nowhere`)).status).toBe(404);
  const ok = { route: '/where', application: 'where', method: 'GET', status_code: '200' };
  // The proxy's thread sends its metrics to its node every half second.
  await waitFor(async () => (await scraped(head.metricsAddress!, 'ray_serve_num_http_requests', ok)) >= 17, {
    timeoutMs: 10_000,
    what: "the head proxy's 17 requests to /where (12 from the test before, 5 now)",
  });
  const notFound = { route: '', application: '', method: 'GET' };
  expect(await scraped(head.metricsAddress!, 'ray_serve_num_http_requests', { ...notFound, status_code: '404' })).toBe(
    1,
  );
  expect(
    await scraped(head.metricsAddress!, 'ray_serve_num_http_error_requests', { ...notFound, error_code: '404' }),
  ).toBe(1);
  expect(await scraped(head.metricsAddress!, 'ray_serve_http_request_latency_ms_count', ok)).toBeGreaterThanOrEqual(17);
  expect(await scraped(head.metricsAddress!, 'ray_serve_num_ongoing_http_requests', {})).toBe(0);
  // Each replica counts what it processed on its own node: all of them together, every request.
  const replicaRows = async (name: string) => {
    let sum = 0;
    for (const n of cluster.nodes)
      sum += await scraped(n.metricsAddress!, name, { application: 'where', route: '/where' });
    return sum;
  };
  await waitFor(async () => (await replicaRows('ray_serve_deployment_request_counter')) >= 41, {
    timeoutMs: 10_000,
    what: "the replicas' 41 requests (36 from the test before, 5 now)",
  });
  expect(await replicaRows('ray_serve_deployment_processing_latency_ms_count')).toBeGreaterThanOrEqual(41);
  expect(await replicaRows('ray_serve_deployment_error_counter')).toBe(0);
});

it("reports replica health and starts from the controller, and the routers' ongoing requests", async () => {
  const sumOverNodes = async (name: string, labels: Record<string, string>) => {
    let sum = 0;
    for (const n of cluster.nodes) sum += await scraped(n.metricsAddress!, name, labels);
    return sum;
  };
  const where = { application: 'where', deployment: 'Where' };
  // The controller's thread sends its metrics to its node every half second.
  await waitFor(async () => (await sumOverNodes('ray_serve_deployment_replica_healthy', where)) === 3, {
    timeoutMs: 10_000,
    what: 'the 3 replicas of Where to show healthy',
  });
  expect(await sumOverNodes('ray_serve_deployment_replica_starts', where)).toBe(3);
  // Each proxy's router sent requests to Where (the tests before): none ongoing now.
  const head = cluster.nodes.find((n) => n.isHead)!;
  const text = await (await fetch(`http://${head.metricsAddress}/metrics`, { headers: clusterAuthHeaders() })).text();
  expect(text).toMatch(/ray_serve_num_ongoing_requests_at_replicas\{[^}]*deployment="Where"[^}]*\} 0/);
  expect(await scraped(head.metricsAddress!, 'ray_serve_deployment_queued_queries', where)).toBe(0);
  // The head proxy's router was given the 17 requests to /where of the tests before.
  expect(await scraped(head.metricsAddress!, 'ray_serve_num_router_requests', { ...where, route: '/where' })).toBe(17);
});

it('keeps serving when a worker node dies under load: its replica is replaced on a live node', async () => {
  const st = await serve.status();
  const headId = cluster.nodes.find((n) => n.isHead)!.nodeId;
  const victim = cluster.nodes.find((n) => !n.isHead)!.nodeId;
  const headPort = st.proxies[headId].httpPort!;
  const load = autocannon({ url: `http://127.0.0.1:${headPort}/where`, connections: 4, duration: 4 });
  await new Promise((r) => setTimeout(r, 500)); // under load (the load generator's clock)
  cluster.killNode(victim);
  const result = await load;
  expect(result.errors).toBe(0);
  expect(result.non2xx).toBe(0); // GETs in flight to the dead node's replica were retried elsewhere
  await waitFor(
    async () => {
      const s = await serve.status();
      return s.applications.where.deployments.Where.replicaStates.RUNNING === 3 && s.proxies[victim] === undefined;
    },
    { timeoutMs: 30_000 },
  );
  const nodesServing = new Set<string>();
  for (let i = 0; i < 20; i++) nodesServing.add((await where(headPort)).node);
  expect(nodesServing.has(victim)).toBe(false);
  expect(nodesServing.size).toBeGreaterThanOrEqual(1);
});

it('places a GPU replica on the node that declares a GPU, in a process with CUDA_VISIBLE_DEVICES', async () => {
  const gpuNode = await cluster.addNode({ numCpus: 1, numGpus: 1 });
  await serve.run(f.OnGpu.bind(), { name: 'gpu', routePrefix: '/gpu' });
  const st = await serve.status();
  const port = st.proxies[cluster.nodes.find((n) => n.isHead)!.nodeId].httpPort!;
  const r = (await (await fetch(`http://127.0.0.1:${port}/gpu`)).json()) as { cuda: string; pid: number; node: string };
  expect(r.node).toBe(gpuNode.nodeId);
  expect(r.cuda).toBe('0');
  expect(r.pid).not.toBe(gpuNode.pid); // a child process of the node, not the node's own thread
});
