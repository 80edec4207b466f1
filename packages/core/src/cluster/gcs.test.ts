import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, settle } from '../testing-clock.js';
import { Gcs } from './gcs.js';
import type { GcsStorage, GcsTable } from './gcs-storage.js';
import { GcsWriteQueue, type GcsWrite, type WriteSink } from './gcs-writes.js';

// The GCS's handlers over a write queue whose store the test controls: what a reply promises is
// in the store before the reply goes out, and a write the store cannot take changes nothing.

const STORE = 'Redis at redis://127.0.0.1:6399';

class FakeRedis implements WriteSink {
  readonly rows = new Map<string, string>();
  up = true;
  /** When set, batches wait for the test to call it. */
  private held: (() => void)[] | undefined;

  apply(batch: readonly GcsWrite[]): Promise<void> {
    if (!this.up) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6399'));
    const keep = () => {
      for (const w of batch) {
        if (w.value === undefined) this.rows.delete(`${w.table}/${w.key}`);
        else this.rows.set(`${w.table}/${w.key}`, w.value.toString());
      }
    };
    if (!this.held) {
      keep();
      return Promise.resolve();
    }
    const held = this.held;
    return new Promise((resolve) =>
      held.push(() => {
        keep();
        resolve();
      }),
    );
  }

  hold(): void {
    this.held = [];
  }

  async release(): Promise<void> {
    const held = this.held ?? [];
    this.held = undefined;
    for (const h of held) h();
    await settle();
  }
}

class QueueStorage implements GcsStorage {
  readonly description = STORE;
  constructor(private readonly queue: GcsWriteQueue) {}
  async load(): Promise<Record<GcsTable, Map<string, Buffer>>> {
    const tables: GcsTable[] = ['meta', 'nodes', 'jobs', 'actors', 'pgs', 'kv'];
    return Object.fromEntries(tables.map((t) => [t, new Map()])) as Record<GcsTable, Map<string, Buffer>>;
  }
  write(table: GcsTable, key: string, value: Buffer | string | undefined, opts?: { bounded?: boolean }) {
    return this.queue.write({ table, key, value }, opts);
  }
  async close(): Promise<void> {
    await this.queue.close(1_000);
  }
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function setup(maxWrites = 100) {
  const clock = new FakeClock();
  const redis = new FakeRedis();
  const queue = new GcsWriteQueue(redis, {
    store: STORE,
    maxWrites,
    maxBytes: 1 << 20,
    retryMs: 50,
    retryMaxMs: 400,
    waitMs: 10_000,
    clock,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const gcs = await Gcs.create({
    clusterId: 'cluster_test',
    nodeTimeoutMs: 60_000,
    storage: new QueueStorage(queue),
    auth: { kind: 'disabled' },
  });
  stops.push(() => gcs.stop());
  const h = gcs.handlers() as unknown as Record<
    string,
    (call: { request: unknown }, cb: (err: Partial<grpc.StatusObject> | null, value?: unknown) => void) => void
  >;
  /** Calls a handler; `answer` holds its reply once there is one. */
  const call = (method: string, request: unknown) => {
    const r: { answer?: { err: Partial<grpc.StatusObject> | null; value?: unknown } } = {};
    h[method]({ request }, (err, value) => (r.answer = { err, value }));
    return r;
  };
  return { clock, redis, gcs, call };
}

const actor = (actorId: string, name: string) => ({
  actorId,
  name,
  namespace: 'default',
  className: 'Counter',
  state: 'PENDING',
  detached: true,
});

describe('the GCS with its tables in Redis', () => {
  it('answers KvPut, named actor registration and RegisterJob only once their rows are in Redis', async () => {
    const { redis, call } = await setup();
    redis.hold();
    const put = call('KvPut', { namespace: 'ns', key: 'k', value: Buffer.from('v'), overwrite: true });
    const reg = call('RegisterActor', actor('actor_1', 'survivor'));
    const job = call('RegisterJob', { jobId: 'job_1', namespace: 'default' });
    await settle();
    expect([put.answer, reg.answer, job.answer]).toEqual([undefined, undefined, undefined]);
    expect(redis.rows.size).toBe(1); // clusterId, from the start
    await redis.release();
    await settle();
    expect(put.answer).toEqual({ err: null, value: { added: true } });
    expect(reg.answer).toEqual({ err: null, value: { ok: true, existing: null } });
    expect(job.answer?.err).toBeNull();
    expect(redis.rows.get('kv/ns\u0000k')).toBe('v');
    expect(JSON.parse(redis.rows.get('actors/actor_1')!)).toMatchObject({ name: 'survivor', detached: true });
    expect(JSON.parse(redis.rows.get('jobs/job_1')!)).toMatchObject({ state: 'RUNNING' });
  });

  it('refuses writes with UNAVAILABLE naming Redis when its queue is full, changing nothing', async () => {
    const { clock, redis, call } = await setup(2);
    redis.up = false;
    const waiting = [call('KvPut', { namespace: 'ns', key: 'a', value: Buffer.from('1'), overwrite: true })];
    waiting.push(call('KvPut', { namespace: 'ns', key: 'b', value: Buffer.from('1'), overwrite: true }));
    await clock.advanceAsync(10);
    const refusedPut = call('KvPut', { namespace: 'ns', key: 'c', value: Buffer.from('1'), overwrite: true });
    const refusedActor = call('RegisterActor', actor('actor_2', 'taken'));
    for (const r of [refusedPut, refusedActor]) {
      expect(r.answer?.err?.code).toBe(grpc.status.UNAVAILABLE);
      expect(r.answer?.err?.details).toContain(STORE);
    }
    expect(call('KvGet', { namespace: 'ns', key: 'c' }).answer?.value).toEqual({ found: false });
    expect(call('GetActor', { name: 'taken', namespace: 'default' }).answer?.value).toEqual({ found: false });
    expect(waiting.map((w) => w.answer)).toEqual([undefined, undefined]);
    // Redis back: the writes that waited are answered, and the name is free for the next try.
    redis.up = true;
    await clock.advanceAsync(500);
    expect(waiting.map((w) => w.answer?.err)).toEqual([null, null]);
    const again = call('RegisterActor', actor('actor_3', 'taken'));
    await settle();
    expect(again.answer).toEqual({ err: null, value: { ok: true, existing: null } });
    expect(redis.rows.has('kv/ns\u0000c')).toBe(false);
  });

  it('lands the writes still queued when it stops', async () => {
    const { redis, gcs, call } = await setup();
    redis.hold();
    call('RegisterJob', { jobId: 'job_2', namespace: 'default' });
    call('KvPut', { namespace: 'ns', key: 'last', value: Buffer.from('words'), overwrite: true });
    await settle();
    let stopped = false;
    const stopping = gcs.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    await redis.release();
    await stopping;
    expect(redis.rows.get('kv/ns\u0000last')).toBe('words');
    expect(redis.rows.has('jobs/job_2')).toBe(true);
  });
});
