import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import { FINISHED, type Config, type TrialResult } from '../types.js';
import { BasicVariantGenerator } from './basic-variant.js';
import { erfc, normalMass } from './parzen.js';
import {
  choice,
  gridSearch,
  loguniform,
  qloguniform,
  qrandint,
  qrandn,
  quniform,
  randint,
  lograndint,
  randn,
  sampleFrom,
  uniform,
  type Domain,
} from './space.js';
import { TPESearch, type TPESearchOptions } from './tpe.js';
import type { Searcher } from '../types.js';

function result(trialId: string, metrics: Record<string, unknown>): TrialResult {
  return { trialId, trainingIteration: 1, timeTotalS: 1, timeThisIterS: 1, timestamp: 0, done: true, ...metrics };
}

const space = {
  x: uniform(-10, 10),
  lr: loguniform(1e-5, 1),
  optimizer: choice(['sgd', 'adam', 'rmsprop']),
};
const penalty: Record<string, number> = { sgd: 2, adam: 0, rmsprop: 1 };

/** Minimum 0 at x = 3, lr = 1e-2, optimizer = 'adam'. */
function objective(c: Config): number {
  return ((c.x as number) - 3) ** 2 + (Math.log10(c.lr as number) + 2) ** 2 + penalty[c.optimizer as string];
}

/** Sequential search: each trial completes before the next is suggested. */
function run(searcher: Searcher, rounds: number, f = objective): { losses: number[]; configs: Config[] } {
  const losses: number[] = [];
  const configs: Config[] = [];
  for (let i = 0; i < rounds; i++) {
    const id = `t${i}`;
    const c = searcher.suggest(id);
    if (c === undefined || c === FINISHED) throw new Error(`no config at round ${i}`);
    const loss = f(c);
    configs.push(c);
    losses.push(loss);
    searcher.onTrialComplete(id, result(id, { loss }), false);
  }
  return { losses, configs };
}

function tpe(options: TPESearchOptions = {}, s: Config = space): TPESearch {
  const searcher = new TPESearch({ metric: 'loss', mode: 'min', ...options });
  searcher.setSearchProperties(undefined, undefined, s);
  return searcher;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const BUDGET = 60;

describe('TPESearch on a synthetic objective', () => {
  const randomRuns = SEEDS.map((seed) => {
    const g = new BasicVariantGenerator({ seed, numSamples: BUDGET });
    g.setSearchProperties('loss', 'min', space);
    return run(g, BUDGET);
  });
  const tpeRuns = SEEDS.map((seed) => run(tpe({ seed }), BUDGET));
  const bests = (runs: { losses: number[] }[]) => runs.map((r) => Math.min(...r.losses));

  it('finds a much better config than random search with the same budget', () => {
    const randomBest = median(bests(randomRuns));
    const tpeBest = median(bests(tpeRuns));
    console.log(
      `median best over ${SEEDS.length} seeds, ${BUDGET} trials: TPE ${tpeBest.toFixed(4)}, random ${randomBest.toFixed(4)}`,
    );
    expect(tpeBest).toBeLessThan(randomBest / 4);
    expect(tpeBest).toBeLessThan(0.3);
  });

  it('concentrates its late suggestions near the optimum', () => {
    const late = tpeRuns.flatMap((r) => r.configs.slice(-20));
    const early = randomRuns.flatMap((r) => r.configs.slice(-20));
    const dx = (cs: Config[]) => median(cs.map((c) => Math.abs((c.x as number) - 3)));
    const dlr = (cs: Config[]) => median(cs.map((c) => Math.abs(Math.log10(c.lr as number) + 2)));
    const adam = (cs: Config[]) => cs.filter((c) => c.optimizer === 'adam').length / cs.length;
    console.log(
      `last 20 suggestions: median |x-3| TPE ${dx(late).toFixed(2)} vs random ${dx(early).toFixed(2)}; ` +
        `median |log10(lr)+2| ${dlr(late).toFixed(2)} vs ${dlr(early).toFixed(2)}; 'adam' ${adam(late).toFixed(2)} vs ${adam(early).toFixed(2)}`,
    );
    expect(dx(late)).toBeLessThan(1.5);
    expect(dx(early)).toBeGreaterThan(3);
    expect(dlr(late)).toBeLessThan(0.75);
    expect(adam(late)).toBeGreaterThan(0.55);
  });

  it('beats random search when maximizing, and in independent (univariate) mode on numeric dimensions', () => {
    const max = SEEDS.map((seed) => {
      const searcher = new TPESearch({ metric: 'score', mode: 'max', seed: seed + 100 });
      searcher.setSearchProperties(undefined, undefined, space);
      const configs: Config[] = [];
      for (let i = 0; i < BUDGET; i++) {
        const c = searcher.suggest(`t${i}`) as Config;
        configs.push(c);
        searcher.onTrialComplete(`t${i}`, result(`t${i}`, { score: -objective(c) }), false);
      }
      return Math.min(...configs.map(objective));
    });
    const numeric = { x: space.x, lr: space.lr, optimizer: 'adam' };
    const uni = bests(SEEDS.map((seed) => run(tpe({ seed, multivariate: false }, numeric), BUDGET)));
    const randomNumeric = bests(
      SEEDS.map((seed) => {
        const g = new BasicVariantGenerator({ seed, numSamples: BUDGET });
        g.setSearchProperties('loss', 'min', numeric);
        return run(g, BUDGET);
      }),
    );
    const randomBest = median(bests(randomRuns));
    console.log(
      `TPE maximizing ${median(max).toFixed(4)} vs random ${randomBest.toFixed(4)}; ` +
        `univariate TPE without the choice ${median(uni).toFixed(4)} vs random ${median(randomNumeric).toFixed(4)}`,
    );
    expect(median(max)).toBeLessThan(randomBest / 4);
    expect(median(uni)).toBeLessThan(median(randomNumeric) / 4);
  });
});

describe('TPESearch', () => {
  it('suggests only valid values for every kind of domain, nested spaces included', () => {
    const domains: Record<string, Domain> = {
      q: quniform(0, 1, 0.1),
      ql: qloguniform(0.001, 1, 0.001),
      i: randint(0, 5),
      qi: qrandint(0, 100, 10),
      li: lograndint(1, 1000),
      n: randn(0, 1),
      qn: qrandn(0, 1, 0.25),
    };
    const nested = {
      ...domains,
      model: { width: qrandint(16, 128, 16), layers: [randint(1, 3), 'fixed'] },
      opt: choice([{ name: 'sgd', momentum: uniform(0.5, 0.9) }, { name: 'adam' }]),
      derived: sampleFrom((s) => s.config.i * 2),
      constant: 'c',
    };
    const searcher = tpe({ seed: 3, nStartupTrials: 5 }, nested);
    // The metric rewards large i and small qi, so TPE's picks must also be valid ones.
    const { configs } = run(searcher, 40, (c) => -(c.i as number) + (c.qi as number) / 10);
    for (const c of configs) {
      for (const [k, d] of Object.entries(domains)) expect(d.isValid(c[k]), `${k}=${String(c[k])}`).toBe(true);
      const model = c.model as { width: number; layers: [number, string] };
      expect(model.width % 16).toBe(0);
      expect([1, 2]).toContain(model.layers[0]);
      expect(model.layers[1]).toBe('fixed');
      const opt = c.opt as { name: string; momentum?: number };
      if (opt.name === 'sgd') expect(opt.momentum).toBeGreaterThanOrEqual(0.5);
      expect(c.derived).toBe((c.i as number) * 2);
      expect(c.constant).toBe('c');
    }
    expect(median(configs.slice(-15).map((c) => c.i as number))).toBe(4);
  });

  it('tries pointsToEvaluate first, filling in the keys they leave out', () => {
    const searcher = tpe({ seed: 1, pointsToEvaluate: [{ x: 3, lr: 0.01, optimizer: 'adam' }, { x: -1 }] });
    const first = searcher.suggest('a') as Config;
    const second = searcher.suggest('b') as Config;
    expect(first).toEqual({ x: 3, lr: 0.01, optimizer: 'adam' });
    expect(second.x).toBe(-1);
    expect(space.lr.isValid(second.lr)).toBe(true);
    expect(space.optimizer.isValid(second.optimizer)).toBe(true);
  });

  it('ignores errored trials, trials without the metric and trials it did not suggest', () => {
    const searcher = tpe({ seed: 1 });
    for (const id of ['a', 'b', 'c']) searcher.suggest(id);
    searcher.onTrialComplete('a', result('a', { loss: 1 }), true);
    searcher.onTrialComplete('b', result('b', { other: 1 }), false);
    searcher.onTrialComplete('z', result('z', { loss: 1 }), false);
    searcher.onTrialComplete('c', result('c', { loss: NaN }), false);
    expect(searcher.observationCount).toBe(0);
    searcher.suggest('d');
    searcher.onTrialComplete('d', result('d', { loss: 2 }), false);
    expect(searcher.observationCount).toBe(1);
  });

  it('uses intermediate results of running trials when asked to', () => {
    const suggestThird = (useIntermediateResults: boolean): Config => {
      const searcher = tpe({ seed: 4, nStartupTrials: 2, useIntermediateResults });
      for (const id of ['a', 'b']) {
        searcher.suggest(id);
        searcher.onTrialResult(id, result(id, { loss: id === 'a' ? 1 : 5 }));
      }
      return searcher.suggest('c') as Config;
    };
    // Same seed: only the model (fed by intermediate results) makes the third config differ.
    expect(suggestThird(true)).not.toEqual(suggestThird(false));
  });

  it('continues after save/restore through JSON exactly as without the interruption', () => {
    const play = (searcher: TPESearch, from: number, to: number) => {
      const configs: Config[] = [];
      for (let i = from; i < to; i++) {
        const id = `t${i}`;
        const c = searcher.suggest(id) as Config;
        configs.push(c);
        // Trials 12 and 13 are still running at the save, and complete after it.
        if (i !== 12 && i !== 13) searcher.onTrialComplete(id, result(id, { loss: objective(c) }), false);
        if (i === 15) {
          for (const late of [12, 13])
            searcher.onTrialComplete(`t${late}`, result(`t${late}`, { loss: objective(configs[late - from]) }), false);
        }
      }
      return configs;
    };
    const options = { seed: 8, pointsToEvaluate: [{ x: 0 }] };
    const reference = play(tpe(options), 0, 30);

    const first = tpe(options);
    const before = play(first, 0, 14);
    const saved = JSON.stringify(first.save());
    const second = new TPESearch({ seed: 12345, pointsToEvaluate: [{ x: 0 }] });
    second.setSearchProperties('loss', 'min', space);
    second.restore(JSON.parse(saved));
    expect(second.observationCount).toBe(12);
    // Complete the two trials that were live at the save, as the runner would, then go on.
    const after: Config[] = [];
    for (let i = 14; i < 30; i++) {
      const id = `t${i}`;
      const c = second.suggest(id) as Config;
      after.push(c);
      second.onTrialComplete(id, result(id, { loss: objective(c) }), false);
      if (i === 15) {
        for (const late of [12, 13])
          second.onTrialComplete(`t${late}`, result(`t${late}`, { loss: objective(before[late]) }), false);
      }
    }
    expect([...before, ...after]).toEqual(reference);
    expect(new Set(reference.map((c) => JSON.stringify(c))).size).toBe(30);
    expect(second.suggestedCount).toBe(30);
  });

  it('stops at numSamples once set', () => {
    const searcher = tpe({ seed: 1 });
    searcher.setNumSamples(3);
    expect(run(searcher, 3).configs).toHaveLength(3);
    expect(searcher.suggest('t3')).toBe(FINISHED);
  });

  it('is reproducible with a seed', () => {
    expect(run(tpe({ seed: 21 }), 25).configs).toEqual(run(tpe({ seed: 21 }), 25).configs);
  });

  it('reports misuse clearly', () => {
    const noMetric = new TPESearch({ seed: 1 });
    noMetric.setSearchProperties(undefined, undefined, space);
    expect(() => noMetric.suggest('t')).toThrow(TuneInvalidArgumentError);
    expect(() => noMetric.suggest('t')).toThrow(/needs a metric and a mode/);
    expect(() => new TPESearch({ metric: 'loss', mode: 'min' }).suggest('t')).toThrow(/no search space/);
    expect(() => tpe({}, { g: gridSearch([1, 2]) }).suggest('t')).toThrow(
      /cannot expand gridSearch at 'g'. Use choice/,
    );
    expect(() => new TPESearch({ mode: 'best' as 'min' })).toThrow(/mode must be 'min' or 'max'/);
    expect(() => new TPESearch({ gamma: 1 })).toThrow(/gamma must be a number between 0 and 1/);
    expect(() => new TPESearch({ nEiCandidates: 0 })).toThrow(/nEiCandidates must be an integer >= 1/);
    expect(() => tpe().setSearchProperties('acc', 'min', {})).toThrow(/metric 'acc' differs/);
    expect(() => new TPESearch({ space }).setSearchProperties(undefined, undefined, space)).toThrow(/Pass only one/);
    expect(() => tpe().restore({ searcher: 'BasicVariantGenerator', version: 1 })).toThrow(
      /not written by TPESearch.save/,
    );
    expect(() => tpe({ pointsToEvaluate: [{ y: 1 }] }).suggest('t')).toThrow(/key 'y' is not in the param space/);
  });

  it('takes metric, mode and space from setSearchProperties, or the space from its options', () => {
    const fromTuner = new TPESearch({ seed: 1 });
    fromTuner.setSearchProperties('loss', 'min', space);
    expect(run(fromTuner, 12).configs).toHaveLength(12);
    const own = new TPESearch({ seed: 1, space, metric: 'loss', mode: 'min' });
    own.setSearchProperties('loss', 'min', {});
    expect(run(own, 12).configs).toEqual(run(fromTuner === fromTuner ? tpe({ seed: 1 }) : fromTuner, 12).configs);
  });
});

describe('Parzen math', () => {
  it('computes normal masses accurately, in the tails too', () => {
    expect(erfc(0.5)).toBeCloseTo(0.4795001222, 6);
    expect(normalMass(-1, 1)).toBeCloseTo(0.6826894921, 6);
    expect(normalMass(-Infinity, Infinity)).toBeCloseTo(1, 9);
    const tail = normalMass(5, 6);
    expect(Math.abs(tail - 2.8566e-7) / 2.8566e-7).toBeLessThan(1e-3);
    expect(normalMass(1, 1)).toBe(0);
  });
});
