// TLS for every gRPC connection between ray-ts processes (RAY_TS_USE_TLS, docs/security.md), with
// certificates this file makes with the openssl CLI: a TLS head and node on 127.0.0.1 run a
// driver's tasks, an actor and large objects across nodes; a driver or node without TLS, with
// certificates of another CA, or with a certificate that does not name its address is refused
// with a TlsError that says what to set; a raw client with the right certificate but no token is
// still refused UNAUTHENTICATED; a cluster whose certificates carry one name works with
// RAY_TS_TLS_SERVER_NAME; settings that cannot be used fail before anything starts.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsError, get, getRuntimeContext, init, put, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';
import { CounterActor as Counter, make, sampleSum as sum, whereAmI } from './fixtures/cluster.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');
type Protos = { gcs: { Gcs: grpc.ServiceClientConstructor } };
const { protos } = (await import('../dist/cluster/proto.js' as string)) as { protos: () => Protos };

const TLS_VARS = [
  'RAY_TS_USE_TLS',
  'RAY_TS_TLS_SERVER_CERT',
  'RAY_TS_TLS_SERVER_KEY',
  'RAY_TS_TLS_CA_CERT',
  'RAY_TS_TLS_SERVER_NAME',
];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tls-test-'));
const file = (name: string) => path.join(dir, name);

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args);
}

/** A CA (`<name>-ca.crt`, `.key`). */
async function makeCa(name: string): Promise<void> {
  await openssl(
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=ray-ts test CA ${name}`,
    '-keyout', file(`${name}-ca.key`), '-out', file(`${name}-ca.crt`),
  ); // prettier-ignore
}

/** A certificate for servers and clients (`<name>.crt`, `.key`) with subjectAltName `san`, signed by CA `ca`. */
async function makeCert(name: string, ca: string, san: string): Promise<void> {
  await openssl(
    'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=ray-ts ${name}`,
    '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`),
  ); // prettier-ignore
  fs.writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await openssl(
    'x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}-ca.crt`), '-CAkey', file(`${ca}-ca.key`),
    '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`),
  ); // prettier-ignore
}

/** The TLS environment of certificate `name` and CA `ca`. */
const tlsEnv = (name: string, ca: string): Record<string, string> => ({
  RAY_TS_USE_TLS: '1',
  RAY_TS_TLS_SERVER_CERT: file(`${name}.crt`),
  RAY_TS_TLS_SERVER_KEY: file(`${name}.key`),
  RAY_TS_TLS_CA_CERT: file(`${ca}-ca.crt`),
});

/** Runs `fn` with the TLS variables of this process set to `vars` (the others unset), then restores them. */
async function withTlsEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(TLS_VARS.map((v) => [v, process.env[v]]));
  for (const v of TLS_VARS) delete process.env[v];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const v of TLS_VARS) delete process.env[v];
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  }
}

/** What `init({ address })` threw (it must throw). */
async function initError(address: string): Promise<Error> {
  try {
    await init({ address });
  } catch (err) {
    return err as Error;
  }
  await shutdown();
  throw new Error(`init({ address: '${address}' }) succeeded`);
}

const read = (name: string) => fs.readFileSync(file(name));

/**
 * GetClusterView from a raw client of the head's GCS (no interceptor of ours: no token) with
 * certificate `name`, trusting CA `ca`; resolves with its error.
 */
async function rawCall(name: string, ca: string): Promise<grpc.ServiceError | null> {
  // The IP is checked against the certificate; a name is sent as SNI (Node warns of an IP there).
  const creds = grpc.credentials.createSsl(read(`${ca}-ca.crt`), read(`${name}.key`), read(`${name}.crt`), {
    checkServerIdentity: (_name, cert) => tls.checkServerIdentity('127.0.0.1', cert),
  });
  const client = new (protos().gcs.Gcs)(cluster.address, creds, { 'grpc.ssl_target_name_override': 'ray-ts' });
  try {
    return await new Promise((resolve) =>
      client.makeUnaryRequest(
        '/raytscore.Gcs/GetClusterView',
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        {},
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (e) => resolve(e),
      ),
    );
  } finally {
    client.close();
  }
}

let cluster: Cluster;
const saved = Object.fromEntries(TLS_VARS.map((v) => [v, process.env[v]]));

beforeAll(async () => {
  await makeCa('cluster');
  await makeCa('other');
  await makeCert('node', 'cluster', 'IP:127.0.0.1');
  await makeCert('stranger', 'other', 'IP:127.0.0.1');
  await makeCert('misnamed', 'cluster', 'DNS:elsewhere.example');
  // This process (the driver) and the node processes it starts (they inherit its environment).
  Object.assign(process.env, tlsEnv('node', 'cluster'));
  cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }] });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  for (const v of TLS_VARS) delete process.env[v];
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a cluster with TLS', () => {
  it('runs tasks, an actor and large objects across its nodes', async () => {
    await init({ address: cluster.address });
    try {
      const [head, node] = cluster.nodes.map((n) => n.nodeId);
      const on = (nodeId: string) => ({ schedulingStrategy: { nodeId } });
      expect(await get(whereAmI.options(on(head)).remote(1))).toBe(head);
      expect(await get(whereAmI.options(on(node)).remote(1))).toBe(node);
      // An actor on the other node, called from this driver with an argument that lives here.
      const counter = Counter.options(on(node)).remote();
      const big = put(new Uint8Array(24 * 1024 * 1024).fill(3));
      const [calls, length, first, where] = await get(counter.measure.remote(big));
      expect([calls, length, first, where]).toEqual([1, 24 * 1024 * 1024, 3, node]);
      // A large object made on the node, read by a task on the head and by this driver.
      const made = make.options(on(node)).remote(16 * 1024 * 1024);
      expect(await get(sum.options(on(head)).remote(made))).toEqual([9 * 4096, 16 * 1024 * 1024]);
      const bytes = await get(made);
      expect([bytes.length, bytes[bytes.length - 1]]).toEqual([16 * 1024 * 1024, 9]);
      expect(getRuntimeContext().nodeId).not.toBe(node);
    } finally {
      await shutdown();
    }
  });

  it("runs a submitted job, whose driver joins with the head's TLS settings", async () => {
    const api = cluster.nodes[0].jobApiAddress!;
    const headers = clusterAuthHeaders();
    const id = `tls-job-${process.pid}`;
    const driver = path.join(here, 'fixtures', 'tls-job-driver.mjs');
    const res = await fetch(`${api}/api/jobs/`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ entrypoint: `${process.execPath} ${driver}`, submission_id: id }),
    });
    expect(res.status, await res.text()).toBe(200);
    const status = async () =>
      ((await (await fetch(`${api}/api/jobs/${id}`, { headers })).json()) as { status: string }).status;
    await waitFor(async () => ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(await status()), { what: 'the job to end' });
    const logs = ((await (await fetch(`${api}/api/jobs/${id}/logs`, { headers })).json()) as { logs: string }).logs;
    expect([await status(), logs]).toEqual(['SUCCEEDED', expect.stringContaining('TLS_JOB 42 1')]);
  });

  it('refuses a driver without TLS, saying what to set', async () => {
    const err = await withTlsEnv({}, () => initError(cluster.address));
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(/uses TLS and this one does not: set RAY_TS_USE_TLS=1 and RAY_TS_TLS_SERVER_CERT/);
  });

  it('refuses a node without TLS, and the CLI', async () => {
    await expect(cluster.addNode({ env: { RAY_TS_USE_TLS: '0' } })).rejects.toThrow(
      /uses TLS and this one does not: set RAY_TS_USE_TLS=1/,
    );
    const env = { ...process.env, RAY_TS_USE_TLS: '0' };
    const status = await run(process.execPath, [cli, 'status', '--address', cluster.address], { env }).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect((status as { code: number }).code).not.toBe(0);
    expect((status as { stderr: string }).stderr).toMatch(/uses TLS and this one does not/);
  });

  it("refuses a driver whose certificate and CA are another CA's", async () => {
    const err = await withTlsEnv(tlsEnv('stranger', 'other'), () => initError(cluster.address));
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(
      /presented a certificate that the CA in RAY_TS_TLS_CA_CERT=.*other-ca\.crt does not vouch for/,
    );
  });

  it("refuses a driver whose certificate is another CA's, even if it trusts the cluster's too", async () => {
    // A CA file with both CAs: the driver trusts the head, and its own certificate loads.
    fs.writeFileSync(file('both-ca.crt'), Buffer.concat([read('cluster-ca.crt'), read('other-ca.crt')]));
    const err = await withTlsEnv(tlsEnv('stranger', 'both'), () => initError(cluster.address));
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(/refused this process's certificate \(RAY_TS_TLS_SERVER_CERT=.*stranger\.crt; /);
  });

  it("refuses a raw client whose certificate is another CA's, even if it trusts the cluster's", async () => {
    // A raw client (tls.ts would not load these settings): the server's handshake refuses it.
    const err = await rawCall('stranger', 'cluster');
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('refuses a client with the right certificate but no token, UNAUTHENTICATED', async () => {
    const err = await rawCall('node', 'cluster');
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err?.details).toMatch(/requires its token/);
  });

  it('refuses a node whose certificate does not name its address', async () => {
    await expect(cluster.addNode({ env: tlsEnv('misnamed', 'cluster') })).rejects.toThrow(
      /certificate of the ray-ts process at 127\.0\.0\.1:\d+ does not name 127\.0\.0\.1.*subjectAltName \('IP:127\.0\.0\.1'\)/,
    );
  });
});

describe('a TLS head that listens beyond loopback', () => {
  it('warns that its job API is plain HTTP', async () => {
    const env = { ...process.env, ...tlsEnv('node', 'cluster'), RAY_TS_SESSION_DIR: file('session-open') };
    try {
      const { stdout } = await run(
        process.execPath,
        [cli, 'start', '--head', '--port', '0', '--dashboard-port', '0', '--num-cpus', '1'].concat([
          '--host',
          '0.0.0.0',
          '--node-ip-address',
          '127.0.0.1',
        ]),
        { env },
      );
      const log = /\(log: (.*)\)\.$/m.exec(stdout)![1];
      expect(stdout).toMatch(/TLS: +on: every node, driver and CLI needs RAY_TS_USE_TLS=1/);
      expect(fs.readFileSync(log, 'utf8')).toMatch(
        /TLS is on for gRPC, but the job API at http:\/\/127\.0\.0\.1:\d+ is plain HTTP/,
      );
    } finally {
      await run(process.execPath, [cli, 'stop'], { env });
    }
  });
});

describe('a driver with TLS and a cluster without', () => {
  it('is refused, saying which side lacks TLS', async () => {
    const plain = await Cluster.start({ head: { numCpus: 1, env: { RAY_TS_USE_TLS: '0' } } });
    try {
      const err = await initError(plain.address);
      expect(err).toBeInstanceOf(TlsError);
      expect(err.message).toMatch(/does not use TLS and this one does \(RAY_TS_USE_TLS=1\)/);
    } finally {
      await plain.shutdown();
    }
  });
});

describe('a cluster whose certificates carry one name (RAY_TS_TLS_SERVER_NAME)', () => {
  it('runs work on every node, and a process that checks addresses instead is refused', async () => {
    const named = { ...tlsEnv('misnamed', 'cluster'), RAY_TS_TLS_SERVER_NAME: 'elsewhere.example' };
    const c = await Cluster.start({ head: { numCpus: 1, env: named }, nodes: [{ numCpus: 1, env: named }] });
    try {
      await withTlsEnv(named, async () => {
        await init({ address: c.address });
        try {
          const ids = c.nodes.map((n) => n.nodeId);
          expect(
            await get(ids.map((nodeId) => whereAmI.options({ schedulingStrategy: { nodeId } }).remote(1))),
          ).toEqual(ids);
        } finally {
          await shutdown();
        }
      });
      const err = await withTlsEnv(tlsEnv('misnamed', 'cluster'), () => initError(c.address));
      expect(err).toBeInstanceOf(TlsError);
      expect(err.message).toMatch(/does not name 127\.0\.0\.1 .*RAY_TS_TLS_SERVER_NAME=NAME/);
    } finally {
      await c.shutdown();
    }
  });
});

describe('TLS settings that cannot be used', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a variable missing',
      { RAY_TS_USE_TLS: '1', RAY_TS_TLS_SERVER_CERT: file('node.crt') },
      /RAY_TS_USE_TLS is set but RAY_TS_TLS_SERVER_KEY, RAY_TS_TLS_CA_CERT are not/,
    ],
    [
      'a file missing',
      { ...tlsEnv('node', 'cluster'), RAY_TS_TLS_CA_CERT: file('nowhere.crt') },
      /RAY_TS_TLS_CA_CERT=.*nowhere\.crt cannot be read \(no such file\)/,
    ],
    [
      'a file that is not PEM',
      { ...tlsEnv('node', 'cluster'), RAY_TS_TLS_SERVER_CERT: file('node.ext') },
      /RAY_TS_TLS_SERVER_CERT=.*node\.ext holds no PEM certificate/,
    ],
    [
      "another certificate's key",
      { ...tlsEnv('node', 'cluster'), RAY_TS_TLS_SERVER_KEY: file('misnamed.key') },
      /RAY_TS_TLS_SERVER_KEY=.*misnamed\.key is not the key of the certificate/,
    ],
    [
      'a certificate of another CA',
      { ...tlsEnv('stranger', 'cluster') },
      /stranger\.crt .* is not signed by the CA in RAY_TS_TLS_CA_CERT=/,
    ],
    ['a value of RAY_TS_USE_TLS it does not know', { RAY_TS_USE_TLS: 'yes' }, /RAY_TS_USE_TLS=yes is not understood/],
  ];
  it.each(cases)('fail at init, before connecting: %s', async (_what, vars, message) => {
    const err = await withTlsEnv(vars, () => initError(cluster.address));
    expect(err).toBeInstanceOf(TlsError);
    expect(err.message).toMatch(message);
  });

  it('fail `ray-ts start --head` before it starts anything', async () => {
    const env = {
      ...process.env,
      ...tlsEnv('node', 'cluster'),
      RAY_TS_TLS_SERVER_KEY: file('nowhere.key'),
      RAY_TS_SESSION_DIR: file('session'),
    };
    const started = await run(process.execPath, [cli, 'start', '--head', '--port', '0', '--dashboard-port', '0'], {
      env,
    }).catch((e: { stderr: string; code: number }) => e);
    // Had it started one, it is stopped.
    await run(process.execPath, [cli, 'stop'], { env }).catch(() => undefined);
    expect((started as { code: number }).code).not.toBe(0);
    expect((started as { stderr: string }).stderr).toMatch(/RAY_TS_TLS_SERVER_KEY=.*nowhere\.key cannot be read/);
  });
});
