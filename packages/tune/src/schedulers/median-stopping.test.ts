import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import type { TrialInfo, TrialResult, TrialStatus } from '../types.js';
import { MedianStoppingRule, type MedianStoppingRuleOptions } from './median-stopping.js';

function trial(trialId: string, status: TrialStatus = 'RUNNING'): TrialInfo {
  return { trialId, config: {}, status, lastResult: undefined, results: [], hasCheckpoint: false };
}

function result(trialId: string, timeTotalS: number, metrics: Record<string, unknown> = {}): TrialResult {
  return { trialId, trainingIteration: Math.round(timeTotalS), timeTotalS, timeThisIterS: 1, timestamp: 0, ...metrics };
}

function rule(o: MedianStoppingRuleOptions = {}): MedianStoppingRule {
  return new MedianStoppingRule({ metric: 'acc', mode: 'max', gracePeriod: 2, minSamplesRequired: 3, ...o });
}

function step(s: MedianStoppingRule, id: string, t: number, acc: number): string {
  return s.onTrialResult(trial(id), result(id, t, { acc })).action;
}

/** Trials a, b, c report acc 10, 8, 6 at times 1..5 (running averages 10, 8, 6; median 8). */
function withPopulation(o: MedianStoppingRuleOptions = {}): MedianStoppingRule {
  const s = rule(o);
  const acc: Record<string, number> = { a: 10, b: 8, c: 6 };
  for (const id of Object.keys(acc)) s.onTrialAdd(trial(id, 'PENDING'));
  for (let t = 1; t <= 5; t++) for (const id of Object.keys(acc)) expect(step(s, id, t, acc[id])).toBe('CONTINUE');
  return s;
}

describe('MedianStoppingRule', () => {
  it("stops a trial whose best result is below the median of the others' running averages", () => {
    const s = withPopulation();
    s.onTrialAdd(trial('d', 'PENDING'));
    expect(step(s, 'd', 1, 1)).toBe('CONTINUE'); // grace period
    expect(step(s, 'd', 2, 1)).toBe('STOP'); // best 1 < median 8
    expect(s.stoppedCount).toBe(1);
  });

  it('lets a trial at or above the median continue (the comparison is strict)', () => {
    const s = withPopulation();
    for (const id of ['e', 'f']) s.onTrialAdd(trial(id, 'PENDING'));
    expect(step(s, 'e', 2, 8)).toBe('CONTINUE');
    expect(step(s, 'f', 2, 9)).toBe('CONTINUE');
  });

  it('compares the best result so far, not the last', () => {
    const s = withPopulation();
    s.onTrialAdd(trial('d', 'PENDING'));
    expect(step(s, 'd', 1, 9)).toBe('CONTINUE');
    expect(step(s, 'd', 2, 0)).toBe('CONTINUE'); // best 9 >= 8
  });

  it('averages the others only over [gracePeriod, t]', () => {
    const s = rule({ gracePeriod: 3 });
    // a: 0 before the grace period, then 10: its average at t=3 is 10, not 5.
    const series: Record<string, number[]> = { a: [0, 0, 10, 10], b: [0, 0, 10, 10], c: [0, 0, 10, 10] };
    for (const id of Object.keys(series)) s.onTrialAdd(trial(id, 'PENDING'));
    for (let t = 1; t <= 4; t++) for (const id of Object.keys(series)) step(s, id, t, series[id][t - 1]);
    s.onTrialAdd(trial('d', 'PENDING'));
    expect(step(s, 'd', 3, 9)).toBe('STOP');
  });

  it('only counts trials that reached the same time', () => {
    const s = withPopulation();
    s.onTrialAdd(trial('d', 'PENDING'));
    // At t=6 no other trial has a result that late: too few samples.
    expect(step(s, 'd', 6, 1)).toBe('CONTINUE');
  });

  it('does not stop before minSamplesRequired other trials reached the time', () => {
    // All running: no trial waits, so none yields either.
    const s = rule();
    for (const id of ['a', 'b', 'd']) s.onTrialAdd(trial(id));
    for (let t = 1; t <= 3; t++) for (const id of ['a', 'b']) step(s, id, t, 10);
    expect(step(s, 'd', 2, 1)).toBe('CONTINUE');
    expect(step(s, 'd', 3, 1)).toBe('CONTINUE');
    const one = rule({ minSamplesRequired: 2 });
    for (const id of ['a', 'b', 'd']) one.onTrialAdd(trial(id));
    for (let t = 1; t <= 3; t++) for (const id of ['a', 'b']) step(one, id, t, 10);
    expect(step(one, 'd', 2, 1)).toBe('STOP');
  });

  it('with too few samples, yields to waiting trials at most every minTimeSliceS', () => {
    const s = rule({ minTimeSliceS: 2 });
    for (const id of ['a', 'b']) s.onTrialAdd(trial(id, 'PENDING'));
    expect(s.chooseTrialToRun([trial('a', 'PENDING'), trial('b', 'PENDING')])?.trialId).toBe('a');
    // b waits (not started): a yields after its grace period.
    expect(step(s, 'a', 1, 5)).toBe('CONTINUE');
    expect(step(s, 'a', 2, 5)).toBe('PAUSE');
    expect(s.chooseTrialToRun([trial('a', 'PAUSED'), trial('b', 'PENDING')])?.trialId).toBe('b');
    expect(step(s, 'b', 1, 5)).toBe('CONTINUE');
    expect(step(s, 'b', 2, 5)).toBe('PAUSE');
    expect(s.chooseTrialToRun([trial('a', 'PAUSED'), trial('b', 'PAUSED')])?.trialId).toBe('a');
    expect(step(s, 'a', 3, 5)).toBe('CONTINUE'); // 1 since its last pause: not yet
    expect(step(s, 'a', 4, 5)).toBe('CONTINUE'); // 2: still not more than the slice
    expect(step(s, 'a', 5, 5)).toBe('PAUSE');
  });

  it('without hardStop, pauses the trial once and never judges it again', () => {
    const s = withPopulation({ hardStop: false });
    s.onTrialAdd(trial('d', 'PENDING'));
    expect(step(s, 'd', 2, 1)).toBe('PAUSE');
    expect(s.chooseTrialToRun([trial('d', 'PAUSED')])?.trialId).toBe('d');
    expect(step(s, 'd', 3, 1)).toBe('CONTINUE');
  });

  it('in min mode, stops the trial with the higher loss', () => {
    const s = new MedianStoppingRule({ gracePeriod: 0, minSamplesRequired: 2, timeAttr: 'trainingIteration' });
    s.setSearchProperties('loss', 'min');
    for (const id of ['a', 'b', 'c', 'd']) s.onTrialAdd(trial(id, 'PENDING'));
    const loss = (id: string, it: number): TrialResult => result(id, it, { loss: { a: 1, b: 2, c: 5, d: 1.4 }[id] });
    for (const id of ['a', 'b']) s.onTrialResult(trial(id), loss(id, 1));
    expect(s.onTrialResult(trial('c'), loss('c', 1)).action).toBe('STOP'); // 5 > median(1, 2)
    expect(s.onTrialResult(trial('d'), loss('d', 1)).action).toBe('CONTINUE'); // 1.4 < median(1, 2, 5)
  });

  it('keeps completed trials as samples', () => {
    const s = rule({ minSamplesRequired: 1 });
    for (const id of ['a', 'd']) s.onTrialAdd(trial(id, 'PENDING'));
    for (let t = 2; t <= 4; t++) step(s, 'a', t, 10);
    // a's last result reaches the scheduler only with onTrialComplete (it ended on a stop criterion).
    s.onTrialComplete(trial('a', 'TERMINATED'), result('a', 5, { acc: 10 }));
    expect(step(s, 'd', 5, 1)).toBe('STOP');
  });

  it('throws a clear error without metric or mode, and for bad options', () => {
    expect(() => new MedianStoppingRule().onTrialAdd(trial('a'))).toThrow(/MedianStoppingRule has no metric/);
    expect(() => new MedianStoppingRule({ metric: 'acc' }).onTrialAdd(trial('a'))).toThrow(TuneInvalidArgumentError);
    expect(() => new MedianStoppingRule({ minSamplesRequired: 0 })).toThrow(/minSamplesRequired must be/);
    expect(() => new MedianStoppingRule({ gracePeriod: -1 })).toThrow(/gracePeriod must be/);
  });

  it('save() and restore() through JSON give the same decisions afterwards', () => {
    const a = withPopulation({ hardStop: false, minTimeSliceS: 1 });
    for (const id of ['d', 'e', 'w']) a.onTrialAdd(trial(id, 'PENDING'));
    step(a, 'd', 2, 1); // paused for good
    step(a, 'e', 6, 7); // too few samples: yields to w
    const b = new MedianStoppingRule({
      metric: 'acc',
      mode: 'max',
      gracePeriod: 2,
      minSamplesRequired: 3,
      hardStop: false,
      minTimeSliceS: 1,
    });
    b.restore(JSON.parse(JSON.stringify(a.save())));
    expect(b.save()).toEqual(a.save());
    const run = (s: MedianStoppingRule): string[] => [
      step(s, 'd', 3, 1),
      step(s, 'e', 6.5, 7),
      step(s, 'e', 8, 7),
      step(s, 'w', 2, 6.9), // median of a, b, c, d at t=2: (6 + 8) / 2
      step(s, 'w', 3, 9),
    ];
    const ra = run(a);
    expect(run(b)).toEqual(ra);
    expect(ra).toEqual(['CONTINUE', 'CONTINUE', 'PAUSE', 'PAUSE', 'CONTINUE']);
  });
});
