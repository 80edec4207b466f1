import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import type { SchedulerDecision, TrialInfo, TrialResult } from '../types.js';
import { ASHAScheduler, AsyncHyperBandScheduler } from './asha.js';
import { FIFOScheduler } from './fifo.js';

function trial(trialId: string, o: Partial<TrialInfo> = {}): TrialInfo {
  return { trialId, config: {}, status: 'RUNNING', lastResult: undefined, results: [], hasCheckpoint: false, ...o };
}

function result(trialId: string, trainingIteration: number, metrics: Record<string, unknown> = {}): TrialResult {
  return {
    trialId,
    trainingIteration,
    timeTotalS: trainingIteration * 10,
    timeThisIterS: 10,
    timestamp: 0,
    ...metrics,
  };
}

/** Adds the trials, then feeds `acc` to each at iteration `it`; returns the actions. */
function report(s: ASHAScheduler, it: number, values: Record<string, number>, key = 'acc'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, v] of Object.entries(values))
    out[id] = s.onTrialResult(trial(id), result(id, it, { [key]: v })).action;
  return out;
}

describe('FIFOScheduler', () => {
  it('continues every trial and saves an empty state', () => {
    const s = new FIFOScheduler();
    s.onTrialAdd(trial('a'));
    expect(s.onTrialResult(trial('a'), result('a', 1000, { loss: 1e9 }))).toEqual({ action: 'CONTINUE' });
    const restored = new FIFOScheduler();
    restored.restore(JSON.parse(JSON.stringify(s.save())));
    expect(() => restored.restore(new ASHAScheduler().save())).toThrow(TuneInvalidArgumentError);
  });
});

describe('ASHAScheduler', () => {
  it('places rungs at gracePeriod * rf^k below maxT, each bracket starting rf times later', () => {
    expect(new ASHAScheduler().rungMilestones).toEqual([[64, 16, 4, 1]]);
    expect(new ASHAScheduler({ brackets: 3 }).rungMilestones).toEqual([
      [64, 16, 4, 1],
      [64, 16, 4],
      [64, 16],
    ]);
    expect(new ASHAScheduler({ maxT: 64 }).rungMilestones).toEqual([[16, 4, 1]]);
    expect(new ASHAScheduler({ maxT: 10, gracePeriod: 1, reductionFactor: 2 }).rungMilestones).toEqual([[8, 4, 2, 1]]);
    expect(new ASHAScheduler({ maxT: 100, gracePeriod: 5, reductionFactor: 3 }).rungMilestones).toEqual([[45, 15, 5]]);
  });

  it("stops a trial below the (1 - 1/rf) quantile of its rung (Ray's bracket example)", () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 10, gracePeriod: 1, reductionFactor: 2 });
    for (const id of ['t1', 't2', 't3']) s.onTrialAdd(trial(id));
    expect(report(s, 1, { t1: 2, t2: 4 })).toEqual({ t1: 'CONTINUE', t2: 'CONTINUE' });
    // cutoff = median of [2, 4] = 3
    expect(report(s, 1, { t3: 1 })).toEqual({ t3: 'STOP' });
    expect(s.stoppedCount).toBe(1);
  });

  it('stops a clearly bad trial at the first rung, and lets good ones run to maxT, where they stop', () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 16, gracePeriod: 1, reductionFactor: 4 });
    const ids = ['d', 'c', 'b', 'a', 'bad'];
    for (const id of ids) s.onTrialAdd(trial(id));
    // The first to reach a rung always goes on: nothing was recorded there yet.
    expect(report(s, 1, { d: 0.1, c: 0.3, b: 0.8, a: 0.9 })).toEqual({
      d: 'CONTINUE',
      c: 'CONTINUE',
      b: 'CONTINUE',
      a: 'CONTINUE',
    });
    // 75th percentile of [0.1, 0.3, 0.8, 0.9] = 0.825
    expect(report(s, 1, { bad: 0.05 })).toEqual({ bad: 'STOP' });
    // Between rungs, nothing is decided.
    expect(report(s, 2, { a: 0.9, b: 0.1 })).toEqual({ a: 'CONTINUE', b: 'CONTINUE' });
    expect(report(s, 3, { a: 0.9 })).toEqual({ a: 'CONTINUE' });
    // Rung 4: a is first; b is below a's 0.9.
    expect(report(s, 4, { a: 0.9, b: 0.8 })).toEqual({ a: 'CONTINUE', b: 'STOP' });
    for (let it = 5; it < 16; it++) expect(report(s, it, { a: 0.9 })).toEqual({ a: 'CONTINUE' });
    expect(report(s, 16, { a: 0.9 })).toEqual({ a: 'STOP' });
  });

  it('judges a rung on the first result at or past it, once', () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 100, reductionFactor: 4 });
    for (const id of ['a', 'b']) s.onTrialAdd(trial(id));
    report(s, 1, { a: 5, b: 6 });
    report(s, 5, { a: 5 }); // a skips past 4: recorded at rung 4
    expect(report(s, 6, { b: 1 })).toEqual({ b: 'STOP' });
    expect(report(s, 7, { a: 0 })).toEqual({ a: 'CONTINUE' }); // rung 4 already decided for a
  });

  it('in min mode, stops the trial with the higher loss; metric and mode can come from the Tuner', () => {
    const s = new ASHAScheduler({ maxT: 10, gracePeriod: 1, reductionFactor: 2 });
    s.setSearchProperties('loss', 'min');
    for (const id of ['a', 'b', 'c']) s.onTrialAdd(trial(id));
    expect(report(s, 1, { b: 0.4, a: 0.2 }, 'loss')).toEqual({ b: 'CONTINUE', a: 'CONTINUE' });
    expect(report(s, 1, { c: 0.5 }, 'loss')).toEqual({ c: 'STOP' }); // above median(0.2, 0.4)
    const t = new ASHAScheduler({ maxT: 10, gracePeriod: 1, reductionFactor: 2 });
    t.setSearchProperties('loss', 'min');
    for (const id of ['a', 'b', 'c']) t.onTrialAdd(trial(id));
    expect(report(t, 1, { b: 0.4, a: 0.2 }, 'loss')).toEqual({ b: 'CONTINUE', a: 'CONTINUE' });
    expect(report(t, 1, { c: 0.1 }, 'loss')).toEqual({ c: 'CONTINUE' });
  });

  it("keeps the constructor's metric and mode over the Tuner's", () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 10, reductionFactor: 2 });
    s.setSearchProperties('loss', 'min');
    for (const id of ['a', 'b']) s.onTrialAdd(trial(id));
    report(s, 1, { a: 1 });
    expect(report(s, 1, { b: 0 })).toEqual({ b: 'STOP' });
  });

  it('throws a clear error when a trial is added with no metric or mode', () => {
    const s = new ASHAScheduler();
    s.setSearchProperties(undefined, undefined);
    expect(() => s.onTrialAdd(trial('a'))).toThrow(TuneInvalidArgumentError);
    expect(() => s.onTrialAdd(trial('a'))).toThrow(/ASHAScheduler has no metric.*tuneConfig/);
    const onlyMetric = new ASHAScheduler({ metric: 'acc' });
    expect(() => onlyMetric.onTrialAdd(trial('a'))).toThrow(/has no mode/);
  });

  it('rejects options out of range', () => {
    expect(() => new ASHAScheduler({ reductionFactor: 1 })).toThrow(TuneInvalidArgumentError);
    expect(() => new ASHAScheduler({ gracePeriod: 0 })).toThrow(/gracePeriod must be/);
    expect(() => new ASHAScheduler({ maxT: -1 })).toThrow(/maxT must be/);
    expect(() => new ASHAScheduler({ maxT: Infinity })).toThrow(/maxT must be a finite number/);
    expect(() => new ASHAScheduler({ brackets: 1.5 })).toThrow(/brackets must be an integer/);
    expect(() => new ASHAScheduler({ mode: 'best' as never })).toThrow(/mode must be 'min' or 'max'/);
  });

  it('ignores results without the metric or the time attribute', () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 4, timeAttr: 'epoch' });
    s.onTrialAdd(trial('a'));
    expect(s.onTrialResult(trial('a'), result('a', 100, { acc: 1 })).action).toBe('CONTINUE'); // no epoch
    expect(s.onTrialResult(trial('a'), result('a', 1, { epoch: 100 })).action).toBe('CONTINUE'); // no acc
    expect(s.onTrialResult(trial('a'), result('a', 1, { epoch: 4, acc: 1 })).action).toBe('STOP');
  });

  it('reads a nested metric written as a/b', () => {
    const s = new ASHAScheduler({ metric: 'eval/acc', mode: 'max', maxT: 10, reductionFactor: 2 });
    for (const id of ['a', 'b']) s.onTrialAdd(trial(id));
    s.onTrialResult(trial('a'), result('a', 1, { eval: { acc: 0.9 } }));
    expect(s.onTrialResult(trial('b'), result('b', 1, { eval: { acc: 0.1 } })).action).toBe('STOP');
  });

  it('with stopLastTrials: false, lets trials run past maxT', () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 4, reductionFactor: 2, stopLastTrials: false });
    s.onTrialAdd(trial('a'));
    for (let it = 1; it <= 8; it++) expect(report(s, it, { a: 1 })).toEqual({ a: 'CONTINUE' });
  });

  it("counts completed trials' last results at their rung", () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 10, reductionFactor: 2 });
    for (const id of ['a', 'b']) s.onTrialAdd(trial(id));
    // a ended by itself at iteration 1 before the scheduler saw that result.
    s.onTrialComplete(trial('a', { status: 'TERMINATED' }), result('a', 1, { acc: 0.9 }));
    expect(report(s, 1, { b: 0.5 })).toEqual({ b: 'STOP' });
  });

  it('spreads trials over brackets with weights e^(rungs), reproducibly with a seed', () => {
    const assign = (seed: number): number[] => {
      const s = new ASHAScheduler({ metric: 'acc', mode: 'max', brackets: 2, seed });
      for (let i = 0; i < 2000; i++) s.onTrialAdd(trial(`t${i}`));
      return (s.save() as { trials: [string, number][] }).trials.map(([, b]) => b);
    };
    const brackets = assign(7);
    expect(assign(7)).toEqual(brackets);
    const inFirst = brackets.filter((b) => b === 0).length / brackets.length;
    // Bracket 0 has 4 rungs, bracket 1 has 3: P(0) = e / (e + 1) = 0.731
    expect(inFirst).toBeGreaterThan(0.69);
    expect(inFirst).toBeLessThan(0.77);
  });

  it('in a later bracket, judges trials only from its first rung (rf^s * gracePeriod) on', () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 100, brackets: 2, seed: 3 });
    const ids = Array.from({ length: 40 }, (_, i) => `t${i}`);
    for (const id of ids) s.onTrialAdd(trial(id));
    const bracketOf = new Map((s.save() as { trials: [string, number][] }).trials);
    const second = ids.filter((id) => bracketOf.get(id) === 1);
    expect(second.length).toBeGreaterThanOrEqual(2);
    const [good, bad] = second;
    expect(report(s, 1, { [good]: 1 })[good]).toBe('CONTINUE');
    expect(report(s, 1, { [bad]: 0 })[bad]).toBe('CONTINUE'); // no rung at 1 in bracket 1
    expect(report(s, 4, { [good]: 1 })[good]).toBe('CONTINUE');
    expect(report(s, 4, { [bad]: 0 })[bad]).toBe('STOP');
  });

  it("is Ray's AsyncHyperBandScheduler", () => {
    expect(new AsyncHyperBandScheduler()).toBeInstanceOf(ASHAScheduler);
  });

  it('save() and restore() through JSON give the same decisions afterwards', () => {
    const make = (): ASHAScheduler =>
      new ASHAScheduler({ metric: 'loss', mode: 'min', maxT: 64, reductionFactor: 2, brackets: 3, seed: 11 });
    const a = make();
    const ids = Array.from({ length: 12 }, (_, i) => `t${i}`);
    for (const id of ids.slice(0, 8)) a.onTrialAdd(trial(id));
    const loss = (id: string, it: number): number => ((Number(id.slice(1)) * 7919) % 13) / (it + 1);
    for (let it = 1; it <= 6; it++)
      for (const id of ids.slice(0, 8)) a.onTrialResult(trial(id), result(id, it, { loss: loss(id, it) }));
    const saved = JSON.parse(JSON.stringify(a.save()));
    const b = make();
    b.restore(saved);
    expect(b.save()).toEqual(a.save());
    const run = (s: ASHAScheduler): SchedulerDecision[] => {
      const out: SchedulerDecision[] = [];
      for (const id of ids.slice(8)) s.onTrialAdd(trial(id));
      for (let it = 1; it <= 20; it++)
        for (const id of ids) out.push(s.onTrialResult(trial(id), result(id, it, { loss: loss(id, it) })));
      return out;
    };
    const da = run(a);
    expect(run(b)).toEqual(da);
    expect(da.some((d) => d.action === 'STOP')).toBe(true);
  });

  it("restore() refuses another scheduler's state or other rungs", () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max' });
    expect(() => s.restore(new FIFOScheduler().save())).toThrow(/got the state of "FIFOScheduler"/);
    expect(() => s.restore(new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 10 }).save())).toThrow(/do not match/);
    expect(() => s.restore(undefined)).toThrow(TuneInvalidArgumentError);
  });

  it('keeps NaN and infinite metrics through save/restore', () => {
    const s = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 10, reductionFactor: 2 });
    for (const id of ['a', 'b', 'c']) s.onTrialAdd(trial(id));
    report(s, 1, { a: Infinity, b: NaN });
    const r = new ASHAScheduler({ metric: 'acc', mode: 'max', maxT: 10, reductionFactor: 2 });
    r.restore(JSON.parse(JSON.stringify(s.save())));
    // NaN is left out of the cutoff (nanpercentile): cutoff = Infinity
    expect(report(r, 1, { c: 1e300 })).toEqual({ c: 'STOP' });
  });
});
