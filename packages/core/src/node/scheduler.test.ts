import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ObjectLostError, UnschedulableError } from '../errors.js';
import type { FnRef } from '../runtime/functions.js';
import { settle } from '../testing-clock.js';
import { fakeCluster, fnLong, fnShort, ok, taskSpec, testNode } from './testing-node.js';

/** performance.now() as the worker slots read it (when a task was sent, to tell a long-running one). */
let nowMs = 1_000;
beforeEach(() => {
  nowMs = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs one task of `fn` to the end on `n`, reporting `ms` as its run time (so the slots learn the function's average). */
async function learn(n: ReturnType<typeof testNode>, taskId: string, fn: FnRef, ms: number): Promise<void> {
  n.submit(taskSpec(taskId, { fn }));
  await settle();
  n.finish(taskId, ok(0), ms);
}

describe('scheduler: dispatch', () => {
  it('sends a task to a worker when its resources fit, holding them until it ends', async () => {
    const n = testNode({ resources: { CPU: 2 } });
    n.submit(taskSpec('t1', { args: [{ v: { t: 'js', v: 5 } }] }));
    n.submit(taskSpec('t2'));
    expect(n.work('t1').state).toBe('queued'); // the scheduler runs in a microtask
    await settle();
    expect(n.workers.all.map((w) => w.taskIds)).toEqual([['t1'], ['t2']]);
    const msg = n.workers.all[0].tasks[0];
    expect(msg.args).toEqual([{ t: 'js', v: 5 }]);
    expect(msg.seq).toBe(1);
    expect(msg.ctx).toMatchObject({ taskId: 't1', nodeId: 'node-a', jobId: 'job-1', assignedResources: { CPU: 1 } });
    expect(n.work('t1')).toMatchObject({ state: 'running', attempts: 1 });
    expect(n.pool.availableResources().CPU).toBe(0);
    expect(n.ctx.busyCount).toBe(2);

    n.finish('t1', ok(42), 1);
    expect(n.value('t1.0')).toEqual({ t: 'js', v: 42 });
    expect(n.queue.has('t1')).toBe(false);
    expect(n.pool.availableResources().CPU).toBe(1);
    expect(n.workers.idle).toEqual([n.workers.all[0]]);
    expect(n.ctx.busyCount).toBe(1);
  });

  it('sends a function by id to a worker that has loaded it', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1', { fn: fnShort }));
    await settle();
    n.finish('t1');
    n.submit(taskSpec('t2', { fn: fnShort }));
    await settle();
    const [first, second] = n.workers.all[0].tasks;
    expect(n.workers.all).toHaveLength(1);
    expect(first.spec.fn).toEqual(fnShort);
    expect(second.spec.fn).toEqual({ id: 'fn-short' });
  });

  it('stops a shape at the first work that does not fit, while another shape still runs', async () => {
    const n = testNode({ resources: { CPU: 2, acc: 1 } });
    await learn(n, 't0', fnShort, 1);
    n.submit(taskSpec('a1', { fn: fnShort }));
    n.submit(taskSpec('a2', { fn: fnShort }));
    n.submit(taskSpec('a3'));
    // Short and known: it could be pipelined behind a1, but it waits behind a3, which cannot run yet.
    n.submit(taskSpec('a4', { fn: fnShort }));
    n.submit(taskSpec('b1', { resources: { acc: 1 } }));
    await settle();
    const running = n.workers.all.flatMap((w) => w.taskIds).filter((id) => id !== 't0');
    expect(running.sort()).toEqual(['a1', 'a2', 'b1']);
    expect(n.work('a3').state).toBe('queued');
    expect(n.work('a4').state).toBe('queued');
    expect(n.queue.load()).toEqual([{ shape: { CPU: 1 }, count: 2 }]);

    n.finish('a2');
    await settle();
    expect(n.work('a3').state).toBe('running');
    // Past a3 now, a4 goes behind a1 (short and busy).
    expect(n.work('a4').state).toBe('running');
    expect(n.work('a4').worker).toBe(n.work('a1').worker);
  });

  it('waits for its ObjectRef arguments, then runs with their values', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.store.createPending('x');
    n.store.addHolder('x');
    n.store.put('y', { t: 'js', v: 'ready' });
    n.store.addHolder('y');
    n.submit(taskSpec('t1', { args: [{ r: 'x' }, { r: 'y' }] }));
    await settle();
    expect(n.work('t1')).toMatchObject({ state: 'waiting', depsLeft: 1 });
    expect(n.workers.all).toHaveLength(0);
    n.store.put('x', { t: 'js', v: 'late' });
    await settle();
    expect(n.workers.all[0].tasks[0].args).toEqual([
      { t: 'js', v: 'late' },
      { t: 'js', v: 'ready' },
    ]);
  });

  it('fails a task whose argument is lost with ObjectLostError, giving its resources back', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1', { args: [{ r: 'gone' }] }));
    await settle();
    expect(n.error('t1.0')).toBeInstanceOf(ObjectLostError);
    expect(n.error('t1.0')!.message).toMatch(/Object gone, argument 1, is lost/);
    expect(n.workers.all).toHaveLength(0);
    expect(n.pool.availableResources().CPU).toBe(1);
  });

  it('fails a task whose argument holds an error with that error', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.store.put('bad', { t: 'err', e: { name: 'TypeError', message: 'upstream', stack: '', props: {} } });
    n.store.addHolder('bad');
    n.submit(taskSpec('t1', { args: [{ r: 'bad' }] }));
    await settle();
    expect(n.error('t1.0')).toBeInstanceOf(TypeError);
    expect(n.error('t1.0')!.message).toBe('upstream');
  });
});

describe('scheduler: pipelining', () => {
  it('sends a short task to a busy worker of its shape once its average run time is known', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('s0', { fn: fnShort }));
    n.submit(taskSpec('s1', { fn: fnShort }));
    await settle();
    // Its run time is unknown yet: it waits.
    expect(n.work('s1').state).toBe('queued');
    n.finish('s0', ok(0), 1);
    await settle();
    n.submit(taskSpec('s2', { fn: fnShort }));
    n.submit(taskSpec('s3', { fn: fnShort }));
    await settle();
    const w = n.workers.all[0];
    expect(n.workers.all).toHaveLength(1);
    expect(w.taskIds).toEqual(['s0', 's1', 's2', 's3']);
    expect(w.tasks.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(n.pool.availableResources().CPU).toBe(0);

    // They share s1's resources: the CPU comes back when the last one ends.
    n.finish('s1', ok(1), 1);
    n.finish('s2', ok(2), 1);
    expect(n.pool.availableResources().CPU).toBe(0);
    n.finish('s3', ok(3), 1);
    expect(n.pool.availableResources().CPU).toBe(1);
    expect(n.value('s3.0')).toEqual({ t: 'js', v: 3 });
  });

  it('never queues behind a task known to be long', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    await learn(n, 's0', fnShort, 1);
    await learn(n, 'l0', fnLong, 50);
    n.submit(taskSpec('l1', { fn: fnLong }));
    n.submit(taskSpec('s1', { fn: fnShort }));
    await settle();
    expect(n.work('l1').state).toBe('running');
    expect(n.work('s1').state).toBe('queued');
    n.finish('l1', ok(1), 50);
    await settle();
    expect(n.work('s1').state).toBe('running');
  });

  it('never queues behind a task running long now', async () => {
    const n = testNode({ resources: { CPU: 1 }, config: { pipelineMaxTaskMs: 2 } });
    await learn(n, 's0', fnShort, 1);
    n.submit(taskSpec('s1', { fn: fnShort }));
    await settle();
    nowMs += 11; // past 5 x pipelineMaxTaskMs
    n.submit(taskSpec('s2', { fn: fnShort }));
    await settle();
    expect(n.work('s2').state).toBe('queued');
  });

  it('sends no more than pipelineDepth tasks to one worker', async () => {
    const n = testNode({ resources: { CPU: 1 }, config: { pipelineDepth: 2 } });
    await learn(n, 's0', fnShort, 1);
    for (const id of ['s1', 's2', 's3']) n.submit(taskSpec(id, { fn: fnShort }));
    await settle();
    expect(n.workers.all[0].taskIds).toEqual(['s0', 's1', 's2']);
    expect(n.work('s3').state).toBe('queued');
  });

  it('is off with pipelineDepth 1', async () => {
    const n = testNode({ resources: { CPU: 1 }, config: { pipelineDepth: 1 } });
    await learn(n, 's0', fnShort, 1);
    n.submit(taskSpec('s1', { fn: fnShort }));
    n.submit(taskSpec('s2', { fn: fnShort }));
    await settle();
    expect(n.work('s1').state).toBe('running');
    expect(n.work('s2').state).toBe('queued');
  });
});

describe('scheduler: blocked tasks', () => {
  it('lends the CPU of a task waiting in get, so queued work runs, and takes it back after', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1'));
    await settle();
    n.submit(taskSpec('t2'));
    n.submit(taskSpec('t3'));
    await settle();
    expect(n.work('t2').state).toBe('queued');

    const token = n.slots.block(n.work('t1'));
    expect(n.pool.availableResources().CPU).toBe(1);
    await settle();
    // t2 runs on t1's thread, which is free while t1 waits; t3 still has no CPU.
    expect(n.workers.all).toHaveLength(1);
    expect(n.workers.all[0].taskIds).toEqual(['t1', 't2']);
    expect(n.work('t2').alloc).toBeDefined();
    expect(n.work('t3').state).toBe('queued');

    n.slots.unblock(token);
    expect(n.pool.fits({ CPU: 1 })).toBe(false);
    n.finish('t2');
    await settle();
    expect(n.work('t3').state).toBe('queued'); // t1 holds its CPU again
    n.finish('t1');
    await settle();
    expect(n.work('t3').state).toBe('running');
    n.finish('t3');
    expect(n.pool.availableResources().CPU).toBe(1);
  });

  it('a task sent with resources of its own lends them when it waits too', async () => {
    const n = testNode({ resources: { CPU: 1 } });
    n.submit(taskSpec('t1'));
    await settle();
    const t1 = n.slots.block(n.work('t1'));
    n.submit(taskSpec('t2'));
    n.submit(taskSpec('t3', { isolation: 'process' }));
    await settle();
    expect(n.work('t3').state).toBe('queued');
    const t2 = n.slots.block(n.work('t2'));
    await settle();
    // t3 runs with t2's CPU (a process worker of its own).
    expect(n.workers.all.map((w) => [w.kind, w.taskIds])).toEqual([
      ['thread', ['t1', 't2']],
      ['process', ['t3']],
    ]);
    n.finish('t3');
    n.slots.unblock(t2);
    n.slots.unblock(t1);
    expect(n.pool.fits({ CPU: 1 })).toBe(false);
    n.finish('t2');
    n.finish('t1');
    expect(n.pool.availableResources().CPU).toBe(1);
  });
});

describe('scheduler: multi-node', () => {
  it('forwards a task the placer sends to another node, and stores the result that comes back', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = () => ({ kind: 'node', nodeId: 'node-b' });
    n.submit(taskSpec('t1'));
    await settle();
    expect(cluster.placer.placed).toEqual([{ resources: { CPU: 1 }, strategy: undefined, localFits: true }]);
    expect(cluster.peers.forwarded).toEqual([{ nodeId: 'node-b', taskId: 't1', noSpill: false }]);
    expect(n.work('t1')).toMatchObject({ state: 'running', remote: 'node-b', attempts: 1 });
    expect(n.workers.all).toHaveLength(0);
    expect(n.pool.availableResources().CPU).toBe(1);

    expect(n.tasks.remoteDone('t1', [{ t: 'js', v: 7 }], 3)).toBe(true);
    expect(n.value('t1.0')).toEqual({ t: 'js', v: 7 });
    expect(n.tasks.remoteDone('t1', [{ t: 'js', v: 8 }], 3)).toBe(false);
  });

  it('tells the placer when this node has no room, and runs here when it says so', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    n.submit(taskSpec('t1'));
    n.submit(taskSpec('t2'));
    await settle();
    expect(n.work('t1').state).toBe('running');
    expect(cluster.placer.placed.map((p) => p.localFits)).toEqual([true, false]);
    expect(n.work('t2').state).toBe('queued');
  });

  it("stops a shape when the placer says 'wait', and goes on at the next pass", async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = (r) =>
      r.GPU ? { kind: 'node', nodeId: 'node-g' } : { kind: 'wait', reason: 'for a node the autoscaler may start' };
    n.submit(taskSpec('a1'));
    n.submit(taskSpec('a2'));
    n.submit(taskSpec('g1', { resources: { CPU: 1, GPU: 1 } }));
    await settle();
    // a2 was not even placed: its shape stopped at a1.
    expect(cluster.placer.placed.map((p) => p.resources)).toEqual([{ CPU: 1 }, { CPU: 1, GPU: 1 }]);
    expect(cluster.peers.forwarded.map((f) => f.taskId)).toEqual(['g1']);
    expect(n.queue.load()).toEqual([{ shape: { CPU: 1 }, count: 2 }]);

    cluster.placer.answer = () => ({ kind: 'here' });
    n.ctx.requestSchedule(); // as a new view does
    await settle();
    expect(n.work('a1').state).toBe('running');
    expect(n.work('a2').state).toBe('queued');
  });

  it('fails a task the placer finds infeasible with UnschedulableError', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    cluster.placer.answer = () => ({ kind: 'infeasible', reason: 'Hard node affinity to node node-x, which is dead.' });
    n.submit(taskSpec('t1'));
    n.submit(taskSpec('t2'));
    await settle();
    for (const id of ['t1.0', 't2.0']) {
      const err = n.error(id);
      expect(err).toBeInstanceOf(UnschedulableError);
      expect(err!.message).toBe('Hard node affinity to node node-x, which is dead.');
    }
    expect((n.error('t1.0') as UnschedulableError).taskId).toBe('t1');
    expect(n.queue.size).toBe(0);
    expect(n.ctx.busyCount).toBe(0);
  });

  it('spills forwarded work back to its owner when another node has room', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, nodeId: 'node-b', resources: { CPU: 1 } });
    n.tasks.executeForwarded(taskSpec('f1'), 'node-a', false);
    n.tasks.executeForwarded(taskSpec('f2'), 'node-a', false);
    await settle();
    expect(n.work('f1').state).toBe('running');
    expect(n.work('f2').state).toBe('queued');
    expect(cluster.placer.spillAsks).toEqual([{ resources: { CPU: 1 }, except: 'node-b' }]);

    cluster.placer.spillTo = 'node-c';
    n.ctx.requestSchedule();
    await settle();
    expect(cluster.peers.spilledBack).toEqual([{ origin: 'node-a', taskId: 'f2', nodeId: 'node-c' }]);
    expect(n.queue.has('f2')).toBe(false);
    expect(n.ctx.busyCount).toBe(1);
    // Forwarded work is never placed again here.
    expect(cluster.placer.placed).toEqual([]);

    n.finish('f1', ok('one'));
    expect(cluster.peers.done).toEqual([{ origin: 'node-a', taskId: 'f1', results: [{ t: 'js', v: 'one' }] }]);
  });

  it('never spills work sent with noSpill (or pinned to a node or group)', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, nodeId: 'node-b', resources: { CPU: 1 } });
    cluster.placer.spillTo = 'node-c';
    n.tasks.executeForwarded(taskSpec('f1'), 'node-a', false);
    n.tasks.executeForwarded(taskSpec('f2'), 'node-a', true);
    n.tasks.executeForwarded(
      taskSpec('f3', { strategy: { type: 'NODE_AFFINITY', nodeId: 'node-b', soft: true } }),
      'node-a',
      false,
    );
    await settle();
    expect(n.work('f2')).toMatchObject({ state: 'queued', noSpill: true });
    expect(n.work('f3')).toMatchObject({ state: 'queued', noSpill: true });
    expect(cluster.peers.spilledBack).toEqual([]);
    expect(cluster.placer.spillAsks).toEqual([]);
  });

  it('pulls arguments held on other nodes before it runs the task', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    n.store.createPending('x');
    n.store.addHolder('x');
    n.store.putRemote('x', 'node-b', 100);
    n.store.put('y', { t: 'js', v: 'here' });
    n.store.addHolder('y');
    n.submit(taskSpec('t1', { args: [{ r: 'x' }, { r: 'y' }] }));
    await settle();
    expect(cluster.peers.pulls.map((p) => p.ids)).toEqual([['x']]);
    expect(n.work('t1').state).toBe('waiting');
    expect(n.workers.all).toHaveLength(0);
    expect(n.pool.availableResources().CPU).toBe(1);

    n.store.fillPulled('x', { t: 'js', v: 'pulled' });
    cluster.peers.pulls[0].resolve();
    await settle();
    expect(n.work('t1').state).toBe('running');
    expect(n.workers.all[0].tasks[0].args).toEqual([
      { t: 'js', v: 'pulled' },
      { t: 'js', v: 'here' },
    ]);
    expect(cluster.peers.pulls).toHaveLength(1);
  });

  it('fails the task when a pull of its argument fails', async () => {
    const cluster = fakeCluster();
    const n = testNode({ cluster, resources: { CPU: 1 } });
    n.store.createPending('x');
    n.store.addHolder('x');
    n.store.putRemote('x', 'node-b', 100);
    n.submit(taskSpec('t1', { args: [{ r: 'x' }] }));
    await settle();
    cluster.peers.pulls[0].reject(new ObjectLostError('Object x is lost: its node died.', { objectId: 'x' }));
    await settle();
    expect(n.error('t1.0')).toBeInstanceOf(ObjectLostError);
    expect(n.error('t1.0')!.message).toBe('Object x is lost: its node died.');
    expect(n.workers.all).toHaveLength(0);
  });
});
