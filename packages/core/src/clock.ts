/**
 * Time as core's timers see it: a seam, so that retry loops and state machines are tested with a
 * clock that tests move by hand (see FakeClock in testing-clock.ts).
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` (never keeping the process alive); returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
