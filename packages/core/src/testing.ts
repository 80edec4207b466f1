/**
 * Helpers for tests of ray-ts and of libraries built on it: waiting on conditions, and a look
 * at the embedded node's internals (object store and worker counts).
 */
import { embeddedNode } from './api.js';
import type { ObjectStoreStats } from './object-store.js';
import { threadState } from './state.js';

export type { ObjectStoreStats } from './object-store.js';
export { setIdGenerator, type IdGenerator, type IdKind } from './ids.js';
import type { IdGenerator, IdKind } from './ids.js';

/** Ids `kind_1`, `kind_2`, ... in order: deterministic ids for unit tests (see `setIdGenerator`). */
export class SequentialIdGenerator implements IdGenerator {
  private n = 0;
  next(kind: IdKind): string {
    return `${kind}_${++this.n}`;
  }
}

/** Polls `cond` until it returns truthy (or a resolved truthy promise), or fails after `timeoutMs`. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`waitFor(${what}) timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The embedded node's object store counters; throws when no embedded cluster runs. */
export function objectStoreStats(): ObjectStoreStats {
  const node = embeddedNode();
  if (!node) throw new Error('objectStoreStats() needs an embedded cluster: call init() first.');
  return node.store.stats();
}

/** Worker, task and actor counts of the embedded node. */
export function nodeDebugState(): ReturnType<NonNullable<ReturnType<typeof embeddedNode>>['debugState']> {
  const node = embeddedNode();
  if (!node) throw new Error('nodeDebugState() needs an embedded cluster: call init() first.');
  return node.debugState();
}

/** What each busy worker of the embedded node holds and what waits (for diagnosing a stuck job). */
export function nodeDebugDump(): unknown {
  const node = embeddedNode();
  if (!node) throw new Error('nodeDebugDump() needs an embedded cluster: call init() first.');
  return node.debugDump();
}

/** Live ObjectRef instances to `id` in this thread. */
export function localRefCount(id: string): number {
  return threadState().refTracker?.count(id) ?? 0;
}
