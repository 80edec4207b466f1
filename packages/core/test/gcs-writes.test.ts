// Redis SIGKILLed and started again under a load of GCS writes (named detached actors, KV puts,
// submitted jobs), then the head SIGKILLed and started again: every write acknowledged to a
// client is there afterwards; writes during the outage wait and land, or fail at once with
// GcsUnavailableError naming Redis and its address.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GcsUnavailableError, get, getActor, init, internalKv, listNodes, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, startRedisServer, waitFor, type RedisServerHandle } from '@ray-ts/core/testing';
import { CounterActor } from './fixtures/cluster.js';

/** Writes that may wait for Redis at once on the head (the rest fail at once). */
const QUEUE_MAX = 40;

let redis: RedisServerHandle;
let cluster: Cluster;
let n1: string;

beforeAll(async () => {
  redis = await startRedisServer({ durable: true });
  cluster = await Cluster.start({
    head: { numCpus: 1, env: { RAY_TS_GCS_WRITE_QUEUE_MAX: String(QUEUE_MAX) } },
    nodes: [{ numCpus: 1 }],
    redisAddress: redis.url,
    nodeTimeoutMs: 3_000,
  });
  n1 = cluster.nodes[1].nodeId;
  await init({ address: cluster.address });
}, 60_000);

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  await redis?.stop();
});

/** What the load did: writes acknowledged, with when they started and ended; failures, with their message. */
interface Outcome {
  kind: 'kv' | 'actor' | 'job';
  id: string;
  startedAt: number;
  endedAt: number;
  error?: string;
}

async function submitJob(id: string, entrypoint = 'true'): Promise<void> {
  const res = await fetch(`${currentHead().jobApiAddress}/api/jobs/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...clusterAuthHeaders() },
    body: JSON.stringify({ entrypoint, submission_id: id }),
  });
  if (res.status !== 200) throw new Error(`job API answered ${res.status}: ${await res.text()}`);
}

async function jobsListed(): Promise<string[]> {
  const res = await fetch(`${currentHead().jobApiAddress}/api/jobs/`, { headers: clusterAuthHeaders() });
  return ((await res.json()) as { submission_id: string }[]).map((j) => j.submission_id);
}

/** Runs a loop (`lane`) of one kind of write until `until()` says stop, each write bounded in time. */
async function loop(kind: Outcome['kind'], lane: number, until: () => boolean, out: Outcome[]): Promise<void> {
  for (let i = 0; !until(); i++) {
    const id = `${kind}-${lane}-${i}`;
    const startedAt = Date.now();
    try {
      if (kind === 'kv') await internalKv.put(id, `value of ${id}`);
      else if (kind === 'job') await submitJob(id);
      else {
        const a = CounterActor.options({
          name: id,
          lifetime: 'detached',
          numCpus: 0,
          schedulingStrategy: { nodeId: n1 },
        }).remote();
        await get(a.incr.remote(1), { timeoutMs: 40_000 });
      }
      out.push({ kind, id, startedAt, endedAt: Date.now() });
    } catch (err) {
      out.push({ kind, id, startedAt, endedAt: Date.now(), error: (err as Error).message });
    }
  }
}

const currentHead = () => cluster.nodes.filter((n) => n.isHead).at(-1)!;

/** Stops the head (SIGKILL: a crash; SIGTERM: a clean stop), waits until it is gone, starts it again on its port. */
async function restartHead(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const old = currentHead();
  cluster.killNode(old.nodeId, signal);
  await waitFor(
    () => {
      try {
        process.kill(old.pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: 'the head process gone', timeoutMs: 20_000 },
  );
  const head = await cluster.restartHead();
  await waitFor(
    async () => {
      const alive = (await listNodes({ filters: [['state', '=', 'ALIVE']] })).map((n) => n.nodeId);
      return alive.includes(head.nodeId) && alive.includes(n1);
    },
    { what: "the nodes back in the restarted head's table", timeoutMs: 30_000, intervalMs: 200 },
  );
}

/** Every acknowledged write is there: KV values readable, actors found by name and answering, jobs listed. */
async function expectAllThere(acked: Outcome[]): Promise<void> {
  const listed = new Set(await jobsListed());
  const missing: string[] = [];
  for (const w of acked) {
    if (w.kind === 'kv' && (await internalKv.getString(w.id)) !== `value of ${w.id}`) missing.push(w.id);
    if (w.kind === 'job' && !listed.has(w.id)) missing.push(w.id);
    if (w.kind === 'actor') {
      const a = await getActor<InstanceType<typeof import('./fixtures/cluster.js').Counter>>(w.id).catch(
        () => undefined,
      );
      if (!a || (await get(a.incr.remote(1), { timeoutMs: 20_000 })) < 2) missing.push(w.id);
    }
  }
  expect(missing).toEqual([]);
}

const redisNamed = () => new RegExp(`Redis at redis://127\\.0\\.0\\.1:${redis.port}`);

it('keeps every acknowledged write through a SIGKILL of Redis under load, then of the head', async () => {
  const out: Outcome[] = [];
  let stop = false;
  const kinds = ['kv', 'actor', 'job'] as const;
  const loops = kinds.flatMap((k) => [0, 1].map((lane) => loop(k, lane, () => stop, out)));
  const acknowledged = (k: Outcome['kind']) => out.filter((o) => o.kind === k && !o.error).length;
  await waitFor(() => kinds.every((k) => acknowledged(k) >= 4), {
    what: 'writes of every kind acknowledged',
    timeoutMs: 30_000,
  });
  await redis.kill();
  const downAt = Date.now();
  await new Promise((r) => setTimeout(r, 1_500));
  await redis.restart();
  const upAt = Date.now();
  await waitFor(() => out.filter((o) => o.startedAt > upAt && !o.error).length >= 3, {
    what: 'writes acknowledged after Redis came back',
    timeoutMs: 30_000,
  });
  stop = true;
  await Promise.all(loops);

  const acked = out.filter((o) => !o.error);
  // Writes asked for while Redis was down waited for it, and were acknowledged once it was back.
  const waited = acked.filter((o) => o.startedAt < upAt && o.endedAt >= upAt);
  expect(waited.map((o) => o.kind)).toEqual(expect.arrayContaining(['kv', 'job']));
  // None asked for once Redis was dead was acknowledged before it was back.
  expect(acked.filter((o) => o.startedAt > downAt && o.endedAt < upAt)).toEqual([]);
  // None failed: the outage was shorter than the wait a reply allows, and the queue had room.
  expect(out.filter((o) => o.error)).toEqual([]);

  await restartHead();
  await expectAllThere(acked);
});

it('refuses writes beyond the queue while Redis is down, clearly; those it took land once Redis is back', async () => {
  await redis.kill();
  const puts = Array.from({ length: QUEUE_MAX * 2 }, (_, i) => {
    const o: { id: string; state: 'waiting' | 'acked' | 'failed'; error?: unknown } = {
      id: `outage-${i}`,
      state: 'waiting',
    };
    internalKv.put(o.id, `value of ${o.id}`).then(
      () => (o.state = 'acked'),
      (err: unknown) => {
        o.state = 'failed';
        o.error = err;
      },
    );
    return o;
  });
  // At most QUEUE_MAX wait for Redis; the others fail at once, naming it.
  await waitFor(() => puts.filter((o) => o.state === 'failed').length >= QUEUE_MAX, {
    what: 'the writes beyond the queue refused',
    timeoutMs: 10_000,
  });
  await new Promise((r) => setTimeout(r, 500));
  const failed = puts.filter((o) => o.state === 'failed');
  const waiting = puts.filter((o) => o.state === 'waiting');
  expect(puts.filter((o) => o.state === 'acked')).toEqual([]);
  expect(waiting.length).toBeGreaterThan(0);
  expect(failed.length + waiting.length).toBe(puts.length);
  for (const o of failed) {
    expect(o.error).toBeInstanceOf(GcsUnavailableError);
    expect((o.error as Error).message).toMatch(redisNamed());
    expect((o.error as Error).message).toContain('Nothing was changed');
  }
  await redis.restart();
  await waitFor(() => waiting.every((o) => o.state !== 'waiting'), {
    what: 'the writes that waited answered once Redis is back',
    timeoutMs: 30_000,
  });
  expect(waiting.filter((o) => o.state !== 'acked')).toEqual([]);

  await restartHead();
  await expectAllThere(waiting.map((o) => ({ kind: 'kv', id: o.id, startedAt: 0, endedAt: 0 })));
  for (const o of failed) expect(await internalKv.get(o.id)).toBeUndefined();
});

it('acknowledges none of the writes that wait for Redis when the head dies meanwhile', async () => {
  await redis.kill();
  const puts = Array.from({ length: 10 }, (_, i) => {
    const o = { id: `orphan-${i}`, state: 'waiting' as 'waiting' | 'acked' | 'failed' };
    internalKv.put(o.id, 'never acknowledged').then(
      () => (o.state = 'acked'),
      () => (o.state = 'failed'),
    );
    return o;
  });
  await new Promise((r) => setTimeout(r, 500));
  expect(puts.every((o) => o.state === 'waiting')).toBe(true);
  cluster.killNode(currentHead().nodeId);
  await waitFor(() => puts.every((o) => o.state !== 'waiting'), { what: 'the waiting writes answered' });
  expect(puts.filter((o) => o.state === 'acked')).toEqual([]);
  await redis.restart();
  await restartHead();
  for (const o of puts) expect(await internalKv.get(o.id)).toBeUndefined();
});

it('lands what a clean stop of the head writes: a running job is STOPPED after the restart', async () => {
  await submitJob('long-job', 'sleep 60');
  await waitFor(async () => (await jobsListed()).includes('long-job'), { what: 'the job listed' });
  await internalKv.put('before-stop', 'kept');
  await restartHead('SIGTERM');
  const res = await fetch(`${currentHead().jobApiAddress}/api/jobs/long-job`, { headers: clusterAuthHeaders() });
  expect(((await res.json()) as { status: string }).status).toBe('STOPPED');
  expect(await internalKv.getString('before-stop')).toBe('kept');
});
