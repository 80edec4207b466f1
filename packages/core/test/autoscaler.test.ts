import { execFile } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UnschedulableError, get, init, kill, listJobs, listNodes, placementGroup, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { CounterActor, whereAmI } from './fixtures/cluster.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');
const env = {
  ...process.env,
  RAY_TS_SESSION_DIR: path.join(os.tmpdir(), `ray-ts-autoscaler-test-${process.pid}`),
  RAY_TS_ADDRESS: '',
};
const ray = (...args: string[]) => run(process.execPath, [cli, ...args], { env, timeout: 60_000 });
let address: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  await ray('up', path.join(here, 'fixtures', 'autoscale.yaml'), '--port', String(port), '--dashboard-port', '0');
  // The driver finds the cluster's token where the head made it: in the session directory.
  process.env.RAY_TS_SESSION_DIR = env.RAY_TS_SESSION_DIR;
  await init({ address });
});

afterAll(async () => {
  await shutdown();
  await ray('down');
});

it('starts nodes for work that waits, fails work no node type can run, and stops idle nodes', async () => {
  const alive = async () => (await listNodes({ filters: [['state', '=', 'ALIVE']] })).length;
  // The head, and one `base` node for its minWorkers.
  await waitFor(async () => (await alive()) === 2, { what: 'the minWorkers node', timeoutMs: 20_000, intervalMs: 200 });
  // No node has `box` yet: an actor that needs one waits for the autoscaler instead of failing.
  const actor = CounterActor.options({ resources: { box: 1 } }).remote();
  expect(await get(actor.incr.remote(1))).toBe(1);
  await kill(actor);
  // So do tasks.
  const ids = await get([1, 2].map(() => whereAmI.options({ resources: { box: 1 } }).remote(300)));
  expect(ids.every((id) => typeof id === 'string')).toBe(true);
  // A group of bundles that only box nodes can hold waits for them too.
  const pg = placementGroup([{ box: 1 }, { box: 1 }], { strategy: 'STRICT_SPREAD' });
  await pg.ready();
  expect(new Set((await pg.state()).bundleNodes).size).toBe(2);
  // Nothing in the config has gpu9: it fails at once.
  await expect(get(whereAmI.options({ resources: { gpu9: 1 } }).remote(1))).rejects.toThrow(UnschedulableError);
  const status = (await ray('status')).stdout;
  expect(status).toContain('Autoscaler:');
  expect(status).toMatch(/\(box\) node_\w+: started for pending demand/);
  expect((await listJobs()).length).toBeGreaterThan(0);
  const { removePlacementGroup } = await import('@ray-ts/core');
  await removePlacementGroup(pg);
  // idleTimeoutS is 2: the box nodes go; the head and the minWorkers node stay.
  await waitFor(async () => (await alive()) === 2, { what: 'idle nodes stopped', timeoutMs: 20_000, intervalMs: 250 });
  const after = (await ray('status')).stdout;
  expect(after).toMatch(/last action: .*stopped local-box-\d+ \(box\): idle for/);
  expect(after).toMatch(/\(base\) node_\w+: started to keep minWorkers 1; idle, kept: minWorkers 1/);
});
