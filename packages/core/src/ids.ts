/**
 * Id generation. Ids are strings: a random per-thread prefix plus a counter, so they are unique
 * across the threads and processes of a cluster without coordination, and cheap to make.
 * Object ids have one exact format ({@link isObjectId}), checked wherever one comes from another
 * process and before one names a file (a spilled object's).
 */
import { InvalidArgumentError } from './errors.js';

export interface IdGenerator {
  /**
   * A new id with the given kind prefix, e.g. `task_3f9a0c121a2b0`: the kind, `_`, then 1 to 40
   * lowercase letters and digits (object ids made from other forms are refused: {@link isObjectId}).
   */
  next(kind: IdKind): string;
}

export type IdKind = 'task' | 'obj' | 'actor' | 'node' | 'job' | 'worker' | 'fn' | 'pg';

/** The default generator: random 48-bit prefix per thread, then a counter. */
export class RandomIdGenerator implements IdGenerator {
  // Drawn at the first id, not at import: Web Crypto's modules load then, and a worker thread that
  // makes no ids (most) never loads them while it boots.
  private prefix: string | undefined;
  private counter = 0;
  next(kind: IdKind): string {
    this.prefix ??= Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
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
