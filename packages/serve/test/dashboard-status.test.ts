// What Serve's controller publishes for the dashboard (KV namespace `serve`, key `status`, Ray
// Serve's REST shape): an application with its deployment and running replica (its node and
// actor), updated as the deployment scales, and removed when Serve shuts down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, internalKv, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import * as serve from '@ray-ts/serve';
import * as f from './fixtures/apps.js';

interface Published {
  applications: Record<
    string,
    {
      status: string;
      route_prefix: string | null;
      deployments: Record<
        string,
        {
          status: string;
          target_num_replicas: number;
          replicas: { replica_id: string; state: string; node_id: string; actor_id: string }[];
        }
      >;
    }
  >;
  proxies: Record<string, { status: string; http_port: number }>;
}

const published = async (): Promise<Published | undefined> => {
  const text = await internalKv.getString('status', { namespace: 'serve' });
  return text === undefined ? undefined : (JSON.parse(text) as Published);
};

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'serve-dashboard-status-test' });
  await serve.start({ http: { host: '127.0.0.1', port: 0 } });
});
afterAll(async () => {
  await serve.shutdown();
  await shutdown();
});

describe("Serve's status for the dashboard", () => {
  it('publishes each application, deployment and replica, and removes it all at shutdown', async () => {
    await serve.run(f.Echo.bind(), { name: 'dash-app', routePrefix: '/dash' });
    const st = (await waitFor(
      async () => {
        const p = await published();
        const d = p?.applications['dash-app']?.deployments.Echo;
        return d?.replicas.filter((r) => r.state === 'RUNNING').length === 2 ? p : undefined;
      },
      { what: 'two running replicas published', timeoutMs: 15_000 },
    ))!;
    const app = st.applications['dash-app'];
    expect(app).toMatchObject({ status: 'RUNNING', route_prefix: '/dash' });
    expect(app.deployments.Echo).toMatchObject({ status: 'HEALTHY', target_num_replicas: 2 });
    for (const r of app.deployments.Echo.replicas) {
      expect(r.replica_id).toMatch(/^dash-app#Echo#/);
      expect(r.node_id).toMatch(/^node_/);
      expect(r.actor_id).toBeTruthy();
    }
    expect(Object.values(st.proxies)[0]).toMatchObject({ status: 'HEALTHY' });
    await serve.shutdown();
    expect(await published()).toBeUndefined();
  });
});
