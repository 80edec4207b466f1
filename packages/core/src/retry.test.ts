import { describe, expect, it } from 'vitest';
import { retryUntil, retryWithBackoff } from './retry.js';
import { FakeClock } from './testing-clock.js';

/** An attempt that succeeds on try number `okOn` (never when undefined), recording when each try ran. */
function attempts(clock: FakeClock, okOn?: number) {
  const at: number[] = [];
  const start = clock.now();
  return {
    at,
    attempt: () => {
      at.push(clock.now() - start);
      return at.length === okOn;
    },
  };
}

describe('retryUntil', () => {
  it('stops at the first success, setting no timer', () => {
    const clock = new FakeClock();
    const a = attempts(clock, 1);
    let gaveUp = false;
    retryUntil({ intervalMs: 10, timeoutMs: 100 }, a.attempt, { clock, giveUp: () => (gaveUp = true) });
    expect(a.at).toEqual([0]);
    expect(clock.pending).toBe(0);
    clock.advance(1_000);
    expect(a.at).toEqual([0]);
    expect(gaveUp).toBe(false);
  });

  it('tries every intervalMs until it succeeds', () => {
    const clock = new FakeClock();
    const a = attempts(clock, 3);
    let gaveUp = false;
    retryUntil({ intervalMs: 10, timeoutMs: 100 }, a.attempt, { clock, giveUp: () => (gaveUp = true) });
    clock.advance(9);
    expect(a.at).toEqual([0]);
    clock.advance(1_000);
    expect(a.at).toEqual([0, 10, 20]);
    expect(gaveUp).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('gives up once the next try would fall past the budget', () => {
    const clock = new FakeClock();
    const a = attempts(clock);
    const start = clock.now();
    const gaveUpAt: number[] = [];
    retryUntil({ intervalMs: 10, timeoutMs: 35 }, a.attempt, {
      clock,
      giveUp: () => gaveUpAt.push(clock.now() - start),
    });
    clock.advance(1_000);
    expect(a.at).toEqual([0, 10, 20, 30]);
    expect(gaveUpAt).toEqual([30]);
    expect(clock.pending).toBe(0);
  });

  it('makes a last try at exactly timeoutMs after the first', () => {
    const clock = new FakeClock();
    const a = attempts(clock);
    let gaveUp = 0;
    retryUntil({ intervalMs: 10, timeoutMs: 30 }, a.attempt, { clock, giveUp: () => gaveUp++ });
    clock.advance(1_000);
    expect(a.at).toEqual([0, 10, 20, 30]);
    expect(gaveUp).toBe(1);
  });

  it('ends silently once stopped() says so, without giving up', () => {
    const clock = new FakeClock();
    const a = attempts(clock);
    let stopped = false;
    let gaveUp = false;
    retryUntil({ intervalMs: 10, timeoutMs: 100 }, a.attempt, {
      clock,
      stopped: () => stopped,
      giveUp: () => (gaveUp = true),
    });
    clock.advance(10);
    stopped = true;
    clock.advance(1_000);
    expect(a.at).toEqual([0, 10]);
    expect(gaveUp).toBe(false);
  });

  it('makes no try at all when stopped from the start', () => {
    const clock = new FakeClock();
    const a = attempts(clock);
    retryUntil({ intervalMs: 10, timeoutMs: 100 }, a.attempt, { clock, stopped: () => true });
    expect(a.at).toEqual([]);
  });

  it('is cancelled by the function it returns, its timer with it', () => {
    const clock = new FakeClock();
    const a = attempts(clock);
    let gaveUp = false;
    const cancel = retryUntil({ intervalMs: 10, timeoutMs: 100 }, a.attempt, {
      clock,
      giveUp: () => (gaveUp = true),
    });
    clock.advance(15);
    expect(clock.pending).toBe(1);
    cancel();
    expect(clock.pending).toBe(0);
    clock.advance(1_000);
    expect(a.at).toEqual([0, 10]);
    expect(gaveUp).toBe(false);
  });
});

describe('retryWithBackoff', () => {
  /** An async attempt that fails until try number `okOn`, recording when each try ran. */
  function asyncAttempts(clock: FakeClock, okOn = Infinity) {
    const at: number[] = [];
    const start = clock.now();
    return {
      at,
      attempt: async () => {
        at.push(clock.now() - start);
        if (at.length < okOn) throw new Error(`try ${at.length} failed`);
        return at.length;
      },
    };
  }

  it('waits twice as long after each failure, up to maxDelayMs, until a try succeeds', async () => {
    const clock = new FakeClock();
    const a = asyncAttempts(clock, 6);
    const heard: [string, number, number][] = [];
    const done = retryWithBackoff({ firstDelayMs: 10, maxDelayMs: 50, timeoutMs: Infinity }, a.attempt, {
      clock,
      onFailure: (err, failures, delayMs) => heard.push([(err as Error).message, failures, delayMs]),
    });
    await clock.advanceAsync(1_000);
    expect(await done).toBe(6);
    expect(a.at).toEqual([0, 10, 30, 70, 120, 170]);
    expect(heard.map(([, n, d]) => [n, d])).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 50],
      [5, 50],
    ]);
    expect(heard[0][0]).toBe('try 1 failed');
    expect(clock.pending).toBe(0);
  });

  it('rejects with the last failure once the next try would start past timeoutMs', async () => {
    const clock = new FakeClock();
    const a = asyncAttempts(clock);
    const done = retryWithBackoff({ firstDelayMs: 10, maxDelayMs: 100, timeoutMs: 50 }, a.attempt, { clock });
    const failed = expect(done).rejects.toThrow('try 3 failed');
    await clock.advanceAsync(1_000);
    await failed;
    expect(a.at).toEqual([0, 10, 30]);
  });

  it('rejects once stopped() says so, after the wait under way', async () => {
    const clock = new FakeClock();
    const a = asyncAttempts(clock);
    let stopped = false;
    const done = retryWithBackoff({ firstDelayMs: 10, maxDelayMs: 100, timeoutMs: Infinity }, a.attempt, {
      clock,
      stopped: () => stopped,
    });
    const failed = expect(done).rejects.toThrow('try 2 failed');
    await clock.advanceAsync(15);
    stopped = true;
    await clock.advanceAsync(1_000);
    await failed;
    expect(a.at).toEqual([0, 10]);
  });
});
