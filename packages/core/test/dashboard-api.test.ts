// The dashboard's data routes on a real head and node (processes on 127.0.0.1): the state
// listings in Ray's state API shape show the cluster's nodes, an actor, a failed task with its
// error, a placement group and a job; cluster_status, memory, Serve's published status, the
// sampled history, Tune/Train runs and the timeline answer; the browser rule lets the page's
// same-origin GETs through and refuses cross-site reads, other Hosts, writes and no token; the
// page itself is served without the token, under a strict Content-Security-Policy.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorIdOf, get, init, internalKv, placementGroup, put, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';
import { ApiCounterActor, apiFailingTask, apiQuickTask } from './fixtures/dashboard-api.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-api-test-'));
const runsRoot = path.join(tmp, 'results');
const pageDir = path.join(tmp, 'page');
const savedToken = process.env.RAY_TS_AUTH_TOKEN;
process.env.RAY_TS_AUTH_TOKEN = crypto.randomBytes(16).toString('hex');

let cluster: Cluster;
let api: URL;
let actorId: string;
let groupId: string;
let jobId: string;

/** A Tune experiment's files as Tune writes them: experiment_state.json and each trial's result.json. */
function writeExperiment(dir: string, name: string, losses: Record<string, number[]>): void {
  fs.mkdirSync(dir, { recursive: true });
  const trials = Object.entries(losses).map(([id, values]) => {
    const results = values.map((loss, i) => ({
      loss,
      trainingIteration: i + 1,
      timeTotalS: i + 1,
      timeThisIterS: 1,
      trialId: id,
      timestamp: 1_700_000_000_000 + i,
    }));
    fs.mkdirSync(path.join(dir, `trial_${id}`), { recursive: true });
    fs.writeFileSync(
      path.join(dir, `trial_${id}`, 'result.json'),
      results.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    return {
      trialId: id,
      trialName: `trial_${id}`,
      config: { lr: values[0] },
      status: 'TERMINATED',
      lastResult: results.at(-1),
      error: undefined,
    };
  });
  const state = { version: 1, name, metric: 'loss', mode: 'min', trials, startedAt: 1_700_000_000_000 };
  fs.writeFileSync(path.join(dir, 'experiment_state.json'), JSON.stringify(state));
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A request with exactly these headers (fetch would not send another Host). */
function request(pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: api.hostname, port: api.port, path: pathname, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function json<T>(pathname: string): Promise<T> {
  const r = await request(pathname, clusterAuthHeaders());
  expect(r.status, `${pathname}: ${r.text}`).toBe(200);
  return JSON.parse(r.text) as T;
}

interface StateReply {
  result: boolean;
  msg: string;
  data: {
    result: { total: number; num_after_truncation: number; num_filtered: number; result: Record<string, unknown>[] };
  };
}
const rows = async (pathname: string) => (await json<StateReply>(pathname)).data.result.result;

beforeAll(async () => {
  writeExperiment(path.join(runsRoot, 'exp_found'), 'exp_found', { a1: [3, 2, 1.5], b2: [4, 1, 0.5] });
  fs.mkdirSync(pageDir);
  fs.writeFileSync(path.join(pageDir, 'index.html'), '<!doctype html><script src="/assets/app.js"></script>');
  fs.writeFileSync(path.join(pageDir, 'app.js'), 'console.log(1);');
  cluster = await Cluster.start({
    head: {
      numCpus: 1,
      env: {
        RAY_TS_DASHBOARD_SAMPLE_MS: '200',
        RAY_TS_DASHBOARD_RUNS_PATHS: runsRoot,
        RAY_TS_DASHBOARD_DIR: pageDir,
      },
    },
    nodes: [{ numCpus: 1 }],
  });
  api = new URL(cluster.nodes[0].jobApiAddress!);
  await init({ address: cluster.address });
  const counter = ApiCounterActor.remote();
  expect(await get(counter.inc.remote())).toBe(1);
  actorId = actorIdOf(counter);
  await expect(get(apiFailingTask.remote('boom'))).rejects.toThrow(/dashboard test failure: boom/);
  expect(await get(Array.from({ length: 4 }, (_, i) => apiQuickTask.remote(i)))).toEqual([0, 2, 4, 6]);
  const pg = placementGroup([{ CPU: 0.1 }], { name: 'dashboard-pg' });
  await pg.ready();
  groupId = pg.id;
  const submitted = await fetch(`${api.origin}/api/jobs/`, {
    method: 'POST',
    headers: { ...clusterAuthHeaders(), 'content-type': 'application/json' },
    body: JSON.stringify({ entrypoint: 'echo dashboard-job-line' }),
  });
  expect(submitted.status).toBe(200);
  jobId = ((await submitted.json()) as { submission_id: string }).submission_id;
}, 120_000);

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  if (savedToken === undefined) delete process.env.RAY_TS_AUTH_TOKEN;
  else process.env.RAY_TS_AUTH_TOKEN = savedToken;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("the dashboard's data routes", () => {
  it("lists nodes, actors, tasks, placement groups, jobs and objects in Ray's state API shape", async () => {
    const reply = await json<StateReply>('/api/v0/nodes');
    expect(reply).toMatchObject({ result: true, msg: '' });
    expect(reply.data.result.result.map((n) => n.nodeId).sort()).toEqual(cluster.nodes.map((n) => n.nodeId).sort());
    const actors = await rows('/api/v0/actors?limit=1000');
    expect(actors.find((a) => a.actorId === actorId)).toMatchObject({
      className: 'ApiCounter',
      state: 'ALIVE',
      numRestarts: 0,
    });
    expect(cluster.nodes.map((n) => n.nodeId)).toContain(actors.find((a) => a.actorId === actorId)!.nodeId);
    const failed = await rows('/api/v0/tasks?filter_keys=name&filter_predicates=%3D&filter_values=apiFailingTask');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ state: 'FAILED' });
    expect(failed[0].endTimeMs).toBeGreaterThanOrEqual(failed[0].startTimeMs as number);
    expect(failed[0].errorMessage).toMatch(/dashboard test failure: boom/);
    const groups = await rows('/api/v0/placement_groups');
    expect(groups.find((g) => g.placementGroupId === groupId)).toMatchObject({
      name: 'dashboard-pg',
      state: 'CREATED',
    });
    await waitFor(async () => (await rows('/api/v0/jobs')).some((j) => j.jobId === jobId), { what: 'the job listed' });
    const ref = put(new Float64Array(50_000)); // 400 KB: in the object store
    const objects = await rows('/api/v0/objects?limit=10000');
    expect(objects.some((o) => o.objectId === ref.id)).toBe(true);
    const limited = await json<StateReply>('/api/v0/tasks?limit=1');
    expect(limited.data.result.num_after_truncation).toBe(1);
    expect(limited.data.result.total).toBeGreaterThanOrEqual(5);
    const bad = await request('/api/v0/tasks?limit=0', clusterAuthHeaders());
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toMatch(/limit must be an integer from 1 to 10000/);
  });

  it('gives the cluster status (with each node’s machine use), the memory summary and the timeline', async () => {
    const status = (await waitFor(
      async () => {
        const s = await json<{ nodes: { nodeId: string; cpuPercent: number | null; memTotalBytes: number | null }[] }>(
          '/api/cluster_status',
        );
        return s.nodes.every((n) => n.cpuPercent !== null && n.memTotalBytes! > 0) ? s : undefined;
      },
      { what: 'machine use of every node in cluster_status' },
    ))!;
    expect(status).toMatchObject({ resources: { total: { CPU: 2 } }, pendingDemand: [], autoscaler: null });
    expect(status.nodes).toHaveLength(2);
    const ref = put('x'.repeat(300_000));
    const memory = await json<{
      total: { count: number; bytes: number };
      nodes: Record<string, { top: { objectId: string }[] }>;
    }>('/api/memory');
    expect(memory.total.bytes).toBeGreaterThan(300_000);
    expect(Object.values(memory.nodes).some((n) => n.top.some((o) => o.objectId === ref.id))).toBe(true);
    const timeline = await request('/api/timeline', clusterAuthHeaders());
    expect(timeline.status).toBe(200);
    expect(timeline.headers['content-disposition']).toMatch(/^attachment; filename="ray-ts-timeline-.*\.json"$/);
    const events = JSON.parse(timeline.text) as { name: string; ph: string }[];
    expect(events.filter((e) => e.name === 'apiQuickTask' && e.ph === 'X')).toHaveLength(4);
  });

  it('samples node use and task states into the history', async () => {
    const [head, node] = cluster.nodes.map((n) => n.nodeId);
    const h = (await waitFor(
      async () => {
        const r = await json<{ t: number[]; series: Record<string, (number | null)[]> }>(
          '/api/dashboard/history?seconds=60',
        );
        const ok = [`cpu:${head}`, `cpu:${node}`, `mem:${node}`, `objstore:${head}`, 'tasks:FINISHED'].every((k) =>
          r.series[k]?.some((v) => v !== null),
        );
        return ok && r.t.length >= 2 ? r : undefined;
      },
      { what: 'two samples with every series' },
    ))!;
    for (const values of Object.values(h.series)) expect(values).toHaveLength(h.t.length);
    expect(h.t).toEqual([...h.t].sort((a, b) => a - b));
    expect(Math.max(...(h.series['tasks:FINISHED'] as number[]))).toBeGreaterThanOrEqual(4);
  });

  it("returns what Serve's controller publishes, and no applications without it", async () => {
    expect(await json('/api/serve/applications/')).toEqual({ applications: {}, proxies: {} });
    const published = {
      applications: {
        app1: { status: 'RUNNING', route_prefix: '/', deployments: { D: { status: 'HEALTHY', replicas: [] } } },
      },
      proxies: {},
    };
    await internalKv.put('status', JSON.stringify(published), { namespace: 'serve' });
    expect(await json('/api/serve/applications/')).toEqual(published);
    await internalKv.del('status', { namespace: 'serve' });
  });

  it('finds Tune runs in the storage folders and registered ones, with their trials and curves', async () => {
    const elsewhere = path.join(tmp, 'elsewhere', 'exp_registered');
    writeExperiment(elsewhere, 'exp_registered', { c3: [1, 2] });
    const reg = { kind: 'tune', name: 'exp_registered', path: elsewhere, startTime: Date.now() };
    await internalKv.put(elsewhere, JSON.stringify(reg), { namespace: 'runs' });
    const runs =
      await json<{ name: string; kind: string; path: string; trials: number; status: string; bestTrial?: unknown }[]>(
        '/api/dashboard/runs',
      );
    expect(runs.find((r) => r.name === 'exp_found')).toMatchObject({
      kind: 'tune',
      path: path.join(runsRoot, 'exp_found'),
      trials: 2,
      status: 'TERMINATED',
      bestTrial: { trialId: 'b2', metric: 'loss', value: 0.5 },
    });
    expect(runs.find((r) => r.name === 'exp_registered')).toMatchObject({ path: elsewhere, trials: 1 });
    const detail = await json<{
      trials: { trialId: string; metrics: Record<string, [number, number][]> }[];
      best: unknown;
    }>(`/api/dashboard/runs/exp_found?path=${encodeURIComponent(path.join(runsRoot, 'exp_found'))}`);
    expect(detail.best).toEqual({ trialId: 'b2', metric: 'loss', mode: 'min' });
    expect(detail.trials.find((t) => t.trialId === 'a1')!.metrics.loss).toEqual([
      [1, 3],
      [2, 2],
      [3, 1.5],
    ]);
    // A path no listing names is not read.
    const other = await request(`/api/dashboard/runs/exp_found?path=${encodeURIComponent(tmp)}`, clusterAuthHeaders());
    expect(other.status).toBe(404);
  });
});

describe("the dashboard's browser rule", () => {
  const browser = {
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
    'sec-fetch-mode': 'cors',
    'sec-fetch-dest': 'empty',
  };

  it("serves the page's same-origin GETs with the token, the job API's too", async () => {
    const page = { ...browser, ...clusterAuthHeaders(), 'sec-fetch-site': 'same-origin', referer: `${api.origin}/` };
    expect((await request('/api/v0/nodes', page)).status).toBe(200);
    expect((await request('/api/cluster_status', { ...page, host: `localhost:${api.port}` })).status).toBe(200);
    const jobs = await request('/api/jobs/', page);
    expect(jobs.status).toBe(200);
    expect((JSON.parse(jobs.text) as { submission_id: string }[]).map((j) => j.submission_id)).toContain(jobId);
    expect((await request(`/api/jobs/${jobId}/logs`, page)).status).toBe(200);
  });

  it('refuses cross-site reads, a Host of another name, any write, and no token', async () => {
    const page: Record<string, string> = { ...browser, ...clusterAuthHeaders(), 'sec-fetch-site': 'same-origin' };
    const cross = await request('/api/v0/nodes', {
      ...page,
      'sec-fetch-site': 'cross-site',
      origin: 'http://evil.example',
    });
    expect(cross.status).toBe(403);
    const rebound = await request('/api/v0/nodes', { ...page, host: `evil.example:${api.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.text).error).toMatch(/refuses requests from browsers/);
    const stop = await request(`/api/jobs/${jobId}/stop`, page, 'POST');
    expect(stop.status).toBe(403);
    const del = await request(`/api/jobs/${jobId}`, page, 'DELETE');
    expect(del.status).toBe(403);
    const { authorization: _a, ...noToken } = page;
    const bare = await request('/api/v0/nodes', noToken);
    expect(bare.status).toBe(401);
    expect(bare.headers['www-authenticate']).toBe('Bearer');
  });

  it('serves the page without the token, under a strict Content-Security-Policy', async () => {
    for (const p of ['/', '/nodes', '/jobs/raysubmit_x']) {
      const r = await request(p, browser);
      expect(r.status, p).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.text).toContain('/assets/app.js');
      expect(r.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    const js = await request('/assets/app.js', browser);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await request('/assets/app.js', { ...browser, 'if-none-match': js.headers.etag! });
    expect(again.status).toBe(304);
    expect((await request('/assets/..%2Findex.html', browser)).status).toBe(404);
    expect((await request('/assets/nope.js', browser)).status).toBe(404);
    expect((await request('/', browser, 'POST')).status).toBe(405);
  });
});

describe('ray-ts dashboard', () => {
  it("prints the dashboard's URL with the cluster token in its fragment, which the page's data accepts", async () => {
    const env = { ...process.env, RAY_TS_ADDRESS: cluster.address };
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'dashboard', '--print-url'], { env });
    const url = new URL(stdout.trim());
    expect(url.origin).toBe(api.origin);
    expect(url.pathname).toBe('/');
    const token = decodeURIComponent(url.hash.replace(/^#token=/, ''));
    expect(token).toBe(process.env.RAY_TS_AUTH_TOKEN);
    expect((await request('/api/v0/nodes', { authorization: `Bearer ${token}` })).status).toBe(200);
    const told = await promisify(execFile)(process.execPath, [cli, 'dashboard', '--address', cluster.address], { env });
    expect(told.stdout).toMatch(/Open the ray-ts dashboard at:\n {2}http:\/\/127\.0\.0\.1:\d+\/#token=/);
    expect(told.stdout).toMatch(/do not share the link/);
  });
});
