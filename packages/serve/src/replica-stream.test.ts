import { describe, expect, it } from 'vitest';
import { Cancellation } from './cancellation.js';
import { RequestCancelledError } from './errors.js';
import { ReplicaStream } from './replica-stream.js';

/** Lets every pending callback and promise run (no clock involved: the stream has no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** A source that counts what it made, and whether it was told to stop. */
function counting(n: number, make: (i: number) => unknown = (i) => i) {
  const state = { produced: 0, finished: false };
  async function* gen(): AsyncGenerator<unknown> {
    try {
      for (let i = 1; i <= n; i++) {
        state.produced = i;
        yield make(i);
      }
    } finally {
      state.finished = true;
    }
  }
  return { state, source: gen() };
}

function stream(source: AsyncIterable<unknown>, limits: { items: number; bytes: number }) {
  const ends = { count: 0 };
  const cancel = new Cancellation();
  const s = new ReplicaStream(source, () => ends.count++, cancel, limits);
  return { s, ends, cancel };
}

describe('ReplicaStream', () => {
  it('reads ahead at most its item limit, plus the item in hand, until the caller takes them', async () => {
    const { state, source } = counting(100);
    const { s } = stream(source, { items: 4, bytes: Infinity });
    await settle();
    expect(state.produced).toBe(5);
    expect(s.take()).toEqual({ items: [1, 2, 3, 4], done: false });
    await settle();
    expect(state.produced).toBe(9);
    expect(s.take().items).toEqual([5, 6, 7, 8]);
  });

  it('reads ahead at most its byte limit', async () => {
    const { state, source } = counting(100, () => new Uint8Array(1024));
    const { s } = stream(source, { items: 1000, bytes: 3 * 1024 });
    await settle();
    expect(state.produced).toBe(4); // three buffered (3 KiB), one in hand
    expect(s.take().items).toHaveLength(3);
    await settle();
    expect(state.produced).toBe(7);
  });

  it('finishes a body that is one large chunk without waiting for the caller', async () => {
    const { source } = counting(1, () => new Uint8Array(10_000));
    const { s, ends } = stream(source, { items: 4, bytes: 1024 });
    await s.ready();
    await settle();
    expect(s.done).toBe(true);
    const c = s.take();
    expect(c.done).toBe(true);
    expect((c.items[0] as Uint8Array).byteLength).toBe(10_000);
    expect(ends.count).toBe(1);
  });

  it('on cancel: aborts the request signal, stops the source, and ends once', async () => {
    const { state, source } = counting(100);
    const { s, ends, cancel } = stream(source, { items: 2, bytes: Infinity });
    await settle();
    const reason = new RequestCancelledError('Request cancelled: the client disconnected');
    s.cancel(reason);
    await settle();
    expect(cancel.signal.aborted).toBe(true);
    expect(cancel.signal.reason).toBe(reason);
    expect(state.finished).toBe(true);
    expect(state.produced).toBe(3);
    expect(ends.count).toBe(1);
    s.cancel(reason);
    expect(ends.count).toBe(1);
  });

  it("reports the source's failure with the items read before it", async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new RangeError('no more');
    }
    const { s, ends } = stream(failing(), { items: 10, bytes: Infinity });
    await settle();
    expect(s.take()).toEqual({ items: [1], done: true, error: { name: 'RangeError', message: 'no more' } });
    expect(ends.count).toBe(1);
  });
});
