import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  NodeDiedError,
  OutOfMemoryError,
  TaskCancelledError,
  UnschedulableError,
  WorkerCrashedError,
} from '../errors.js';
import type { CompiledActorOptions, SchedulingStrategySpec } from '../options.js';
import type { FnRef } from '../runtime/functions.js';
import { settle } from '../testing-clock.js';
import type { ActorRecord } from './actors.js';
import { MAX_SPILLS } from './scheduler.js';
import { fakeCluster, ok, taskSpec, testNode, thrown, type FakeWorker } from './testing-node.js';

beforeEach(() => {
  vi.spyOn(performance, 'now').mockReturnValue(1_000);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const fnShort: FnRef = { id: 'fn-short' };

/** The worker dies as a crashed thread does. */
function crash(n: ReturnType<typeof testNode>, w: FakeWorker, reason: 'crash' | 'oom' = 'crash'): void {
  w.dead = true;
  w.exitReason = reason;
  w.exitDetail = reason === 'oom' ? 'heap limit 64 MiB' : 'exit code 1';
  n.tasks.workerExited(w.handle);
}

function inGroup(id: string, bundleIndex = 0): SchedulingStrategySpec {
  return { type: 'PLACEMENT_GROUP', placementGroupId: id, bundleIndex };
}

describe('tasks: retries', () => {
  it('runs the tasks of a dead worker again; only the one it was running uses an attempt', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('s0', { fn: fnShort }));
    await settle();
    n.finish('s0', ok(0), 1);
    n.submit(taskSpec('t1', { fn: fnShort, maxRetries: 1 }));
    n.submit(taskSpec('t2', { fn: fnShort, maxRetries: 1 }));
    await settle();
    const [w1] = n.workers.all;
    expect(w1.taskIds).toEqual(['s0', 't1', 't2']); // t2 pipelined behind t1

    crash(n, w1);
    expect(n.pool.availableResources().CPU).toBe(1);
    await settle();
    const w2 = n.workers.all[1];
    expect(w2.taskIds).toEqual(['t1', 't2']);
    expect(n.work('t1').attempts).toBe(2);
    expect(n.work('t2').attempts).toBe(1);

    // t1 dies again: no retry left. t2, behind it, goes on.
    crash(n, w2);
    const err = n.error('t1.0');
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err!.message).toMatch(/Task 't1' \(t1\) failed: its worker thread died while running it \(exit code 1\)/);
    await settle();
    expect(n.workers.all[2].taskIds).toEqual(['t2']);
    expect(n.work('t2').attempts).toBe(1);
    n.finish('t2', ok('fine'));
    expect(n.value('t2.0')).toEqual({ t: 'js', v: 'fine' });
  });

  it("blames the task a thread's status word names, and reports running out of memory", async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('s0', { fn: fnShort }));
    await settle();
    n.finish('s0', ok(0), 1);
    n.submit(taskSpec('t1', { fn: fnShort }));
    n.submit(taskSpec('t2', { fn: fnShort }));
    await settle();
    const [w1] = n.workers.all;
    w1.status = new Int32Array([n.work('t2').seq]); // t1 had finished there, unreported
    crash(n, w1, 'oom');
    expect(n.error('t2.0')).toBeInstanceOf(OutOfMemoryError);
    expect(n.error('t2.0')!.message).toMatch(
      /ran out of memory: its worker exceeded its heap limit \(heap limit 64 MiB\)/,
    );
    await settle();
    expect(n.work('t1')).toMatchObject({ state: 'running', attempts: 1 });
  });

  it('retries exceptions with retryExceptions while maxRetries lasts', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1', { maxRetries: 1, retryExceptions: true }));
    await settle();
    n.finish('t1', thrown('MyError', 'first'));
    await settle();
    expect(n.work('t1')).toMatchObject({ state: 'running', attempts: 2 });
    expect(n.workers.all[0].taskIds).toEqual(['t1', 't1']);
    n.finish('t1', thrown('MyError', 'second'));
    const err = n.error('t1.0')!;
    expect(err.name).toBe('MyError');
    expect(err.message).toBe('second');
  });

  it('retries only the exceptions named in retryExceptions', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1', { maxRetries: 3, retryExceptions: ['Flaky'] }));
    await settle();
    n.finish('t1', thrown('Flaky'));
    await settle();
    expect(n.work('t1').attempts).toBe(2);
    n.finish('t1', thrown('Fatal', 'no retry for this'));
    expect(n.error('t1.0')!.name).toBe('Fatal');
    expect(n.workers.all[0].taskIds).toEqual(['t1', 't1']);
  });

  it('never retries exceptions without retryExceptions', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1', { maxRetries: 3, retryExceptions: false }));
    await settle();
    n.finish('t1', thrown('Flaky'));
    expect(n.error('t1.0')!.name).toBe('Flaky');
    expect(n.workers.all[0].taskIds).toEqual(['t1']);
  });

  it('retries for ever with maxRetries -1', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1', { maxRetries: -1, retryExceptions: true }));
    await settle();
    for (let i = 0; i < 5; i++) {
      n.finish('t1', thrown('Flaky'));
      await settle();
    }
    expect(n.work('t1').attempts).toBe(6);
  });
});

describe('tasks: cancellation', () => {
  it('cancels a queued task at once; the scheduler passes over it', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1'));
    n.submit(taskSpec('t2'));
    await settle();
    expect(n.tasks.cancel('t2', false, false)).toBe(true);
    expect(n.error('t2.0')).toBeInstanceOf(TaskCancelledError);
    expect(n.queue.has('t2')).toBe(false);
    n.finish('t1');
    await settle();
    expect(n.workers.all[0].taskIds).toEqual(['t1']);
    expect(n.ctx.busyCount).toBe(0);
    expect(n.tasks.cancel('t2', false, false)).toBe(false);
  });

  it('cancels a task waiting for its arguments', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.store.createPending('x');
    n.store.addHolder('x');
    n.submit(taskSpec('t1', { args: [{ r: 'x' }] }));
    await settle();
    n.tasks.cancel('t1', false, false);
    expect(n.error('t1.0')).toBeInstanceOf(TaskCancelledError);
    n.store.put('x', { t: 'js', v: 1 });
    await settle();
    expect(n.workers.all).toHaveLength(0);
  });

  it('asks the worker of a running task to stop it; its result reads cancelled at once', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1'));
    await settle();
    const [w] = n.workers.all;
    n.tasks.cancel('t1', false, false);
    expect(n.error('t1.0')).toBeInstanceOf(TaskCancelledError);
    expect(w.sent.at(-1)).toEqual({ k: 'cancel', taskId: 't1' });
    expect(w.terminations).toEqual([]);
    expect(n.work('t1').state).toBe('running');
    n.finish('t1', ok('too late'));
    expect(n.error('t1.0')).toBeInstanceOf(TaskCancelledError);
    expect(n.pool.availableResources().CPU).toBe(1);
    expect(n.records.finished.at(-1)).toMatchObject({ taskId: 't1', state: 'CANCELLED' });
  });

  it('terminates the worker of a running task on force, and only the task it runs now', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('s0', { fn: fnShort }));
    await settle();
    n.finish('s0', ok(0), 1);
    n.submit(taskSpec('t1', { fn: fnShort, maxRetries: 3 }));
    n.submit(taskSpec('t2', { fn: fnShort, maxRetries: 3 }));
    await settle();
    const [w] = n.workers.all;
    n.tasks.cancel('t2', true, false); // pipelined behind t1: the worker is asked
    expect(w.terminations).toEqual([]);
    expect(w.sent.at(-1)).toEqual({ k: 'cancel', taskId: 't2' });
    n.tasks.cancel('t1', true, false);
    expect(w.terminations).toEqual([{ reason: 'terminated', detail: 'cancelled' }]);
    crash(n, w);
    expect(n.queue.size).toBe(0);
    expect(n.error('t1.0')).toBeInstanceOf(TaskCancelledError);
    expect(n.error('t2.0')).toBeInstanceOf(TaskCancelledError);
    await settle();
    expect(n.workers.all).toHaveLength(1); // neither ran again
  });

  it('cancels a forwarded task on the node it runs on', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-b' });
    n.submit(taskSpec('t1'));
    await settle();
    n.tasks.cancel('t1', true, true);
    expect(cluster.peers.cancelled).toEqual([{ nodeId: 'node-b', taskId: 't1', force: true, recursive: true }]);
    expect(n.error('t1.0')).toBeInstanceOf(TaskCancelledError);
    expect(n.queue.has('t1')).toBe(false);
    expect(n.tasks.remoteDone('t1', [{ t: 'js', v: 1 }], 1)).toBe(false);
  });

  it('cancels the children of a task with recursive', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('p1'));
    await settle();
    n.submit(taskSpec('c1', { parentTaskId: 'p1' }));
    n.submit(taskSpec('c2', { parentTaskId: 'p1' }));
    n.submit(taskSpec('other'));
    await settle();
    n.tasks.cancel('p1', false, true);
    expect(n.error('c1.0')).toBeInstanceOf(TaskCancelledError);
    expect(n.error('c2.0')).toBeInstanceOf(TaskCancelledError);
    expect(n.work('other').state).toBe('queued');
  });

  it('leaves the children alone without recursive', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('p1'));
    await settle();
    n.submit(taskSpec('c1', { parentTaskId: 'p1' }));
    await settle();
    n.tasks.cancel('p1', false, false);
    expect(n.work('c1').state).toBe('queued');
  });
});

describe('tasks: other nodes', () => {
  it('runs forwarded tasks of a lost node again within maxRetries, then fails them with NodeDiedError', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = (r) => ({ kind: 'node', nodeId: r.GPU ? 'node-g' : 'node-b' });
    n.submit(taskSpec('t1', { maxRetries: 1 }));
    n.submit(taskSpec('g1', { resources: { GPU: 1 } }));
    await settle();
    expect(cluster.peers.forwarded.map((f) => [f.nodeId, f.taskId])).toEqual([
      ['node-b', 't1'],
      ['node-g', 'g1'],
    ]);

    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-c' });
    n.tasks.nodeLost('node-b', 'died (it missed its heartbeats)');
    await settle();
    expect(cluster.peers.forwarded.map((f) => [f.nodeId, f.taskId])).toEqual([
      ['node-b', 't1'],
      ['node-g', 'g1'],
      ['node-c', 't1'],
    ]);
    expect(n.work('t1')).toMatchObject({ state: 'running', remote: 'node-c', attempts: 2 });
    expect(n.work('g1')).toMatchObject({ state: 'running', remote: 'node-g' });

    n.tasks.nodeLost('node-c', 'left the cluster');
    const err = n.error('t1.0');
    expect(err).toBeInstanceOf(NodeDiedError);
    expect(err!.message).toMatch(
      /was running on node node-c, which left the cluster; no retries were left \(maxRetries 1\)/,
    );
    expect(n.work('g1').state).toBe('running');
  });

  it('makes results lost with their node again from their lineage', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-b' });
    n.store.put('arg', { t: 'js', v: 'input' });
    n.store.addHolder('arg');
    n.submit(taskSpec('t1', { maxRetries: 1, args: [{ r: 'arg' }] }));
    await settle();
    n.tasks.remoteDone('t1', [{ t: 'remote', location: 'node-b', size: 10 }], 1);
    expect(n.store.locationOf('t1.0')).toBe('node-b');
    expect(n.queue.has('t1')).toBe(false);
    // The lineage keeps the argument while the result lives.
    n.store.removeHolder('arg');
    expect(n.store.has('arg')).toBe(true);

    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-c' });
    n.tasks.nodeLost('node-b', 'died (it missed its heartbeats)');
    expect(n.store.isReady('t1.0')).toBe(false);
    await settle();
    expect(cluster.peers.forwarded.map((f) => [f.nodeId, f.taskId])).toEqual([
      ['node-b', 't1'],
      ['node-c', 't1'],
    ]);
    n.tasks.remoteDone('t1', [{ t: 'js', v: 'again' }], 1);
    expect(n.value('t1.0')).toEqual({ t: 'js', v: 'again' });
    n.store.removeHolder('t1.0');
    expect(n.store.has('arg')).toBe(false);
  });

  it('sends spilled-back work where the executor said, then (after MAX_SPILLS) with noSpill', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-b' });
    n.submit(taskSpec('t1'));
    await settle();
    n.tasks.spilledBack('t1', 'node-x', 'node-c'); // not where it was sent: ignored
    expect(n.work('t1')).toMatchObject({ remote: 'node-b', spills: 0 });

    const hops = ['node-b', 'node-c', 'node-d', 'node-e'];
    for (const node of hops.slice(1)) cluster.placer.alive.add(node);
    for (let i = 1; i < hops.length; i++) {
      n.tasks.spilledBack('t1', hops[i - 1], hops[i]);
      await settle();
    }
    expect(cluster.peers.forwarded).toEqual([
      { nodeId: 'node-b', taskId: 't1', noSpill: false },
      { nodeId: 'node-c', taskId: 't1', noSpill: false },
      { nodeId: 'node-d', taskId: 't1', noSpill: false },
      { nodeId: 'node-e', taskId: 't1', noSpill: true },
    ]);
    expect(MAX_SPILLS).toBe(3);
    expect(n.work('t1')).toMatchObject({ remote: 'node-e', spills: 3, attempts: 1 });
    expect(cluster.placer.placed).toHaveLength(1); // placed once; then sent where the executors said
  });

  it('places spilled-back work again when its target is gone, and runs it here when the target is this node', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-b' });
    n.submit(taskSpec('t1'));
    await settle();
    n.tasks.spilledBack('t1', 'node-b', 'node-dead');
    await settle();
    expect(cluster.placer.placed).toHaveLength(2);
    expect(cluster.peers.forwarded.map((f) => f.nodeId)).toEqual(['node-b', 'node-b']);

    cluster.placer.alive.add('node-a');
    n.tasks.spilledBack('t1', 'node-b', 'node-a');
    await settle();
    expect(n.work('t1')).toMatchObject({ state: 'running', remote: undefined });
    expect(n.workers.all[0].taskIds).toEqual(['t1']);
  });

  it('fails at submission a task no node can ever run', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.missing = { name: 'GPU', requested: 2, total: 1 };
    n.submit(taskSpec('t1', { resources: { GPU: 2 } }));
    await settle();
    const err = n.error('t1.0');
    expect(err).toBeInstanceOf(UnschedulableError);
    expect(err!.message).toMatch(/it needs 2 GPU and the largest node has 1 GPU/);
    expect(cluster.placer.placed).toEqual([]);
  });
});

describe('tasks: placement groups', () => {
  it('waits for its placement group, then runs in its bundle', async () => {
    const n = testNode({ resources: { CPU: 2 } });
    n.groups.set('pg_1', 'PENDING', [{ CPU: 1 }]);
    n.submit(taskSpec('t1', { strategy: inGroup('pg_1') }));
    await settle();
    expect(n.work('t1').state).toBe('waiting');
    n.tasks.groupChanged('pg_1'); // still pending
    await settle();
    expect(n.work('t1').state).toBe('waiting');

    expect(n.bundles.reserve('pg_1', [0], [{ CPU: 1 }])).toBe(true);
    n.groups.set('pg_1', 'CREATED', [{ CPU: 1 }], ['node-a']);
    n.tasks.groupChanged('pg_1');
    await settle();
    expect(n.work('t1').state).toBe('running');
    expect(n.workers.all[0].tasks[0].ctx.assignedResources).toEqual({ CPU_pg_1_0: 1, bundle_pg_1_0: 0.001 });
  });

  it('fails work waiting for a group that was removed', async () => {
    const n = testNode({ resources: { CPU: 2 } });
    n.groups.set('pg_1', 'PENDING');
    n.submit(taskSpec('t1', { strategy: inGroup('pg_1') }));
    await settle();
    n.groups.set('pg_1', 'REMOVED');
    n.tasks.groupChanged('pg_1');
    const err = n.error('t1.0');
    expect(err).toBeInstanceOf(UnschedulableError);
    expect(err!.message).toBe("Task 't1' (t1) cannot run in placement group pg_1: the group is removed.");
    expect(n.queue.size).toBe(0);
  });

  it('fails a task asking for a bundle its group does not have', async () => {
    const n = testNode({ resources: { CPU: 2 } });
    n.groups.set('pg_1', 'CREATED', [{ CPU: 1 }], ['node-a']);
    n.submit(taskSpec('t1', { strategy: inGroup('pg_1', 3) }));
    await settle();
    expect(n.error('t1.0')!.message).toMatch(/asks for bundle 3 of placement group pg_1, which has 1 bundles/);
  });

  it('fails a task with a hard affinity to another node on an embedded cluster', async () => {
    const n = testNode({ resources: { CPU: 2 } });
    n.submit(taskSpec('t1', { strategy: { type: 'NODE_AFFINITY', nodeId: 'node-z', soft: false } }));
    n.submit(taskSpec('t2', { strategy: { type: 'NODE_AFFINITY', nodeId: 'node-z', soft: true } }));
    await settle();
    expect(n.error('t1.0')).toBeInstanceOf(UnschedulableError);
    expect(n.error('t1.0')!.message).toMatch(/hard affinity to node node-z, which is not in this cluster/);
    expect(n.work('t2').state).toBe('running');
  });

  it("starts an actor's creation once its group is created, or reports it dead if the group is infeasible", async () => {
    const n = testNode({ resources: { CPU: 2 } });
    const actor = (actorId: string, strategy: SchedulingStrategySpec): ActorRecord =>
      ({
        spec: {
          actorId,
          className: 'Counter',
          args: [],
          options: { resources: { CPU: 1 }, isolation: 'thread', strategy } as unknown as CompiledActorOptions,
        },
        numRestarts: 0,
      }) as unknown as ActorRecord;
    n.groups.set('pg_1', 'PENDING');
    n.groups.set('pg_2', 'PENDING');
    const w1 = n.tasks.startCreation(actor('a1', inGroup('pg_1')));
    n.tasks.startCreation(actor('a2', inGroup('pg_2')));
    await settle();
    expect(w1.state).toBe('waiting');

    n.bundles.reserve('pg_1', [0], [{ CPU: 1 }]);
    n.groups.set('pg_1', 'CREATED', [{ CPU: 1 }], ['node-a']);
    n.tasks.groupChanged('pg_1');
    await settle();
    expect(n.placedActors.map((p) => [p.work.id, p.alloc.amounts])).toEqual([['create:a1:0', { CPU: 1 }]]);
    expect(w1).toMatchObject({ state: 'running', attempts: 1 });

    n.groups.set('pg_2', 'INFEASIBLE');
    n.tasks.groupChanged('pg_2');
    expect(n.actorDeaths).toEqual([
      {
        actorId: 'a2',
        cause: "Actor 'Counter' (a2) cannot run in placement group pg_2: the group is infeasible (test).",
      },
    ]);
  });
});
