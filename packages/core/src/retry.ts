/**
 * Core's retry loops: `retryUntil` calls an attempt every `intervalMs` until it succeeds or
 * `timeoutMs` have passed; `retryWithBackoff` awaits an async attempt, waiting longer after each
 * failure (up to a cap). Budgets come from config.ts, so that the same behaviour has the same
 * budget everywhere and tests can shorten it.
 */
import { systemClock, type Clock } from './clock.js';

export interface RetryBudget {
  /** Time between attempts. */
  readonly intervalMs: number;
  /** Time after the first attempt past which no attempt is made. */
  readonly timeoutMs: number;
}

/**
 * Calls `attempt` now and then every `intervalMs` while it returns false, for up to `timeoutMs`;
 * `giveUp` runs if the budget is spent first. `stopped` (checked before each retry) ends it
 * silently. Returns a function that cancels the loop.
 */
export function retryUntil(
  budget: RetryBudget,
  attempt: () => boolean,
  opts: { giveUp?: () => void; stopped?: () => boolean; clock?: Clock } = {},
): () => void {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + budget.timeoutMs;
  let cancel: (() => void) | undefined;
  let cancelled = false;
  const run = () => {
    if (cancelled || opts.stopped?.()) return;
    if (attempt()) return;
    if (clock.now() + budget.intervalMs > deadline) {
      opts.giveUp?.();
      return;
    }
    cancel = clock.after(budget.intervalMs, run);
  };
  run();
  return () => {
    cancelled = true;
    cancel?.();
  };
}

export interface BackoffBudget {
  /** Wait after the first failure; each further failure doubles it, up to `maxDelayMs`. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** Time after the first attempt past which no attempt is made (Infinity: until it succeeds or is stopped). */
  readonly timeoutMs: number;
}

/**
 * Awaits `attempt` until it resolves, waiting `firstDelayMs` after its first failure and twice as
 * long after each next one (at most `maxDelayMs`). `onFailure` hears of each failure that will be
 * tried again, with the wait before the next try. Rejects with the last failure once the next try
 * would start past `timeoutMs`, or once `stopped()` (checked before and after each wait) says so.
 */
export async function retryWithBackoff<T>(
  budget: BackoffBudget,
  attempt: () => Promise<T>,
  opts: {
    onFailure?: (err: unknown, failures: number, delayMs: number) => void;
    stopped?: () => boolean;
    clock?: Clock;
  } = {},
): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + budget.timeoutMs;
  let delayMs = budget.firstDelayMs;
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (err) {
      if (opts.stopped?.() || clock.now() + delayMs > deadline) throw err;
      opts.onFailure?.(err, failures, delayMs);
      await new Promise<void>((resolve) => clock.after(delayMs, resolve));
      if (opts.stopped?.()) throw err;
      delayMs = Math.min(delayMs * 2, budget.maxDelayMs);
    }
  }
}
