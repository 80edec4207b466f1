// Token authentication on by default (docs/security.md): every method of every gRPC service (the
// list built from the loaded protos) and every route of the job API, called without the cluster's
// token or with another, against a real head and node on 127.0.0.1, is refused; browser requests
// and non-JSON bodies are refused even with the token; a driver and a node with a wrong token fail
// at once, saying what to set; RAY_TS_AUTH_MODE=disabled turns it off.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AuthenticationError, init, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');
type Protos = { gcs: { Gcs: grpc.ServiceClientConstructor }; node: { Node: grpc.ServiceClientConstructor } };
const { protos } = (await import('../dist/cluster/proto.js' as string)) as { protos: () => Protos };

const token = () => clusterAuthHeaders().authorization.replace(/^Bearer /, '');
const WRONG = 'not-the-cluster-token-0123456789';

let cluster: Cluster;
let api: string;
let jobId: string;

beforeAll(async () => {
  // A small body bound and log cap on the head, to see 413 and the cut log without big data.
  cluster = await Cluster.start({
    head: { numCpus: 1, env: { RAY_TS_JOB_API_MAX_BODY_BYTES: '4096', RAY_TS_JOB_LOGS_MAX_BYTES: '1000' } },
    nodes: [{ numCpus: 1 }],
  });
  api = cluster.nodes[0].jobApiAddress!;
  jobId = `auth-job-${process.pid}`;
  const res = await fetch(`${api}/api/jobs/`, {
    method: 'POST',
    headers: { ...clusterAuthHeaders(), 'content-type': 'application/json' },
    body: JSON.stringify({
      entrypoint: `${process.execPath} -e "process.stdout.write('x'.repeat(4999) + 'END')"`,
      submission_id: jobId,
    }),
  });
  expect(res.status, await res.text()).toBe(200);
});

afterAll(async () => {
  await cluster?.shutdown();
});

/** Metadata with `authorization: Bearer <value>` (none without a value). */
function bearer(value: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (value !== undefined) md.set('authorization', `Bearer ${value}`);
  return md;
}

/** What each method is sent: the attacks of issue 20 where they matter, an empty message elsewhere. */
function requestFor(method: string): object {
  const worker = cluster.nodes[1];
  switch (method) {
    case 'KvPut':
      return {
        namespace: 'cluster',
        key: 'job_api_address',
        value: Buffer.from('http://evil.example'),
        overwrite: true,
      };
    case 'RegisterNode':
      return { nodeId: 'node_intruder', address: '127.0.0.1:1', isHead: true, state: 'ALIVE' };
    case 'UnregisterNode':
      return { nodeId: worker.nodeId };
    default:
      return {};
  }
}

/** Calls one method of a raw client (no interceptor of ours), whatever its kind; resolves with its error. */
function callRaw(
  client: grpc.Client,
  def: grpc.MethodDefinition<object, unknown>,
  req: object,
  md: grpc.Metadata,
): Promise<grpc.ServiceError | undefined> {
  const options = { deadline: Date.now() + 10_000 };
  const ser = def.requestSerialize;
  const de = def.responseDeserialize;
  return new Promise((resolve) => {
    if (!def.requestStream && !def.responseStream) {
      client.makeUnaryRequest(def.path, ser, de, req, md, options, (err) => resolve(err ?? undefined));
    } else if (!def.requestStream) {
      const s = client.makeServerStreamRequest(def.path, ser, de, req, md, options);
      s.on('error', (err: grpc.ServiceError) => resolve(err));
      s.on('data', () => {});
      s.on('end', () => resolve(undefined));
    } else if (!def.responseStream) {
      const s = client.makeClientStreamRequest(def.path, ser, de, md, options, (err) => resolve(err ?? undefined));
      s.write(req);
      s.end();
    } else {
      const s = client.makeBidiStreamRequest(def.path, ser, de, md, options);
      s.on('error', (err: grpc.ServiceError) => resolve(err));
      s.on('data', () => {});
      s.on('end', () => resolve(undefined));
      s.write(req);
      s.end();
    }
  });
}

describe('gRPC: every method of every service', () => {
  it('refuses each call without the token, or with another, with UNAUTHENTICATED and what to set', async () => {
    const p = protos();
    const [head, worker] = cluster.nodes;
    const targets = [
      { service: 'Gcs', address: head.address, def: p.gcs.Gcs.service },
      { service: 'Node (head)', address: head.address, def: p.node.Node.service },
      { service: 'Node (worker node)', address: worker.address, def: p.node.Node.service },
    ];
    const client = new Map<string, grpc.Client>();
    const clientOf = (address: string) => {
      let c = client.get(address);
      if (!c) client.set(address, (c = new grpc.Client(address, grpc.credentials.createInsecure())));
      return c;
    };
    onTestFinished(() => client.forEach((c) => c.close()));
    const results: string[] = [];
    let calls = 0;
    for (const t of targets) {
      const methods = Object.entries(t.def);
      expect(methods.length).toBeGreaterThan(t.service === 'Gcs' ? 15 : 5);
      for (const [name, def] of methods) {
        for (const [what, value] of [
          ['no token', undefined],
          ['a wrong token', WRONG],
          ['a wrong scheme', undefined],
        ] as const) {
          const md = what === 'a wrong scheme' ? new grpc.Metadata() : bearer(value);
          if (what === 'a wrong scheme') md.set('authorization', token()); // the token without "Bearer"
          const err = await callRaw(
            clientOf(t.address),
            def as grpc.MethodDefinition<object, unknown>,
            requestFor(name),
            md,
          );
          calls++;
          const ok =
            err?.code === grpc.status.UNAUTHENTICATED &&
            /set RAY_TS_AUTH_TOKEN/.test(err.details) &&
            !err.details.includes(token());
          if (!ok)
            results.push(`${t.service}.${name} with ${what}: ${err ? `${err.code} ${err.details}` : 'answered'}`);
        }
      }
    }
    expect(results).toEqual([]);
    expect(calls).toBeGreaterThan(80);

    // Nothing those calls asked for happened: the head's job API address is its own, no intruder
    // registered, the worker node is alive (UnregisterNode, Node.Stop were refused).
    const good = new p.gcs.Gcs(head.address, grpc.credentials.createInsecure());
    onTestFinished(() => good.close());
    const unary = <T>(m: string, req: object) =>
      new Promise<T>((resolve, reject) =>
        (good as unknown as Record<string, (...a: unknown[]) => void>)[m](
          req,
          bearer(token()),
          (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)),
        ),
      );
    const kv = await unary<{ found: boolean; value: Buffer }>('KvGet', {
      namespace: 'cluster',
      key: 'job_api_address',
    });
    expect(kv.value.toString()).toBe(api);
    const view = await unary<{ nodes: { nodeId: string; state: string }[] }>('GetClusterView', {});
    expect(view.nodes.map((n) => n.nodeId)).not.toContain('node_intruder');
    expect(view.nodes.find((n) => n.nodeId === worker.nodeId)?.state).toBe('ALIVE');
    expect(view.nodes.find((n) => n.nodeId === head.nodeId)?.state).toBe('ALIVE');
  });
});

/**
 * Every route of the job API and the dashboard's data, with a job and a package that exist (so a
 * 404 cannot hide a 401). Paths outside /api/ are the dashboard's page, served without the token.
 */
const routes = (): [method: string, p: string][] => [
  ['GET', '/api/version'],
  ['GET', '/api/jobs/'],
  ['POST', '/api/jobs/'],
  ['GET', `/api/jobs/${jobId}`],
  ['DELETE', `/api/jobs/${jobId}`],
  ['GET', `/api/jobs/${jobId}/logs`],
  ['GET', `/api/jobs/${jobId}/logs/tail`],
  ['POST', `/api/jobs/${jobId}/stop`],
  ['GET', '/api/packages/gcs/_ray_pkg_0123456789abcdef.zip'],
  ['PUT', '/api/packages/gcs/_ray_pkg_0123456789abcdef.zip'],
  ['GET', '/api/no/such/path'],
  ['GET', '/api/v0/nodes'],
  ['GET', '/api/v0/tasks'],
  ['GET', '/api/cluster_status'],
  ['GET', '/api/memory'],
  ['GET', '/api/serve/applications/'],
  ['GET', '/api/dashboard/history'],
  ['GET', '/api/dashboard/runs'],
  ['GET', '/api/timeline'],
];

/** The status of a websocket upgrade of the log tail with these headers (101: it was accepted). */
function upgradeStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${api.replace(/^http/, 'ws')}/api/jobs/${jobId}/logs/tail`, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => reject(err));
  });
}

describe('the job API: every route', () => {
  it('answers 401 to each without the token, or with another, and does nothing', async () => {
    const failures: string[] = [];
    const marker = path.join(os.tmpdir(), `ray-ts-auth-marker-${process.pid}`);
    onTestFinished(() => fs.rmSync(marker, { force: true }));
    for (const [method, p] of routes()) {
      const tries: Record<string, string>[] = [{}, { authorization: `Bearer ${WRONG}` }, { authorization: token() }];
      for (const headers of tries) {
        const body =
          method === 'POST' ? JSON.stringify({ entrypoint: `touch ${marker}` }) : method === 'PUT' ? 'zip' : undefined;
        const res = await fetch(`${api}${p}`, {
          method,
          headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          body,
        });
        const text = await res.text();
        if (
          res.status !== 401 ||
          !/set RAY_TS_AUTH_TOKEN/.test(text) ||
          res.headers.get('www-authenticate') !== 'Bearer'
        )
          failures.push(`${method} ${p} with ${JSON.stringify(headers)}: ${res.status} ${text.slice(0, 120)}`);
      }
    }
    const bad: Record<string, string>[] = [{}, { authorization: `Bearer ${WRONG}` }];
    for (const headers of bad)
      if ((await upgradeStatus(headers)) !== 401) failures.push(`websocket tail with ${JSON.stringify(headers)}`);
    expect(failures).toEqual([]);
    // The job is still there (DELETE and stop were refused), no job ran the marker command.
    const jobs = (await (await fetch(`${api}/api/jobs/`, { headers: clusterAuthHeaders() })).json()) as {
      submission_id: string;
      entrypoint: string;
    }[];
    expect(jobs.map((j) => j.submission_id)).toEqual([jobId]);
    expect(fs.existsSync(marker)).toBe(false);
    // With the token, the websocket tail is served.
    expect(await upgradeStatus(clusterAuthHeaders())).toBe(101);
  });

  it("refuses a browser's cross-origin POST (text/plain, no preflight), and any browser request", async () => {
    const marker = path.join(os.tmpdir(), `ray-ts-auth-browser-${process.pid}`);
    onTestFinished(() => fs.rmSync(marker, { force: true }));
    // What a web page's fetch('http://127.0.0.1:8265/api/jobs/', { method: 'POST', mode: 'no-cors', body })
    // sends: no Authorization (a page cannot add one without a preflight), an Origin, text/plain.
    const browser = {
      origin: 'http://evil.example',
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'no-cors',
      'content-type': 'text/plain;charset=UTF-8',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
    };
    const body = JSON.stringify({ entrypoint: `touch ${marker}` });
    const post = (headers: Record<string, string>) => fetch(`${api}/api/jobs/`, { method: 'POST', headers, body });
    expect((await post(browser)).status).toBe(401);
    // Even one that somehow had the token: refused as a browser's.
    const withToken = await post({ ...browser, ...clusterAuthHeaders() });
    expect(withToken.status).toBe(403);
    expect(await withToken.text()).toMatch(/refuses requests from browsers/);
    // Not a browser, but not JSON: 415.
    const plain = await post({ ...clusterAuthHeaders(), 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(await plain.text()).toMatch(/JSON bodies only, sent with 'Content-Type: application\/json'/);
    expect(await upgradeStatus({ ...clusterAuthHeaders(), origin: 'http://evil.example' })).toBe(403);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('bounds bodies (413), checks submission ids (400), and cuts long logs, saying so', async () => {
    const json = { ...clusterAuthHeaders(), 'content-type': 'application/json' };
    const big = await fetch(`${api}/api/jobs/`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ entrypoint: 'true', metadata: { pad: 'x'.repeat(5000) } }),
    });
    expect(big.status).toBe(413);
    const badId = await fetch(`${api}/api/jobs/`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ entrypoint: 'true', submission_id: '../../etc/passwd' }),
    });
    expect(badId.status).toBe(400);
    expect(await badId.text()).toMatch(/submission_id '..\/..\/etc\/passwd' is not valid: use 1 to 128 letters/);
    await waitFor(
      async () =>
        ((await (await fetch(`${api}/api/jobs/${jobId}`, { headers: json })).json()) as { status: string }).status ===
        'SUCCEEDED',
      { what: 'the job that prints 5,002 bytes to end' },
    );
    const r = (await (await fetch(`${api}/api/jobs/${jobId}/logs`, { headers: json })).json()) as {
      logs: string;
      truncated_bytes: number;
    };
    expect(r.truncated_bytes).toBe(4002);
    expect(r.logs).toMatch(/^\[ray-ts: the first 4002 bytes of this log are left out: the head returns its last 1000/);
    expect(r.logs.endsWith('x'.repeat(997) + 'END')).toBe(true);
    // Following it gives all of it.
    const tail = await (await fetch(`${api}/api/jobs/${jobId}/logs/tail`, { headers: json })).text();
    expect(tail).toBe('x'.repeat(4999) + 'END');
  });
});

describe('a driver or node with a wrong or missing token', () => {
  it('fails init({ address }) at once with an AuthenticationError that says what to set', async () => {
    const saved = { token: process.env.RAY_TS_AUTH_TOKEN, session: process.env.RAY_TS_SESSION_DIR };
    onTestFinished(() => {
      for (const [k, v] of [
        ['RAY_TS_AUTH_TOKEN', saved.token],
        ['RAY_TS_SESSION_DIR', saved.session],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    });
    process.env.RAY_TS_AUTH_TOKEN = WRONG;
    const err = await init({ address: cluster.address }).then(
      () => shutdown().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^The ray-ts cluster at ${cluster.address} refused this process: the token the request carried is not this cluster's: set RAY_TS_AUTH_TOKEN`,
      ),
    );
    expect((err as Error).message).not.toContain(WRONG);
    // No token at all (another session directory, none in the environment).
    delete process.env.RAY_TS_AUTH_TOKEN;
    process.env.RAY_TS_SESSION_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-no-token-'));
    onTestFinished(() => fs.rmSync(process.env.RAY_TS_SESSION_DIR!, { recursive: true, force: true }));
    await expect(init({ address: cluster.address })).rejects.toThrow(
      /refused this process: this ray-ts cluster requires its token and the request carried none/,
    );
  });

  it('fails ray-ts start --address, and a node process, at once, saying what to set', async () => {
    const env = {
      ...process.env,
      RAY_TS_AUTH_TOKEN: WRONG,
      RAY_TS_ADDRESS: '',
      RAY_TS_SESSION_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-wrong-')),
    };
    onTestFinished(() => fs.rmSync(env.RAY_TS_SESSION_DIR, { recursive: true, force: true }));
    const cliRun = run(process.execPath, [cli, 'start', '--address', cluster.address, '--num-cpus', '1'], {
      env,
      timeout: 30_000,
    });
    await expect(cliRun).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /ray-ts: The ray-ts cluster at \S+ refused this process: the token the request carried is not this cluster's: set RAY_TS_AUTH_TOKEN/,
      ),
    });
    // The node process itself (past the command line's check): its registration is refused.
    await expect(cluster.addNode({ env: { RAY_TS_AUTH_TOKEN: WRONG } })).rejects.toThrow(
      /exited with code 1 while starting:[\s\S]*ray-ts node failed to start: The ray-ts cluster at \S+ refused this process: the token the request carried is not this cluster's/,
    );
    expect(cluster.nodes).toHaveLength(2);
  });
});

describe('RAY_TS_AUTH_MODE=disabled', () => {
  it('serves callers without a token (the browser check stays on)', async () => {
    const open = await Cluster.start({ head: { numCpus: 1, env: { RAY_TS_AUTH_MODE: 'disabled' } } });
    onTestFinished(() => open.shutdown());
    const c = new (protos().gcs.Gcs)(open.address, grpc.credentials.createInsecure());
    onTestFinished(() => c.close());
    const view = await new Promise<{ nodes: unknown[] }>((resolve, reject) =>
      (c as unknown as { GetClusterView: (...a: unknown[]) => void }).GetClusterView(
        {},
        new grpc.Metadata(),
        (err: grpc.ServiceError | null, r: { nodes: unknown[] }) => (err ? reject(err) : resolve(r)),
      ),
    );
    expect(view.nodes).toHaveLength(1);
    const jobsApi = open.nodes[0].jobApiAddress!;
    expect((await fetch(`${jobsApi}/api/jobs/`)).status).toBe(200);
    expect((await fetch(`${jobsApi}/api/jobs/`, { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    // A driver that requires a token of its callers (this machine's) would refuse the cluster's
    // calls to it: it is told at once to turn authentication off too.
    await expect(init({ address: open.address })).rejects.toThrow(
      /runs without authentication \(RAY_TS_AUTH_MODE=disabled on its head\).*set RAY_TS_AUTH_MODE=disabled here too/,
    );
    process.env.RAY_TS_AUTH_MODE = 'disabled';
    onTestFinished(() => {
      delete process.env.RAY_TS_AUTH_MODE;
    });
    await init({ address: open.address });
    const { remote, get } = await import('@ray-ts/core');
    expect(await get(remote((x: number) => x + 1).remote(41))).toBe(42);
    await shutdown();
    expect(open.nodes[0].output()).not.toMatch(/WARNING: authentication is off/); // it listens on 127.0.0.1 only
  });
});

describe('ray-ts get-auth-token', () => {
  it("prints this machine's token, makes one with --generate, and says where it looked otherwise", async () => {
    const cmd = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      run(process.execPath, [cli, 'get-auth-token', ...args], { env, timeout: 30_000 });
    expect((await cmd({ ...process.env, RAY_TS_AUTH_TOKEN: '' })).stdout.trim()).toBe(token());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-get-token-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const env = { ...process.env, RAY_TS_AUTH_TOKEN: '', RAY_TS_SESSION_DIR: path.join(dir, 'session') };
    await expect(cmd(env)).rejects.toMatchObject({
      stderr: expect.stringMatching(/no cluster token here \(looked in RAY_TS_AUTH_TOKEN and \S+auth_token\)/),
    });
    const made = (await cmd(env, '--generate')).stdout.trim();
    expect(made).toMatch(/^[0-9a-f]{64}$/);
    expect((await cmd(env)).stdout.trim()).toBe(made);
    expect(fs.statSync(path.join(dir, 'session')).mode & 0o777).toBe(0o700);
  });
});
