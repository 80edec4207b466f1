import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ObjectRef,
  TaskCancelledError,
  TaskError,
  UnschedulableError,
  WorkerCrashedError,
  cancel,
  get,
  init,
  put,
  remote,
  shutdown,
  wait,
  GetTimeoutError,
  NotInitializedError,
} from '@ray-ts/core';
import { nodeDebugState, waitFor } from '@ray-ts/core/testing';
import * as f from './fixtures/tasks.js';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'tasks-test' });
});
afterAll(async () => {
  await shutdown();
});

suite('tasks', () => {
  it('runs a task and returns a typed ref', async () => {
    const ref = f.square.remote(7);
    expect(ref).toBeInstanceOf(ObjectRef);
    expect(await get(ref)).toBe(49);
    expect(await get([f.square.remote(2), f.add.remote(2, 3)])).toEqual([4, 5]);
  });

  it('keeps refs from being thenables, so awaiting one gives the ref back', async () => {
    const ref = f.square.remote(3);
    expect(await ref).toBe(ref);
    expect('then' in ref).toBe(false);
    expect(String(ref)).toMatch(/^ObjectRef\(task_.*\.0\)$/);
  });

  it('resolves top-level ref arguments to values before the task runs', async () => {
    const a = f.square.remote(3);
    const b = put(4);
    expect(await get(f.add.remote(a, b))).toBe(13);
    expect(await get(f.describe.remote(put([1, 2])))).toEqual({ isRef: false, type: '[object Array]' });
  });

  it('passes refs nested in objects or arrays as refs', async () => {
    const inner = [put(1), f.square.remote(3)];
    expect(await get(f.nestedRefs.remote({ inner }))).toEqual({ allRefs: true, sum: 10 });
  });

  it('lets tasks submit tasks and return refs', async () => {
    expect(await get(f.fanOut.remote(10))).toBe(285);
    const refOfRef = await get(f.makeRef.remote(5));
    expect(refOfRef).toBeInstanceOf(ObjectRef);
    expect(await get(refOfRef)).toBe(50);
    expect(await get(await get(f.returnSquareRef.remote(6)))).toBe(36);
  });

  it('returns one ref per value with numReturns', async () => {
    const [a, b, c] = f.threeValues.remote(1);
    expect(await get([a, b, c])).toEqual([1, 2, 3]);
    const refs = f.add.options({ numReturns: 1 }).remote(1, 1);
    expect(await get(refs)).toBe(2);
    await expect(get(f.wrongCount.remote()[0])).rejects.toThrow(/numReturns: 3 but returned an array of 2/);
  });

  it('reports a failed task as TaskError with the remote stack and the original error as cause', async () => {
    const err = await get(f.throwsType.remote('no good')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    const te = err as TaskError;
    expect(te.cause).toBeInstanceOf(TypeError);
    expect((te.cause as TypeError & { code: string }).code).toBe('E_BAD');
    expect(te.message).toContain('no good');
    expect(te.remoteStack).toContain('fixtures/tasks.ts');
    expect(te.taskId).toMatch(/^task_/);
  });

  it('moves large typed arrays through shared memory', async () => {
    const xs = new Float64Array(1_000_000).fill(2);
    expect(await get(f.sumArray.remote(xs))).toBe(2_000_000);
    const out = await get(f.bigArray.remote(200_000));
    expect(out).toBeInstanceOf(Float64Array);
    expect(out.length).toBe(200_000);
    expect(out[199_999]).toBe(1.5);
  });

  it('fails fast, naming the missing resource, when no node can run a task', async () => {
    const err = await get(f.square.options({ numCpus: 64 }).remote(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnschedulableError);
    expect((err as Error).message).toMatch(/needs 64 CPU and the largest node has 2 CPU/);
    const err2 = await get(f.square.options({ resources: { tpu: 1 } }).remote(1)).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/needs 1 tpu and the largest node has no tpu/);
  });

  it('rejects bad options at the call with a clear message', () => {
    expect(() => f.square.options({ numCpus: -1 })).toThrow(InvalidArgumentError);
    expect(() => f.square.options({ numCpus: -1 })).toThrow(/numCpus .*-1.*>= 0/);
    expect(() => f.square.options({ numCpu: 1 } as never)).toThrow(/Unknown option 'numCpu'.*Did you mean 'numCpus'/);
    expect(() => f.square.options({ numGpus: 1.5 })).toThrow(/Fractions are allowed below 1 only/);
    expect(() => f.square.options({ isolation: 'vm' as never })).toThrow(/'thread' or 'process'/);
    expect(() => remote(42 as never)).toThrow(/takes a function or a class/);
  });

  it('rejects get of things that are not refs', async () => {
    await expect(get(Promise.resolve(1) as never)).rejects.toThrow(/a Promise/);
    await expect(get([f.square.remote(1), 3] as never)).rejects.toThrow(/at index 1/);
  });

  it('times out a get with GetTimeoutError', async () => {
    const ref = f.sleep.remote(2000);
    const err = await get(ref, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GetTimeoutError);
    await cancel(ref, { force: true });
  });

  it('waits for the first ready refs', async () => {
    const slow = f.sleep.remote(600_000, 'slow'); // cancelled below: never ready while the test looks
    const fast = f.sleep.remote(10, 'fast');
    const { ready, notReady } = await wait([slow, fast], { numReturns: 1 });
    expect(ready).toEqual([fast]);
    expect(notReady).toEqual([slow]);
    const none = await wait([slow], { numReturns: 1, timeoutMs: 20 });
    expect(none.ready).toEqual([]);
    await expect(wait([slow, slow])).rejects.toThrow(/unique/);
    await expect(wait([slow], { numReturns: 2 })).rejects.toThrow(/numReturns/);
    expect(await get(f.waitFirst.remote([fast, slow]))).toBe(1);
    await cancel(slow, { force: true });
  });

  it('cancels a queued task, a cooperative running task, and a busy loop with force', async () => {
    const busy = f.busyLoop.remote();
    const busy2 = f.busyLoop.remote();
    const queued = f.square.remote(5);
    await cancel(queued);
    await expect(get(queued)).rejects.toBeInstanceOf(TaskCancelledError);
    await cancel(busy, { force: true });
    await cancel(busy2, { force: true });
    await expect(get(busy)).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(get(busy2)).rejects.toBeInstanceOf(TaskCancelledError);
    const coop = f.waitForCancel.remote();
    await new Promise((r) => setTimeout(r, 100));
    await cancel(coop);
    await expect(get(coop)).rejects.toBeInstanceOf(TaskCancelledError);
    // The cluster still works after workers were stopped.
    expect(await get(f.square.remote(9))).toBe(81);
  });

  it('cancels the tasks a cancelled task submitted (recursive, the default)', async () => {
    const name = `rec-${Date.now()}`;
    const counter = f.RemoteCounter.options({ name }).remote(0);
    await get(counter.value.remote());
    const before = nodeDebugState().works;
    const parent = f.parentOfIncrementer.remote(name, 400);
    await waitFor(() => nodeDebugState().works >= before + 2, { what: 'the parent to submit its child' });
    await cancel(parent, { force: true });
    await expect(get(parent)).rejects.toBeInstanceOf(TaskCancelledError);
    // Long enough for a child that was not cancelled to run again on a new worker and count.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await get(counter.value.remote())).toBe(0);
  });

  it('retries a task on exceptions with retryExceptions', async () => {
    const name = `flaky-${Date.now()}`;
    f.RemoteCounter.options({ name }).remote(0);
    const ok = f.flaky.options({ maxRetries: 3, retryExceptions: true }).remote(name, 3);
    expect(await get(ok)).toBe(3);
    const name2 = `flaky2-${Date.now()}`;
    f.RemoteCounter.options({ name: name2 }).remote(0);
    const notRetried = f.flaky.options({ maxRetries: 3, retryExceptions: ['TypeError'] }).remote(name2, 3);
    await expect(get(notRetried)).rejects.toThrow(/attempt 1 failed/);
    const name3 = `flaky3-${Date.now()}`;
    f.RemoteCounter.options({ name: name3 }).remote(0);
    const exhausted = f.flaky.options({ maxRetries: 1, retryExceptions: [RangeError] }).remote(name3, 5);
    await expect(get(exhausted)).rejects.toThrow(/attempt 2 failed/);
  });

  it('contains a worker process that segfaults to its task', async () => {
    const crash = f.segfault.options({ isolation: 'process', maxRetries: 0 }).remote();
    const fine = f.square.options({ isolation: 'process' }).remote(7);
    await expect(get(crash)).rejects.toThrow(/SIGSEGV/);
    await expect(get(crash)).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await get(fine)).toBe(49);
    expect(await get(f.square.remote(8))).toBe(64);
  });

  it('starts process workers with huge pages advised for large buffers', async () => {
    const inProcess = await get(f.glibcTunables.options({ isolation: 'process' }).remote());
    if (process.platform === 'linux') expect(inProcess).toMatch(/(^|:)glibc\.malloc\.hugetlb=1($|:)/);
  });

  it('retries a task whose worker dies, then reports WorkerCrashedError', async () => {
    const name = `crashy-${Date.now()}`;
    f.RemoteCounter.options({ name }).remote(0);
    expect(await get(f.crashy.options({ maxRetries: 2 }).remote(name, 2))).toBe(2);
    const err = await get(f.exitWorker.options({ maxRetries: 1 }).remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect((err as Error).message).toMatch(/died while running it \(exit code 3\).*Raise maxRetries/);
  });

  it('exposes the runtime context inside a task', async () => {
    const c = await get(f.context.remote());
    expect(c.taskId).toMatch(/^task_/);
    expect(c.actorId).toBeUndefined();
    expect(c.isWorker).toBe(true);
    expect(c.resources).toEqual({ CPU: 1 });
  });
});

suite('without init', () => {
  it('fails gets that are waiting when shutdown() stops the cluster, instead of hanging', async () => {
    const pending = get(f.sleep.remote(5000));
    await new Promise((r) => setTimeout(r, 50));
    await shutdown();
    await expect(pending).rejects.toThrow(/shutdown\(\) stopped the cluster/);
    await init({ numCpus: 2 });
  });

  it('says to call init first', async () => {
    await shutdown();
    expect(() => f.square.remote(1)).toThrow(NotInitializedError);
    expect(() => put(1)).toThrow(/call 'await init\(\)' first/);
    await init({ numCpus: 2 });
    await expect(init()).rejects.toThrow(/called twice/);
  });
});
