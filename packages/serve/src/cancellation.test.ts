import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Cancellation, drained, raceCancel } from './cancellation.js';
import { RequestCancelledError } from './errors.js';

const why = () => new RequestCancelledError('the client disconnected');

describe('Cancellation', () => {
  it('runs its hooks once, skips forgotten ones, and runs late ones at once', () => {
    const c = new Cancellation();
    const ran: string[] = [];
    c.onCancel(() => ran.push('a'));
    const forget = c.onCancel(() => ran.push('b'));
    forget();
    expect(c.cancelled).toBe(false);
    const reason = why();
    c.cancel(reason);
    c.cancel(why());
    expect(ran).toEqual(['a']);
    expect(c.reason).toBe(reason);
    c.onCancel(() => ran.push('late'));
    expect(ran).toEqual(['a', 'late']);
    expect(() => c.throwIfCancelled()).toThrow(reason);
  });

  it('makes its AbortSignal on first use, aborted with the reason before or after', () => {
    const before = new Cancellation();
    const signal = before.signal;
    expect(signal.aborted).toBe(false);
    const reason = why();
    before.cancel(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    const after = new Cancellation();
    after.cancel(reason);
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe(reason);
  });

  it('raceCancel: settles with the promise, or rejects with the reason as soon as it comes', async () => {
    const c = new Cancellation();
    expect(await raceCancel(Promise.resolve(1), c)).toBe(1);
    const never = new Promise<number>(() => undefined);
    const raced = raceCancel(never, c);
    const reason = why();
    c.cancel(reason);
    await expect(raced).rejects.toBe(reason);
    await expect(raceCancel(Promise.resolve(2), c)).rejects.toBe(reason);
  });

  it("drained: resolves on 'drain', rejects on cancellation, and leaves no listener behind", async () => {
    const stream = new EventEmitter();
    const c = new Cancellation();
    const first = drained(stream, c);
    stream.emit('drain');
    await first;
    const second = drained(stream, c);
    c.cancel(why());
    await expect(second).rejects.toBeInstanceOf(RequestCancelledError);
    expect(stream.listenerCount('drain') + stream.listenerCount('error')).toBe(0);
  });
});
