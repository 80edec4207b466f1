import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, RayError } from '../errors.js';
import { settle } from '../testing-clock.js';
import type { GcsEvent__Output } from './generated/raytscore/GcsEvent.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { Membership, type LostNode, type View } from './membership.js';
import { FakeGcsClient, nodeInfo, serviceError } from './testing-gcs.js';
import { info as actorInfo } from './testing-remote-actors.js';

beforeEach(() => {
  // setImmediate stays real: settle() lets the fake GCS's answers arrive.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const GCS = '10.0.0.1:6379';
const HEARTBEAT_MS = 1_000;
const RESUBSCRIBE_MS = 500;

function node(nodeId: string, over: Partial<NodeInfo__Output> = {}): NodeInfo__Output {
  return nodeInfo(nodeId, { version: '0.1.0', ...over });
}

function view(nodes: NodeInfo__Output[], potential: Record<string, number>[] = []): GcsEvent__Output {
  return {
    view: { nodes, version: 1, potentialNodes: potential.map((shape) => ({ shape, count: 1, infeasible: false })) },
  };
}

/** Membership of node 'node-a' over a fake GCS, recording what it tells the node (in `log` too, in order). */
function setup() {
  const gcs = new FakeGcsClient();
  gcs.answers.RegisterNode = () => ({ clusterId: 'c1', headNodeId: 'node-h' });
  gcs.answers.UnregisterNode = () => ({});
  const heard = {
    views: [] as { lost: LostNode[]; changed: string[] }[],
    log: [] as string[],
    groups: [] as string[],
    actorsDead: [] as string[],
    jobsFinished: [] as string[],
    jobs: [] as string[],
    fenced: 0,
  };
  let reports = 0;
  const membership = new Membership(
    gcs.client,
    {
      nodeId: 'node-a',
      gcsAddress: GCS,
      heartbeatMs: HEARTBEAT_MS,
      resubscribeMs: RESUBSCRIBE_MS,
      info: () => ({ nodeId: 'node-a', address: 'node-a:1', numWorkers: ++reports }),
    },
    {
      view: (lost, changed) => {
        heard.views.push({ lost, changed });
        heard.log.push('view');
      },
      viewApplied: () => heard.log.push('applied'),
      group: (p) => heard.groups.push(p.spec!.placementGroupId),
      actorDead: (a) => heard.actorsDead.push(a.actorId),
      job: (j) => heard.jobs.push(`${j.jobId} ${j.state} ${j.driverNodeId}`),
      jobFinished: (jobId) => heard.jobsFinished.push(jobId),
      fenced: () => heard.fenced++,
    },
  );
  /** Starts it, the GCS's first view holding `nodes` (node-a itself always). */
  async function start(...nodes: NodeInfo__Output[]): Promise<void> {
    const started = membership.start();
    await settle();
    gcs.streams[0].emit('data', view([node('node-a'), ...nodes]));
    await started;
  }
  return { gcs, heard, membership, start };
}

describe('membership: joining', () => {
  it('registers with this node, follows the view, and starts once the view has it', async () => {
    const { gcs, heard, membership } = setup();
    let started = false;
    void membership.start().then(() => (started = true));
    await settle();
    expect(gcs.requests('RegisterNode')).toEqual([{ nodeId: 'node-a', address: 'node-a:1', numWorkers: 1 }]);
    expect(gcs.of('RegisterNode')[0].timeoutMs).toBe(10_000);
    expect(gcs.streams.map((s) => s.req)).toEqual([{ nodeId: 'node-a' }]);

    gcs.streams[0].emit('data', view([node('node-b')]));
    await settle();
    expect(started).toBe(false);
    gcs.streams[0].emit('data', view([node('node-a'), node('node-b')]));
    await settle();
    expect(started).toBe(true);
    expect(membership.isAlive('node-a')).toBe(true);
    expect(heard.views.map((v) => v.changed)).toEqual([['node-b'], ['node-a']]);
  });

  it('starts anyway after 10 s without a view that has it', async () => {
    const { membership } = setup();
    let started = false;
    void membership.start().then(() => (started = true));
    await settle();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toBe(true);
  });

  it('says why a GCS refused it (FAILED_PRECONDITION) as an InvalidArgumentError', async () => {
    const { gcs, membership } = setup();
    gcs.answers.RegisterNode = () => {
      throw serviceError(grpc.status.FAILED_PRECONDITION, 'this node runs ray-ts 0.2.0 and the cluster 0.1.0');
    };
    const err = await membership.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe(
      `Cannot join the cluster at ${GCS}: this node runs ray-ts 0.2.0 and the cluster 0.1.0`,
    );
    expect(gcs.streams).toEqual([]);
  });

  it('names the address and what to check when no GCS answers', async () => {
    const { gcs, membership } = setup();
    gcs.answers.RegisterNode = () => {
      throw serviceError(grpc.status.UNAVAILABLE, 'No connection established');
    };
    const err = await membership.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayError);
    expect(err).not.toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe(
      `Cannot reach a ray-ts cluster at ${GCS} (No connection established). Check the address (HOST:PORT of the head, ` +
        `as 'ray-ts start --head' printed it) and that the head is running ('ray-ts status --address ${GCS}').`,
    );

    gcs.answers.RegisterNode = () => {
      throw new Error('socket hang up');
    };
    const bare = await membership.start().catch((e: unknown) => e);
    expect((bare as Error).message).toMatch(
      new RegExp(`^Cannot reach a ray-ts cluster at ${GCS} \\(socket hang up\\)`),
    );
    expect(gcs.streams).toEqual([]);
  });
});

describe('membership: views', () => {
  it('reports nodes that left or died, once, with what they were', async () => {
    const { gcs, heard, membership, start } = setup();
    const b = node('node-b');
    const c = node('node-c');
    await start(b, c, node('node-d', { state: 'DEAD' }));
    gcs.streams[0].emit(
      'data',
      view([node('node-a'), node('node-c', { state: 'DEAD' }), node('node-d', { state: 'DEAD' })]),
    );
    expect(heard.views.at(-1)!.lost).toEqual([
      { nodeId: 'node-b', why: 'left the cluster', info: b },
      { nodeId: 'node-c', why: 'died (it missed its heartbeats)', info: c },
    ]);
    expect(membership.get('node-b')).toBeUndefined();
    expect(membership.get('node-c')?.state).toBe('DEAD');
    expect(membership.isAlive('node-c')).toBe(false);

    gcs.streams[0].emit('data', view([node('node-a')]));
    expect(heard.views.at(-1)!.lost).toEqual([]); // node-c was dead already
  });

  it('reports new nodes and nodes whose available resources or load changed', async () => {
    const { gcs, heard, membership, start } = setup();
    await start(node('node-b'), node('node-c'), node('node-d'));
    expect(heard.views[0].changed).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);
    gcs.streams[0].emit(
      'data',
      view([
        node('node-a', { numWorkers: 5, pid: 9 }), // neither resources nor load
        node('node-b', { resourcesAvailable: { CPU: 1 } }),
        node('node-c', { load: [{ shape: { CPU: 1 }, count: 3, infeasible: false }] }),
        node('node-d'),
        node('node-e'),
      ]),
    );
    expect(heard.views[1]).toEqual({ lost: [], changed: ['node-b', 'node-c', 'node-e'] });
    expect(membership.get('node-a')?.numWorkers).toBe(5);
    expect([...membership.nodes()].map((n) => n.nodeId)).toEqual(['node-a', 'node-b', 'node-c', 'node-d', 'node-e']);
  });

  it('keeps the node types an autoscaler may start', async () => {
    const { gcs, membership, start } = setup();
    await start();
    expect(membership.potential).toEqual([]);
    gcs.streams[0].emit('data', view([node('node-a')], [{ CPU: 8 }, { CPU: 4, GPU: 1 }]));
    expect(membership.potential).toEqual([{ CPU: 8 }, { CPU: 4, GPU: 1 }]);
  });

  it('tells the node of a view, then its waiters, then that it was applied', async () => {
    const { gcs, heard, membership, start } = setup();
    await start();
    const seesB = (v: View) => {
      const seen = v.get('node-b') !== undefined;
      if (seen) heard.log.push('waiter');
      return seen;
    };
    void membership.waitForView(seesB, 1_000);
    heard.log.length = 0;
    gcs.streams[0].emit('data', view([node('node-a'), node('node-b')]));
    expect(heard.log).toEqual(['view', 'waiter', 'applied']);
  });

  it('passes on group events, deaths of actors, job events and ends of jobs; nothing else', async () => {
    const { gcs, heard, start } = setup();
    await start();
    const s = gcs.streams[0];
    const spec = { placementGroupId: 'pg_1', name: '', strategy: 'PACK', bundles: [], jobId: '', namespace: '' };
    s.emit('data', { placementGroup: { spec, state: 'CREATED', bundleNodes: [], reason: '', found: true } });
    s.emit('data', { actor: actorInfo('a1', { state: 'ALIVE' }) });
    s.emit('data', { actor: actorInfo('a2', { state: 'DEAD' }) });
    const job = { jobId: 'job-1', driverNodeId: 'node-a', startTimeMs: 0, endTimeMs: 0 };
    s.emit('data', { job: { ...job, state: 'RUNNING' } });
    s.emit('data', { job: { ...job, state: 'FINISHED' } });
    expect([heard.groups, heard.actorsDead, heard.jobsFinished]).toEqual([['pg_1'], ['a2'], ['job-1']]);
    expect(heard.jobs).toEqual(['job-1 RUNNING node-a', 'job-1 FINISHED node-a']);
  });
});

describe('membership: waitForView', () => {
  it('resolves true at once, on a later view that satisfies it, or false after its timeout', async () => {
    const { gcs, membership, start } = setup();
    await start();
    expect(await membership.waitForView((v) => v.get('node-a') !== undefined, 0)).toBe(true);

    let found: boolean | undefined;
    void membership.waitForView((v) => v.get('node-c') !== undefined, 1_000).then((r) => (found = r));
    gcs.streams[0].emit('data', view([node('node-a'), node('node-b')]));
    await settle();
    expect(found).toBeUndefined();
    gcs.streams[0].emit('data', view([node('node-a'), node('node-c')]));
    await settle();
    expect(found).toBe(true);

    let never: boolean | undefined;
    void membership.waitForView((v) => v.get('node-z') !== undefined, 1_000).then((r) => (never = r));
    await vi.advanceTimersByTimeAsync(999);
    expect(never).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(never).toBe(false);
  });
});

describe('membership: a broken subscription', () => {
  for (const how of ['error', 'end'] as const) {
    it(`subscribes again resubscribeMs after '${how}', keeping its last view meanwhile`, async () => {
      const { gcs, membership, start } = setup();
      await start(node('node-b'));
      gcs.streams[0].emit(how, how === 'error' ? serviceError(grpc.status.UNAVAILABLE, 'head restarted') : undefined);
      gcs.streams[0].emit('end');
      await vi.advanceTimersByTimeAsync(RESUBSCRIBE_MS - 1);
      expect(gcs.streams).toHaveLength(1);
      expect(membership.isAlive('node-b')).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(gcs.streams).toHaveLength(2);
      expect(gcs.streams[1].req).toEqual({ nodeId: 'node-a' });

      // The new stream breaks too: subscribed again, once.
      gcs.streams[1].emit('error', serviceError(grpc.status.UNAVAILABLE, 'still down'));
      gcs.streams[1].emit('end');
      await vi.advanceTimersByTimeAsync(RESUBSCRIBE_MS * 4);
      expect(gcs.streams).toHaveLength(3);
      gcs.streams[2].emit('data', view([node('node-a')]));
      expect(membership.get('node-b')).toBeUndefined();
    });
  }

  it('does not subscribe again once stopped', async () => {
    const { gcs, membership, start } = setup();
    await start();
    await membership.stop();
    expect(gcs.streams[0].cancelled).toBe(true);
    gcs.streams[0].emit('end');
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_MS * 2);
    expect(gcs.streams).toHaveLength(1);
  });

  it('does not subscribe again when it stops during the wait', async () => {
    const { gcs, membership, start } = setup();
    await start();
    gcs.streams[0].emit('end');
    await membership.stop();
    await vi.advanceTimersByTimeAsync(RESUBSCRIBE_MS * 2);
    expect(gcs.streams).toHaveLength(1);
  });
});

describe('membership: heartbeats', () => {
  it('reports this node every heartbeatMs, registering again when the GCS does not know it', async () => {
    const { gcs, start } = setup();
    gcs.answers.Heartbeat = () => ({ known: true });
    await start();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * 2);
    expect(gcs.requests('Heartbeat')).toEqual([
      { node: { nodeId: 'node-a', address: 'node-a:1', numWorkers: 2 } },
      { node: { nodeId: 'node-a', address: 'node-a:1', numWorkers: 3 } },
    ]);
    expect(gcs.of('Heartbeat')[0].timeoutMs).toBe(5_000);
    expect(gcs.of('RegisterNode')).toHaveLength(1);

    // The GCS restarted without this node's record: it joins again.
    gcs.answers.Heartbeat = () => ({ known: false });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(gcs.requests('RegisterNode')).toEqual([
      { nodeId: 'node-a', address: 'node-a:1', numWorkers: 1 },
      { nodeId: 'node-a', address: 'node-a:1', numWorkers: 5 },
    ]);
    expect(gcs.of('RegisterNode')[1].timeoutMs).toBe(5_000);
  });

  it('is fenced, once, when the GCS declared it dead while it ran: no more heartbeats, no rejoining', async () => {
    const { gcs, heard, start } = setup();
    gcs.answers.Heartbeat = () => ({ known: true });
    await start();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(heard.fenced).toBe(0);
    gcs.answers.Heartbeat = () => ({ known: false, dead: true });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(heard.fenced).toBe(1);
    const beats = gcs.of('Heartbeat').length;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * 3);
    expect(gcs.of('Heartbeat')).toHaveLength(beats);
    expect(gcs.of('RegisterNode')).toHaveLength(1); // never registered again under its id
    expect(heard.fenced).toBe(1);
  });

  it('goes on after heartbeats and registrations fail', async () => {
    const { gcs, start } = setup();
    await start();
    gcs.answers.Heartbeat = () => {
      throw serviceError(grpc.status.UNAVAILABLE, 'GCS down');
    };
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    gcs.answers.Heartbeat = () => ({ known: false });
    gcs.answers.RegisterNode = () => {
      throw serviceError(grpc.status.UNAVAILABLE, 'GCS down');
    };
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    gcs.answers.Heartbeat = () => ({ known: true });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(gcs.of('Heartbeat')).toHaveLength(3);
    expect(gcs.of('RegisterNode')).toHaveLength(2);
  });

  it('stops heartbeats and unregisters when it leaves', async () => {
    const { gcs, membership, start } = setup();
    gcs.answers.Heartbeat = () => ({ known: true });
    await start();
    await membership.stop();
    expect(gcs.requests('UnregisterNode')).toEqual([{ nodeId: 'node-a' }]);
    expect(gcs.of('UnregisterNode')[0].timeoutMs).toBe(2_000);
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * 3);
    expect(gcs.of('Heartbeat')).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves even when the GCS does not answer the unregistration', async () => {
    const { gcs, membership, start } = setup();
    await start();
    gcs.answers.UnregisterNode = () => {
      throw serviceError(grpc.status.UNAVAILABLE, 'GCS down');
    };
    await membership.stop();
    expect(gcs.streams[0].cancelled).toBe(true);
  });
});
