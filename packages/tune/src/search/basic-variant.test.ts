import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import { FINISHED, type Config } from '../types.js';
import { BasicVariantGenerator, type BasicVariantGeneratorOptions } from './basic-variant.js';
import { choice, gridSearch, loguniform, randint, sampleFrom, uniform } from './space.js';

function generator(space: Config, options: BasicVariantGeneratorOptions = {}): BasicVariantGenerator {
  const g = new BasicVariantGenerator({ seed: 1, ...options });
  g.setSearchProperties(undefined, undefined, space);
  return g;
}

/** Suggests until FINISHED (completing each trial at once). */
function drain(g: BasicVariantGenerator, prefix = 't', limit = 10_000): Config[] {
  const configs: Config[] = [];
  for (let i = 0; i < limit; i++) {
    const c = g.suggest(`${prefix}${i}`);
    if (c === FINISHED) return configs;
    if (c === undefined) throw new Error('unexpected undefined');
    configs.push(c);
    g.onTrialComplete(`${prefix}${i}`, undefined, false);
  }
  throw new Error('did not finish');
}

const space = {
  lr: loguniform(1e-4, 1e-1),
  batch: gridSearch([16, 32, 64]),
  model: { act: gridSearch(['relu', 'tanh']), layers: randint(1, 5) },
  name: 'exp',
};

describe('BasicVariantGenerator', () => {
  it('runs the grid product numSamples times, first grid dimension fastest, with fresh samples', () => {
    const g = generator(space, { numSamples: 3 });
    expect(g.totalTrials()).toBe(18);
    const configs = drain(g);
    expect(configs).toHaveLength(18);
    // Dimensions sorted by path (batch, then model/act); the first changes fastest (as Ray).
    expect(configs.slice(0, 6).map((c) => [c.batch, (c.model as Config).act])).toEqual([
      [16, 'relu'],
      [32, 'relu'],
      [64, 'relu'],
      [16, 'tanh'],
      [32, 'tanh'],
      [64, 'tanh'],
    ]);
    for (const batch of [16, 32, 64]) {
      for (const act of ['relu', 'tanh']) {
        expect(configs.filter((c) => c.batch === batch && (c.model as Config).act === act)).toHaveLength(3);
      }
    }
    for (const c of configs) {
      expect(c.name).toBe('exp');
      expect(c.lr).toBeGreaterThanOrEqual(1e-4);
      expect(c.lr).toBeLessThan(1e-1);
      expect([1, 2, 3, 4]).toContain((c.model as Config).layers);
    }
    expect(new Set(configs.map((c) => c.lr)).size).toBe(18);
    expect(g.suggest('again')).toBe(FINISHED);
  });

  it('without grids runs numSamples random configs; setNumSamples overrides the constructor', () => {
    const g = generator({ x: uniform(0, 1) }, { numSamples: 2 });
    g.setNumSamples(5);
    expect(drain(g)).toHaveLength(5);
    expect(drain(generator({ c: 1 }))).toEqual([{ c: 1 }]);
  });

  it('runs pointsToEvaluate first, fills missing keys and expands the grid they leave open', () => {
    const g = generator(space, {
      numSamples: 2,
      pointsToEvaluate: [{ lr: 0.01, batch: 32, model: { act: 'relu', layers: 2 } }, { lr: 0.05 }],
    });
    // point 1: fully set (1 trial); point 2: grid of 6; then 2 - 2 = 0 random repeats.
    expect(g.totalTrials()).toBe(7);
    const configs = drain(g);
    expect(configs).toHaveLength(7);
    expect(configs[0]).toEqual({ lr: 0.01, batch: 32, model: { act: 'relu', layers: 2 }, name: 'exp' });
    expect(configs.slice(1).every((c) => c.lr === 0.05)).toBe(true);
    expect(new Set(configs.slice(1).map((c) => `${c.batch}/${(c.model as Config).act}`)).size).toBe(6);

    const more = generator({ x: uniform(0, 1) }, { numSamples: 4, pointsToEvaluate: [{ x: 0.5 }] });
    const xs = drain(more).map((c) => c.x);
    expect(xs).toHaveLength(4);
    expect(xs[0]).toBe(0.5);
  });

  it('runs every point even when there are more points than numSamples (as Ray)', () => {
    const g = generator({ x: uniform(0, 1) }, { numSamples: 1, pointsToEvaluate: [{ x: 0.1 }, { x: 0.2 }] });
    expect(drain(g).map((c) => c.x)).toEqual([0.1, 0.2]);
  });

  it('rejects a point with a key the space does not have', () => {
    const g = generator(space, { pointsToEvaluate: [{ momentum: 0.9 }] });
    expect(() => g.suggest('t0')).toThrow(/key 'momentum' is not in the param space/);
  });

  it('is reproducible with a seed and differs across seeds', () => {
    const a = drain(generator(space, { numSamples: 2, seed: 5 }));
    const b = drain(generator(space, { numSamples: 2, seed: 5 }));
    const c = drain(generator(space, { numSamples: 2, seed: 6 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('passes grid values to sampleFrom', () => {
    const g = generator({ g: gridSearch([1, 2, 3]), twice: sampleFrom((s) => s.config.g * 2) });
    expect(drain(g).map((c) => [c.g, c.twice])).toEqual([
      [1, 2],
      [2, 4],
      [3, 6],
    ]);
  });

  it('holds random values across a repeat with constantGridSearch', () => {
    const g = generator(
      { g: gridSearch([1, 2, 3]), x: uniform(0, 1), sum: sampleFrom((s) => s.config.g + s.config.x) },
      { numSamples: 2, constantGridSearch: true },
    );
    const configs = drain(g);
    expect(configs).toHaveLength(6);
    expect(new Set(configs.slice(0, 3).map((c) => c.x)).size).toBe(1);
    expect(new Set(configs.slice(3).map((c) => c.x)).size).toBe(1);
    expect(configs[0].x).not.toBe(configs[3].x);
    for (const c of configs) expect(c.sum).toBe((c.g as number) + (c.x as number));
  });

  it('holds back suggestions at maxConcurrent live trials', () => {
    const g = generator({ x: uniform(0, 1) }, { numSamples: 5, maxConcurrent: 2 });
    expect(g.suggest('a')).toBeDefined();
    expect(g.suggest('b')).toBeDefined();
    expect(g.suggest('c')).toBeUndefined();
    g.onTrialComplete('a', undefined, true);
    expect(g.suggest('c')).toEqual({ x: expect.any(Number) });
  });

  it('continues after save/restore through JSON without repeating a config', () => {
    const options = { numSamples: 3, seed: 11, pointsToEvaluate: [{ lr: 0.02 }] };
    const reference = drain(generator(space, options));
    expect(reference).toHaveLength(18); // 6 for the point, then 2 repeats of 6

    // Stop partway through a grid repeat, with two trials still live.
    const first = generator(space, options);
    const before: Config[] = [];
    for (let i = 0; i < 9; i++) before.push(first.suggest(`t${i}`) as Config);
    for (let i = 0; i < 7; i++) first.onTrialComplete(`t${i}`, undefined, false);
    const state: unknown = JSON.parse(JSON.stringify(first.save()));

    const second = new BasicVariantGenerator({ seed: 999, pointsToEvaluate: [{ lr: 0.02 }] });
    second.setNumSamples(3);
    second.setSearchProperties(undefined, undefined, space);
    second.restore(state);
    const after = drain(second, 'u');
    expect([...before, ...after]).toEqual(reference);
    expect(new Set([...before, ...after].map((c) => JSON.stringify(c))).size).toBe(18);
  });

  it('keeps the live trials across restore, so maxConcurrent still holds', () => {
    const g = generator({ x: uniform(0, 1) }, { numSamples: 5, maxConcurrent: 1 });
    g.suggest('a');
    const restored = generator({ x: uniform(0, 1) }, { numSamples: 5, maxConcurrent: 1 });
    restored.restore(JSON.parse(JSON.stringify(g.save())));
    expect(restored.suggest('b')).toBeUndefined();
    restored.onTrialComplete('a', undefined, false);
    expect(restored.suggest('b')).toBeDefined();
  });

  it('reports misuse clearly', () => {
    const g = new BasicVariantGenerator();
    expect(() => g.suggest('t')).toThrow(TuneInvalidArgumentError);
    expect(() => g.suggest('t')).toThrow(/call setSearchProperties/);
    expect(() => new BasicVariantGenerator({ numSamples: 0 })).toThrow(/numSamples must be an integer >= 1/);
    expect(() => new BasicVariantGenerator({ maxConcurrent: -1 })).toThrow(/maxConcurrent must be an integer >= 0/);
    expect(() => new BasicVariantGenerator({ pointsToEvaluate: [1] as unknown as Config[] })).toThrow(
      /pointsToEvaluate must be an array of configs/,
    );
    expect(() => g.restore({ searcher: 'TPESearch' })).toThrow(/not written by BasicVariantGenerator.save/);
    expect(() => generator({ c: choice([{ g: gridSearch([1, 2]) }]) }).suggest('t')).toThrow(
      /gridSearch at 'c\/g' sits inside a sampled value/,
    );
  });
});
