/**
 * Objects: `get`, `put`, `wait` and `cancel`, from the driver or inside tasks and actors.
 */
import { InvalidArgumentError } from '../errors.js';
import { ids } from '../ids.js';
import { checkKnownKeys } from '../options.js';
import { ObjectRef, watchedRef } from '../runtime/object-ref.js';
import { deserialize, serialize } from '../runtime/serialization.js';
import { requireClient, reviver } from './remote.js';

/** Options of {@link get}. */
export interface GetOptions {
  /** Fail with GetTimeoutError if the values are not ready within this many milliseconds. */
  timeoutMs?: number;
}

type Unref<T> = T extends ObjectRef<infer V> ? V : never;

function checkTimeout(what: string, t: unknown): number | undefined {
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !(t >= 0)) {
    throw new InvalidArgumentError(`Invalid timeoutMs for ${what}: ${String(t)}. It must be a number >= 0.`);
  }
  return t;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Promise) return 'a Promise (await it instead of passing it to get())';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

/**
 * Waits for the values of one ref or an array of refs. Throws the task's error (a TaskError with
 * the remote stack) if it failed, and GetTimeoutError past `timeoutMs`.
 * @example const [a, b] = await get([f.remote(1), f.remote(2)]);
 */
export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export function get<const R extends readonly ObjectRef<unknown>[]>(
  refs: R,
  options?: GetOptions,
): Promise<{ -readonly [K in keyof R]: Unref<R[K]> }>;
export async function get(
  refOrRefs: ObjectRef<unknown> | readonly ObjectRef<unknown>[],
  options: GetOptions = {},
): Promise<unknown> {
  const single = !Array.isArray(refOrRefs);
  const refs = (single ? [refOrRefs] : refOrRefs) as readonly unknown[];
  for (let i = 0; i < refs.length; i++) {
    if (!(refs[i] instanceof ObjectRef)) {
      throw new InvalidArgumentError(
        `get() takes an ObjectRef or an array of ObjectRefs; got ${describeValue(refs[i])}${single ? '' : ` at index ${i}`}.`,
      );
    }
  }
  checkKnownKeys('get()', options, ['timeoutMs']);
  const timeoutMs = checkTimeout('get()', options.timeoutMs);
  const client = requireClient('get()');
  const values = await client.get(
    (refs as ObjectRef<unknown>[]).map((r) => r.id),
    timeoutMs,
  );
  const out = values.map((v) => deserialize(v, reviver));
  return single ? out[0] : out;
}

/**
 * Stores a value in the object store and returns a ref to it, e.g. to pass one large value to
 * many tasks without copying it each time.
 * @throws ObjectStoreFullError when the store is full and spilling to disk fails (the spill
 * directory is full): nothing is stored. Inside a task, the ref's `get` throws it instead.
 */
export function put<T>(value: T): ObjectRef<T> {
  if (value instanceof ObjectRef) {
    throw new InvalidArgumentError(
      'put() of an ObjectRef is not allowed: pass the ref itself, or wrap it in an object or array.',
    );
  }
  const client = requireClient('put()');
  const stored = serialize(value, 'the value given to put()', client.inlineObjectMaxBytes);
  const id = ids().next('obj');
  client.put(id, stored);
  const large = (stored.t === 'raw' || stored.t === 'v8') && stored.b.byteLength >= 1024 * 1024;
  return large ? watchedRef<T>(id) : new ObjectRef<T>(id);
}

/** Options of {@link wait}. */
export interface WaitOptions {
  /** How many ready refs to wait for (default 1). */
  numReturns?: number;
  /** Return what is ready after this many milliseconds (default: wait as long as it takes). */
  timeoutMs?: number;
  /**
   * Kept for Ray compatibility. On a multi-node cluster an object counts as ready once its value
   * is on this node (fetched meanwhile), as with Ray's default `fetchLocal: true`; on one node
   * values are always local.
   */
  fetchLocal?: boolean;
}

/**
 * Waits until `numReturns` of `refs` are ready (or `timeoutMs` passes) and splits them into ready
 * and not ready, each in the order given.
 * @example const { ready, notReady } = await wait(refs, { numReturns: 1 });
 */
export async function wait<T>(
  refs: readonly ObjectRef<T>[],
  options: WaitOptions = {},
): Promise<{ ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] }> {
  if (!Array.isArray(refs) || refs.some((r) => !(r instanceof ObjectRef))) {
    throw new InvalidArgumentError('wait() takes an array of ObjectRefs.');
  }
  checkKnownKeys('wait()', options, ['numReturns', 'timeoutMs', 'fetchLocal']);
  const numReturns = options.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 0 || numReturns > refs.length) {
    throw new InvalidArgumentError(
      `Invalid numReturns for wait(): ${numReturns}. It must be an integer from 0 to the number of refs (${refs.length}).`,
    );
  }
  const idList = refs.map((r) => r.id);
  if (new Set(idList).size !== idList.length) {
    throw new InvalidArgumentError('wait() takes unique refs: the same ref appears twice.');
  }
  const timeoutMs = checkTimeout('wait()', options.timeoutMs);
  const readyIds = new Set(await requireClient('wait()').wait(idList, numReturns, timeoutMs));
  const ready: ObjectRef<T>[] = [];
  const notReady: ObjectRef<T>[] = [];
  for (const r of refs) {
    if (readyIds.has(r.id) && ready.length < Math.max(numReturns, 1)) ready.push(r);
    else notReady.push(r);
  }
  return { ready, notReady };
}

/** Options of {@link cancel}. */
export interface CancelOptions {
  /** Stop the task's worker at once (kills even a busy loop; the worker is replaced). Default false. */
  force?: boolean;
  /** Cancel the tasks it submitted too (default true). */
  recursive?: boolean;
}

/**
 * Cancels the task that produces `ref`. A queued task never runs; a running one is asked to stop
 * (its `getRuntimeContext().cancelSignal` aborts) or, with `force`, its worker is stopped.
 * `get(ref)` then throws TaskCancelledError. Finished tasks are not affected.
 */
export async function cancel(ref: ObjectRef<unknown>, options: CancelOptions = {}): Promise<void> {
  if (!(ref instanceof ObjectRef)) throw new InvalidArgumentError('cancel() takes an ObjectRef.');
  checkKnownKeys('cancel()', options, ['force', 'recursive']);
  await requireClient('cancel()').cancel(ref.id, options.force === true, options.recursive !== false);
}
