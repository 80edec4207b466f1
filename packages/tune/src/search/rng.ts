/**
 * Seeded randomness for search spaces, searchers and schedulers. The generator is core's
 * `SeededRng` (Tune exports it under the same name); its state is plain data, so a searcher's
 * save() writes it as JSON and restore() continues the same sequence.
 */
import type { SeededRng, SeededRngState } from '@ray-ts/core';

/**
 * A source of uniform random numbers in [0, 1). Domains and searchers draw only through this
 * interface, so a test can pass a fixed sequence and `{ random: Math.random }` works too; a
 * `SeededRng` from `@ray-ts/core` (or Tune) gives reproducible runs.
 */
export interface Rng {
  /** A uniform number in [0, 1). */
  random(): number;
}

/**
 * Puts back a generator state that save() wrote. A state saved before Tune drew from core's
 * generator is one integer (the old generator's whole state): the stream restarts with it as the
 * seed, so the restored experiment goes on reproducibly, though with other numbers than before.
 * @throws InvalidArgumentError (from core) when `saved` is neither.
 */
export function restoreRng(rng: SeededRng, saved: unknown): void {
  if (typeof saved === 'number') rng.seed(saved);
  else rng.setState(saved as SeededRngState);
}

/** A uniform integer in [0, n). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.random() * n));
}

/** A standard normal draw (Box-Muller over any {@link Rng}, so no cached spare). */
export function randomNormal(rng: Rng): number {
  const u1 = 1 - rng.random(); // (0, 1]: log(0) is -Infinity
  const u2 = rng.random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
