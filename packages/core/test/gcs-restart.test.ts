import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, init, internalKv, listNodes, listPlacementGroups, placementGroup, shutdown } from '@ray-ts/core';
import { Cluster, startRedisServer, waitFor, type RedisServerHandle } from '@ray-ts/core/testing';
import { CounterActor as Counter, whereAmI } from './fixtures/cluster.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
let redis: RedisServerHandle;
let cluster: Cluster;

beforeAll(async () => {
  redis = await startRedisServer();
  cluster = await Cluster.start({
    head: { numCpus: 1 },
    nodes: [{ numCpus: 1 }, { numCpus: 1 }],
    redisAddress: redis.url,
    nodeTimeoutMs: 2_000,
  });
  await init({ address: cluster.address });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  await redis?.stop();
});

it('keeps nodes, detached actors, names, placement groups and KV across a SIGKILL of the head', async () => {
  const [, n1, n2] = cluster.nodes.map((n) => n.nodeId);
  const c = Counter.options({ name: 'survivor', lifetime: 'detached', schedulingStrategy: { nodeId: n1 } }).remote();
  expect(await get(c.incr.remote(1))).toBe(1);
  await internalKv.put('config', 'kept');
  const pg = placementGroup([{ CPU: 0.1 }], { name: 'kept-group' });
  await pg.ready();

  cluster.killHead();
  // While the head is down, work between live nodes goes on.
  expect(await get(c.incr.remote(1))).toBe(2);
  expect(await get(whereAmI.options({ schedulingStrategy: { nodeId: n2 } }).remote(1))).toBe(n2);

  const head = await cluster.restartHead();
  await waitFor(
    async () => {
      const alive = (await listNodes({ filters: [['state', '=', 'ALIVE']] })).map((n) => n.nodeId);
      return [head.nodeId, n1, n2].every((id) => alive.includes(id));
    },
    { what: "the nodes back in the restarted head's table", timeoutMs: 20_000, intervalMs: 200 },
  );
  expect(await internalKv.getString('config')).toBe('kept');
  expect((await listPlacementGroups({ filters: [['name', '=', 'kept-group']] }))[0]?.state).toBe('CREATED');
  // A new driver connects and finds the detached actor by name.
  const { stdout } = await run(
    process.execPath,
    [path.join(here, 'fixtures', 'second-driver.mjs'), cluster.address, 'survivor'],
    { timeout: 30_000 },
  );
  expect(stdout).toContain('SECOND_DRIVER 12');
  expect(await get(c.incr.remote(1))).toBe(13);
});
