/**
 * Id generation. Ids are strings: a random per-thread prefix plus a counter, so they are unique
 * across the threads and processes of a cluster without coordination, and cheap to make.
 * Object ids have one exact format ({@link isObjectId}), checked wherever one comes from another
 * process and before one names a file (a spilled object's).
 */
import { threadId } from 'node:worker_threads';
import { InvalidArgumentError } from './errors.js';

export interface IdGenerator {
  /**
   * A new id with the given kind prefix, e.g. `task_3f9a0c121a2b0`: the kind, `_`, then 1 to 40
   * lowercase letters and digits (object ids made from other forms are refused: {@link isObjectId}).
   */
  next(kind: IdKind): string;
}

export type IdKind = 'task' | 'obj' | 'actor' | 'node' | 'job' | 'worker' | 'fn' | 'pg';

/**
 * 48 random bits as 12 hex digits. Ids need to be unique, not secret (every id shows its thread's
 * prefix), so this is Math.random, which V8 seeds per thread from the OS's entropy, mixed with the
 * process id, thread id and clock so that threads differ even under a fixed `--random-seed`. Web
 * Crypto would load its modules (5-25 ms) on the way from init() to its first worker thread.
 */
function randomPrefix(): string {
  const mix =
    (Math.imul(process.pid, 0x9e3779b1) +
      Math.imul(threadId, 0x85ebca6b) +
      Number(process.hrtime.bigint() % 0xffffffn)) >>>
    0;
  const hi = ((Math.random() * 0x1000000) ^ (mix & 0xffffff)) >>> 0;
  const lo = ((Math.random() * 0x1000000) ^ (mix >>> 8)) & 0xffffff;
  return hi.toString(16).padStart(6, '0') + lo.toString(16).padStart(6, '0');
}

/** The default generator: random 48-bit prefix per thread (drawn at its first id), then a counter. */
export class RandomIdGenerator implements IdGenerator {
  private prefix: string | undefined;
  private counter = 0;
  next(kind: IdKind): string {
    this.prefix ??= randomPrefix();
    return `${kind}_${this.prefix}${(this.counter++).toString(36)}`;
  }
}

let shared: IdGenerator = new RandomIdGenerator();
/** The id generator of this thread. */
export function ids(): IdGenerator {
  return shared;
}
/** Replaces this thread's id generator (tests use a deterministic one). */
export function setIdGenerator(gen: IdGenerator): void {
  shared = gen;
}

/**
 * An object's id, in the forms the generators make and nothing else: `obj_<name>` (a `put`) or
 * `task_<name>.<index>` (a task's return), `<name>` being 1 to 40 lowercase letters and digits
 * and `<index>` up to 5 digits. So an id can name a file (no `/`, `.` only before the index).
 */
const OBJECT_ID = /^(?:obj_[0-9a-z]{1,40}|task_[0-9a-z]{1,40}\.[0-9]{1,5})$/;

/** Whether `id` is an object id in its exact format (see {@link OBJECT_ID}). */
export function isObjectId(id: unknown): boolean {
  return typeof id === 'string' && OBJECT_ID.test(id);
}

/**
 * Throws InvalidArgumentError unless every id is an object id; `from` says where they came from
 * (e.g. `a message from node node_...`). Ids from other processes are checked with it before use.
 */
export function checkObjectIds(ids: Iterable<string>, from: string): void {
  for (const id of ids) {
    if (!isObjectId(id))
      throw new InvalidArgumentError(
        `Refused ${describeId(id)} in ${from}: not an object id (obj_<name> or task_<name>.<index>, ` +
          `<name> 1-40 lowercase letters and digits). The sender is not a ray-ts node of this version, or is faulty.`,
      );
  }
}

/** An untrusted id for a message: quoted, cut short, control characters escaped. */
function describeId(id: unknown): string {
  const s = String(id);
  return `object id ${JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s)}`;
}
