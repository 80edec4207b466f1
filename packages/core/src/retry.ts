/**
 * One retry loop for core: call an attempt every `intervalMs` until it succeeds or `timeoutMs`
 * have passed. Budgets come from config.ts, so that the same behaviour has the same budget
 * everywhere and tests can shorten it.
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
