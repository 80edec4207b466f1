import { describe, expect, it } from 'vitest';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { PrioritizedReplayBuffer, ReplayBuffer, type TransitionBatch } from './replay-buffer.js';

/** `count` transitions whose every column encodes its id (`start + k`), obsDim 2. */
function batch(start: number, count: number): TransitionBatch {
  const ids = Array.from({ length: count }, (_, k) => start + k);
  return {
    count,
    obsDim: 2,
    obs: Float32Array.from(ids.flatMap((i) => [i, -i])),
    nextObs: Float32Array.from(ids.flatMap((i) => [i + 0.5, -i - 0.5])),
    actions: Float32Array.from(ids, (i) => i % 2),
    rewards: Float32Array.from(ids, (i) => i * 10),
    dones: Float32Array.from(ids, (i) => (i % 3 === 0 ? 1 : 0)),
    discounts: Float32Array.from(ids, (i) => i / 1000),
  };
}

/** Each sampled row's columns belong to the same transition. */
function expectRowsConsistent(s: ReturnType<ReplayBuffer['sample']>): number[] {
  const ids: number[] = [];
  for (let k = 0; k < s.count; k++) {
    const id = s.obs[2 * k];
    expect([s.obs[2 * k + 1], s.nextObs[2 * k], s.nextObs[2 * k + 1], s.actions[k], s.rewards[k], s.dones[k]]).toEqual([
      -id,
      id + 0.5,
      -id - 0.5,
      id % 2,
      id * 10,
      id % 3 === 0 ? 1 : 0,
    ]);
    expect(s.discounts[k]).toBeCloseTo(id / 1000, 6);
    ids.push(id);
  }
  return ids;
}

describe('ReplayBuffer', () => {
  it('keeps the last `capacity` transitions and samples whole rows uniformly', () => {
    const buf = new ReplayBuffer({ capacity: 10, obsDim: 2, seed: 1 });
    buf.add(batch(0, 7));
    expect(buf.size).toBe(7);
    buf.add(batch(7, 8)); // 15 added: 0..4 overwritten
    expect(buf.size).toBe(10);
    expect(buf.numAdded).toBe(15);
    const s = buf.sample(2000);
    expect(s.weights.every((w) => w === 1)).toBe(true);
    const ids = expectRowsConsistent(s);
    expect(new Set(ids)).toEqual(new Set([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
    // Roughly uniform: each of the 10 ids about 200 times.
    for (let id = 5; id < 15; id++) {
      const c = ids.filter((x) => x === id).length;
      expect(c).toBeGreaterThan(130);
      expect(c).toBeLessThan(270);
    }
    expect([...s.indices].every((i) => i >= 0 && i < 10)).toBe(true);
  });

  it('samples the same rows for the same seed, and resumes its stream from its state', () => {
    const a = new ReplayBuffer({ capacity: 100, obsDim: 2, seed: 7 });
    const b = new ReplayBuffer({ capacity: 100, obsDim: 2, seed: 7 });
    const c = new ReplayBuffer({ capacity: 100, obsDim: 2, seed: 8 });
    for (const x of [a, b, c]) x.add(batch(0, 100));
    const first = a.sample(16).indices;
    expect(b.sample(16).indices).toEqual(first);
    expect(c.sample(16).indices).not.toEqual(first);
    const state = a.getRngState();
    const next = a.sample(16).indices;
    b.setRngState(state);
    expect(b.sample(16).indices).toEqual(next);
  });

  it('explains bad use', () => {
    expect(() => new ReplayBuffer({ capacity: 0, obsDim: 2 })).toThrow(RLlibInvalidArgumentError);
    const buf = new ReplayBuffer({ capacity: 4, obsDim: 3 });
    expect(() => buf.sample(1)).toThrow(/empty/);
    expect(() => buf.add(batch(0, 1))).toThrow(/2 floats per observation, the buffer 3/);
  });
});

describe('PrioritizedReplayBuffer', () => {
  it('gives new transitions the highest priority so far', () => {
    const buf = new PrioritizedReplayBuffer({ capacity: 8, obsDim: 2, alpha: 0.6, seed: 1 });
    buf.add(batch(0, 4));
    expect(buf.priority(0)).toBe(1);
    buf.updatePriorities([0, 1], [5, 0.5]);
    buf.add(batch(4, 1));
    expect(buf.priority(4)).toBeCloseTo(5, 5);
    expect(buf.priority(1)).toBeCloseTo(0.5, 5);
    expect(buf.totalPriority).toBeCloseTo(2 * 5 ** 0.6 + 0.5 ** 0.6 + 2, 5);
  });

  it('samples in proportion to priority^alpha', () => {
    const buf = new PrioritizedReplayBuffer({ capacity: 4, obsDim: 2, alpha: 0.5, epsilon: 1e-9, seed: 3 });
    buf.add(batch(0, 4));
    buf.updatePriorities([0, 1, 2, 3], [1, 4, 9, 16]); // p^0.5 = 1, 2, 3, 4: P = 0.1, 0.2, 0.3, 0.4
    const s = buf.sample(20_000, { beta: 0 });
    const ids = expectRowsConsistent(s);
    const freq = [0, 1, 2, 3].map((id) => ids.filter((x) => x === id).length / ids.length);
    expect(freq[0]).toBeCloseTo(0.1, 2);
    expect(freq[1]).toBeCloseTo(0.2, 2);
    expect(freq[2]).toBeCloseTo(0.3, 2);
    expect(freq[3]).toBeCloseTo(0.4, 2);
    expect(s.weights.every((w) => w === 1)).toBe(true); // beta 0: no correction
  });

  it('returns importance weights (N P(i))^-beta normalized by the largest', () => {
    const buf = new PrioritizedReplayBuffer({ capacity: 4, obsDim: 2, alpha: 1, epsilon: 1e-9, seed: 4 });
    buf.add(batch(0, 4));
    buf.updatePriorities([0, 1, 2, 3], [1, 2, 3, 4]); // P = 0.1 .. 0.4
    const beta = 0.5;
    const s = buf.sample(400, { beta });
    const maxW = (4 * 0.1) ** -beta; // the rarest transition has the largest weight
    const seen = new Set<number>();
    for (let k = 0; k < s.count; k++) {
      const id = s.obs[2 * k];
      seen.add(id);
      expect(s.weights[k]).toBeCloseTo(((4 * (id + 1)) / 10) ** -beta / maxW, 5);
    }
    expect(seen.size).toBe(4);
    expect(Math.max(...s.weights)).toBeCloseTo(1, 6);
  });

  it('with alpha 0 samples uniformly, whatever the priorities', () => {
    const buf = new PrioritizedReplayBuffer({ capacity: 4, obsDim: 2, alpha: 0, seed: 5 });
    buf.add(batch(0, 4));
    buf.updatePriorities([0, 1, 2, 3], [0.01, 1, 100, 1000]);
    const s = buf.sample(8000, { beta: 1 });
    const ids = expectRowsConsistent(s);
    for (let id = 0; id < 4; id++) expect(ids.filter((x) => x === id).length / ids.length).toBeCloseTo(0.25, 1);
    expect(s.weights.every((w) => Math.abs(w - 1) < 1e-6)).toBe(true);
  });

  it('keeps its trees right when the ring wraps (capacity not a power of 2)', () => {
    const buf = new PrioritizedReplayBuffer({ capacity: 5, obsDim: 2, alpha: 1, epsilon: 1e-9, seed: 6 });
    buf.add(batch(0, 5));
    buf.updatePriorities([0, 1, 2, 3, 4], [1, 1, 1, 1, 100]);
    buf.add(batch(5, 1)); // overwrites slot 0 with the max priority, 100
    expect(buf.totalPriority).toBeCloseTo(203, 6);
    const ids = expectRowsConsistent(buf.sample(2000, { beta: 0.4 }));
    expect(ids).not.toContain(0);
    const heavy = ids.filter((x) => x === 4 || x === 5).length / ids.length;
    expect(heavy).toBeGreaterThan(0.95);
  });

  it('samples the same rows for the same seed', () => {
    const make = () => {
      const b = new PrioritizedReplayBuffer({ capacity: 64, obsDim: 2, seed: 9 });
      b.add(batch(0, 64));
      b.updatePriorities(
        Array.from({ length: 64 }, (_, i) => i),
        Array.from({ length: 64 }, (_, i) => (i % 7) + 0.1),
      );
      return b;
    };
    expect(make().sample(32, { beta: 0.4 }).indices).toEqual(make().sample(32, { beta: 0.4 }).indices);
  });

  it('explains bad use', () => {
    const buf = new PrioritizedReplayBuffer({ capacity: 4, obsDim: 2 });
    buf.add(batch(0, 2));
    expect(() => buf.updatePriorities([0, 1], [1])).toThrow(/2 indices but 1 TD errors/);
    expect(() => buf.updatePriorities([3], [1])).toThrow(/not a filled slot/);
    expect(() => buf.sample(2, { beta: -1 })).toThrow(/beta/);
    expect(() => new PrioritizedReplayBuffer({ capacity: 4, obsDim: 2, alpha: -1 })).toThrow(RLlibInvalidArgumentError);
  });
});

describe('ReplayBuffer contents (storeBufferInCheckpoints)', () => {
  it("a buffer refilled from another's contents (through structuredClone) samples and wraps as the original", () => {
    for (const make of [
      () => new ReplayBuffer({ capacity: 16, obsDim: 2, seed: 3 }),
      () => new PrioritizedReplayBuffer({ capacity: 16, obsDim: 2, alpha: 0.6, seed: 3 }),
    ]) {
      const a = make();
      a.add(batch(0, 20)); // wrapped: slots hold ids 16..19 then 4..15
      if (a instanceof PrioritizedReplayBuffer) a.updatePriorities([0, 3, 9], [5, 0.1, 2]);
      const b = make();
      b.setContents(structuredClone(a.getContents()));
      b.setRngState(a.getRngState());
      expect(b.size).toBe(16);
      expect(b.numAdded).toBe(20);
      const [sa, sb] =
        a instanceof PrioritizedReplayBuffer
          ? [a.sample(32, { beta: 0.5 }), (b as PrioritizedReplayBuffer).sample(32, { beta: 0.5 })]
          : [a.sample(32), b.sample(32)];
      expect(sb.indices).toEqual(sa.indices);
      expect(sb.obs).toEqual(sa.obs);
      expect(sb.weights).toEqual(sa.weights);
      // Both overwrite the same (oldest) slot next.
      a.add(batch(100, 1));
      b.add(batch(100, 1));
      expect(b.getContents().obs).toEqual(a.getContents().obs);
    }
  });

  it('a larger buffer fills its free slots after the saved rows; a smaller one says what capacity it needs', () => {
    const a = new ReplayBuffer({ capacity: 8, obsDim: 2 });
    a.add(batch(0, 5));
    const big = new ReplayBuffer({ capacity: 20, obsDim: 2 });
    big.setContents(a.getContents());
    big.add(batch(50, 1));
    expect(big.size).toBe(6);
    expect(Array.from(big.getContents().obs.subarray(10, 12))).toEqual([50, -50]);
    const small = new ReplayBuffer({ capacity: 4, obsDim: 2 });
    expect(() => small.setContents(a.getContents())).toThrow(/hold 5 transitions.*capacity to at least 5/);
    expect(() => new ReplayBuffer({ capacity: 8, obsDim: 3 }).setContents(a.getContents())).toThrow(
      /2 floats per observation/,
    );
  });
});
