/**
 * Id generation. Ids are strings: a random per-thread prefix plus a counter, so they are unique
 * across the threads and processes of a cluster without coordination, and cheap to make.
 */

export interface IdGenerator {
  /** A new id with the given kind prefix, e.g. `task_3f9a0c12_1a`. */
  next(kind: IdKind): string;
}

export type IdKind = 'task' | 'obj' | 'actor' | 'node' | 'job' | 'worker' | 'fn' | 'pg';

/** The default generator: random 48-bit prefix per thread, then a counter. */
export class RandomIdGenerator implements IdGenerator {
  private readonly prefix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  private counter = 0;
  next(kind: IdKind): string {
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
