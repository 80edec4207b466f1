import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import * as serve from '@ray-ts/serve';
import { BackPressureError, DeployFailedError, ServeInvalidArgumentError } from '@ray-ts/serve';
import * as f from './fixtures/apps.js';

let base = '';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const body = async (r: Response | Promise<Response>): Promise<Json> => (await (await r).json()) as Json;

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'serve-http-test' });
  const proxies = await serve.start({ http: { host: '127.0.0.1', port: 0 } });
  const [p] = Object.values(proxies);
  base = `http://127.0.0.1:${p.httpPort}`;
});
afterAll(async () => {
  await serve.shutdown();
  await shutdown();
});

suite('HTTP ingress', () => {
  it('serves a fetch handler over real HTTP, on every proxy thread', async () => {
    await serve.run(f.Echo.bind(), { name: 'echo', routePrefix: '/echo' });
    const r = await fetch(`${base}/echo/a/b?q=1`, { method: 'POST', body: 'payload', headers: { 'x-test': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/json/);
    const got = await body(r);
    expect(got).toMatchObject({ method: 'POST', path: '/echo/a/b', query: '1', body: 'payload', header: 'yes' });
    // Both replicas serve (power of two choices spreads the load).
    const replicas = new Set<string>();
    await Promise.all(
      Array.from({ length: 40 }, async () => replicas.add((await body(fetch(`${base}/echo`))).replica)),
    );
    expect(replicas.size).toBe(2);
    const st = await serve.status();
    const [proxy] = Object.values(st.proxies);
    expect(proxy.threads).toBe(2);
    expect(st.applications.echo.status).toBe('RUNNING');
    expect(st.applications.echo.deployments.Echo.replicaStates.RUNNING).toBe(2);
  });

  it('answers 404 with the routes when no app matches, and health/route endpoints', async () => {
    const r = await fetch(`${base}/nowhere`);
    expect(r.status).toBe(404);
    expect(await r.text()).toMatch(/matches no application.*\/echo/);
    expect(await (await fetch(`${base}/-/healthz`)).text()).toBe('success');
    expect(await (await fetch(`${base}/-/routes`)).json()).toMatchObject({ '/echo': 'echo' });
  });

  it('serves a function deployment', async () => {
    await serve.run(f.hello.bind(), { name: 'fn', routePrefix: '/fn' });
    expect(await (await fetch(`${base}/fn/x`)).text()).toBe('hello from /fn/x');
  });

  it('calls methods through handles, and reports user errors with their message', async () => {
    const h = await serve.getDeploymentHandle<{ add(a: number, b: number): number; fail(m: string): never }>(
      'Echo',
      'echo',
    );
    expect(await h.add.remote(2, 3)).toBe(5);
    await expect(h.fail.remote('bad input')).rejects.toThrow(/RangeError: bad input|bad input/);
    await expect(h.options({ methodName: 'nope' }).remote()).rejects.toThrow(/has no method 'nope'/);
  });

  it('composes deployments: a response passed on without awaiting it', async () => {
    const h = await serve.run(f.Pipeline.bind(f.Doubler.bind(), f.Adder.bind(10)), {
      name: 'pipeline',
      routePrefix: '/pipe',
    });
    expect(await (await fetch(`${base}/pipe?x=4`)).json()).toEqual({ result: 18 });
    expect(await h.compute.remote(1)).toBe(12);
    expect(Object.keys((await serve.status()).applications.pipeline.deployments).sort()).toEqual([
      'Adder',
      'Doubler',
      'Pipeline',
    ]);
  });

  it('streams chunked responses and server-sent events, and generators through handles', async () => {
    const h = await serve.run(f.Streamer.bind(), { name: 'stream', routePrefix: '/stream' });
    const r = await fetch(`${base}/stream/text?n=4`);
    expect(r.headers.get('transfer-encoding')).toBe('chunked');
    const reader = r.body!.getReader();
    const parts: string[] = [];
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(dec.decode(value));
    }
    expect(parts.join('')).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\n');
    expect(parts.length).toBeGreaterThan(1); // arrived in pieces, as written
    const sse = await fetch(`${base}/stream/sse?n=3`);
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    const events = (await sse.text())
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace(/^data: /, '')));
    expect(events).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    const got: number[] = [];
    for await (const x of h
      .options({ methodName: 'count', stream: true })
      .remote(5) as unknown as AsyncIterable<number>)
      got.push(x);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('batches concurrent calls', async () => {
    const h = await serve.run(f.Batched.bind(), { name: 'batched', routePrefix: null });
    const out = await Promise.all(Array.from({ length: 16 }, (_, i) => h.handle.remote(i)));
    expect(out.map((o) => o.doubled)).toEqual(Array.from({ length: 16 }, (_, i) => i * 2));
    expect(Math.max(...out.map((o) => o.batchSize))).toBe(8);
    const sizes = await h.sizes.remote();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(16);
    expect(sizes.length).toBeLessThanOrEqual(4);
  });

  it('multiplexes models: loads each once per replica (LRU), routes to a replica that has it', async () => {
    await serve.run(f.Models.bind(), { name: 'models', routePrefix: '/models' });
    const ask = async (id: string) => body(fetch(`${base}/models`, { headers: { serve_multiplexed_model_id: id } }));
    const first = await ask('model-a');
    expect(first).toMatchObject({ model: 'model-a', modelHeader: 'model-a' });
    for (let i = 0; i < 10; i++) expect((await ask('model-a')).model).toBe('model-a');
    const h = await serve.getDeploymentHandle<{ predict(): { model: string; replica: string }; loaded(): string[] }>(
      'Models',
      'models',
    );
    // Through one router: every call for model-c goes to the replica that loaded it first.
    const served = new Set<string>();
    for (let i = 0; i < 10; i++)
      served.add((await h.predict.options({ multiplexedModelId: 'model-c' }).remote()).replica);
    expect(served.size).toBe(1);
    // Each replica loaded each model at most once.
    const loads = await Promise.all([0, 1, 2, 3].map(() => h.loaded.remote()));
    for (const l of loads) expect(l.filter((m) => m === 'model-c').length).toBeLessThanOrEqual(1);
    const noModel = await fetch(`${base}/models`);
    expect(noModel.status).toBe(500);
    expect(await noModel.text()).toMatch(/serve_multiplexed_model_id/);
  });

  it('answers 503 with a clear body when overloaded, never hanging', async () => {
    await serve.run(f.Slow.bind(), { name: 'slow', routePrefix: '/slow' });
    const statuses = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const r = await fetch(`${base}/slow?ms=400`);
        return { status: r.status, body: await r.text() };
      }),
    );
    const ok = statuses.filter((s) => s.status === 200);
    const shed = statuses.filter((s) => s.status === 503);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + shed.length).toBe(8);
    expect(shed[0].body).toMatch(/overloaded.*maxOngoingRequests/);
    const h = await serve.getDeploymentHandle('Slow', 'slow');
    const calls = Array.from({ length: 6 }, () =>
      h.options({ methodName: 'fetch' }).remote(new Request('http://x/?ms=300')),
    );
    const results = await Promise.allSettled(calls);
    expect(results.some((r) => r.status === 'rejected' && r.reason instanceof BackPressureError)).toBe(true);
  });

  it('delivers userConfig through reconfigure without a restart', async () => {
    await serve.run(f.Configured.bind(), { name: 'configured', routePrefix: '/configured' });
    const before = await body(fetch(`${base}/configured`));
    expect(before.greeting).toBe('hello');
    await serve.run(f.Configured.options({ userConfig: { greeting: 'bonjour' } }).bind(), {
      name: 'configured',
      routePrefix: '/configured',
    });
    const { waitFor } = await import('@ray-ts/core/testing');
    await waitFor(async () => (await body(fetch(`${base}/configured`))).greeting === 'bonjour', { timeoutMs: 10_000 });
    const after = await body(fetch(`${base}/configured`));
    expect(after.replica).toBe(before.replica); // same replica: reconfigured, not restarted
  });

  it('fails a deploy whose constructor throws, with its message', async () => {
    await expect(serve.run(f.Broken.bind(), { name: 'broken', routePrefix: '/broken', timeoutS: 60 })).rejects.toThrow(
      DeployFailedError,
    );
    const st = await serve.status();
    expect(st.applications.broken.status).toBe('DEPLOY_FAILED');
    expect(st.applications.broken.message).toMatch(/the model file is missing/);
    await serve.delete('broken');
    expect((await serve.status()).applications.broken).toBeUndefined();
  });

  it('rejects bad input with clear errors', async () => {
    expect(() => serve.deployment({ numReplicas: -1 })).toThrow(/numReplicas/);
    expect(() => serve.deployment({ num_replicas: 2 } as never)).toThrow(/Did you mean 'numReplicas'/);
    expect(() => serve.deployment({ autoscalingConfig: { minReplicas: 3, maxReplicas: 1 } })).toThrow(
      /maxReplicas \(1\) is below minReplicas \(3\)/,
    );
    await expect(serve.run(f.Echo as never)).rejects.toThrow(/add \.bind/);
    await expect(serve.run(f.hello.bind(), { name: 'dup', routePrefix: '/echo' })).rejects.toThrow(
      /already used by app 'echo'/,
    );
    await expect(serve.run(f.hello.bind(), { name: 'bad', routePrefix: 'nope/' })).rejects.toThrow(
      ServeInvalidArgumentError,
    );
  });

  it('deletes an app: its route goes away', async () => {
    await serve.delete('fn');
    // The proxies learn the new routing table by long poll, just after delete() returns: until then
    // the route still exists without replicas (503).
    const { waitFor } = await import('@ray-ts/core/testing');
    await waitFor(async () => (await fetch(`${base}/fn/x`)).status === 404, {
      timeoutMs: 10_000,
      what: "the deleted app's route to answer 404",
    });
  });
});
