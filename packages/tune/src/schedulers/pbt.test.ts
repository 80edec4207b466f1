import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import type { Rng } from '../search/rng.js';
import { choice, randint, uniform } from '../search/space.js';
import type { Config, SchedulerDecision, TrialInfo, TrialResult, TrialStatus } from '../types.js';
import { PopulationBasedTraining, explore, type PopulationBasedTrainingOptions } from './pbt.js';

function trial(trialId: string, config: Config, o: { status?: TrialStatus; hasCheckpoint?: boolean } = {}): TrialInfo {
  return {
    trialId,
    config,
    status: o.status ?? 'RUNNING',
    lastResult: undefined,
    results: [],
    hasCheckpoint: o.hasCheckpoint ?? true,
  };
}

function result(trialId: string, trainingIteration: number, metrics: Record<string, unknown>): TrialResult {
  return { trialId, trainingIteration, timeTotalS: trainingIteration * 3, timeThisIterS: 3, timestamp: 0, ...metrics };
}

/** An rng that returns these numbers, then throws (so a test sees every draw). */
function seq(...xs: number[]): Rng {
  return {
    random: () => {
      if (xs.length === 0) throw new Error('rng: no more numbers');
      return xs.shift()!;
    },
  };
}

const SETTINGS = { resampleProbability: 0.25, perturbationFactors: [1.2, 0.8] };

describe('explore (PBT)', () => {
  it('multiplies a numeric value by a random perturbation factor', () => {
    const m = { lr: uniform(0.001, 1) };
    expect(explore({ lr: 0.1 }, m, SETTINGS, seq(0.9, 0.0)).lr).toBeCloseTo(0.12);
    expect(explore({ lr: 0.1 }, m, SETTINGS, seq(0.9, 0.99)).lr).toBeCloseTo(0.08);
    expect(explore({ lr: 0.1 }, m, { resampleProbability: 0, perturbationFactors: [3] }, seq(0.0, 0.5)).lr).toBeCloseTo(
      0.3,
    );
  });

  it('resamples from the domain with resampleProbability', () => {
    const out = explore({ lr: 0.1, other: 'kept' }, { lr: uniform(0, 2) }, SETTINGS, seq(0.1, 0.25));
    expect(out).toEqual({ lr: 0.5, other: 'kept' });
  });

  it('keeps integer domains integral (truncating as Ray), float domains not', () => {
    expect(explore({ batch: 32 }, { batch: randint(8, 129) }, SETTINGS, seq(0.9, 0.0)).batch).toBe(38); // 38.4
    expect(explore({ batch: 32 }, { batch: randint(8, 129) }, SETTINGS, seq(0.9, 0.99)).batch).toBe(25); // 25.6
    expect(explore({ lr: 1 }, { lr: uniform(0, 2) }, SETTINGS, seq(0.9, 0.99)).lr).toBeCloseTo(0.8);
  });

  it('calls a function to resample; an integer value stays an integer', () => {
    expect(explore({ x: 3 }, { x: () => 7.5 }, SETTINGS, seq(0.1)).x).toBe(7);
    expect(explore({ x: 2.5 }, { x: () => 7.5 }, SETTINGS, seq(0.1)).x).toBe(7.5);
    expect(explore({ x: 2.5 }, { x: () => 7.5 }, SETTINGS, seq(0.9, 0.0)).x).toBe(3);
  });

  it('moves a list value to a neighbour, staying in the list', () => {
    const m = { batch: [16, 32, 64] };
    expect(explore({ batch: 32 }, m, SETTINGS, seq(0.9, 0.2)).batch).toBe(16);
    expect(explore({ batch: 32 }, m, SETTINGS, seq(0.9, 0.7)).batch).toBe(64);
    expect(explore({ batch: 64 }, m, SETTINGS, seq(0.9, 0.7)).batch).toBe(64); // the end: stays
    expect(explore({ batch: 16 }, m, SETTINGS, seq(0.9, 0.2)).batch).toBe(16);
    expect(explore({ batch: 32 }, m, SETTINGS, seq(0.1, 0.0)).batch).toBe(16); // resampled
    expect(explore({ batch: 48 }, m, SETTINGS, seq(0.9, 0.5)).batch).toBe(32); // not in the list: resampled
  });

  it('explores a choice() domain like a list, and finds objects by value', () => {
    expect(explore({ opt: 'sgd' }, { opt: choice(['adam', 'sgd', 'rmsprop']) }, SETTINGS, seq(0.9, 0.9)).opt).toBe(
      'rmsprop',
    );
    const layers = [{ n: 1 }, { n: 2 }, { n: 3 }];
    expect(explore({ layer: { n: 2 } }, { layer: layers }, SETTINGS, seq(0.9, 0.1)).layer).toEqual({ n: 1 });
  });

  it('explores nested configs without changing the original', () => {
    const config = { model: { lr: 0.1, depth: 2 }, other: 'x' };
    const out = explore(config, { model: { lr: [0.01, 0.1, 1] } }, SETTINGS, seq(0.9, 0.9));
    expect(out).toEqual({ model: { lr: 1, depth: 2 }, other: 'x' });
    expect(config.model.lr).toBe(0.1);
  });

  it('samples a key the config lacks', () => {
    expect(explore({}, { lr: uniform(0, 1) }, SETTINGS, seq(0.9, 0.3)).lr).toBeCloseTo(0.3);
  });

  it('passes the result to customExploreFn, which has the last word', () => {
    const out = explore(
      { lr: 0.1 },
      { lr: [0.1, 0.2] },
      { ...SETTINGS, customExploreFn: (c) => ({ ...c, extra: (c.lr as number) * 10 }) },
      seq(0.9, 0.9),
    );
    expect(out).toEqual({ lr: 0.2, extra: 2 });
    expect(() => explore({}, {}, { ...SETTINGS, customExploreFn: () => null as never }, seq())).toThrow(
      TuneInvalidArgumentError,
    );
  });
});

const CONFIGS: Record<string, Config> = {
  t0: { lr: 0.1, width: 64 },
  t1: { lr: 0.2, width: 32 },
  t2: { lr: 0.3, width: 16 },
  t3: { lr: 0.4, width: 8 },
};
const ACC: Record<string, number> = { t0: 0.9, t1: 0.5, t2: 0.4, t3: 0.1 };

function pbt(o: PopulationBasedTrainingOptions = {}): PopulationBasedTraining {
  return new PopulationBasedTraining({
    metric: 'acc',
    mode: 'max',
    timeAttr: 'trainingIteration',
    perturbationInterval: 2,
    hyperparamMutations: { lr: uniform(0.001, 1) },
    resampleProbability: 0,
    seed: 1,
    ...o,
  });
}

function step(
  s: PopulationBasedTraining,
  id: string,
  it: number,
  acc = ACC[id],
  hasCheckpoint = true,
  config = CONFIGS[id],
): SchedulerDecision {
  return s.onTrialResult(trial(id, config, { hasCheckpoint }), result(id, it, { acc }));
}

/** Four trials that reported twice, worst first (so none was in the bottom quantile at its check). */
function population(o: PopulationBasedTrainingOptions = {}, checkpoints = true): PopulationBasedTraining {
  const s = pbt(o);
  const ids = ['t3', 't2', 't1', 't0'];
  // Added as they start: none waits to run.
  for (const id of ids) s.onTrialAdd(trial(id, CONFIGS[id], { status: 'RUNNING', hasCheckpoint: false }));
  for (const id of ids) expect(step(s, id, 1, ACC[id], checkpoints)).toEqual({ action: 'CONTINUE' });
  for (const id of ids) expect(step(s, id, 2, ACC[id], checkpoints)).toEqual({ action: 'CONTINUE' });
  return s;
}

describe('PopulationBasedTraining', () => {
  it('at the perturbation interval, clones a top-quantile trial into a bottom one, with a perturbed config', () => {
    const s = population();
    expect(step(s, 't3', 3)).toEqual({ action: 'CONTINUE' }); // 1 since its last check
    const d = step(s, 't3', 4);
    expect(d.action).toBe('EXPLOIT');
    if (d.action !== 'EXPLOIT') return;
    expect(d.fromTrialId).toBe('t0');
    expect(d.config.width).toBe(64); // the clone's other hyperparameters
    expect([0.12, 0.08].some((v) => Math.abs((d.config.lr as number) - v) < 1e-12)).toBe(true);
    expect(s.perturbationCount).toBe(1);
  });

  it('does not exploit when the top trial has no checkpoint', () => {
    const s = population({}, false);
    expect(step(s, 't3', 4, 0.1, false)).toEqual({ action: 'CONTINUE' });
    expect(s.perturbationCount).toBe(0);
  });

  it('leaves the middle of the population alone', () => {
    const s = population();
    expect(step(s, 't2', 4)).toEqual({ action: 'CONTINUE' });
    expect(step(s, 't0', 4)).toEqual({ action: 'CONTINUE' });
  });

  it('picks the trial to clone at random from the upper quantile, reproducibly with a seed', () => {
    const from = (seed: number): string[] => {
      const s = population({ quantileFraction: 0.5, seed });
      const out: string[] = [];
      for (let it = 4; it <= 40; it += 2) {
        const d = step(s, 't3', it);
        if (d.action === 'EXPLOIT') out.push(d.fromTrialId);
      }
      return out;
    };
    const a = from(5);
    expect(from(5)).toEqual(a);
    expect(a.length).toBe(19);
    expect(new Set(a)).toEqual(new Set(['t0', 't1']));
  });

  it('perturbs by the configured factors, and resamples with resampleProbability', () => {
    const lrs = (o: PopulationBasedTrainingOptions): number[] => {
      const s = population(o);
      const out: number[] = [];
      for (let it = 4; it <= 200; it += 2) {
        const d = step(s, 't3', it);
        if (d.action === 'EXPLOIT') out.push(d.config.lr as number);
      }
      return out;
    };
    const perturbed = lrs({ perturbationFactors: [2, 0.5] });
    expect(new Set(perturbed.map((v) => v.toFixed(6)))).toEqual(new Set(['0.200000', '0.050000']));
    const resampled = lrs({ resampleProbability: 1 });
    expect(resampled.every((v) => v >= 0.001 && v < 1)).toBe(true);
    expect(new Set(resampled).size).toBe(resampled.length);
    const list = lrs({ hyperparamMutations: { lr: [0.05, 0.1, 0.2] } });
    expect(new Set(list)).toEqual(new Set([0.05, 0.2]));
  });

  it('in min mode, exploits the trial with the highest loss', () => {
    const s = pbt({ metric: undefined, mode: undefined });
    s.setSearchProperties('loss', 'min');
    const loss: Record<string, number> = { t0: 4, t1: 3, t2: 2, t3: 1 };
    for (const id of ['t0', 't1', 't2', 't3']) s.onTrialAdd(trial(id, CONFIGS[id], { status: 'RUNNING' }));
    const r = (id: string, it: number): SchedulerDecision =>
      s.onTrialResult(trial(id, CONFIGS[id]), result(id, it, { loss: loss[id] }));
    for (const id of ['t0', 't1', 't2', 't3']) r(id, 2);
    const d = r('t0', 4);
    expect(d).toMatchObject({ action: 'EXPLOIT', fromTrialId: 't3' });
  });

  it('does nothing in the burn-in period', () => {
    const s = population({ burnInPeriod: 10 });
    expect(step(s, 't3', 4)).toEqual({ action: 'CONTINUE' });
    for (const id of ['t2', 't1', 't0']) expect(step(s, id, 10)).toEqual({ action: 'CONTINUE' });
    expect(step(s, 't3', 10).action).toBe('EXPLOIT');
  });

  it("takes over the cloned trial's perturbation time after an exploit", () => {
    const s = population();
    expect(step(s, 't0', 5).action).toBe('CONTINUE'); // t0 checked at 5
    expect(step(s, 't3', 6).action).toBe('EXPLOIT'); // t3 now counts from t0's 5
    expect(step(s, 't3', 6, 0.1, true, { lr: 0.12, width: 64 }).action).toBe('CONTINUE');
    expect(step(s, 't3', 7, 0.1, true, { lr: 0.12, width: 64 }).action).toBe('EXPLOIT');
  });

  it('yields (PAUSE) at its check when other trials wait, and runs the least trained trial next', () => {
    const s = population();
    s.onTrialAdd(trial('t4', { lr: 0.5 }, { status: 'PENDING' }));
    expect(step(s, 't0', 4)).toEqual({ action: 'PAUSE' });
    expect(step(s, 't2', 3)).toEqual({ action: 'CONTINUE' }); // not a check
    const pending = [trial('t0', CONFIGS.t0, { status: 'PAUSED' }), trial('t4', { lr: 0.5 }, { status: 'PENDING' })];
    expect(s.chooseTrialToRun(pending)?.trialId).toBe('t4');
    expect(s.chooseTrialToRun([pending[0]])?.trialId).toBe('t0');
  });

  it('forgets finished trials when ranking', () => {
    const s = population();
    s.onTrialComplete(trial('t0', CONFIGS.t0, { status: 'TERMINATED' }), undefined);
    const d = step(s, 't3', 4);
    expect(d).toMatchObject({ action: 'EXPLOIT', fromTrialId: 't1' });
  });

  it('throws for a result without the metric or time, unless requireAttrs is false', () => {
    const s = pbt();
    s.onTrialAdd(trial('a', {}));
    expect(() => s.onTrialResult(trial('a', {}), result('a', 1, {}))).toThrow(/has no numeric 'acc'.*requireAttrs/);
    const lax = pbt({ requireAttrs: false });
    lax.onTrialAdd(trial('a', {}));
    expect(lax.onTrialResult(trial('a', {}), result('a', 1, {}))).toEqual({ action: 'CONTINUE' });
  });

  it('validates its options and needs a metric and mode', () => {
    expect(() => new PopulationBasedTraining()).toThrow(/hyperparamMutations.*or customExploreFn/);
    expect(() => pbt({ quantileFraction: 0.6 })).toThrow(/quantileFraction must be between 0 and 0.5/);
    expect(() => pbt({ perturbationInterval: 0 })).toThrow(/perturbationInterval must be/);
    expect(() => pbt({ hyperparamMutations: { lr: 3 as never } })).toThrow(/hyperparamMutations.lr must be/);
    expect(() => pbt({ hyperparamMutations: { lr: [] } })).toThrow(/empty list/);
    expect(() => pbt({ perturbationFactors: [] })).toThrow(TuneInvalidArgumentError);
    expect(() => pbt({ metric: undefined, mode: undefined }).onTrialAdd(trial('a', {}))).toThrow(
      /PopulationBasedTraining has no metric/,
    );
    expect(new PopulationBasedTraining({ customExploreFn: (c) => c }).options.timeAttr).toBe('timeTotalS');
  });

  it('save() and restore() through JSON give the same decisions afterwards', () => {
    const options: PopulationBasedTrainingOptions = {
      resampleProbability: 0.5,
      quantileFraction: 0.5,
      hyperparamMutations: { lr: uniform(0.001, 1), width: [8, 16, 32, 64] },
    };
    const a = population(options);
    step(a, 't3', 4);
    const b = pbt(options);
    b.restore(JSON.parse(JSON.stringify(a.save())));
    expect(b.save()).toEqual(a.save());
    const run = (s: PopulationBasedTraining): unknown[] => {
      const out: unknown[] = [];
      for (let it = 5; it <= 30; it++)
        for (const id of ['t0', 't1', 't2', 't3'])
          out.push(step(s, id, it, ACC[id] * (1 + Math.sin(it + id.charCodeAt(1)))));
      out.push(s.chooseTrialToRun(['t0', 't1'].map((id) => trial(id, CONFIGS[id], { status: 'PAUSED' })))?.trialId);
      return out;
    };
    const ra = run(a);
    expect(run(b)).toEqual(ra);
    expect(ra.filter((d) => (d as SchedulerDecision).action === 'EXPLOIT').length).toBeGreaterThan(3);
    expect(() => b.restore({ type: 'MedianStoppingRule', version: 1 })).toThrow(TuneInvalidArgumentError);
  });
});
