import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import {
  availableResources,
  clusterResources,
  get,
  getGpuIds,
  getRuntimeContext,
  init,
  nodes,
  shutdown,
  kill,
  wait,
} from '@ray-ts/core';
import * as f from './fixtures/tasks.js';

beforeAll(async () => {
  await init({ numCpus: 2, numGpus: 4, resources: { accelerator: 2 } });
});
afterAll(async () => {
  await shutdown();
});

suite('resources', () => {
  it('reports cluster and available resources and nodes', async () => {
    expect(await clusterResources()).toEqual({ CPU: 2, GPU: 4, accelerator: 2 });
    expect(await availableResources()).toMatchObject({ GPU: 4, accelerator: 2 });
    const ns = await nodes();
    expect(ns).toHaveLength(1);
    expect(ns[0]).toMatchObject({ alive: true, isHead: true, resources: { CPU: 2, GPU: 4, accelerator: 2 } });
    expect(getGpuIds()).toEqual([]);
    expect(getRuntimeContext().taskId).toBeUndefined();
  });

  it('runs GPU tasks in processes with CUDA_VISIBLE_DEVICES set to exactly their GPUs', async () => {
    const two = await get(f.gpuInfo.options({ numGpus: 2 }).remote());
    expect(two.pid).not.toBe(process.pid);
    expect(two.gpuIds).toHaveLength(2);
    expect(two.cuda).toBe(two.gpuIds.join(','));
    // Four one-GPU tasks at once get four different devices.
    const refs = Array.from({ length: 4 }, () => f.gpuInfo.options({ numGpus: 1 }).remote());
    const infos = await get(refs);
    for (const i of infos) expect(i.cuda).toBe(String(i.gpuIds[0]));
    // Fractional GPUs share a device.
    const half = await get(f.gpuInfo.options({ numGpus: 0.5 }).remote());
    expect(half.gpuIds).toHaveLength(1);
  });

  it('gives an actor its GPUs for its lifetime', async () => {
    const a = f.RemoteCounter.options({ numGpus: 3 }).remote();
    const ctx = await get(a.ctx.remote());
    expect(ctx.gpuIds).toHaveLength(3);
    expect(ctx.cuda).toBe(ctx.gpuIds.join(','));
    expect((await availableResources()).GPU).toBe(1);
    // A task that needs 2 GPUs waits until the actor frees them.
    const waiting = f.gpuInfo.options({ numGpus: 2 }).remote();
    const { ready } = await wait([waiting], { timeoutMs: 300 });
    expect(ready).toHaveLength(0);
    await kill(a);
    expect((await get(waiting)).gpuIds).toHaveLength(2);
  });

  it('schedules on custom resources and limits concurrency by them', async () => {
    const refs = Array.from({ length: 4 }, () =>
      f.sleep.options({ numCpus: 0, resources: { accelerator: 1 } }).remote(100, 1),
    );
    const { ready } = await wait(refs, { numReturns: 4, timeoutMs: 60 });
    expect(ready.length).toBeLessThanOrEqual(2);
    expect(await get(refs)).toEqual([1, 1, 1, 1]);
  });

  it('releases the CPU of a task blocked in get, so nested tasks cannot deadlock', async () => {
    // 4 parents on 2 CPUs, each waiting on a child that needs a CPU too.
    const parents = Array.from({ length: 4 }, () => f.parentOfSleeper.remote(20));
    expect(await get(parents)).toEqual(['child done', 'child done', 'child done', 'child done']);
  });

  it('runs tasks in a process of their own with isolation: process', async () => {
    const pid = await get(f.pid.options({ isolation: 'process' }).remote());
    expect(pid).not.toBe(process.pid);
    expect(await get(f.square.options({ isolation: 'process' }).remote(12))).toBe(144);
  });
});
