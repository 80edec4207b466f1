import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { GcsUnavailableError } from '../errors.js';
import { FakeClock, settle } from '../testing-clock.js';
import { GcsWriteQueue, replyAfter, type GcsWrite, type WriteQueueOptions, type WriteSink } from './gcs-writes.js';

const STORE = 'Redis at redis://127.0.0.1:6399';

/** A store that keeps what it is sent; each batch lands when the test says (`land`, `fail`), or at once (`auto`). */
class FakeStore implements WriteSink {
  readonly batches: string[][] = [];
  readonly rows = new Map<string, string>();
  auto: 'ok' | 'fail' | undefined;
  private open: { batch: readonly GcsWrite[]; resolve: () => void; reject: (err: Error) => void }[] = [];

  apply(batch: readonly GcsWrite[]): Promise<void> {
    this.batches.push(batch.map((w) => `${w.key}=${w.value ?? '∅'}`));
    if (this.auto === 'fail') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6399'));
    if (this.auto === 'ok') {
      this.keep(batch);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.open.push({ batch, resolve, reject }));
  }

  /** Lands the batch sent first of those still open. */
  async land(): Promise<void> {
    const b = this.open.shift()!;
    this.keep(b.batch);
    b.resolve();
    await settle();
  }

  async fail(): Promise<void> {
    this.open.shift()!.reject(new Error('connect ECONNREFUSED 127.0.0.1:6399'));
    await settle();
  }

  get inFlight(): number {
    return this.open.length;
  }

  private keep(batch: readonly GcsWrite[]): void {
    for (const w of batch) {
      if (w.value === undefined) this.rows.delete(w.key);
      else this.rows.set(w.key, String(w.value));
    }
  }
}

function setup(opts: Partial<WriteQueueOptions> = {}) {
  const clock = new FakeClock();
  const store = new FakeStore();
  const log: string[] = [];
  const queue = new GcsWriteQueue(store, {
    store: STORE,
    maxWrites: 100,
    maxBytes: 1 << 20,
    retryMs: 50,
    retryMaxMs: 400,
    waitMs: 10_000,
    clock,
    log: { info: (line) => log.push(line), warn: (line) => log.push(line), error: (line) => log.push(line) },
    ...opts,
  });
  const put = (key: string, value: string | undefined, bounded = true) =>
    queue.write({ table: 'kv', key, value }, { bounded });
  return { clock, store, log, queue, put };
}

/** Records when a promise settles. */
function watch(p: Promise<void>): { state: 'waiting' | 'landed' | 'failed'; error?: unknown } {
  const w: { state: 'waiting' | 'landed' | 'failed'; error?: unknown } = { state: 'waiting' };
  p.then(
    () => (w.state = 'landed'),
    (err: unknown) => {
      w.state = 'failed';
      w.error = err;
    },
  );
  return w;
}

describe('GcsWriteQueue', () => {
  it('resolves a write only once the store took it', async () => {
    const { store, put } = setup();
    const w = watch(put('a', '1'));
    await settle();
    expect(store.batches).toEqual([['a=1']]);
    expect(w.state).toBe('waiting');
    await store.land();
    expect(w.state).toBe('landed');
    expect(store.rows.get('a')).toBe('1');
  });

  it('sends one batch at a time, in the order written; a row rewritten while queued keeps its place', async () => {
    const { store, put } = setup();
    const first = watch(put('a', '1'));
    await settle();
    // Queued behind the batch in flight: b, then c, then a again (a is in flight, so it queues anew).
    const b1 = watch(put('b', '1'));
    const c = watch(put('c', '1'));
    const a2 = watch(put('a', '2'));
    const b2 = watch(put('b', '2'));
    const del = watch(put('c', undefined));
    await settle();
    expect(store.batches).toEqual([['a=1']]);
    expect(store.inFlight).toBe(1);
    await store.land();
    expect(first.state).toBe('landed');
    expect(store.batches[1]).toEqual(['b=2', 'c=∅', 'a=2']);
    expect([b1, c, a2, b2, del].map((w) => w.state)).toEqual(['waiting', 'waiting', 'waiting', 'waiting', 'waiting']);
    await store.land();
    expect([b1, c, a2, b2, del].map((w) => w.state)).toEqual(['landed', 'landed', 'landed', 'landed', 'landed']);
    expect([...store.rows]).toEqual([
      ['a', '2'],
      ['b', '2'],
    ]);
  });

  it('splits what waits into batches of batchMax', async () => {
    const { store, put } = setup({ batchMax: 2 });
    store.auto = 'ok';
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => put(k, '1'));
    await Promise.all(all);
    expect(store.batches).toEqual([['a=1'], ['b=1', 'c=1'], ['d=1', 'e=1']]);
  });

  it('tries a failed batch again after a wait that doubles up to retryMaxMs, reporting the failure and the recovery', async () => {
    const { clock, store, log, put } = setup();
    store.auto = 'fail';
    const start = clock.now();
    const sentAt: number[] = [];
    const apply = store.apply.bind(store);
    store.apply = (batch) => {
      sentAt.push(clock.now() - start);
      return apply(batch);
    };
    const w = watch(put('a', '1'));
    await clock.advanceAsync(1_000);
    expect(sentAt).toEqual([0, 50, 150, 350, 750]);
    expect(w.state).toBe('waiting');
    expect(log).toHaveLength(1);
    expect(log[0]).toContain(`GCS writes to ${STORE} failed (connect ECONNREFUSED 127.0.0.1:6399)`);
    store.auto = 'ok';
    await clock.advanceAsync(400);
    expect(sentAt.slice(5)).toEqual([1_150]);
    expect(w.state).toBe('landed');
    expect(store.rows.get('a')).toBe('1');
    expect(log[1]).toMatch(new RegExp(`${STORE} takes GCS writes again, after 1\\.\\d s of failures`));
  });

  it('refuses a write beyond maxWrites with GcsUnavailableError naming the store, and takes it again once there is room', async () => {
    const { clock, store, put, queue } = setup({ maxWrites: 3 });
    store.auto = 'fail';
    const waiting = ['a', 'b', 'c'].map((k) => watch(put(k, '1')));
    await clock.advanceAsync(100);
    let refused: unknown;
    try {
      void put('d', '1');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(GcsUnavailableError);
    expect((refused as Error).message).toContain(`${STORE} has not taken the 3 writes before it`);
    expect((refused as Error).message).toContain('connect ECONNREFUSED');
    expect((refused as Error).message).toContain('Nothing was changed');
    // A row already waiting may be rewritten; the GCS's own bookkeeping is always taken.
    const rewrite = watch(put('c', '2'));
    const internal = watch(put('meta', 'x', false));
    expect(queue.pending).toBe(4);
    store.auto = 'ok';
    await clock.advanceAsync(400);
    expect([...waiting, rewrite, internal].map((w) => w.state)).toEqual(Array(5).fill('landed'));
    expect(store.rows.get('c')).toBe('2');
    expect(store.rows.has('d')).toBe(false);
    await put('d', '1');
    expect(store.rows.get('d')).toBe('1');
  });

  it('refuses a write beyond maxBytes, but takes a large one when nothing waits', async () => {
    const { clock, store, put } = setup({ maxBytes: 1_000 });
    store.auto = 'fail';
    const big = watch(put('big', 'x'.repeat(5_000)));
    await clock.advanceAsync(10);
    expect(() => put('small', 'y')).toThrow(GcsUnavailableError);
    store.auto = 'ok';
    await clock.advanceAsync(100);
    expect(big.state).toBe('landed');
  });

  it('tells a writer that waited waitMs that its write is late; the write stays queued and lands later', async () => {
    const { clock, store, put } = setup({ waitMs: 1_000 });
    store.auto = 'fail';
    const w = watch(put('a', '1'));
    await clock.advanceAsync(900);
    expect(w.state).toBe('waiting');
    await clock.advanceAsync(1_000);
    expect(w.state).toBe('failed');
    expect(w.error).toBeInstanceOf(GcsUnavailableError);
    expect((w.error as Error).message).toMatch(/has not taken this write in \d s .*It stays queued/);
    // A new writer of the same row waits afresh, and both writes land.
    const again = watch(put('a', '2'));
    store.auto = 'ok';
    await clock.advanceAsync(400);
    expect(again.state).toBe('landed');
    expect(store.rows.get('a')).toBe('2');
  });

  it('lands what is queued on close, then takes no more writes', async () => {
    const { store, put, queue } = setup();
    const a = watch(put('a', '1'));
    const b = watch(put('b', '1'));
    await settle();
    const closed = queue.close(5_000);
    expect(() => put('c', '1')).toThrow(/The head is stopping/);
    await store.land();
    await store.land();
    expect(await closed).toBe(0);
    expect([a.state, b.state]).toEqual(['landed', 'landed']);
    expect([...store.rows.keys()]).toEqual(['a', 'b']);
  });

  it('gives up at the close deadline, failing and reporting the writes left', async () => {
    const { clock, store, log, put, queue } = setup();
    store.auto = 'fail';
    const a = watch(put('a', '1'));
    await clock.advanceAsync(10);
    const closed = queue.close(1_000);
    let left: number | undefined;
    void closed.then((n) => (left = n));
    await clock.advanceAsync(999);
    expect(left).toBeUndefined();
    await clock.advanceAsync(1);
    expect(left).toBe(1);
    expect(a.state).toBe('failed');
    expect((a.error as Error).message).toContain(`The head stopped before ${STORE} took this write`);
    expect(log.at(-1)).toContain(`the head stopped before ${STORE} took 1 GCS writes`);
    // The retry loop ends with it.
    store.auto = 'ok';
    const sent = store.batches.length;
    await clock.advanceAsync(5_000);
    expect(store.batches.length).toBe(sent);
    expect(store.rows.size).toBe(0);
  });
});

describe('replyAfter', () => {
  type Answer = { err: Partial<grpc.StatusObject> | null; value?: unknown };
  const answers = () => {
    const got: Answer[] = [];
    const cb = ((err: Partial<grpc.StatusObject> | null, value?: unknown) => got.push({ err, value })) as never;
    return { got, cb };
  };

  it('answers at once when nothing has to land (tables in memory)', () => {
    const { got, cb } = answers();
    replyAfter(cb, () => ({ landed: undefined, reply: { added: true } }));
    expect(got).toEqual([{ err: null, value: { added: true } }]);
  });

  it('answers once the write landed, never before', async () => {
    const { store, put } = setup();
    const { got, cb } = answers();
    replyAfter(cb, () => ({ landed: put('a', '1'), reply: { added: true } }));
    await settle();
    expect(got).toEqual([]);
    await store.land();
    expect(got).toEqual([{ err: null, value: { added: true } }]);
  });

  it('answers UNAVAILABLE with the message when the store refused or failed the write', async () => {
    const refused = answers();
    replyAfter(refused.cb, () => {
      throw new GcsUnavailableError(`${STORE} is away`);
    });
    expect(refused.got).toEqual([{ err: { code: grpc.status.UNAVAILABLE, details: `${STORE} is away` } }]);
    const { clock, store, put } = setup({ waitMs: 100 });
    store.auto = 'fail';
    const late = answers();
    replyAfter(late.cb, () => ({ landed: put('a', '1'), reply: {} }));
    await clock.advanceAsync(1_000);
    expect(late.got).toHaveLength(1);
    expect(late.got[0].err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(late.got[0].err?.details).toContain(STORE);
  });
});
