import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import autocannon from 'autocannon';
import { init, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import * as serve from '@ray-ts/serve';
import * as f from './fixtures/apps.js';

let base = '';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'serve-lifecycle-test' });
  const proxies = await serve.start({ http: { host: '127.0.0.1', port: 0, requestTimeoutS: 4 } });
  base = `http://127.0.0.1:${Object.values(proxies)[0].httpPort}`;
});
afterAll(async () => {
  await serve.shutdown();
  await shutdown();
});

const json = async (path: string) => (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>;

suite('deployment lifecycle', () => {
  it('answers 408 when a request runs past http.requestTimeoutS, and the replica frees up', async () => {
    await serve.run(f.Slow.bind(), { name: 'slow', routePrefix: '/slow' });
    const r = await fetch(`${base}/slow?ms=5000`);
    expect(r.status).toBe(408);
    expect(await r.text()).toMatch(/timed out after 4 s/);
    // The slow request still holds the only slot until it ends; then requests go through again.
    await waitFor(async () => (await fetch(`${base}/slow?ms=1`)).status === 200, { timeoutMs: 10_000 });
    await serve.delete('slow');
  });

  it('rolls replicas over to new code with zero failed requests under steady load', async () => {
    // Each replica holds one of the cluster's two CPUs: the update must stop an old replica to make room.
    const cpu1 = { rayActorOptions: { numCpus: 1 } };
    await serve.run(f.VersionA.options(cpu1).bind(), { name: 'versioned', routePrefix: '/v' });
    expect(await json('/v')).toEqual({ version: 'a' });
    const seen = new Set<string>();
    const load = autocannon({
      url: `${base}/v`,
      connections: 8,
      duration: 6,
      setupClient: (client: { on(e: 'body', f: (b: Buffer) => void): void }) =>
        client.on('body', (b: Buffer) => seen.add((JSON.parse(b.toString()) as { version: string }).version)),
    });
    await new Promise((r) => setTimeout(r, 1000)); // steady load first (the load generator's clock, not a wait for a condition)
    await serve.run(f.VersionB.options(cpu1).bind(), { name: 'versioned', routePrefix: '/v' });
    const result = await load;
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBeGreaterThan(100);
    expect([...seen].sort()).toEqual(['a', 'b']);
    expect(await json('/v')).toEqual({ version: 'b' });
    const st = (await serve.status()).applications.versioned.deployments.Versioned;
    expect(st.status).toBe('HEALTHY');
    await waitFor(
      async () =>
        (await serve.status()).applications.versioned.deployments.Versioned.replicaStates.STOPPING === undefined,
    );
  });

  it('scales up with load, holds steady, and scales down to zero when idle', async () => {
    await serve.run(f.Scaled.bind(), { name: 'scaled', routePrefix: '/scaled' });
    const dep = async () => (await serve.status()).applications.scaled.deployments.Scaled;
    expect((await dep()).targetReplicas).toBe(0);
    // 6 requests at a time, each 150 ms: 6 ongoing / target 2 = 3 replicas (the maximum).
    const load = autocannon({ url: `${base}/scaled?ms=150`, connections: 6, duration: 5 });
    await waitFor(async () => (await dep()).replicaStates.RUNNING === 3, { timeoutMs: 15_000 });
    // Steady load: the count stays where it is.
    const targets = new Set<number>();
    for (let i = 0; i < 10; i++) {
      targets.add((await dep()).targetReplicas);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([...targets]).toEqual([3]);
    const result = await load;
    expect(result.non2xx).toBe(0);
    expect(result.errors).toBe(0);
    await waitFor(async () => (await dep()).targetReplicas === 0 && (await dep()).replicaStates.RUNNING === undefined, {
      timeoutMs: 15_000,
    });
    // Scaled to zero, a request still gets served: it waits, queued, while it wakes a replica
    // (a cold start on a loaded machine may pass the 4 s request timeout: then the next one is served).
    await waitFor(async () => (await fetch(`${base}/scaled?ms=1`)).status === 200, { timeoutMs: 20_000 });
  });

  it('replaces a replica whose health check fails', async () => {
    await serve.run(f.Configured.bind(), { name: 'health', routePrefix: '/health' });
    const before = (await json('/health')).replica;
    const h = await serve.getDeploymentHandle<{ breakHealth(): void }>('Configured', 'health');
    await h.breakHealth.remote();
    await waitFor(
      async () => {
        const r = await fetch(`${base}/health`);
        return r.status === 200 && ((await r.json()) as { replica: string }).replica !== before;
      },
      { timeoutMs: 15_000 },
    );
    const st = (await serve.status()).applications.health.deployments.Configured;
    expect(st.message).toMatch(/health check failed: .*made unhealthy by the test/);
  });

  it('replaces a dead replica; idempotent requests in flight are retried', async () => {
    const h = await serve.run(f.Crashy.bind(), { name: 'crashy', routePrefix: '/crashy' });
    const before = new Set<string>();
    await waitFor(async () => before.add(await h.whoami.remote()).size === 2);
    const load = autocannon({ url: `${base}/crashy`, connections: 4, duration: 3 });
    await h.crash.remote();
    const result = await load;
    expect(result.non2xx).toBe(0);
    expect(result.errors).toBe(0);
    await waitFor(
      async () => {
        const st = (await serve.status()).applications.crashy.deployments.Crashy;
        return st.replicaStates.RUNNING === 2 && /died/.test(st.message);
      },
      { timeoutMs: 15_000 },
    );
    const after = new Set<string>();
    await waitFor(async () => after.add(await h.whoami.remote()).size === 2);
    expect([...after].filter((id) => !before.has(id))).toHaveLength(1); // one replacement, one survivor
  });
});
