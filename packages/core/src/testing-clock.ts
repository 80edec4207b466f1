/**
 * A clock that unit tests move by hand (see clock.ts), and a way to let pending promise callbacks
 * run. For core's own unit tests: not exported from index.ts.
 */
import type { Clock } from './clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Resolves once every microtask queued so far, and every one those queue in turn, has run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A {@link Clock} whose time moves only when a test calls {@link FakeClock.advance}; timers due on
 * the way run in order of their due time (then of their creation), each at its own time.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: ++this.seq, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Timers not run nor cancelled yet. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, running the timers due meanwhile (timers they set run too, if due). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let timer = this.next(end); timer; timer = this.next(end)) {
      this.t = timer.at;
      timer.fn();
    }
    this.t = end;
  }

  /**
   * As {@link advance}, letting promise callbacks run before and after each timer: for code that
   * sets its next timer once a promise (a fake RPC) resolves.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (let timer = this.next(end); timer; timer = this.next(end)) {
      this.t = timer.at;
      timer.fn();
      await settle();
    }
    this.t = end;
  }

  /** Removes and returns the first timer due by `end`. */
  private next(end: number): Timer | undefined {
    let first: Timer | undefined;
    for (const x of this.timers)
      if (x.at <= end && (!first || x.at < first.at || (x.at === first.at && x.seq < first.seq))) first = x;
    if (first) this.timers = this.timers.filter((x) => x !== first);
    return first;
  }
}
