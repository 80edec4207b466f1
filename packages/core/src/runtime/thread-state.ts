/**
 * Per-thread runtime state, kept on `globalThis` under a registered symbol so that every copy of
 * this module loaded in one thread (a user module may resolve `@ray-ts/core` to another path than
 * the worker runtime does) sees the same runtime.
 */
import type { CoreClient } from './client.js';
import type { FunctionRegistry } from './functions.js';
import type { RefTracker } from './object-ref.js';

export interface ThreadState {
  /** How this thread reaches its node; undefined before `init()` on a driver. */
  client: CoreClient | undefined;
  /** Counts this thread's live ObjectRefs and tells the node when one is gone. */
  refTracker: RefTracker | undefined;
  /** Remote functions and classes registered in this thread, by key. */
  readonly registry: FunctionRegistry;
  /** True inside worker threads and worker processes. */
  isWorker: boolean;
  /** The runtime environment's variables that work submitted from this thread inherits (a worker's, or the driver's `init({ runtimeEnv })`). */
  envVars?: Readonly<Record<string, string>>;
  /** Tasks' `maxRetries` when they set none: the driver's cluster config (`taskMaxRetries`); else 3. */
  defaultMaxRetries?: number;
}

const KEY = Symbol.for('ray-ts.core.thread-state');

export function threadState(): ThreadState {
  const g = globalThis as unknown as Record<symbol, ThreadState | undefined>;
  let s = g[KEY];
  if (!s) {
    s = {
      client: undefined,
      refTracker: undefined,
      registry: { byKey: new Map(), moduleCounters: new Map(), byId: new Map() },
      isWorker: false,
    };
    g[KEY] = s;
  }
  return s;
}
