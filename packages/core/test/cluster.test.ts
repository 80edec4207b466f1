import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActorDiedError,
  NodeDiedError,
  TaskCancelledError,
  UnschedulableError,
  actorIdOf,
  cancel,
  get,
  getActor,
  kill,
  listJobs,
  getRuntimeContext,
  init,
  internalKv,
  listActors,
  listNodes,
  listObjects,
  listPlacementGroups,
  listTasks,
  nodes,
  placementGroup,
  put,
  removePlacementGroup,
  shutdown,
  availableResources,
  wait,
  collective,
  type ObjectRef,
  ActorPool,
  Queue,
  timeline,
  listNamedActors,
} from '@ray-ts/core';
import { Cluster, waitFor } from '@ray-ts/core/testing';
import { MemberActor } from './fixtures/collective.js';
import { DoublerActor, EnvReaderActor, FinisherActor, consume, nap, produce, readEnv } from './fixtures/util.js';
import {
  CounterActor as Counter,
  KeeperActor,
  actorFromTask,
  actorsFromTask,
  groupParent,
  nextStep,
  callThroughHandle,
  fanOut,
  gpuTask,
  kvRead,
  readyCount,
  sleeper,
  make,
  sampleSum as sum,
  whereAmI,
  type Counter as CounterClass,
} from './fixtures/cluster.js';

v8.setFlagsFromString('--expose-gc');
const gc = () => vm.runInNewContext('gc') as () => void;
const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

describe('a 3-node cluster', () => {
  let cluster: Cluster;
  let head: string;
  let n1: string;
  let n2: string;

  beforeAll(async () => {
    cluster = await Cluster.start({
      head: { numCpus: 1 },
      nodes: [
        { numCpus: 1, resources: { special: 2 } },
        { numCpus: 1, numGpus: 2 },
      ],
    });
    [head, n1, n2] = cluster.nodes.map((n) => n.nodeId);
    await init({ address: cluster.address });
  });

  afterAll(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  it('lists its nodes and totals', async () => {
    const ns = await nodes();
    expect(ns.map((n) => n.nodeId).sort()).toEqual([head, n1, n2].sort());
    expect(ns.find((n) => n.nodeId === head)?.isHead).toBe(true);
    const rows = await listNodes({ filters: [['state', '=', 'ALIVE']] });
    expect(rows).toHaveLength(3);
  });

  it("passes refs held on other nodes to an actor: the driver's put and a task's result, calls kept in order", async () => {
    const c = Counter.options({ resources: { special: 1 } }).remote();
    const fromDriver = put(new Uint8Array(1000).fill(3));
    const fromN2 = make.options({ schedulingStrategy: { nodeId: n2 } }).remote(2000);
    // Each call's array lives on another node than the actor's: it is fetched before the call runs,
    // and the plain call queued behind waits for it.
    const calls = [c.measure.remote(fromDriver), c.measure.remote(fromN2), c.incr.remote(10)];
    expect(await get(calls)).toEqual([[1, 1000, 3, n1], [2, 2000, 9, n1], 12]);
  });

  it('spreads tasks over the 3 nodes with SPREAD', async () => {
    const ids = await get(
      Array.from({ length: 6 }, () => whereAmI.options({ schedulingStrategy: 'SPREAD' }).remote(50)),
    );
    expect(new Set(ids)).toEqual(new Set([head, n1, n2]));
  });

  it('spills to other nodes when the local node is full', async () => {
    const ids = await get(Array.from({ length: 3 }, () => whereAmI.remote(300)));
    expect(new Set(ids).size).toBeGreaterThanOrEqual(2);
  });

  it('spills nested work from a busy node to the others', async () => {
    const ids = await get(fanOut.options({ schedulingStrategy: { nodeId: n1 } }).remote(3, 300));
    expect(ids).toContain(n1); // the parent waits in get(): its CPU runs one child
    expect(new Set(ids).size).toBeGreaterThanOrEqual(2);
  });

  it('spills a task queued behind an actor on one node back to its owner when another node frees (spillback)', async () => {
    // n1 and n2 are held by actors for good; the head is busy for a second. Tasks sent meanwhile
    // wait on a held node (none has room) and must move to the head once it frees, not wait there.
    const holders = [n1, n2].map((nodeId) => Counter.options({ numCpus: 1, schedulingStrategy: { nodeId } }).remote());
    try {
      expect(await get(holders.map((h) => h.node.remote()))).toEqual([n1, n2]);
      const busy = whereAmI.options({ schedulingStrategy: { nodeId: head } }).remote(1000);
      const queued = Array.from({ length: 3 }, () => whereAmI.remote(1));
      expect(await get(queued, { timeoutMs: 20_000 })).toEqual([head, head, head]);
      expect(await get(busy)).toBe(head);
    } finally {
      for (const h of holders) await kill(h);
    }
  });

  it('shares a Queue between tasks on two other nodes, and spreads calls over an ActorPool across nodes', async () => {
    const q = new Queue<number>(2, { actorOptions: { resources: { special: 1 } } });
    const consumer = consume.options({ schedulingStrategy: { nodeId: n2 } }).remote(q, 6);
    expect(await get(produce.options({ schedulingStrategy: { nodeId: head } }).remote(q, 6))).toBe(6);
    expect(await get(consumer)).toEqual([0, 1, 2, 3, 4, 5]);
    await q.shutdown();
    const actors = [
      DoublerActor.options({ schedulingStrategy: { nodeId: n1 } }).remote(),
      DoublerActor.options({ schedulingStrategy: { nodeId: n2 } }).remote(),
    ];
    const out: number[] = [];
    for await (const y of new ActorPool(actors).map((a, v: number) => a.double.remote(v), [1, 2, 3, 4])) out.push(y);
    expect(out).toEqual([2, 4, 6, 8]);
    expect((await get(actors.map((a) => a.count.remote()))).every((c) => c > 0)).toBe(true);
    await Promise.all(actors.map((a) => kill(a)));
  });

  it('carries runtimeEnv envVars to tasks and actors on other nodes', async () => {
    const env = { runtimeEnv: { envVars: { RAY_TS_TEST_CLUSTER_ENV: 'far' } } };
    const t = await get(
      readEnv.options({ schedulingStrategy: { nodeId: n2 }, ...env }).remote('RAY_TS_TEST_CLUSTER_ENV'),
    );
    expect(t.value).toBe('far');
    const a = EnvReaderActor.options({ schedulingStrategy: { nodeId: n1 }, ...env }).remote();
    expect(await get(a.read.remote('RAY_TS_TEST_CLUSTER_ENV'))).toBe('far');
    expect(await get(a.readInTask.remote('RAY_TS_TEST_CLUSTER_ENV'))).toBe('far');
    expect(
      (await get(readEnv.options({ schedulingStrategy: { nodeId: n2 } }).remote('RAY_TS_TEST_CLUSTER_ENV'))).value,
    ).toBeNull();
    await kill(a);
  });

  it('ends an actor on another node that calls exitActor(), for callers on any node', async () => {
    const a = FinisherActor.options({ schedulingStrategy: { nodeId: n1 }, maxRestarts: 1 }).remote();
    expect(await get(a.work.remote())).toBe(1);
    await expect(get(a.finish.remote())).rejects.toThrow(/exitActor\(\)/);
    await expect(get(a.work.remote())).rejects.toThrow(ActorDiedError);
    await waitFor(async () => (await listActors({ filters: [['actorId', '=', actorIdOf(a)]] }))[0]?.state === 'DEAD', {
      what: 'the actor listed DEAD',
    });
    const named = FinisherActor.options({ name: 'finisher-listed', schedulingStrategy: { nodeId: n2 } }).remote();
    expect(await get(named.work.remote())).toBe(1);
    expect(await listNamedActors()).toContain('finisher-listed');
    await kill(named);
    await waitFor(async () => !(await listNamedActors()).includes('finisher-listed'), {
      what: 'the killed actor unlisted',
    });
  });

  it('shows task runs on every node in the timeline', async () => {
    await get(
      [n1, n2].map((nodeId) => nap.options({ name: 'nap-on-cluster', schedulingStrategy: { nodeId } }).remote(30)),
    );
    const events = (await timeline()).filter((e) => e.name === 'nap-on-cluster');
    expect(events.map((e) => e.pid).sort()).toEqual([`node ${n1}`, `node ${n2}`].sort());
    expect(events.every((e) => e.dur >= 25_000 && e.tid.startsWith('worker '))).toBe(true);
  });

  it('honours node affinity, hard and soft', async () => {
    const hard = await get(
      Array.from({ length: 3 }, () => whereAmI.options({ schedulingStrategy: { nodeId: n2 } }).remote(1)),
    );
    expect(hard).toEqual([n2, n2, n2]);
    await expect(get(whereAmI.options({ schedulingStrategy: { nodeId: 'node_nope' } }).remote(1))).rejects.toThrow(
      UnschedulableError,
    );
    const soft = await get(whereAmI.options({ schedulingStrategy: { nodeId: 'node_nope', soft: true } }).remote(1));
    expect([head, n1, n2]).toContain(soft);
  });

  it('runs work needing a custom resource only where it is, and fails fast when no node has it', async () => {
    const ids = await get(Array.from({ length: 4 }, () => whereAmI.options({ resources: { special: 1 } }).remote(10)));
    expect(new Set(ids)).toEqual(new Set([n1]));
    await expect(get(whereAmI.options({ resources: { special: 3 } }).remote(1))).rejects.toThrow(/special/);
  });

  it('runs GPU work on the node with GPUs, each task with CUDA_VISIBLE_DEVICES of its own', async () => {
    const g = gpuTask.options({ numCpus: 0.5 }); // two at once on the node's one CPU
    const rs = await get([g.remote(400), g.remote(400)]);
    expect(rs.map((r) => r.nodeId)).toEqual([n2, n2]);
    expect(rs.map((r) => r.cuda).sort()).toEqual(['0', '1']);
    expect(rs.map((r) => r.ids.length)).toEqual([1, 1]);
    await expect(get(gpuTask.options({ numGpus: 3 }).remote(1))).rejects.toThrow(/GPU/);
  });

  it('places each placement-group strategy and runs work in its bundles', async () => {
    const pack = placementGroup([{ CPU: 0.25 }, { CPU: 0.25 }], { strategy: 'STRICT_PACK' });
    await pack.ready();
    const packNodes = (await pack.state()).bundleNodes;
    expect(new Set(packNodes).size).toBe(1);

    const spread = placementGroup([{ CPU: 0.25 }, { CPU: 0.25 }, { CPU: 0.25 }], {
      strategy: 'STRICT_SPREAD',
      name: 'trio',
    });
    await spread.ready();
    const spreadNodes = (await spread.state()).bundleNodes;
    expect(new Set(spreadNodes).size).toBe(3);
    const inBundles = await get(
      spreadNodes.map((_, i) =>
        whereAmI
          .options({ numCpus: 0.25, schedulingStrategy: { placementGroup: spread, placementGroupBundleIndex: i } })
          .remote(1),
      ),
    );
    expect(inBundles).toEqual(spreadNodes);
    // An actor in bundle 1 runs where that bundle is; work in "any bundle" runs on one of them.
    const inGroup = Counter.options({
      numCpus: 0.25,
      schedulingStrategy: { placementGroup: spread, placementGroupBundleIndex: 1 },
    }).remote();
    expect(await get(inGroup.node.remote())).toBe(spreadNodes[1]);
    await kill(inGroup);
    const anyBundle = await get(
      whereAmI.options({ numCpus: 0.25, schedulingStrategy: { placementGroup: spread } }).remote(1),
    );
    expect(spreadNodes).toContain(anyBundle);

    const soft = placementGroup([{ CPU: 0.1 }, { CPU: 0.1 }], { strategy: 'SPREAD' });
    const packSoft = placementGroup([{ CPU: 0.1 }, { CPU: 0.1 }], { strategy: 'PACK' });
    await Promise.all([soft.ready(), packSoft.ready()]);
    expect(new Set((await soft.state()).bundleNodes).size).toBe(2);
    expect(new Set((await packSoft.state()).bundleNodes).size).toBe(1);

    const impossible = placementGroup([{ CPU: 0.1 }, { CPU: 0.1 }, { CPU: 0.1 }, { CPU: 0.1 }], {
      strategy: 'STRICT_SPREAD',
    });
    await expect(impossible.ready()).rejects.toThrow(/STRICT_SPREAD needs 4 nodes/);
    const tooBig = placementGroup([{ CPU: 2 }], { strategy: 'PACK' });
    await expect(tooBig.ready()).rejects.toThrow(UnschedulableError);

    expect((await listPlacementGroups({ filters: [['name', '=', 'trio']] }))[0]?.state).toBe('CREATED');
    for (const pg of [pack, spread, soft, packSoft]) await removePlacementGroup(pg);
    await waitFor(async () => (await availableResources()).CPU === 3, { what: 'bundles returned' });
  });

  it('puts the children of work that captures them into its placement group', async () => {
    const pg = placementGroup([{ CPU: 0.5 }, { CPU: 1 }], { strategy: 'STRICT_SPREAD' });
    await pg.ready();
    const bundleNodes = (await pg.state()).bundleNodes;
    try {
      const inside = await get(
        groupParent
          .options({
            numCpus: 0.5,
            schedulingStrategy: {
              placementGroup: pg,
              placementGroupBundleIndex: 0,
              placementGroupCaptureChildTasks: true,
            },
          })
          .remote(),
      );
      expect(inside.group).toBe(pg.id);
      for (const [node, group] of inside.kids) {
        expect(bundleNodes).toContain(node);
        expect(group).toBe(pg.id); // and their own children would go there too
      }
      expect(bundleNodes).toContain(inside.actor);
      // Without capture, children are scheduled as usual.
      const outside = await get(
        groupParent
          .options({ numCpus: 0.5, schedulingStrategy: { placementGroup: pg, placementGroupBundleIndex: 0 } })
          .remote(),
      );
      expect(outside.group).toBeNull();
      expect(outside.kids.map(([, g]) => g)).toEqual([null, null]);
    } finally {
      await removePlacementGroup(pg);
    }
  });

  it('runs collectives between actors on the three nodes: a ring allreduce crosses every node', async () => {
    const members = [head, n1, n2].map((nodeId) =>
      MemberActor.options({ numCpus: 0.25, schedulingStrategy: { nodeId } }).remote(),
    );
    try {
      expect(await get(members.map((m) => m.node.remote()))).toEqual([head, n1, n2]);
      await collective.createCollectiveGroup(members, { groupName: 'nodes' });
      const length = (1 << 20) + 1;
      const out = await get(members.map((m) => m.ring.remote(length, 'sum', 'nodes')));
      for (const o of out)
        expect(
          Buffer.from(o.buffer, o.byteOffset, o.byteLength).equals(
            Buffer.from(out[0].buffer, out[0].byteOffset, out[0].byteLength),
          ),
        ).toBe(true);
      for (const i of [0, 1, 6, 7, length - 1]) expect(out[0][i]).toBe((1 + 2 + 3) * (i % 7) + (0 + 1 + 2));
      const small = await get(members.map((m, r) => m.allreduce.remote(Float64Array.from([r, 1]), 'max', 'nodes')));
      for (const x of small) expect([...x]).toEqual([2, 1]);
      const g = await get(members.map((m, r) => m.allgather.remote(Int32Array.from([r * 10]), 'nodes')));
      expect(g[1].map((p) => p[0])).toEqual([0, 10, 20]);
    } finally {
      for (const m of members) await kill(m);
    }
  });

  it('moves a 256 MiB object between nodes, both ways', async () => {
    const size = 256 * 1024 * 1024;
    const produced = make.options({ schedulingStrategy: { nodeId: n1 } }).remote(size);
    // Read on another node (pulled from n1 to n2), then by the driver.
    expect(await get(sum.options({ schedulingStrategy: { nodeId: n2 } }).remote(produced))).toEqual([
      9 * (size / 4096),
      size,
    ]);
    const local = await get(produced);
    expect(local.length).toBe(size);
    expect(local[size - 1]).toBe(9);
  });

  it('pulls a large object with memory bounded by its size plus the bytes in flight', async () => {
    const size = 256 * 1024 * 1024;
    const { stdout } = await run(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        path.join(here, 'fixtures', 'pull-memory.mjs'),
        cluster.address,
        n1,
        String(size),
      ],
      { timeout: 60_000 },
    );
    const [, len, grew] = /PULL_MEMORY (\d+) (\d+)/.exec(stdout)!.map(Number);
    expect(len).toBe(size);
    // Measured here: the object plus ~40 MiB for a 1 GiB object (tools/gib-transfer-check.mjs).
    expect(grew - size).toBeLessThan(96 * 1024 * 1024);
  });

  it('waits on borrowed refs until their owner has the value', async () => {
    const slow = whereAmI.options({ schedulingStrategy: { nodeId: n1 } }).remote(1500);
    expect(await get(readyCount.options({ schedulingStrategy: { nodeId: n2 } }).remote([slow], 200))).toBe(0);
    expect(await get(readyCount.options({ schedulingStrategy: { nodeId: n2 } }).remote([slow]))).toBe(1);
  });

  it('frees objects on every node once no ref is left, and keeps borrowed ones alive', async () => {
    const keep = KeeperActor;
    const k = keep.options({ schedulingStrategy: { nodeId: n2 } }).remote();
    let ref: ObjectRef<Uint8Array> | undefined = put(new Uint8Array(4 * 1024 * 1024).fill(1));
    const id = ref.id;
    expect(await get(k.hold.remote([ref]))).toBe(1);
    ref = undefined;
    const g = gc();
    for (let i = 0; i < 3; i++) {
      g();
      await new Promise((r) => setTimeout(r, 20));
    }
    // The actor on n2 borrows it: still alive, and readable there.
    expect(await get(k.read.remote())).toBe(4 * 1024 * 1024);
    expect((await listObjects({ filters: [['objectId', '=', id]] })).length).toBeGreaterThan(0);
    await get(k.drop.remote());
    await waitFor(
      async () => {
        g();
        return (await listObjects({ filters: [['objectId', '=', id]] })).length === 0;
      },
      { what: `object ${id} freed on every node`, timeoutMs: 15_000, intervalMs: 100 },
    );
  });

  it('runs actors that tasks create on the node of the task, named or not', async () => {
    const [v, actorNode, taskNode] = await get(actorFromTask.options({ schedulingStrategy: { nodeId: n1 } }).remote());
    expect([v, actorNode, taskNode]).toEqual([2, n1, n1]);
    const named = await get(actorFromTask.options({ schedulingStrategy: { nodeId: n2 } }).remote('made-in-a-task'));
    expect(named).toEqual([2, n2, n2]);
    const found = await getActor<CounterClass>('made-in-a-task');
    expect(await get(found.incr.remote(1))).toBe(3);
  });

  it('places actors needing a whole node each on different nodes, and keeps one more until a node frees', async () => {
    const cs = [0, 1, 2].map(() => Counter.options({ numCpus: 1 }).remote());
    const extra = Counter.options({ numCpus: 1 }).remote();
    try {
      const where = await get(cs.map((c) => c.node.remote()));
      expect(new Set(where).size).toBe(3);
      const pending = extra.node.remote();
      expect((await wait([pending], { timeoutMs: 300 })).ready).toHaveLength(0);
      await kill(cs[1]);
      expect(await get(pending, { timeoutMs: 10_000 })).toBe(where[1]);
    } finally {
      for (const c of [...cs, extra]) await kill(c);
    }
    // Owned by a node rather than a driver: the second does not queue behind the first.
    await waitFor(async () => (await availableResources()).CPU === 3, { what: 'all CPUs free again' });
    const fromTask = await get(actorsFromTask.options({ numCpus: 0, schedulingStrategy: { nodeId: head } }).remote(2), {
      timeoutMs: 10_000,
    });
    expect(new Set(fromTask).size).toBe(2);
    expect(fromTask).toContain(head);
  });

  it('finds a named actor from another driver, on another node', async () => {
    const C = Counter;
    const c = C.options({ name: 'shared-counter', lifetime: 'detached', schedulingStrategy: { nodeId: n1 } }).remote();
    expect(await get(c.incr.remote(1))).toBe(1);
    expect(await get(c.node.remote())).toBe(n1);
    const { stdout } = await run(
      process.execPath,
      [path.join(here, 'fixtures', 'second-driver.mjs'), cluster.address, 'shared-counter'],
      { timeout: 30_000 },
    );
    expect(stdout).toContain('SECOND_DRIVER 11');
    expect(await get(c.incr.remote(1))).toBe(12);
    // A handle passed to a task on a third node works there.
    expect(await get(callThroughHandle.options({ schedulingStrategy: { nodeId: n2 } }).remote(c, 100))).toEqual([
      112,
      n2,
    ]);
    expect(await get(c.incr.remote(-100))).toBe(12);
    const same = await getActor<CounterClass>('shared-counter');
    expect(await get(same.incr.remote(0))).toBe(12);
    const rows = await listActors({ filters: [['name', '=', 'shared-counter']] });
    expect(rows[0]).toMatchObject({ state: 'ALIVE', nodeId: n1 });
    // A second actor with the same name fails with a clear error; getIfExists returns the first.
    const dup = C.options({ name: 'shared-counter' }).remote();
    await expect(get(dup.incr.remote(1))).rejects.toThrow(ActorDiedError);
    const again = C.options({ name: 'shared-counter', getIfExists: true }).remote();
    expect(await get(again.incr.remote(1))).toBe(13);
  });

  it('drops what a driver owned on other nodes when it leaves', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'fixtures', 'leaving-driver.mjs'), cluster.address, n1],
      { timeout: 30_000 },
    );
    const [, driverNode, len] = /LEAVING_DRIVER (\S+) (\d+)/.exec(stdout)!;
    expect(Number(len)).toBe(8 * 1024 * 1024);
    await waitFor(async () => (await listObjects({ filters: [['ownerNodeId', '=', driverNode]] })).length === 0, {
      what: `objects of driver ${driverNode} dropped`,
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  });

  it('cancels a task running on another node, and kills an actor there', async () => {
    const ref = sleeper.options({ schedulingStrategy: { nodeId: n1 } }).remote(10_000);
    await new Promise((r) => setTimeout(r, 300));
    await cancel(ref);
    await expect(get(ref)).rejects.toThrow(TaskCancelledError);
    const c = Counter.options({ schedulingStrategy: { nodeId: n2 } }).remote();
    expect(await get(c.incr.remote(5))).toBe(5);
    await kill(c);
    await expect(get(c.incr.remote(1))).rejects.toThrow(ActorDiedError);
    await waitFor(async () => (await listActors({ filters: [['actorId', '=', actorIdOf(c)]] }))[0]?.state === 'DEAD', {
      what: 'the actor table says it is dead',
    });
  });

  it('refuses a node of another version, saying so', async () => {
    await expect(cluster.addNode({ env: { RAY_TS_VERSION_OVERRIDE: '9.9.9' } })).rejects.toThrow(
      /version mismatch.*9\.9\.9/,
    );
  });

  it('shares the GCS key-value store with every node', async () => {
    await internalKv.put('cluster-key', 'cluster-value', { namespace: 'test' });
    await internalKv.put('plain', 'v');
    expect(await get(kvRead.options({ schedulingStrategy: { nodeId: n2 } }).remote('plain'))).toEqual(['v', n2]);
    expect(await internalKv.keys('cluster-', { namespace: 'test' })).toEqual(['cluster-key']);
  });

  it('shows finished work in listTasks with the node that ran it', async () => {
    await get(whereAmI.options({ schedulingStrategy: { nodeId: n2 } }).remote(1));
    const rows = await listTasks({
      filters: [
        ['nodeId', '=', n2],
        ['state', '=', 'FINISHED'],
      ],
    });
    expect(rows.length).toBeGreaterThan(0);
    const c = Counter.options({ schedulingStrategy: { nodeId: n2 } }).remote();
    await get(c.incr.remote(1));
    const calls = await listTasks({
      filters: [
        ['type', '=', 'ACTOR_TASK'],
        ['actorId', '=', actorIdOf(c)],
      ],
    });
    expect(calls.map((r) => [r.name, r.nodeId, r.state])).toEqual([['Counter.incr', n2, 'FINISHED']]);
    await kill(c);
  });
});

describe('ray-ts CLI', () => {
  const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');
  const env = {
    ...process.env,
    RAY_TS_SESSION_DIR: path.join(os.tmpdir(), `ray-ts-cli-test-${process.pid}`),
    RAY_TS_ADDRESS: '',
  };
  const ray = (...args: string[]) => run(process.execPath, [cli, ...args], { env, timeout: 60_000 });

  afterAll(async () => {
    await ray('stop', '--force').catch(() => {});
  });

  it('explains a bad address given to init()', async () => {
    await expect(init({ address: 'not-an-address' })).rejects.toThrow(/HOST:PORT/);
    await expect(init({ address: '127.0.0.1:1' })).rejects.toThrow(/No ray-ts cluster answers at 127.0.0.1:1/);
    await expect(init({ address: '127.0.0.1:1', numCpus: 2 })).rejects.toThrow(/drop numCpus/);
  });

  it('starts a head and a node, shows status and lists, and stops them', async () => {
    const port = 20_000 + (process.pid % 20_000);
    const h = await ray('start', '--head', '--port', String(port), '--num-cpus', '1', '--dashboard-port', '0');
    expect(h.stdout).toContain(`127.0.0.1:${port}`);
    await expect(ray('start', '--head', '--port', String(port))).rejects.toThrow(/in use/);
    await ray('start', '--address', `127.0.0.1:${port}`, '--num-cpus', '2', '--resources', '{"disk": 1}');
    await expect(ray('start', '--address', '127.0.0.1:1')).rejects.toThrow(/No ray-ts cluster answers/);
    await expect(ray('start', '--address', 'nonsense')).rejects.toThrow(/HOST:PORT/);
    const st = await ray('status');
    expect(st.stdout).toContain('Nodes: 2 alive');
    expect(st.stdout).toMatch(/CPU: 0 \/ 3/);
    expect(st.stdout).toContain('disk: 0 / 1');
    const list = await ray('list', 'nodes', '--format', 'json');
    expect(JSON.parse(list.stdout)).toHaveLength(2);
    const filtered = await ray('list', 'nodes', '--filter', 'isHead=true');
    expect(filtered.stdout).toContain('1 row');
    const file = path.join(os.tmpdir(), `ray-ts-cli-timeline-${process.pid}.json`);
    const tl = await ray('timeline', '--output', file);
    expect(tl.stdout).toMatch(/wrote \d+ task runs on \d+ workers to .*perfetto/);
    expect(Array.isArray(JSON.parse(fs.readFileSync(file, 'utf8')))).toBe(true);
    fs.rmSync(file);
    const stop = await ray('stop');
    expect(stop.stdout).toContain('Stopped 2');
  });
});

describe('a node that dies', () => {
  let cluster: Cluster;
  let victim: string;

  beforeAll(async () => {
    cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }], nodeTimeoutMs: 1000 });
    victim = cluster.nodes[1].nodeId;
    await init({ address: cluster.address });
  });

  afterAll(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  it('fails or retries its tasks elsewhere, and fails calls to its actors, with the reason', async () => {
    const doomed = sleeper.options({ schedulingStrategy: { nodeId: victim }, maxRetries: 0 }).remote(30_000);
    const retried = sleeper
      .options({ schedulingStrategy: { nodeId: victim, soft: true }, maxRetries: 1 })
      .remote(1_000);
    const c = Counter.options({ schedulingStrategy: { nodeId: victim } }).remote();
    expect(await get(c.incr.remote(1))).toBe(1);
    await waitFor(
      async () =>
        (
          await listTasks({
            filters: [
              ['state', '=', 'RUNNING'],
              ['nodeId', '=', victim],
            ],
          })
        ).length === 2,
      { what: 'both tasks running on the victim' },
    );
    cluster.killNode(victim);
    await expect(get(doomed)).rejects.toThrow(NodeDiedError);
    expect(await get(retried)).toBe(cluster.nodes[0].nodeId);
    await expect(get(c.incr.remote(1))).rejects.toThrow(/died/);
    expect((await listNodes({ filters: [['nodeId', '=', victim]] }))[0]?.state).toBe('DEAD');
  });

  it('restarts an actor elsewhere within maxRestarts, retrying the call its death interrupted', async () => {
    const second = await cluster.addNode({ numCpus: 1 });
    // Soft affinity places the actor elsewhere while the driver's view lacks the new node: wait for it.
    await waitFor(async () => (await nodes()).some((n) => n.nodeId === second.nodeId && n.alive), {
      what: "the new node in the driver's view",
    });
    const c = Counter.options({
      maxRestarts: 1,
      maxTaskRetries: 1,
      schedulingStrategy: { nodeId: second.nodeId, soft: true },
    }).remote();
    expect(await get(c.incr.remote(5))).toBe(5);
    expect(await get(c.node.remote())).toBe(second.nodeId);
    const interrupted = c.slowIncr.remote(1, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    cluster.killNode(second.nodeId);
    // A fresh instance on the head: the state is new, and the interrupted call ran there.
    expect(await get(interrupted)).toBe(1);
    expect(await get(c.node.remote())).toBe(cluster.nodes[0].nodeId);
    expect(await get(c.incr.remote(1))).toBe(2);
    // A caller that did not create it finds the new instance through the GCS.
    expect(await get(callThroughHandle.remote(c, 10))).toEqual([12, cluster.nodes[0].nodeId]);
    const row = (await listActors({ filters: [['actorId', '=', actorIdOf(c)]] }))[0];
    expect(row).toMatchObject({ state: 'ALIVE', nodeId: cluster.nodes[0].nodeId });
  });

  it('ends the actors of a driver killed with SIGKILL, except detached ones, and its job', async () => {
    const host = cluster.nodes[0].nodeId;
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'fixtures', 'dying-driver.mjs'), cluster.address, host],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => /DYING_DRIVER/.test(out), { what: 'the driver ready', timeoutMs: 30_000 });
    const [, jobId, ownedId, detachedId] = /DYING_DRIVER (\S+) (\S+) (\S+)/.exec(out)!;
    child.kill('SIGKILL');
    await waitFor(async () => (await listActors({ filters: [['actorId', '=', ownedId]] }))[0]?.state === 'DEAD', {
      what: 'its actor ended',
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    expect((await listActors({ filters: [['actorId', '=', detachedId]] }))[0]?.state).toBe('ALIVE');
    expect((await listJobs({ filters: [['jobId', '=', jobId]] }))[0]?.state).toBe('FINISHED');
  });

  it('rebuilds lost objects from lineage, recursively, or says why it cannot', async () => {
    const third = await cluster.addNode({ numCpus: 1 });
    const there = { schedulingStrategy: { nodeId: third.nodeId, soft: true }, maxRetries: 2 };
    const size = 2 * 1024 * 1024;
    const first = make.options(there).remote(size);
    const second = nextStep.options(there).remote(first);
    const once = make.options({ ...there, maxRetries: 0 }).remote(size);
    // Read there (small answers only), so the bytes exist on the third node and nowhere else.
    expect(await get([sum.options(there).remote(second), sum.options(there).remote(once)])).toEqual([
      [10 * (size / 4096), size],
      [9 * (size / 4096), size],
    ]);
    cluster.killNode(third.nodeId);
    const v = await get(second); // second and the first it needs run again on the head
    expect(v.length).toBe(size);
    expect(v[size - 1]).toBe(10);
    await expect(get(once)).rejects.toThrow(/lost.*retries/s);
  });
});
