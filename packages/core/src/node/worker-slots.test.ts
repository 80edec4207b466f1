import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type RuntimeConfig } from '../config.js';
import type { TaskSpec } from '../protocol/specs.js';
import type { FnRef } from '../runtime/functions.js';
import type { NodeContext } from './context.js';
import { ObjectStore } from './object-store.js';
import { PlacementTimes } from './placement-times.js';
import { ResourcePool } from './resources.js';
import { fake, FakeWorkers, fnShort, taskSpec } from './testing-node.js';
import { newWork, transition, type CreateWork, type TaskWork } from './work.js';
import { fnFor, taskContext, WorkerSlots } from './worker-slots.js';

/** performance.now() as the slots read it (when a task was sent, to tell a long-running one). */
let nowMs = 1_000;
beforeEach(() => {
  nowMs = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
});
afterEach(() => {
  vi.restoreAllMocks();
});

interface SetupOptions {
  resources?: Record<string, number>;
  config?: Partial<RuntimeConfig>;
}

/** Worker slots over a real resource pool (4 CPUs unless told) and fake workers. */
function setup(opts: SetupOptions = {}) {
  const config = loadConfig({ pipelineDepth: 4, pipelineMaxTaskMs: 2, ...opts.config });
  const pool = new ResourcePool(opts.resources ?? { CPU: 4 });
  const ctx = {
    nodeId: 'node-a',
    jobId: 'job-1',
    namespace: 'test',
    config,
    store: new ObjectStore(1 << 20, config.inlineObjectMaxBytes, path.join(os.tmpdir(), 'ray-ts-unit-never-spills')),
    pool,
    executes: true,
    cluster: undefined,
    placementTimes: new PlacementTimes(),
    stopped: false,
    schedules: 0,
    busy() {},
    requestSchedule() {
      this.schedules++;
    },
  } satisfies NodeContext & { schedules: number };
  const workers = new FakeWorkers();
  const slots = new WorkerSlots(ctx, workers);
  /** A task's work, queued, as the scheduler holds it when it dispatches it. */
  const work = (taskId: string, over: Partial<TaskSpec> = {}): TaskWork => {
    const spec = taskSpec(taskId, over);
    const w = newWork(taskId, { kind: 'task', task: spec }, spec.args, spec.resources, spec.isolation) as TaskWork;
    transition(w, 'queued');
    return w;
  };
  /** Allocates a task's resources and runs it, as the scheduler does. */
  const start = (w: TaskWork, cuda?: string) => {
    const alloc = pool.tryAllocate(w.resources);
    if (!alloc) throw new Error(`${w.id} does not fit`);
    slots.run(w, alloc, [{ t: 'js', v: w.id }], cuda);
    return alloc;
  };
  /** Runs one task of `fn` to the end, reporting `ms` as its run time (so the slots learn its average). */
  const learn = (taskId: string, fn: FnRef, ms: number) => {
    const w = work(taskId, { fn });
    start(w);
    slots.taskDone(w.worker!, w, ms);
  };
  const cpu = () => pool.availableResources().CPU;
  return { ctx, pool, workers, slots, work, start, learn, cpu };
}

describe('worker slots: run and send', () => {
  it('runs a task on a new worker, holding its allocation until it ends', () => {
    const { slots, workers, work, start, cpu } = setup();
    const t1 = work('t1');
    start(t1);
    expect(workers.all).toHaveLength(1);
    const w = workers.all[0];
    expect(w.tasks).toEqual([
      {
        k: 'task',
        spec: t1.task,
        args: [{ t: 'js', v: 't1' }],
        ctx: { jobId: 'job-1', nodeId: 'node-a', taskId: 't1', name: 't1', assignedResources: { CPU: 1 }, gpuIds: [] },
        seq: 1,
      },
    ]);
    expect(t1).toMatchObject({ state: 'running', attempts: 1, seq: 1, ranOn: 'worker-1', sentAt: 1_000 });
    expect(t1.worker).toBe(w.handle);
    expect(cpu()).toBe(3);
    expect(slots.runs(w.handle, t1)).toBe(true);

    slots.taskDone(w.handle, t1, undefined);
    expect(cpu()).toBe(4);
    expect(t1.worker).toBeUndefined();
    expect(workers.idle).toEqual([w]);
    expect(slots.describe()).toEqual([]);
  });

  it('times how long a task waited queued before it was sent (ray_scheduler_placement_time_ms)', () => {
    const { ctx, work, start } = setup();
    const t1 = work('t1');
    t1.queuedAt = 988; // queued 12 ms before it runs (the clock reads 1000)
    start(t1);
    const h = ctx.placementTimes.task;
    expect([h.count, h.sum, h.buckets]).toEqual([1, 12, [0, 0, 1, 0, 0, 0]]);
    const t2 = work('t2'); // not timed: queued while metrics were off
    start(t2);
    expect(h.count).toBe(1);
    expect(t1.queuedAt).toBe(0); // a retry is timed from when it is queued again
  });

  it('takes a worker of the task kind, GPUs and environment from the pool', () => {
    const { slots, workers, work, start } = setup();
    const t1 = work('t1');
    start(t1);
    slots.taskDone(t1.worker!, t1, undefined);
    const p = work('p', { isolation: 'process' });
    start(p, '0,1');
    const e = work('e', { envVars: { MODE: 'x' } });
    start(e);
    const t2 = work('t2');
    start(t2);
    expect(workers.all.map((w) => [w.id, w.kind, w.cudaVisibleDevices, w.envKey !== ''])).toEqual([
      ['worker-1', 'thread', undefined, false],
      ['worker-2', 'process', '0,1', false],
      ['worker-3', 'thread', undefined, true],
    ]);
    expect(fake(t2.worker).id).toBe('worker-1'); // the idle one, reused
    expect(fake(p.worker).taskIds).toEqual(['p']);
  });

  it("numbers each worker's tasks and sends a function's code only the first time", () => {
    const { slots, workers, work, start } = setup();
    const a = work('a', { fn: fnShort });
    start(a);
    const w = a.worker!;
    const b = work('b', { fn: fnShort });
    slots.send(b, w, []);
    const c = work('c', { fn: fnShort });
    start(c); // another worker: it has not seen the code
    expect(fake(w).tasks.map((m) => [m.spec.taskId, m.seq, m.spec.fn])).toEqual([
      ['a', 1, fnShort],
      ['b', 2, { id: 'fn-short' }],
    ]);
    expect(b.task.fn).toBe(fnShort); // the spec itself keeps the code (a retry may go elsewhere)
    expect(workers.all[1].tasks.map((m) => [m.seq, m.spec.fn])).toEqual([[1, fnShort]]);
    expect(fnFor(w, fnShort)).toEqual({ id: 'fn-short' });
  });

  it('gives a task the context of its allocation and of a capturing placement group', () => {
    const { workers, work, start } = setup({ resources: { CPU: 4, GPU: 2 } });
    const strategy = {
      type: 'PLACEMENT_GROUP',
      placementGroupId: 'pg-1',
      bundleIndex: 0,
      captureChildTasks: true,
    } as const;
    start(work('g', { resources: { CPU: 1, GPU: 1 }, strategy }));
    start(work('h', { resources: { CPU: 1, GPU: 1 }, strategy: { ...strategy, captureChildTasks: false } }));
    expect(workers.all.map((w) => w.tasks[0].ctx)).toEqual([
      {
        placementGroupId: 'pg-1',
        jobId: 'job-1',
        nodeId: 'node-a',
        taskId: 'g',
        name: 'g',
        assignedResources: { CPU: 1, GPU: 1 },
        gpuIds: [0],
      },
      { jobId: 'job-1', nodeId: 'node-a', taskId: 'h', name: 'h', assignedResources: { CPU: 1, GPU: 1 }, gpuIds: [1] },
    ]);
    expect(taskContext({ jobId: 'j', nodeId: 'n' }, { id: 'x' }, 'A.m', undefined, 'actor-1')).toEqual({
      jobId: 'j',
      nodeId: 'n',
      taskId: 'x',
      actorId: 'actor-1',
      name: 'A.m',
      assignedResources: {},
      gpuIds: [],
    });
  });
});

describe('worker slots: pipelining', () => {
  it('sends a short task behind a busy worker of its shape, the least loaded one', () => {
    const { slots, work, start, learn } = setup();
    learn('l', fnShort, 1);
    const a = work('a', { fn: fnShort });
    start(a);
    const b = work('b', { fn: fnShort });
    start(b);
    const c = work('c', { fn: fnShort });
    expect(slots.pipelineTarget(c)).toBe(a.worker); // equal loads: the first
    slots.send(c, a.worker!, []);
    expect(slots.pipelineTarget(work('d', { fn: fnShort }))).toBe(b.worker);
    expect(fake(a.worker).taskIds).toEqual(['l', 'a', 'c']); // it ran l before: reused
    expect(slots.isRunningNow(a)).toBe(true);
    expect(slots.isRunningNow(c)).toBe(false);
  });

  it('learns run times as a moving average (0.8 of the old, 0.2 of the new)', () => {
    const { slots, work, start, learn } = setup();
    start(work('busy', { fn: fnShort }));
    const probe = () => slots.pipelineTarget(work('p', { fn: fnShort }));
    expect(probe()).toBeUndefined(); // never seen: maybe long
    learn('l1', fnShort, 1);
    expect(probe()).toBeDefined();
    learn('l2', fnShort, 5); // 0.8 + 1 = 1.8 <= 2 (a last-value or plain mean would say 5 or 3)
    expect(probe()).toBeDefined();
    learn('l3', fnShort, 5); // 1.44 + 1 = 2.44 > 2
    expect(probe()).toBeUndefined();
  });

  it('never queues behind a long task, another shape, a full worker, or one busy for long', () => {
    const { slots, work, start, learn } = setup({ config: { pipelineDepth: 2 } });
    learn('l', fnShort, 1);
    const fnLong: FnRef = { id: 'fn-long', desc: fnShort.desc };
    learn('ll', fnLong, 50);

    expect(slots.pipelineTarget(work('x', { fn: fnLong }))).toBeUndefined(); // long itself
    const long = work('long', { fn: fnLong });
    start(long);
    expect(slots.pipelineTarget(work('x', { fn: fnShort }))).toBeUndefined(); // only a long one runs
    const big = work('big', { fn: fnShort, resources: { CPU: 2 } });
    start(big);
    expect(slots.pipelineTarget(work('x', { fn: fnShort }))).toBeUndefined(); // another shape
    slots.taskDone(long.worker!, long, 50);
    slots.taskDone(big.worker!, big, 1);

    const a = work('a', { fn: fnShort });
    start(a);
    slots.send(work('a2', { fn: fnShort }), a.worker!, []);
    expect(slots.pipelineTarget(work('x', { fn: fnShort }))).toBeUndefined(); // full at depth 2
    const b = work('b', { fn: fnShort });
    start(b);
    expect(slots.pipelineTarget(work('x', { fn: fnShort }))).toBe(b.worker);
    nowMs += 11; // b was sent more than 5 x 2 ms ago: it may be stuck in a long run
    expect(slots.pipelineTarget(work('x', { fn: fnShort }))).toBeUndefined();
  });

  it('never pipelines with a depth of 1', () => {
    const { slots, work, start, learn } = setup({ config: { pipelineDepth: 1 } });
    learn('l', fnShort, 1);
    start(work('a', { fn: fnShort }));
    expect(slots.pipelineTarget(work('b', { fn: fnShort }))).toBeUndefined();
  });
});

describe('worker slots: tasks ending', () => {
  it('keeps the worker and its resources while pipelined tasks remain', () => {
    const { slots, workers, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    const w = a.worker!;
    const b = work('b');
    slots.send(b, w, []);
    expect(cpu()).toBe(3); // b shares a's allocation

    slots.taskDone(w, a, 1);
    expect(cpu()).toBe(3);
    expect(workers.idle).toEqual([]);
    expect(slots.isRunningNow(b)).toBe(true);
    expect(slots.isRunningNow(a)).toBe(false);

    slots.taskDone(w, b, 1);
    expect(cpu()).toBe(4);
    expect(workers.idle).toEqual([fake(w)]);
  });

  it("hands the slot's allocation back once every task left holds its own", () => {
    const { slots, workers, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    const w = a.worker!;
    const token = slots.block(a); // a waits in get: its CPU is lent out
    expect(cpu()).toBe(4);
    const c = work('c');
    start(c); // runs on a's thread, which is free meanwhile, with an allocation of its own
    expect(c.worker).toBe(w);
    expect(workers.all).toHaveLength(1);
    expect(fake(w).tasks[1].ctx.assignedResources).toEqual({ CPU: 1 });
    expect(cpu()).toBe(3);
    slots.unblock(token);
    expect(cpu()).toBe(2);

    slots.taskDone(w, a, 1);
    expect(cpu()).toBe(3); // the slot's allocation went back; c keeps its own
    expect(workers.idle).toEqual([]);
    expect(slots.describe()).toEqual([
      {
        worker: 'worker-1',
        shape: a.shapeKey,
        blocked: 0,
        cpuReleased: false,
        works: [{ name: 'c', blocked: 0, ownAlloc: true }],
      },
    ]);
    slots.taskDone(w, c, 1);
    expect(cpu()).toBe(4);
    expect(workers.idle).toEqual([fake(w)]);
  });

  it('tells whether a done message is for the task a worker runs', () => {
    const { slots, work, start } = setup();
    const a = work('a');
    start(a);
    const b = work('b');
    start(b);
    expect(slots.runs(a.worker!, a)).toBe(true);
    expect(slots.runs(b.worker!, a)).toBe(false);
    expect(slots.runs(a.worker!, undefined)).toBe(false);
    const create = { ...a, kind: 'create' } as unknown as CreateWork;
    expect(slots.runs(a.worker!, create)).toBe(false);
  });
});

describe('worker slots: blocking in get', () => {
  it('lends the CPU of a task with its own allocation once, and takes it back after the last unblock', () => {
    const { ctx, slots, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    slots.block(a);
    const c = work('c');
    start(c); // on a's thread, own allocation
    const t1 = slots.block(c);
    const t2 = slots.block(c);
    expect(t1).toBe(c);
    expect(cpu()).toBe(4);
    expect(ctx.schedules).toBe(2); // one for a, one for c
    slots.unblock(t1);
    expect(cpu()).toBe(4);
    slots.unblock(t2);
    expect(cpu()).toBe(3);
    slots.unblock(t2); // one too many: nothing more is taken
    expect(cpu()).toBe(3);
  });

  it("lends a slot's CPU once for all its tasks that wait", () => {
    const { ctx, slots, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    const b = work('b');
    slots.send(b, a.worker!, []);
    const ta = slots.block(a);
    const tb = slots.block(b);
    expect(cpu()).toBe(4);
    expect(ctx.schedules).toBe(1);
    expect(slots.describe()).toMatchObject([{ blocked: 2, cpuReleased: true }]);
    slots.unblock(ta);
    expect(cpu()).toBe(4);
    slots.unblock(tb);
    expect(cpu()).toBe(3);
    expect(slots.describe()).toMatchObject([{ blocked: 0, cpuReleased: false }]);
  });

  it('lends only the CPU, never the GPUs', () => {
    const { pool, slots, work, start } = setup({ resources: { CPU: 2, GPU: 1 } });
    const g = work('g', { resources: { CPU: 1, GPU: 1 } });
    start(g);
    slots.block(g);
    expect(pool.availableResources()).toEqual({ CPU: 2, GPU: 0 });
    slots.taskDone(g.worker!, g, 1);
    expect(pool.availableResources()).toEqual({ CPU: 2, GPU: 1 });
  });

  it('ignores what is not a task on a worker', () => {
    const { slots, work, cpu } = setup();
    const idle = work('idle');
    expect(slots.block(undefined)).toBeUndefined();
    expect(slots.block(idle)).toBeUndefined();
    expect(slots.block({ ...idle, kind: 'create' } as unknown as CreateWork)).toBeUndefined();
    slots.unblock(undefined);
    expect(cpu()).toBe(4);
  });

  it('gives back only what a task still holds when it ends while blocked, and ignores its late unblock', () => {
    const { slots, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    slots.block(a);
    const c = work('c');
    start(c);
    const tc = slots.block(c);
    expect(cpu()).toBe(4);
    slots.taskDone(c.worker!, c, 1);
    expect(cpu()).toBe(4);
    slots.unblock(tc);
    expect(cpu()).toBe(4);
  });
});

describe('worker slots: hosting on a thread that waits', () => {
  it('runs a thread task of the same shape on a worker whose tasks all wait', () => {
    const { slots, workers, work, start } = setup({ resources: { CPU: 8 } });
    const a = work('a');
    start(a);
    const w = a.worker!;
    start(work('before')); // a runs: a new worker
    slots.block(a);
    const p = work('p', { isolation: 'process' });
    start(p);
    const big = work('big', { resources: { CPU: 2 } });
    start(big);
    const c = work('c');
    start(c);
    expect(p.worker).not.toBe(w);
    expect(big.worker).not.toBe(w);
    expect(c.worker).toBe(w);
    expect(fake(w).taskIds).toEqual(['a', 'c']);
    expect(workers.all).toHaveLength(4);

    slots.block(p); // a process is never a host, even when its task waits
    const p2 = work('p2', { isolation: 'process' });
    start(p2);
    expect(p2.worker).not.toBe(p.worker);
  });

  it('hosts at most four times the pipeline depth there', () => {
    const { slots, work, start } = setup({ config: { pipelineDepth: 1 }, resources: { CPU: 8 } });
    const a = work('a');
    start(a);
    slots.block(a);
    const more = ['b', 'c', 'd', 'e'].map((id) => work(id));
    for (const x of more) start(x);
    expect(more.map((x) => x.worker === a.worker)).toEqual([true, true, true, false]);
  });

  it('hosts on a worker whose tasks all hold their own allocations once they all wait', () => {
    const { slots, work, start } = setup();
    const a = work('a');
    start(a);
    const w = a.worker!;
    const ta = slots.block(a);
    const c = work('c');
    start(c);
    slots.unblock(ta);
    slots.taskDone(w, a, 1); // only c is left, with its own allocation
    const d = work('d');
    start(d);
    expect(d.worker).not.toBe(w); // c runs
    slots.block(c);
    const e = work('e');
    start(e);
    expect(e.worker).toBe(w);
  });
});

describe('worker slots: a worker exits', () => {
  it("names the task in the thread's status word, and gives back every allocation", () => {
    const { slots, workers, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    const w = a.worker!;
    const b = work('b');
    slots.send(b, w, []);
    slots.block(a);
    const c = work('c');
    start(c);
    slots.block(c);
    expect(cpu()).toBe(4);
    fake(w).status = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(fake(w).status!, 0, b.seq);

    const exited = slots.workerExited(w);
    expect(exited?.culprit).toBe(b);
    expect(exited?.works).toEqual([a, b, c]);
    expect([a, b, c].map((x) => [x.worker, x.alloc, x.blocked])).toEqual([
      [undefined, undefined, 0],
      [undefined, undefined, 0],
      [undefined, undefined, 0],
    ]);
    expect(cpu()).toBe(4);
    expect(workers.idle).toEqual([]); // a dead worker is not reused
    expect(slots.describe()).toEqual([]);
    expect(slots.workerExited(w)).toBeUndefined();
  });

  it('names the first task without a status word, or when the word names none of them', () => {
    const { slots, work, start } = setup();
    const a = work('a');
    start(a);
    slots.send(work('b'), a.worker!, []);
    expect(slots.workerExited(a.worker!)?.culprit).toBe(a);

    const c = work('c');
    start(c);
    slots.send(work('d'), c.worker!, []);
    fake(c.worker).status = new Int32Array(new SharedArrayBuffer(4)); // 0: between tasks
    expect(slots.workerExited(c.worker!)?.culprit).toBe(c);
  });

  it("ignores a late unblock of the dead worker's slot", () => {
    const { slots, work, start, cpu } = setup();
    const a = work('a');
    start(a);
    const token = slots.block(a);
    slots.workerExited(a.worker!);
    expect(cpu()).toBe(4);
    slots.unblock(token);
    expect(cpu()).toBe(4);
  });
});
