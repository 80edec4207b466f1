import { InvalidArgumentError, SeededRng, type SeededRngState } from '@ray-ts/core';
import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import { SeededRng as TuneSeededRng } from './index.js';
import { restoreRng } from './rng.js';
import {
  choice,
  gridSearch,
  loguniform,
  lograndint,
  qloguniform,
  qlograndint,
  qrandint,
  qrandn,
  quniform,
  randint,
  randn,
  sampleFrom,
  uniform,
  type Domain,
} from './space.js';
import {
  countGridVariants,
  findDomains,
  findGridDimensions,
  flattenConfig,
  presetValues,
  resolveSpace,
  unflattenConfig,
} from './resolve.js';

const N = 5000;

function draw<T>(domain: Domain<T>, seed = 1, n = N): T[] {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, () => domain.sample(rng));
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TuneInvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('expected a TuneInvalidArgumentError');
}

describe('SeededRng', () => {
  it("is core's generator, exported by Tune under the same name", () => {
    expect(TuneSeededRng).toBe(SeededRng);
  });

  it('repeats a sequence for a seed, differs across seeds, and continues from a saved state', () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const seqA = Array.from({ length: 10 }, () => a.random());
    expect(Array.from({ length: 10 }, () => b.random())).toEqual(seqA);
    expect(new SeededRng(43).random()).not.toBe(seqA[0]);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);

    const state = a.getState();
    const next = [a.random(), a.random()];
    const c = new SeededRng(0);
    c.setState(JSON.parse(JSON.stringify(state)) as SeededRngState);
    expect([c.random(), c.random()]).toEqual(next);
  });

  it("restores a saved state, or a state saved by Tune's earlier generator (one integer) as a seed", () => {
    const a = new SeededRng(42);
    a.random();
    const state = JSON.parse(JSON.stringify(a.getState())) as unknown;
    const next = a.random();
    const b = new SeededRng(0);
    restoreRng(b, state);
    expect(b.random()).toBe(next);
    restoreRng(b, 1234567);
    expect(b.random()).toBe(new SeededRng(1234567).random());
    expect(() => restoreRng(b, 'x')).toThrow(InvalidArgumentError);
  });

  it('rejects a non-finite seed', () => {
    expect(() => new SeededRng(NaN)).toThrow(InvalidArgumentError);
    expect(() => new SeededRng(NaN)).toThrow(/seed must be a finite number/);
  });
});

describe('domains', () => {
  it('uniform stays in [lo, hi) and spreads over it', () => {
    const xs = draw(uniform(-2, 3));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...xs)).toBeLessThan(3);
    expect(mean(xs)).toBeCloseTo(0.5, 1);
    expect(xs.filter((x) => x < -1.5).length / N).toBeCloseTo(0.1, 1);
  });

  it('quniform gives multiples of q within the bounds, without float noise', () => {
    const xs = draw(quniform(0, 1, 0.1));
    const allowed = Array.from({ length: 11 }, (_, i) => Number((i / 10).toFixed(1)));
    expect(new Set(xs)).toEqual(new Set(allowed));
  });

  it('loguniform is uniform in the exponent', () => {
    const xs = draw(loguniform(1e-5, 1));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1e-5);
    expect(Math.max(...xs)).toBeLessThan(1);
    const exps = xs.map((x) => Math.log10(x));
    expect(mean(exps)).toBeCloseTo(-2.5, 1);
    // Each decade gets about a fifth of the draws.
    expect(exps.filter((e) => e < -4).length / N).toBeCloseTo(0.2, 1);
    expect(draw(loguniform(1, 8, 2)).every((x) => x >= 1 && x < 8)).toBe(true);
  });

  it('qloguniform gives multiples of q in range', () => {
    const xs = draw(qloguniform(0.0001, 0.1, 0.00005));
    expect(xs.every((x) => x >= 0.0001 && x <= 0.1)).toBe(true);
    expect(xs.every((x) => Math.abs(x / 0.00005 - Math.round(x / 0.00005)) < 1e-6)).toBe(true);
    expect(mean(xs.map(Math.log10))).toBeLessThan(-1.8); // log-scaled: most values are small
  });

  it('randint excludes the upper bound and hits every integer below it', () => {
    const xs = draw(randint(-3, 4));
    expect(new Set(xs)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    expect(xs.every(Number.isInteger)).toBe(true);
  });

  it('qrandint gives multiples of q from lower to upper, both inclusive', () => {
    const xs = draw(qrandint(0, 20, 5));
    expect(new Set(xs)).toEqual(new Set([0, 5, 10, 15, 20]));
    for (const v of [0, 5, 10, 15, 20]) expect(xs.filter((x) => x === v).length / N).toBeCloseTo(0.2, 1);
  });

  it('lograndint and qlograndint are log-scaled integers', () => {
    const xs = draw(lograndint(1, 1000));
    expect(xs.every((x) => Number.isInteger(x) && x >= 1 && x < 1000)).toBe(true);
    expect(xs.filter((x) => x < 10).length / N).toBeCloseTo(1 / 3, 1);
    const qs = draw(qlograndint(2, 64, 2));
    expect(qs.every((x) => Number.isInteger(x) && x % 2 === 0 && x >= 2 && x <= 64)).toBe(true);
  });

  it('randn and qrandn have the given mean and sd', () => {
    const xs = draw(randn(5, 2), 3, 20000);
    expect(mean(xs)).toBeCloseTo(5, 1);
    const sd = Math.sqrt(mean(xs.map((x) => (x - 5) ** 2)));
    expect(sd).toBeGreaterThan(1.9);
    expect(sd).toBeLessThan(2.1);
    const standard = draw(randn());
    expect(Math.abs(mean(standard))).toBeLessThan(0.05);
    expect(draw(qrandn(0, 10, 0.5)).every((x) => Number.isInteger(x * 2))).toBe(true);
  });

  it('choice and gridSearch pick every value, uniformly', () => {
    const xs = draw(choice(['a', 'b', 'c', 'd']));
    for (const v of ['a', 'b', 'c', 'd']) expect(xs.filter((x) => x === v).length / N).toBeCloseTo(0.25, 1);
    expect(new Set(draw(gridSearch([1, 2])))).toEqual(new Set([1, 2]));
  });

  it('validates values as a point to evaluate would be checked', () => {
    expect(uniform(0, 1).isValid(0.5)).toBe(true);
    expect(uniform(0, 1).isValid(2)).toBe(false);
    expect(randint(0, 3).isValid(3)).toBe(false);
    expect(qrandint(0, 10, 5).isValid(10)).toBe(true);
    expect(quniform(0, 1, 0.25).isValid(0.3)).toBe(false);
    expect(choice([{ a: 1 }, { a: 2 }]).isValid({ a: 2 })).toBe(true);
    expect(choice([1, 2]).isValid(3)).toBe(false);
  });

  it('describes itself as written', () => {
    expect(String(loguniform(1e-5, 1))).toBe('loguniform(0.00001, 1)');
    expect(String(choice(['a', 2]))).toBe("choice(['a', 2])");
  });

  it('rejects bad arguments with a message saying what to pass', () => {
    expect(invalid(() => uniform(1, 0))).toMatch(/uniform\(1, 0\): lower must be less than upper/);
    expect(invalid(() => uniform(0, Infinity))).toMatch(/upper must be a finite number/);
    expect(invalid(() => uniform(NaN, 1))).toMatch(/lower must be a finite number/);
    expect(invalid(() => quniform(0, 1, 0))).toMatch(/q must be positive/);
    expect(invalid(() => quniform(0, 1, 0.3))).toMatch(/upper \(1\) is not a multiple of q \(0.3\)/);
    expect(invalid(() => loguniform(0, 1))).toMatch(/needs lower > 0/);
    expect(invalid(() => loguniform(1, 2, 1))).toMatch(/base must be a positive number other than 1/);
    expect(invalid(() => randint(0, 1.5))).toMatch(/bounds must be integers/);
    expect(invalid(() => randint(3, 3))).toMatch(/lower must be less than upper/);
    expect(invalid(() => qrandint(0, 10, 3))).toMatch(/upper \(10\) is not a multiple of q \(3\)/);
    expect(invalid(() => qrandint(0, 10, 2.5))).toMatch(/q must be a positive integer/);
    expect(invalid(() => lograndint(0, 10))).toMatch(/needs lower > 0/);
    expect(invalid(() => randn(0, 0))).toMatch(/sd must be positive/);
    expect(invalid(() => qrandn(0, 1, -1))).toMatch(/q must be positive/);
    expect(invalid(() => choice([]))).toMatch(/choice expects a non-empty array of values, got an empty array/);
    expect(invalid(() => gridSearch('ab' as unknown as string[]))).toMatch(/gridSearch expects a non-empty array/);
    expect(invalid(() => sampleFrom(42 as unknown as () => number))).toMatch(/expects a function/);
  });
});

describe('resolveSpace', () => {
  it('resolves nested objects and arrays, copies constants, and is reproducible', () => {
    const shared = { keep: 'me' };
    const space = {
      lr: loguniform(1e-4, 1e-1),
      model: { layers: randint(1, 4), widths: [qrandint(16, 64, 16), 8], activation: 'relu' },
      meta: shared,
      tags: ['a', 'b'],
    };
    const config = resolveSpace(space, new SeededRng(7));
    expect(config).toEqual({
      lr: expect.any(Number),
      model: { layers: expect.any(Number), widths: [expect.any(Number), 8], activation: 'relu' },
      meta: { keep: 'me' },
      tags: ['a', 'b'],
    });
    const model = config.model as { widths: number[] };
    expect([16, 32, 48, 64]).toContain(model.widths[0]);
    expect(config.meta).not.toBe(shared); // plain objects are copied per config
    expect(resolveSpace(space, new SeededRng(7))).toEqual(config);
    expect(space.model.layers).toBeInstanceOf(Object); // the space itself is untouched
    expect(findDomains(space)).toHaveLength(3);
  });

  it('runs sampleFrom with the other values, in dependency order, nested too', () => {
    const space = {
      double: sampleFrom((spec) => spec.config.base * 2),
      quad: sampleFrom((spec) => spec.config.double * 2),
      base: randint(1, 100),
      nested: { sum: sampleFrom((spec) => spec.config.base + spec.config.model.width) },
      model: { width: choice([10, 20]) },
    };
    for (let seed = 0; seed < 20; seed++) {
      const c = resolveSpace(space, new SeededRng(seed)) as any;
      expect(c.double).toBe(c.base * 2);
      expect(c.quad).toBe(c.base * 4);
      expect(c.nested.sum).toBe(c.base + c.model.width);
    }
  });

  it('resolves domains inside a chosen value and a domain returned by sampleFrom', () => {
    const space = {
      optimizer: choice([
        { name: 'sgd', momentum: uniform(0.5, 0.9) },
        { name: 'adam', beta: uniform(0.9, 0.99) },
      ]),
      size: sampleFrom(() => randint(5, 6)),
    };
    for (let seed = 0; seed < 10; seed++) {
      const c = resolveSpace(space, new SeededRng(seed)) as any;
      expect(c.size).toBe(5);
      if (c.optimizer.name === 'sgd') expect(c.optimizer.momentum).toBeGreaterThanOrEqual(0.5);
      else expect(c.optimizer.beta).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('gives sampleFrom the rng, so its randomness is reproducible', () => {
    const space = { noise: sampleFrom((_spec, rng) => rng.random()) };
    expect(resolveSpace(space, new SeededRng(3))).toEqual(resolveSpace(space, new SeededRng(3)));
  });

  it('reports a cycle, a throwing function and a mutation', () => {
    const cycle = { a: sampleFrom((s) => s.config.b), b: sampleFrom((s) => s.config.a) };
    expect(invalid(() => resolveSpace(cycle, new SeededRng(1)))).toMatch(/cycle: 'a' reads 'b', 'b' reads 'a'/);
    const throws = {
      a: sampleFrom(() => {
        throw new Error('boom');
      }),
    };
    expect(invalid(() => resolveSpace(throws, new SeededRng(1)))).toMatch(/sampleFrom at 'a' threw: boom/);
    const mutates = {
      a: sampleFrom((s) => {
        s.config.x = 1;
        return 1;
      }),
    };
    expect(invalid(() => resolveSpace(mutates, new SeededRng(1)))).toMatch(/must not change spec.config/);
  });

  it("leaves grids in place with grids: 'keep' and rejects them with 'error'", () => {
    const space = { g: gridSearch([1, 2]), twice: sampleFrom((s) => s.config.g * 2), x: uniform(0, 1) };
    const kept = resolveSpace(space, new SeededRng(1), 'keep');
    expect(kept.g).toBe(space.g);
    expect(kept.twice).toBe(space.twice);
    expect(typeof kept.x).toBe('number');
    expect(invalid(() => resolveSpace(space, new SeededRng(1), 'error'))).toMatch(/gridSearch at 'g'/);
  });
});

describe('space helpers', () => {
  it('finds grid dimensions sorted by path and counts combinations', () => {
    const space = { b: gridSearch([1, 2, 3]), a: { z: gridSearch(['x', 'y']), y: uniform(0, 1) }, c: 1 };
    expect(findGridDimensions(space).map((d) => [d.key, d.values])).toEqual([
      ['a/z', ['x', 'y']],
      ['b', [1, 2, 3]],
    ]);
    expect(countGridVariants(space)).toBe(6);
    expect(countGridVariants({ x: uniform(0, 1) })).toBe(1);
  });

  it('flattens to a/b keys and back, arrays included', () => {
    const config = { a: { b: 1, c: [10, { d: 2 }] }, e: 'x', empty: {}, none: [] };
    const flat = flattenConfig(config);
    expect(flat).toEqual({ 'a/b': 1, 'a/c/0': 10, 'a/c/1/d': 2, e: 'x', empty: {}, none: [] });
    expect(unflattenConfig(flat)).toEqual(config);
    expect(flattenConfig({ a: { b: 1 } }, '.')).toEqual({ 'a.b': 1 });
    expect(invalid(() => flattenConfig({ 'a/b': 1, a: { b: 2 } }))).toMatch(/two paths give the key 'a\/b'/);
    expect(invalid(() => unflattenConfig({ a: 1, 'a/b': 2 }))).toMatch(/both a value and a prefix/);
  });

  it('maps a partial point onto the space, whole where the space has a domain', () => {
    const space = { lr: uniform(0, 1), model: { layers: choice([[32], [64, 64]]), act: 'relu' } };
    expect(presetValues(space, { model: { layers: [64, 64] } }).map((p) => [p.key, p.value])).toEqual([
      ['model/layers', [64, 64]],
    ]);
    expect(invalid(() => presetValues(space, { model: { depth: 3 } }))).toMatch(
      /key 'model\/depth' is not in the param space/,
    );
  });
});
