/**
 * ActorPool: a fixed set of actors that work is spread over (Ray's `ray.util.ActorPool`). Each
 * submission goes to an idle actor, or waits for one; an actor is idle again once its result has
 * been taken with `getNext()`/`getNextUnordered()` (or through `map()`), as in Ray.
 */
import { get, wait } from './objects.js';
import { GetTimeoutError, InvalidArgumentError, PoolEmptyError } from '../errors.js';
import { ObjectRef } from '../runtime/object-ref.js';
import { actorIdOf, type ActorHandle } from './remote.js';

/** Submits one value to one actor: `(actor, v) => actor.double.remote(v)`. */
export type PoolFn<A, V, R> = (actor: ActorHandle<A>, value: V) => ObjectRef<R>;

/** Options of {@link ActorPool.getNext} and {@link ActorPool.getNextUnordered}. */
export interface PoolGetOptions {
  /** Give up after this many milliseconds with a GetTimeoutError (default: wait as long as it takes). */
  timeoutMs?: number;
  /**
   * On a timeout, drop the awaited result (its actor becomes idle again) before throwing, so the
   * next call moves on to the next one. Ray's `ignore_if_timedout`.
   */
  ignoreIfTimedOut?: boolean;
}

interface InFlight {
  readonly index: number;
  readonly ref: ObjectRef<unknown>;
  readonly actor: ActorHandle<unknown>;
}

/**
 * Spreads work over a fixed set of actors, as Ray's `ActorPool`.
 * @example
 * const pool = new ActorPool([Doubler.remote(), Doubler.remote()]);
 * for await (const y of pool.map((a, v) => a.double.remote(v), [1, 2, 3, 4])) console.log(y); // 2 4 6 8
 */
export class ActorPool<A> {
  private readonly idle: ActorHandle<A>[];
  private readonly byIndex = new Map<number, InFlight>();
  private readonly pending: [PoolFn<A, unknown, unknown>, unknown][] = [];
  private nextTaskIndex = 0;
  private nextReturnIndex = 0;

  /** @param actors the pool's actors (handles of any one actor class); more can join with {@link push}. */
  constructor(actors: readonly ActorHandle<A>[]) {
    if (!Array.isArray(actors)) throw new InvalidArgumentError('ActorPool takes an array of actor handles.');
    for (const a of actors) checkHandle(a, 'ActorPool');
    const ids = new Set(actors.map((a) => actorIdOf(a)));
    if (ids.size !== actors.length)
      throw new InvalidArgumentError('ActorPool got the same actor twice: give each actor once.');
    this.idle = [...actors];
  }

  /**
   * Applies `fn` to every value on the pool's actors; yields the results in the order of `values`.
   * Results of earlier submissions not yet taken are dropped first, as in Ray.
   */
  async *map<V, R>(fn: PoolFn<A, V, R>, values: Iterable<V>): AsyncGenerator<R, void, undefined> {
    this.dropUntaken();
    for (const v of values) this.submit(fn, v);
    while (this.hasNext()) yield await this.getNext<R>();
  }

  /** Like {@link map}, but yields each result as soon as it is ready, in any order. */
  async *mapUnordered<V, R>(fn: PoolFn<A, V, R>, values: Iterable<V>): AsyncGenerator<R, void, undefined> {
    this.dropUntaken();
    for (const v of values) this.submit(fn, v);
    while (this.hasNext()) yield await this.getNextUnordered<R>();
  }

  /** Schedules `fn(actor, value)` on an idle actor, or once one is free. */
  submit<V, R>(fn: PoolFn<A, V, R>, value: V): void {
    if (typeof fn !== 'function')
      throw new InvalidArgumentError(
        'ActorPool.submit() takes a function (actor, value) => actor.method.remote(value).',
      );
    const actor = this.idle.pop();
    if (!actor) {
      this.pending.push([fn as PoolFn<A, unknown, unknown>, value]);
      return;
    }
    const ref = fn(actor, value);
    if (!(ref instanceof ObjectRef)) {
      this.idle.push(actor);
      throw new InvalidArgumentError(
        'The function given to ActorPool must return the ObjectRef of one actor call, e.g. (a, v) => a.method.remote(v).',
      );
    }
    const index = this.nextTaskIndex++;
    this.byIndex.set(index, { index, ref, actor: actor as ActorHandle<unknown> });
  }

  /** Whether a submitted call's result is still to be taken. */
  hasNext(): boolean {
    return this.byIndex.size > 0;
  }

  /** The result of the oldest submission not yet taken (in submission order). */
  async getNext<R = unknown>(options: PoolGetOptions = {}): Promise<R> {
    if (!this.hasNext())
      throw new PoolEmptyError('ActorPool.getNext(): no submission is waiting for its result; check hasNext() first.');
    const f = this.byIndex.get(this.nextReturnIndex);
    if (!f)
      throw new InvalidArgumentError(
        'ActorPool.getNext() cannot follow getNextUnordered(): take the rest with getNextUnordered().',
      );
    if (options.timeoutMs !== undefined) {
      const { ready } = await wait([f.ref], { timeoutMs: options.timeoutMs });
      if (ready.length === 0) {
        if (options.ignoreIfTimedOut) this.take(f);
        throw new GetTimeoutError(
          `ActorPool.getNext(): no result within ${options.timeoutMs} ms${options.ignoreIfTimedOut ? '; that submission was dropped' : ''}.`,
        );
      }
    }
    this.take(f);
    return (await get(f.ref)) as R;
  }

  /** The first result to be ready among the submissions not yet taken. */
  async getNextUnordered<R = unknown>(options: PoolGetOptions = {}): Promise<R> {
    if (!this.hasNext())
      throw new PoolEmptyError(
        'ActorPool.getNextUnordered(): no submission is waiting for its result; check hasNext() first.',
      );
    const inFlight = [...this.byIndex.values()];
    const { ready } = await wait(
      inFlight.map((f) => f.ref),
      { numReturns: 1, timeoutMs: options.timeoutMs },
    );
    if (ready.length === 0)
      throw new GetTimeoutError(`ActorPool.getNextUnordered(): no result within ${options.timeoutMs} ms.`);
    const f = inFlight.find((x) => x.ref === ready[0])!;
    this.take(f);
    return (await get(f.ref)) as R;
  }

  /** Whether an actor is idle (and no submission is waiting for one). */
  hasFree(): boolean {
    return this.idle.length > 0 && this.pending.length === 0;
  }

  /** Takes an idle actor out of the pool, or undefined when none is free. */
  popIdle(): ActorHandle<A> | undefined {
    return this.hasFree() ? this.idle.pop() : undefined;
  }

  /** Adds an actor to the pool (it takes a waiting submission at once, if any). */
  push(actor: ActorHandle<A>): void {
    checkHandle(actor, 'ActorPool.push()');
    const id = actorIdOf(actor);
    const busy = [...this.byIndex.values()].map((f) => actorIdOf(f.actor));
    if (this.idle.some((a) => actorIdOf(a) === id) || busy.includes(id)) {
      throw new InvalidArgumentError('ActorPool.push(): that actor already belongs to this pool.');
    }
    this.returnActor(actor);
  }

  /** Marks a submission's result taken and frees its actor for the next waiting submission. */
  private take(f: InFlight): void {
    this.byIndex.delete(f.index);
    this.nextReturnIndex = Math.max(this.nextReturnIndex, f.index + 1);
    this.returnActor(f.actor as ActorHandle<A>);
  }

  private returnActor(actor: ActorHandle<A>): void {
    this.idle.push(actor);
    const next = this.pending.shift();
    if (next) this.submit(next[0], next[1]);
  }

  /** Drops the results of earlier submissions that nobody took (Ray's map() does the same). */
  private dropUntaken(): void {
    while (this.hasNext()) {
      const f = this.byIndex.get(this.nextReturnIndex) ?? this.byIndex.values().next().value!;
      this.take(f);
    }
  }
}

function checkHandle(a: unknown, what: string): void {
  try {
    actorIdOf(a as ActorHandle<unknown>);
  } catch {
    throw new InvalidArgumentError(
      `${what} takes actor handles (made by ActorClass.remote()), got ${a === null ? 'null' : typeof a}.`,
    );
  }
}
