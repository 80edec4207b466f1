import { expect, it } from 'vitest';
import { TuneInvalidArgumentError } from './errors.js';
import {
  CombinedStopper,
  compileStopper,
  FunctionStopper,
  MaximumIterationStopper,
  Stopper,
  TimeoutStopper,
  TrialPlateauStopper,
} from './stopper.js';
import type { TrialResult } from './types.js';

const r = (trainingIteration: number, metrics: Record<string, unknown> = {}): TrialResult => ({
  ...metrics,
  trainingIteration,
  timeTotalS: trainingIteration,
  timeThisIterS: 1,
  trialId: 't',
  timestamp: 0,
});

/** The first iteration (1-based) at which `s` stops trial `id`, fed `values` of `metric` in turn. */
function stopsAt(s: Stopper, values: number[], metric = 'loss', id = 'a'): number | undefined {
  for (let i = 0; i < values.length; i++) if (s.shouldStop(id, r(i + 1, { [metric]: values[i] }))) return i + 1;
  return undefined;
}

it('MaximumIterationStopper stops each trial at its maxIter-th iteration', () => {
  const s = new MaximumIterationStopper(3);
  expect(stopsAt(s, [5, 5, 5, 5, 5])).toBe(3);
  expect(s.shouldStop('b', r(2))).toBe(false);
  expect(s.shouldStop('b', r(3))).toBe(true);
  expect(s.stopAll()).toBe(false);
  expect(() => new MaximumIterationStopper(0)).toThrow(TuneInvalidArgumentError);
});

it('TrialPlateauStopper stops once the last numResults values vary less than std, after the grace period', () => {
  // 10, 9, 8, ... down to the floor of 5 at iteration 5, then flat: the window of 4 is flat at iteration 8.
  const losses = [9, 8, 7, 6, 5, 5, 5, 5, 5, 5];
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss' }), losses)).toBe(8);
  // A window of 2: flat at iteration 6, but not before the grace period of 7 results.
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss', numResults: 2, gracePeriod: 7 }), losses)).toBe(7);
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss', numResults: 2, gracePeriod: 1 }), losses)).toBe(6);
  // A wide std: the window of 4 values 9, 8, 7, 6 has a (population) sd of 1.118 < 1.2.
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss', std: 1.2 }), losses)).toBe(4);
  // Below 1.118, the first window flat enough is 7, 6, 5, 5 (sd 0.83), at iteration 6.
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss', std: 1.1 }), losses)).toBe(6);
  // Trials are counted apart.
  const s = new TrialPlateauStopper({ metric: 'loss', numResults: 2, gracePeriod: 2 });
  expect(s.shouldStop('a', r(1, { loss: 1 }))).toBe(false);
  expect(s.shouldStop('b', r(1, { loss: 1 }))).toBe(false);
  expect(s.shouldStop('a', r(2, { loss: 1 }))).toBe(true);
});

it('TrialPlateauStopper with metricThreshold waits until the metric is good enough', () => {
  const flatAt5 = [5, 5, 5, 5, 5, 5];
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss', metricThreshold: 4, mode: 'min' }), flatAt5)).toBe(
    undefined,
  );
  expect(stopsAt(new TrialPlateauStopper({ metric: 'loss', metricThreshold: 5, mode: 'min' }), flatAt5)).toBe(4);
  expect(stopsAt(new TrialPlateauStopper({ metric: 'acc', metricThreshold: 6, mode: 'max' }), flatAt5, 'acc')).toBe(
    undefined,
  );
  expect(() => new TrialPlateauStopper({ metric: 'loss', metricThreshold: 1 })).toThrow(/needs a mode/);
  expect(() => new TrialPlateauStopper({ metric: '' })).toThrow(TuneInvalidArgumentError);
});

it('TimeoutStopper ends the experiment timeoutS after its first stopAll()', () => {
  let now = 1_000;
  const s = new TimeoutStopper(2, () => now);
  expect(s.stopAll()).toBe(false);
  now += 1_999;
  expect(s.stopAll()).toBe(false);
  expect(s.shouldStop('a', r(1))).toBe(false);
  now += 1;
  expect(s.stopAll()).toBe(true);
  expect(() => new TimeoutStopper(-1)).toThrow(TuneInvalidArgumentError);
});

it('CombinedStopper stops when any part does, and feeds every part every result', () => {
  const plateau = new TrialPlateauStopper({ metric: 'loss', numResults: 2, gracePeriod: 2 });
  const s = new CombinedStopper(new MaximumIterationStopper(2), plateau);
  expect(s.shouldStop('a', r(1, { loss: 1 }))).toBe(false);
  expect(s.shouldStop('a', r(2, { loss: 3 }))).toBe(true); // the iteration limit
  // The plateau stopper saw both results: one more equal value makes a flat window of 2.
  expect(plateau.shouldStop('a', r(3, { loss: 3 }))).toBe(true);
  let now = 0;
  expect(new CombinedStopper(new MaximumIterationStopper(5), new TimeoutStopper(0, () => now)).stopAll()).toBe(true);
  expect(() => new CombinedStopper({} as Stopper)).toThrow(TuneInvalidArgumentError);
});

it('compiles runConfig.stop (object, function or Stopper) with timeBudgetS', () => {
  const byObject = compileStopper({ trainingIteration: 3, score: 0.9 }, undefined)!;
  expect(byObject.shouldStop('a', r(2, { score: 0.5 }))).toBe(false);
  expect(byObject.shouldStop('a', r(2, { score: 0.95 }))).toBe(true);
  expect(byObject.shouldStop('a', r(3))).toBe(true);
  const byFunction = compileStopper((_id, res) => (res.loss as number) < 1, undefined)!;
  expect(byFunction).toBeInstanceOf(FunctionStopper);
  expect(byFunction.shouldStop('a', r(1, { loss: 0.5 }))).toBe(true);
  const mine = new MaximumIterationStopper(4);
  expect(compileStopper(mine, undefined)).toBe(mine);
  const withBudget = compileStopper(mine, 0)!;
  expect(withBudget).toBeInstanceOf(CombinedStopper);
  expect(withBudget.stopAll()).toBe(true);
  expect(compileStopper(undefined, undefined)).toBeUndefined();
  expect(() => compileStopper({ loss: 'low' } as never, undefined)).toThrow(/runConfig.stop.loss must be a number/);
  expect(() => compileStopper(42 as never, undefined)).toThrow(TuneInvalidArgumentError);
  expect(() => compileStopper(undefined, -1)).toThrow(/timeBudgetS/);
});
