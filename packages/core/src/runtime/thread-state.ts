/**
 * Per-thread runtime state, kept on `globalThis` under a registered symbol so that every copy of
 * this module loaded in one thread (a user module may resolve `@ray-ts/core` to another path than
 * the worker runtime does) sees the same runtime.
 */
import type { CoreClient } from './client.js';
import type { ThreadMetrics } from '../metrics/thread-metrics.js';

export interface FunctionRegistry {
  /** Functions registered by module-level `remote()` calls, by `url#ordinal`. */
  readonly byKey: Map<string, (...args: never[]) => unknown>;
  readonly moduleCounters: Map<string, number>;
  /** Functions loaded by this worker, by FnRef id. */
  readonly byId: Map<string, (...args: never[]) => unknown>;
}

/** Counts a thread's live ObjectRefs (object-ref.ts's RefTracker). */
export interface ThreadRefTracker {
  track(ref: { readonly id: string }): void;
  /** A ref to a large value: memory pressure may free it early. */
  watch(ref: { readonly id: string }): void;
  clear(): void;
  /** Live refs to `id` in this thread. */
  count(id: string): number;
  /** A live ref to `id` made by {@link ThreadRefTracker.intern} earlier, if there is one. */
  interned(id: string): { readonly id: string } | undefined;
  /** Remembers `ref` as the one to hand out for its id while it lives. */
  intern(ref: { readonly id: string }): void;
}

export interface ThreadState {
  /** How this thread reaches its node; undefined before `init()` on a driver. */
  client: CoreClient | undefined;
  /** Counts this thread's live ObjectRefs and tells the node when one is gone. */
  refTracker: ThreadRefTracker | undefined;
  /** Remote functions and classes registered in this thread, by key. */
  readonly registry: FunctionRegistry;
  /** True inside worker threads and worker processes. */
  isWorker: boolean;
  /** The runtime environment's variables that work submitted from this thread inherits (a worker's, or the driver's `init({ runtimeEnv })`). */
  envVars?: Readonly<Record<string, string>>;
  /** Tasks' `maxRetries` when they set none: the driver's cluster config (`taskMaxRetries`); else 3. */
  defaultMaxRetries?: number;
  /** Folders this thread shipped as packages (a driver's `workingDir` and `modules`): real path -> package URI. */
  readonly packageRoots: Map<string, string>;
  /** Where this thread's node unpacks packages (see code-packages.ts); undefined before `init()`. */
  packagesDir?: string;
  /** This thread's user metrics, aggregated until sent to its node (metrics/thread-metrics.ts). */
  metrics?: ThreadMetrics;
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
      packageRoots: new Map(),
    };
    g[KEY] = s;
  }
  return s;
}
