import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { randomSeed, SeededRng } from './random.js';

const draw = (rng: SeededRng, n: number, f: (r: SeededRng) => number = (r) => r.next()): number[] =>
  Array.from({ length: n }, () => f(rng));

describe('SeededRng', () => {
  it('gives the known sfc32/splitmix32 stream for a seed (RLlib checkpoints and seeded tests rely on it)', () => {
    const rng = new SeededRng(42);
    expect(draw(rng, 3, (r) => r.nextUint32())).toEqual([1028872839, 2516511472, 400437680]);
    expect(rng.next()).toBe(0.1986696231894315);
    expect(rng.int(10)).toBe(4);
    expect([rng.normal(), rng.normal()]).toEqual([-0.5590495798395009, 0.1256833080825452]);
    expect(rng.uniform(-1, 1)).toBe(-0.5622493815438034);
    expect(rng.exponential()).toBe(0.4336837122844266);
    expect(draw(new SeededRng(0), 2, (r) => r.nextUint32())).toEqual([4205396811, 3543653536]);
    // Large, negative and fractional seeds are used whole (through their bits).
    expect(new SeededRng(2 ** 40 + 3).nextUint32()).toBe(1681147348);
    expect(new SeededRng(-7).nextUint32()).toBe(2286482262);
    expect(new SeededRng(0.5).nextUint32()).toBe(4056963831);
  });

  it('repeats a stream for a seed, restarts it with seed(), and gives unrelated streams for nearby seeds', () => {
    expect(draw(new SeededRng(7), 20)).toEqual(draw(new SeededRng(7), 20));
    const rng = new SeededRng(1);
    draw(rng, 5);
    rng.seed(7);
    expect(draw(rng, 20)).toEqual(draw(new SeededRng(7), 20));

    // Nearby seeds (as runners use: seed * 7919 + index) must not give shifted or similar streams.
    const streams = Array.from({ length: 8 }, (_, s) => draw(new SeededRng(s), 200));
    for (let i = 0; i < streams.length; i++) {
      for (let j = i + 1; j < streams.length; j++) {
        const a = streams[i];
        const b = streams[j];
        expect(a.filter((x) => b.includes(x))).toEqual([]);
        const ma = a.reduce((s, x) => s + x, 0) / a.length;
        const mb = b.reduce((s, x) => s + x, 0) / b.length;
        let cov = 0;
        for (let k = 0; k < a.length; k++) cov += (a[k] - ma) * (b[k] - mb);
        // Correlation of independent uniforms over 200 draws: |r| < 0.25 with overwhelming odds.
        expect(Math.abs(cov / a.length / (1 / 12))).toBeLessThan(0.25);
      }
    }
  });

  it('draws floats in [0, 1), unbiased ints in [0, n) and standard normals', () => {
    const rng = new SeededRng(3);
    const xs = draw(rng, 20000);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);

    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[rng.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    expect(rng.int(1)).toBe(0);
    expect(Number.isInteger(rng.int(2 ** 32))).toBe(true);

    const zs = draw(rng, 20000, (r) => r.normal());
    const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
    const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length;
    expect(mean).toBeCloseTo(0, 1);
    expect(variance).toBeCloseTo(1, 1);

    const us = draw(rng, 1000, (r) => r.uniform(-2, 3));
    expect(us.every((u) => u >= -2 && u < 3)).toBe(true);
    expect(draw(rng, 1000, (r) => r.exponential()).every((e) => e >= 0)).toBe(true);
  });

  it('random() is next() under the name Math.random has', () => {
    expect(draw(new SeededRng(11), 10, (r) => r.random())).toEqual(draw(new SeededRng(11), 10));
  });

  it('saves its state as plain data (JSON, structuredClone) and continues exactly from it', () => {
    const rng = new SeededRng(5);
    rng.normal(); // leaves a spare normal in the state
    const saved = rng.getState();
    const expected = [rng.normal(), rng.next(), rng.int(10), rng.nextUint32()];
    for (const copy of [structuredClone(saved), JSON.parse(JSON.stringify(saved)) as typeof saved]) {
      const other = new SeededRng(0);
      other.setState(copy);
      expect([other.normal(), other.next(), other.int(10), other.nextUint32()]).toEqual(expected);
    }
    // Unsigned words (as another writer may store them) restore the same stream.
    const unsigned = { s: saved.s.map((w) => w >>> 0) as unknown as typeof saved.s, spare: saved.spare };
    const other = new SeededRng(0);
    other.setState(unsigned);
    expect([other.normal(), other.next()]).toEqual(expected.slice(0, 2));
  });

  it('rejects bad seeds, bounds and states with InvalidArgumentError, saying what it wants', () => {
    expect(() => new SeededRng(NaN)).toThrow(InvalidArgumentError);
    expect(() => new SeededRng(Infinity)).toThrow(/seed must be a finite number, got Infinity/);
    expect(() => new SeededRng(1).seed('1' as unknown as number)).toThrow(InvalidArgumentError);
    expect(() => new SeededRng(1).int(0)).toThrow(/SeededRng\.int\(n\) needs an integer n in \[1, 2\^32\], got 0/);
    expect(() => new SeededRng(1).int(2.5)).toThrow(InvalidArgumentError);
    expect(() => new SeededRng(1).int(2 ** 32 + 1)).toThrow(InvalidArgumentError);
    const rng = new SeededRng(1);
    for (const bad of [
      42,
      null,
      {},
      { s: [1, 2, 3], spare: null },
      { s: [1, 2, 3, 0.5], spare: null },
      { s: [1, 2, 3, 4] },
    ]) {
      expect(() => rng.setState(bad as never)).toThrow(/SeededRng state must be an object from getState\(\)/);
    }
  });

  it('without a seed, starts from a random one', () => {
    const seeds = new Set(Array.from({ length: 10 }, () => randomSeed()));
    expect(seeds.size).toBeGreaterThan(1);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
    expect(new SeededRng().next()).not.toBe(new SeededRng().next());
  });
});
