/**
 * The ObjectRef arguments of work: pinned while the work may run, waited for until ready, pulled
 * to this node before the work runs here (multi-node), and resolved to values at dispatch.
 */
import { ObjectLostError } from '../errors.js';
import type { ArgSpec } from '../protocol/specs.js';
import { nestedRefs, type StoredValue } from '../runtime/serialization.js';
import type { NodeContext } from './context.js';
import { errorValue } from './failures.js';
import { transition, type Work } from './work.js';

export class Dependencies {
  constructor(private readonly ctx: NodeContext) {}

  /** Keeps the arguments' objects (and refs nested in inline ones) alive. */
  pin(args: ArgSpec[]): void {
    const store = this.ctx.store;
    for (const a of args) {
      if ('r' in a) store.pin(a.r);
      else for (const n of nestedRefs(a.v)) store.pin(n);
    }
  }

  unpin(args: ArgSpec[]): void {
    const store = this.ctx.store;
    for (const a of args) {
      if ('r' in a) store.unpin(a.r);
      else for (const n of nestedRefs(a.v)) store.unpin(n);
    }
  }

  /**
   * Puts the work in `waiting` until its ObjectRef arguments are ready, then calls `ready` (at
   * once when none is pending). A lost argument is not waited for: dispatch reports it.
   */
  waitFor(work: Work, ready: (work: Work) => void): void {
    transition(work, 'waiting');
    const store = this.ctx.store;
    let pending = 0;
    for (const a of work.args) {
      if ('r' in a && !store.isReady(a.r)) {
        if (!store.has(a.r)) continue; // lost: found at dispatch
        pending++;
        store.onReady(a.r, () => {
          if (--work.depsLeft === 0 && work.state === 'waiting' && !work.cancelled) ready(work);
        });
      }
    }
    work.depsLeft = pending;
    if (pending === 0) ready(work);
  }

  /**
   * True if the work's ref arguments are on this node. Else the work waits while they are pulled
   * here, then `ready` queues it again (or `failed` gets the error of one that cannot be fetched).
   */
  local(work: Work, ready: (work: Work) => void, failed: (work: Work, err: StoredValue) => void): boolean {
    const store = this.ctx.store;
    let missing: string[] | undefined;
    for (const a of work.args)
      if ('r' in a && store.has(a.r) && !store.isLocal(a.r) && store.isReady(a.r)) (missing ??= []).push(a.r);
    if (!missing) return true;
    transition(work, 'waiting');
    this.ctx.cluster!.peers.pull(missing).then(
      () => {
        if (work.state === 'waiting' && !work.cancelled) ready(work);
      },
      (err: unknown) => {
        if (work.state !== 'done') failed(work, errorValue(err));
      },
    );
    return false;
  }

  /** Resolves arguments to stored values; returns the first dependency error instead, if any. */
  resolve(args: ArgSpec[]): { values: StoredValue[] } | { error: StoredValue } {
    const values: StoredValue[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if ('v' in a) values[i] = a.v;
      else {
        const v = this.ctx.store.get(a.r);
        if (!v) {
          return {
            error: errorValue(
              new ObjectLostError(
                `Object ${a.r}, argument ${i + 1}, is lost: no reference to it was left, so it was freed. Keep a ref to it until the task that takes it has been submitted.`,
                { objectId: a.r, nodeId: this.ctx.nodeId },
              ),
            ),
          };
        }
        if (v.t === 'err') return { error: v };
        values[i] = v;
      }
    }
    return { values };
  }
}
