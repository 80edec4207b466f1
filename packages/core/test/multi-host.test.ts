// A cluster whose processes each run on a host of their own: network namespaces on a bridge, each
// with its own address (TestHosts). The head and a worker node run in two namespaces; this test
// process is the driver, on a third address (the bridge's). Nothing goes over 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, nodes, put, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { Cluster, TestHosts } from '@ray-ts/core/testing';
import { CounterActor, doublePlusOne, napThenWhere, sumOf, threes, whereAmI } from './fixtures/multi-host.js';

let hosts: TestHosts;
let cluster: Cluster;

beforeAll(async () => {
  hosts = TestHosts.create(2);
  cluster = await Cluster.start({
    // Short, so that the partition below is noticed soon; long enough for a loaded CI machine.
    nodeTimeoutMs: 3_000,
    head: { numCpus: 1, host: hosts.hosts[0] },
    nodes: [{ numCpus: 1, resources: { node2: 4 }, host: hosts.hosts[1] }],
  });
  await init({ address: cluster.address, logToDriver: false });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  hosts?.destroy();
});

const onNode2 = { resources: { node2: 1 } };

describe('a cluster across hosts', () => {
  it('advertises each process at its own host address, and the driver at the address that routes to the head', async () => {
    expect(cluster.address.startsWith(hosts.hosts[0].address + ':')).toBe(true);
    const listed = await nodes();
    expect(listed.map((n) => n.address.split(':')[0]).sort()).toEqual(
      [hosts.hosts[0].address, hosts.hosts[1].address].sort(),
    );
  });

  it('runs tasks on the other host, nested tasks from there, and actors there', async () => {
    const node2 = cluster.nodes[1].nodeId;
    expect(await get(whereAmI.options(onNode2).remote())).toBe(node2);
    expect(await get(doublePlusOne.options(onNode2).remote(20))).toBe(41);
    const c = CounterActor.options(onNode2).remote();
    expect(await get(c.node.remote())).toBe(node2);
    expect(await get([c.add.remote(1), c.add.remote(2), c.add.remote(3)])).toEqual([1, 3, 6]);
  });

  it('moves objects both ways: a put on the driver read on the other host, a result made there read here', async () => {
    const big = new Float64Array(256 * 1024).map((_, i) => i % 7);
    const ref = put(big);
    expect(await get(sumOf.options(onNode2).remote(ref))).toBe(big.reduce((s, v) => s + v, 0));
    const made = await get(threes.options(onNode2).remote(512 * 1024));
    expect(made.length).toBe(512 * 1024);
    expect(made[made.length - 1]).toBe(3);
  });

  it('refuses at once a node whose advertised address the head cannot reach, saying what to set', async () => {
    const { spawnNodeProcess } = await import('../dist/cluster/node-process.js' as string);
    const unreachable = hosts.hosts[1].address.replace(/\.\d+$/, '.250');
    const { proc, ready } = spawnNodeProcess(
      {
        head: false,
        gcsAddress: cluster.address,
        host: '0.0.0.0',
        nodeIpAddress: unreachable,
        port: 0,
        resources: { CPU: 1 },
      },
      { netns: hosts.hosts[1].netns, env: { RAY_TS_ADDRESS: '' } },
    );
    await expect(ready).rejects.toThrow(
      new RegExp(`cannot reach this node at ${unreachable.replace(/\./g, '\\.')}:\\d+.*--node-ip-address`),
    );
    proc.kill('SIGKILL');
  });

  // Last: it ends node 2.
  it('retries the work of a partitioned node elsewhere, and fences the node when its link comes back', async () => {
    const [head, node2] = cluster.nodes;
    const ref = napThenWhere
      .options({ schedulingStrategy: { nodeId: node2.nodeId, soft: true }, maxRetries: 2 })
      .remote(2_000);
    await new Promise((r) => setTimeout(r, 500)); // it runs on node 2 now
    hosts.partition(hosts.hosts[1]); // its link goes down; its process runs on
    // Declared dead after the timeout: the task runs again on the head.
    expect(await get(ref)).toBe(head.nodeId);
    await waitFor(async () => !(await nodes()).find((n) => n.nodeId === node2.nodeId)?.alive, {
      timeoutMs: 15_000,
      what: 'node 2 declared dead',
    });
    hosts.heal(hosts.hosts[1]);
    // Back on the network it hears it was declared dead, and exits instead of rejoining (no split brain).
    const exited = () => {
      try {
        process.kill(node2.pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitFor(exited, { timeoutMs: 15_000, what: 'node 2 exiting once fenced' });
    expect(node2.output()).toMatch(/was declared dead by the cluster/);
    expect((await nodes()).find((n) => n.nodeId === node2.nodeId)?.alive ?? false).toBe(false);
  });
});
