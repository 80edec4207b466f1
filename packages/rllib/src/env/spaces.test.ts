import { InvalidArgumentError, RayError, SeededRng } from '@ray-ts/core';
import { describe, expect, it } from 'vitest';
import { RLlibInvalidArgumentError } from './errors.js';
import { Rng } from './index.js';
import {
  Box,
  DictSpace,
  Discrete,
  MultiDiscrete,
  TupleSpace,
  flatDim,
  flatten,
  isSpace,
  spaceFromJSON,
  spaceToJSON,
} from './spaces.js';
import type { Space } from './spaces.js';

describe('Rng', () => {
  // The generator itself is core's, tested in packages/core/src/random.test.ts.
  it("is core's SeededRng under RLlib's public name, and spaces sample reproducibly with it", () => {
    expect(Rng).toBe(SeededRng);
    const space = new Box(-1, 1, [4]);
    expect(space.sample(new Rng(42))).toEqual(space.sample(new SeededRng(42)));
    expect(() => new Rng(NaN)).toThrow(InvalidArgumentError);
  });
});

describe('Discrete', () => {
  it('samples, contains and flattens one-hot', () => {
    const s = new Discrete(3, 1);
    const rng = new SeededRng(0);
    const seen = new Set(Array.from({ length: 100 }, () => s.sample(rng)));
    expect([...seen].sort()).toEqual([1, 2, 3]);
    expect(s.contains(1)).toBe(true);
    expect(s.contains(4)).toBe(false);
    expect(s.contains(1.5)).toBe(false);
    expect(s.contains('1')).toBe(false);
    expect(s.shape).toEqual([]);
    expect(flatDim(s)).toBe(3);
    expect(Array.from(flatten(s, 2))).toEqual([0, 1, 0]);
    expect(String(new Discrete(2))).toBe('Discrete(2)');
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => new Discrete(0)).toThrow(/n must be a positive integer, got 0/);
    const err = (() => {
      try {
        new Discrete(2.5);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RLlibInvalidArgumentError);
    expect(err).toBeInstanceOf(RayError);
    expect((err as Error).name).toBe('RLlibInvalidArgumentError');
    expect(() => flatten(new Discrete(2), 2)).toThrow(/value = 2 is not in Discrete\(2\); pass an integer in \[0, 2\)/);
  });
});

describe('Box', () => {
  it('takes scalar bounds with a shape, or per-element bounds', () => {
    const a = new Box(-1, 1, [2, 3]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.size).toBe(6);
    expect(a.low).toEqual(new Float32Array(6).fill(-1));
    const b = new Box([0, -Infinity], [1, Infinity]);
    expect(b.shape).toEqual([2]);
    expect(b.isBounded()).toBe(false);
    expect(a.isBounded()).toBe(true);
    expect(String(new Box(-2, 2, [1]))).toBe('Box(-2.0, 2.0, (1,), float32)');
  });

  it('samples inside its bounds, as float32, for every kind of bound', () => {
    const s = new Box([0, 5, -Infinity, -Infinity], [1, Infinity, 3, Infinity]);
    const rng = new SeededRng(3);
    for (let i = 0; i < 500; i++) {
      const x = s.sample(rng);
      expect(x).toBeInstanceOf(Float32Array);
      expect(s.contains(x)).toBe(true);
      expect(x[1]).toBeGreaterThanOrEqual(5);
      expect(x[2]).toBeLessThanOrEqual(3);
    }
  });

  it('contains only arrays of the right length inside the bounds', () => {
    const s = new Box(-1, 1, [2]);
    expect(s.contains(Float32Array.of(0, 1))).toBe(true);
    expect(s.contains([0, -1])).toBe(true);
    expect(s.contains(Float64Array.of(0, 1.5))).toBe(false);
    expect(s.contains([0])).toBe(false);
    expect(s.contains([0, NaN])).toBe(false);
    expect(s.contains('ab')).toBe(false);
    expect(Array.from(flatten(s, [0.5, -0.5]))).toEqual([0.5, -0.5]);
  });

  it('rejects bad bounds and shapes, saying what to pass', () => {
    expect(() => new Box(0, 1)).toThrow(/pass a shape when both bounds are numbers, e.g. new Box\(0, 1, \[3\]\)/);
    expect(() => new Box(1, 0, [2])).toThrow(/low\[0\] = 1 is above high\[0\] = 0/);
    expect(() => new Box([0, 0], [1, 1, 1])).toThrow(/high must be a number or an array of 2 numbers/);
    expect(() => new Box(0, 1, [0])).toThrow(/shape must be an array of positive integers/);
    expect(() => new Box(NaN, 1, [1])).toThrow(/low is NaN/);
    expect(() => flatten(new Box(0, 1, [3]), [1, 2])).toThrow(/must be an array of 3 numbers/);
  });
});

describe('MultiDiscrete', () => {
  it('samples, contains and flattens as concatenated one-hots', () => {
    const s = new MultiDiscrete([2, 3]);
    const rng = new SeededRng(0);
    for (let i = 0; i < 50; i++) expect(s.contains(s.sample(rng))).toBe(true);
    expect(s.contains([1, 3])).toBe(false);
    expect(s.contains([1])).toBe(false);
    expect(s.shape).toEqual([2]);
    expect(flatDim(s)).toBe(5);
    expect(Array.from(flatten(s, [1, 2]))).toEqual([0, 1, 0, 0, 1]);
    expect(() => new MultiDiscrete([])).toThrow(/non-empty array of positive integers/);
  });
});

describe('DictSpace and TupleSpace', () => {
  const dict = new DictSpace({ vel: new Box(-1, 1, [2]), a: new Discrete(3) });
  const tuple = new TupleSpace([new Discrete(2), dict]);

  it('sort Dict keys and flatten composites in order', () => {
    expect(dict.keys).toEqual(['a', 'vel']);
    expect(dict.shape).toBeNull();
    expect(flatDim(dict)).toBe(5);
    expect(Array.from(flatten(dict, { vel: [0.5, -0.5], a: 2 }))).toEqual([0, 0, 1, 0.5, -0.5]);
    expect(flatDim(tuple)).toBe(7);
    expect(Array.from(flatten(tuple, [1, { a: 0, vel: [1, 1] }]))).toEqual([0, 1, 1, 0, 0, 1, 1]);
  });

  it('sample values they contain; contain only matching structures', () => {
    const rng = new SeededRng(9);
    for (let i = 0; i < 20; i++) expect(tuple.contains(tuple.sample(rng))).toBe(true);
    expect(dict.contains({ a: 0 })).toBe(false);
    expect(dict.contains({ a: 0, vel: [0, 0], extra: 1 })).toBe(false);
    expect(tuple.contains([1])).toBe(false);
    expect(() => flatten(dict, { a: 0 })).toThrow(/has no key 'vel'/);
    expect(() => flatten(tuple, [1, { a: 5, vel: [0, 0] }])).toThrow(/value\[1\]\.a = 5 is not in Discrete\(3\)/);
    expect(() => new DictSpace({ x: 3 as unknown as Space })).toThrow(/spaces\['x'\] is not a space/);
  });

  it('flattens into a row of an existing batch buffer', () => {
    const batch = new Float32Array(10).fill(9);
    flatten(dict, { a: 1, vel: [0.25, 0] }, batch, 5);
    expect(Array.from(batch)).toEqual([9, 9, 9, 9, 9, 0, 1, 0, 0.25, 0]);
    expect(() => flatten(dict, { a: 1, vel: [0, 0] }, batch, 6)).toThrow(/too few to write 5 at offset 6/);
  });
});

describe('spaceToJSON / spaceFromJSON', () => {
  it('round-trip every space through JSON, infinities included', () => {
    const spaces: Space[] = [
      new Discrete(4, -1),
      new Box([-Infinity, 0], [Infinity, 1]),
      new MultiDiscrete([2, 5]),
      new TupleSpace([new Discrete(2), new DictSpace({ b: new Box(0, 1, [2, 2]) })]),
    ];
    for (const s of spaces) {
      const back = spaceFromJSON(JSON.parse(JSON.stringify(spaceToJSON(s))));
      expect(isSpace(back)).toBe(true);
      expect(back.toString()).toBe(s.toString());
      expect(spaceToJSON(back)).toEqual(spaceToJSON(s));
    }
    expect(() => spaceFromJSON({ type: 'Nope' } as never)).toThrow(
      /is not a space's data; pass what spaceToJSON returned/,
    );
  });
});
