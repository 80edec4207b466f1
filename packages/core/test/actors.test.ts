import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import {
  ActorDiedError,
  InvalidArgumentError,
  TaskCancelledError,
  TaskError,
  UnschedulableError,
  cancel,
  get,
  getActor,
  init,
  kill,
  shutdown,
  actorIdOf,
  availableResources,
  placementGroup,
  removePlacementGroup,
  wait,
} from '@ray-ts/core';
import * as f from './fixtures/tasks.js';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'actors-test' });
});
afterAll(async () => {
  await shutdown();
});

const unique = (p: string) => `${p}-${Math.random().toString(36).slice(2, 8)}`;

suite('actors', () => {
  it("keeps state and runs one caller's calls in submission order", async () => {
    const c = f.RemoteCounter.remote(10);
    const refs = Array.from({ length: 100 }, (_, i) => c.increment.remote(i % 2 === 0 ? 1 : 2));
    const vals = await get(refs);
    expect(vals[0]).toBe(11);
    expect(vals[99]).toBe(10 + 150);
    for (let i = 1; i < vals.length; i++) expect(vals[i]).toBeGreaterThan(vals[i - 1]);
  });

  it('runs async methods concurrently (up to maxConcurrency)', async () => {
    const w = f.RemoteAsyncWorker.remote();
    const peaks = await get(Array.from({ length: 8 }, () => w.work.remote(50)));
    expect(Math.max(...peaks)).toBeGreaterThan(1);
    const serial = f.RemoteAsyncWorker.options({ maxConcurrency: 1 }).remote();
    await get(Array.from({ length: 4 }, () => serial.work.remote(20)));
    expect(await get(serial.peak.remote())).toBe(1);
  });

  it('finds named actors by name and namespace', async () => {
    const name = unique('named');
    const c = f.RemoteCounter.options({ name }).remote(5);
    await get(c.increment.remote());
    const again = await getActor<f.Counter>(name);
    expect(actorIdOf(again)).toBe(actorIdOf(c));
    expect(await get(again.value.remote())).toBe(6);
    expect(() => f.RemoteCounter.options({ name }).remote()).toThrow(/already exists/);
    const same = f.RemoteCounter.options({ name, getIfExists: true }).remote();
    expect(await get(same.value.remote())).toBe(6);
    await expect(getActor(name, { namespace: 'elsewhere' })).rejects.toThrow(/No actor named/);
    const other = f.RemoteCounter.options({ name, namespace: 'elsewhere' }).remote(100);
    expect(await get((await getActor<f.Counter>(name, { namespace: 'elsewhere' })).value.remote())).toBe(100);
    await kill(other);
  });

  it('passes handles to tasks', async () => {
    const c = f.RemoteCounter.remote(0);
    expect(await get(f.useCounter.remote(c, 5))).toBe(5);
    expect(await get(c.value.remote())).toBe(5);
  });

  it('passes handles to other actors', async () => {
    const c = f.RemoteCounter.remote(10);
    const fw = f.RemoteForwarder.remote(c);
    expect(await get(fw.forward.remote(5))).toBe(15);
    expect(await get(c.value.remote())).toBe(15);
  });

  it('reports method errors as TaskError and keeps the actor alive', async () => {
    const c = f.RemoteCounter.remote(1);
    const err = await get(c.fail.remote('nope')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    expect((err as TaskError).cause).toBeInstanceOf(RangeError);
    expect((err as TaskError).actorId).toBe(actorIdOf(c));
    expect(await get(c.increment.remote())).toBe(2);
  });

  it('kills an actor: later calls fail with ActorDiedError', async () => {
    const c = f.RemoteCounter.remote(0);
    await get(c.increment.remote());
    await kill(c);
    const err = await get(c.increment.remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect((err as Error).message).toMatch(/killed with kill\(\)/);
  });

  it('fails calls with ActorDiedError naming the cause when the constructor throws', async () => {
    const a = f.RemoteFailing.remote('bad config');
    const err = await get(a.ping.remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect((err as Error).message).toMatch(/constructor threw Error: constructor failed: bad config/);
  });

  it('restarts a crashed actor with maxRestarts and retries its calls with maxTaskRetries', async () => {
    const c = f.RemoteCounter.options({ maxRestarts: 1, maxTaskRetries: 1, numCpus: 1 }).remote(0);
    const pid1 = await get(c.pid.remote());
    await get(c.increment.remote());
    const crash = c.crash.remote();
    // The crash call is retried once after the restart, crashing again; then no restarts remain.
    await expect(get(crash)).rejects.toBeInstanceOf(ActorDiedError);
    const err = await get(c.increment.remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect(pid1).toBe(process.pid);

    const r = f.RemoteCounter.options({ maxRestarts: 2 }).remote(0);
    await get(r.increment.remote());
    const crashOnce = r.crash.remote();
    await expect(get(crashOnce)).rejects.toThrow(/died/);
    // Restarted with fresh state from the constructor.
    expect(await get(r.increment.remote())).toBe(1);
  });

  it('without maxRestarts, a crash suggests setting it', async () => {
    const c = f.RemoteCounter.options({ numCpus: 1 }).remote(0);
    await expect(get(c.crash.remote())).rejects.toThrow(/Set maxRestarts to restart it automatically/);
  });

  it('kill with noRestart: false restarts the actor', async () => {
    const c = f.RemoteCounter.options({ maxRestarts: 1, numCpus: 1 }).remote(0);
    await get(c.increment.remote());
    await kill(c, { noRestart: false });
    expect(await get(c.increment.remote())).toBe(1);
    await kill(c);
  });

  it('holds actor resources and fails infeasible actors fast', async () => {
    const a = f.RemoteCounter.options({ numCpus: 64 }).remote();
    const err = await get(a.value.remote()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect((err as ActorDiedError).cause).toBeInstanceOf(UnschedulableError);
    expect(() => f.RemoteCounter.options({ maxRestarts: -2 })).toThrow(InvalidArgumentError);
    expect(() => f.RemoteCounter.options({ lifetime: 'forever' as never })).toThrow(/detached/);
  });

  it('cancels a queued method call; force is refused for actor calls', async () => {
    const c = f.RemoteCounter.remote(0);
    const slow = c.slowIncrement.remote(300);
    const queued = c.increment.remote();
    await cancel(queued);
    await expect(get(queued)).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(cancel(slow, { force: true })).rejects.toThrow(/not supported for actor method calls.*kill/);
    expect(await get(slow)).toBe(1);
    expect(await get(c.value.remote())).toBe(1);
  });

  it('gives the actor context to its methods', async () => {
    const c = f.RemoteCounter.remote();
    const ctx = await get(c.ctx.remote());
    expect(ctx.actorId).toBe(actorIdOf(c));
    expect(ctx.taskId).toMatch(/^task_/);
  });

  it('runs actors in their own process with isolation: process', async () => {
    const c = f.RemoteCounter.options({ isolation: 'process' }).remote(0);
    const pid = await get(c.pid.remote());
    expect(pid).not.toBe(process.pid);
    expect(await get(c.increment.remote(2))).toBe(2);
    await kill(c);
  });

  it('gives an actor a thread of its own with isolation: thread, even without resources', async () => {
    const own = [0, 1, 2].map(() => f.RemoteCounter.options({ isolation: 'thread' }).remote(0));
    const threads = await get(own.map((a) => a.threadId.remote()));
    expect(new Set(threads).size).toBe(3);
    await Promise.all(own.map((a) => kill(a)));
  });

  it('hosts many zero-CPU actors on shared threads', async () => {
    const actors = Array.from({ length: 200 }, (_, i) => f.RemoteCounter.remote(i));
    const vals = await get(actors.map((a) => a.increment.remote()));
    expect(vals[0]).toBe(1);
    expect(vals[199]).toBe(200);
  });
});

suite('actor start-up', () => {
  it('runs actors in placement group bundles out of their reservation, waiting while the group is pending', async () => {
    const full = placementGroup([{ CPU: 1 }, { CPU: 1 }]); // every CPU of the node
    await full.ready();
    const inBundles = [0, 1].map((i) =>
      f.RemoteCounter.options({
        numCpus: 1,
        schedulingStrategy: { placementGroup: full, placementGroupBundleIndex: i },
      }).remote(),
    );
    expect(await get(inBundles.map((c) => c.increment.remote()))).toEqual([1, 1]);
    // A second group waits for the first's CPUs, and an actor in it waits with it.
    const next = placementGroup([{ CPU: 2 }]);
    const waiting = f.RemoteCounter.options({ numCpus: 2, schedulingStrategy: { placementGroup: next } }).remote();
    const ref = waiting.increment.remote(5);
    expect((await wait([ref], { timeoutMs: 200 })).ready).toHaveLength(0);
    for (const c of inBundles) await kill(c);
    await removePlacementGroup(full);
    expect(await get(ref, { timeoutMs: 10_000 })).toBe(5);
    await kill(waiting);
    await removePlacementGroup(next);
    // A bundle the group does not have fails the actor, saying so.
    const small = placementGroup([{ CPU: 0.5 }]);
    await small.ready();
    const bad = f.RemoteCounter.options({
      numCpus: 0.5,
      schedulingStrategy: { placementGroup: small, placementGroupBundleIndex: 3 },
    }).remote();
    await expect(get(bad.increment.remote())).rejects.toThrow(/bundle 3 of placement group .* has 1 bundles/);
    await removePlacementGroup(small);
    expect((await availableResources()).CPU).toBe(2);
  });

  it('starts many actors of a class loaded by reference at once', async () => {
    const actors = Array.from({ length: 6 }, (_, i) => f.RemoteEcho.remote(i));
    const vals = await get(actors.map((a) => a.tagged.remote()));
    expect(vals).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
