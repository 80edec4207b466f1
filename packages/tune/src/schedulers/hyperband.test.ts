import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import type { SchedulerDecision, TrialInfo, TrialResult, TrialStatus } from '../types.js';
import { HyperBandScheduler } from './hyperband.js';

function trial(trialId: string, status: TrialStatus = 'RUNNING'): TrialInfo {
  return { trialId, config: {}, status, lastResult: undefined, results: [], hasCheckpoint: status === 'PAUSED' };
}

function result(trialId: string, trainingIteration: number, metrics: Record<string, unknown> = {}): TrialResult {
  return { trialId, trainingIteration, timeTotalS: trainingIteration, timeThisIterS: 1, timestamp: 0, ...metrics };
}

function step(s: HyperBandScheduler, id: string, it: number, acc: number): string {
  return s.onTrialResult(trial(id), result(id, it, { acc })).action;
}

/**
 * maxT 9, rf 3: a band has 3 brackets: s=0 (3 trials, to 9), s=1 (5 trials, milestone 3, then
 * the best 2 to 9), s=2 (9 trials, milestones 1, 3, 9). Fills bracket 0 with a0..a2, bracket 1
 * with b0..b4.
 */
function twoBrackets(): HyperBandScheduler {
  const s = new HyperBandScheduler({ metric: 'acc', mode: 'max', maxT: 9, reductionFactor: 3 });
  for (const id of ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'b3', 'b4']) s.onTrialAdd(trial(id, 'PENDING'));
  return s;
}

const ACC: Record<string, number> = { b0: 0.5, b1: 0.9, b2: 0.1, b3: 0.7, b4: 0.3 };

describe('HyperBandScheduler', () => {
  it("fills brackets in order with Ray's sizes and milestones", () => {
    const s = new HyperBandScheduler({ metric: 'acc', mode: 'max' }); // maxT 81, rf 3
    for (let i = 0; i < 5 + 8 + 15 + 34 + 81 + 1; i++) s.onTrialAdd(trial(`t${i}`, 'PENDING'));
    const brackets = s.describeBrackets();
    expect(brackets.map((b) => [b.band, b.maxTrials, b.milestone, b.trials.length])).toEqual([
      [0, 5, 81, 5],
      [0, 8, 27, 8],
      [0, 15, 9, 15],
      [0, 34, 3, 34],
      [0, 81, 1, 81],
      [1, 5, 81, 1],
    ]);
    expect(brackets[1].trials[0]).toBe('t5');
  });

  it('pauses trials at the milestone until the rung is complete, then promotes the top 1/rf and stops the rest', () => {
    const s = twoBrackets();
    for (const id of ['b0', 'b1', 'b2', 'b3', 'b4']) {
      expect(step(s, id, 1, ACC[id])).toBe('CONTINUE');
      expect(step(s, id, 2, ACC[id])).toBe('CONTINUE');
    }
    for (const id of ['b0', 'b1', 'b2', 'b3']) expect(step(s, id, 3, ACC[id])).toBe('PAUSE');
    // A paused trial is not resumed while its rung waits.
    const paused = ['b0', 'b1', 'b2', 'b3'].map((id) => trial(id, 'PAUSED'));
    expect(s.chooseTrialToRun(paused)).toBeUndefined();
    expect(s.takeTrialsToStop()).toEqual([]);
    // b4 completes the rung: ceil(5/3) = 2 go on (b1, b3); b4 itself is not among them.
    expect(step(s, 'b4', 3, ACC.b4)).toBe('STOP');
    expect(s.takeTrialsToStop().sort()).toEqual(['b0', 'b2']);
    expect(s.takeTrialsToStop()).toEqual([]);
    expect(s.chooseTrialToRun(paused)?.trialId).toBe('b1');
    expect(s.chooseTrialToRun([trial('b3', 'PAUSED'), trial('b0', 'PAUSED')])?.trialId).toBe('b3');
    // Promoted trials run to the next milestone (9 = maxT), where they stop.
    for (let it = 4; it < 9; it++) expect(step(s, 'b1', it, 0.9)).toBe('CONTINUE');
    expect(step(s, 'b1', 9, 0.9)).toBe('STOP');
    expect(s.stoppedCount).toBe(4);
  });

  it('lets the trial that completes the rung continue when it is promoted', () => {
    const s = twoBrackets();
    for (const id of ['b0', 'b2', 'b3', 'b4']) expect(step(s, id, 3, ACC[id])).toBe('PAUSE');
    expect(step(s, 'b1', 3, ACC.b1)).toBe('CONTINUE');
    expect(s.takeTrialsToStop().sort()).toEqual(['b0', 'b2', 'b4']);
    expect(s.chooseTrialToRun(['b3'].map((id) => trial(id, 'PAUSED')))?.trialId).toBe('b3');
  });

  it('promotes the lowest values in min mode (mode from the Tuner)', () => {
    const s = new HyperBandScheduler({ maxT: 9, reductionFactor: 3 });
    s.setSearchProperties('loss', 'min');
    for (const id of ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'b3', 'b4']) s.onTrialAdd(trial(id, 'PENDING'));
    for (const id of ['b0', 'b1', 'b2', 'b3'])
      expect(s.onTrialResult(trial(id), result(id, 3, { loss: ACC[id] })).action).toBe('PAUSE');
    expect(s.onTrialResult(trial('b4'), result('b4', 3, { loss: ACC.b4 })).action).toBe('CONTINUE');
    expect(s.takeTrialsToStop().sort()).toEqual(['b0', 'b1', 'b3']);
    expect(s.chooseTrialToRun([trial('b2', 'PAUSED')])?.trialId).toBe('b2');
  });

  it('halves when the last trial still below the milestone ends', () => {
    const s = twoBrackets();
    for (const id of ['b0', 'b1', 'b2', 'b3']) expect(step(s, id, 3, ACC[id])).toBe('PAUSE');
    s.onTrialError(trial('b4', 'ERROR'));
    // n = ceil(5 / 3) = 2 of the 4 left: b1 and b3
    expect(s.takeTrialsToStop().sort()).toEqual(['b0', 'b2']);
    expect(s.chooseTrialToRun(['b0', 'b1', 'b2', 'b3'].map((id) => trial(id, 'PAUSED')))?.trialId).toBe('b1');
  });

  it('offers pending trials of its brackets, least complete bracket first', () => {
    const s = twoBrackets();
    for (let it = 1; it <= 2; it++) for (const id of ['a0', 'a1']) step(s, id, it, 0.5);
    // Bracket 0 has made progress, bracket 1 none: b-trials first.
    expect(s.chooseTrialToRun([trial('a2', 'PENDING'), trial('b0', 'PENDING')])?.trialId).toBe('b0');
    expect(s.chooseTrialToRun([trial('a2', 'PENDING')])?.trialId).toBe('a2');
    expect(s.chooseTrialToRun([trial('x', 'PENDING')])?.trialId).toBe('x'); // not one of its trials
  });

  it('stops trials at maxT in the bracket without halvings', () => {
    const s = twoBrackets();
    for (let it = 1; it < 9; it++) expect(step(s, 'a0', it, 0.5)).toBe('CONTINUE');
    expect(step(s, 'a0', 9, 0.5)).toBe('STOP');
  });

  it("with stopLastTrials: false, lets the last rung's trials run past maxT", () => {
    const s = new HyperBandScheduler({
      metric: 'acc',
      mode: 'max',
      maxT: 9,
      reductionFactor: 3,
      stopLastTrials: false,
    });
    s.onTrialAdd(trial('a0', 'PENDING'));
    for (let it = 1; it <= 20; it++) expect(step(s, 'a0', it, 0.5)).toBe('CONTINUE');
  });

  it('halves again when every promoted trial is already past the next milestone', () => {
    const s = twoBrackets();
    for (const id of ['b0', 'b1', 'b2', 'b3']) expect(step(s, id, 10, ACC[id])).toBe('PAUSE');
    // All five report past 9: halving to 9 promotes b1 and b3, which are past it too; the
    // bracket is then done and every trial stops.
    expect(step(s, 'b4', 10, ACC.b4)).toBe('STOP');
    expect(s.takeTrialsToStop().sort()).toEqual(['b0', 'b1', 'b2', 'b3']);
    expect(s.chooseTrialToRun(['b0', 'b1', 'b2', 'b3'].map((id) => trial(id, 'PAUSED')))).toBeUndefined();
  });

  it('for a runner that does not take trialsToStop, resumes them last and stops them on their first result', () => {
    const s = twoBrackets();
    for (const id of ['b0', 'b1', 'b2', 'b3']) step(s, id, 3, ACC[id]);
    step(s, 'b4', 3, ACC.b4);
    expect(s.chooseTrialToRun([trial('b0', 'PAUSED'), trial('b1', 'PAUSED')])?.trialId).toBe('b1');
    expect(s.chooseTrialToRun([trial('b0', 'PAUSED')])?.trialId).toBe('b0');
    expect(step(s, 'b0', 4, 0.5)).toBe('STOP');
    expect(s.takeTrialsToStop()).toEqual(['b2']);
  });

  it('runs a whole experiment to the end under the runner contract, with or without takeTrialsToStop', () => {
    const ids = Array.from({ length: 17 }, (_, i) => `t${i}`);
    const acc = (id: string): number => ((Number(id.slice(1)) * 7) % 17) / 17;
    /** A runner as the contract describes: 2 slots, one iteration per step, round robin. */
    const simulate = (drain: boolean): Map<string, { status: TrialStatus; it: number }> => {
      const s = new HyperBandScheduler({ metric: 'acc', mode: 'max', maxT: 9, reductionFactor: 3 });
      const trials = new Map(ids.map((id) => [id, { status: 'PENDING' as TrialStatus, it: 0 }]));
      for (const id of ids) s.onTrialAdd(trial(id, 'PENDING'));
      const end = (id: string): void => {
        trials.get(id)!.status = 'TERMINATED';
        s.onTrialComplete(trial(id, 'TERMINATED'), undefined);
      };
      const running: string[] = [];
      for (let steps = 0; steps < 10_000; steps++) {
        while (running.length < 2) {
          const waiting = [...trials]
            .filter(([, t]) => t.status === 'PENDING' || t.status === 'PAUSED')
            .map(([id, t]) => trial(id, t.status));
          const chosen = s.chooseTrialToRun(waiting) ?? waiting.find((t) => t.status === 'PENDING');
          if (!chosen) break;
          trials.get(chosen.trialId)!.status = 'RUNNING';
          running.push(chosen.trialId);
        }
        const id = running.shift();
        if (id === undefined) break;
        const t = trials.get(id)!;
        const d = s.onTrialResult(trial(id), result(id, ++t.it, { acc: acc(id) })).action;
        if (d === 'CONTINUE') running.push(id);
        else if (d === 'PAUSE') t.status = 'PAUSED';
        else end(id);
        if (drain) for (const x of s.takeTrialsToStop()) end(x);
      }
      return trials;
    };
    for (const drain of [true, false]) {
      const trials = simulate(drain);
      expect([...trials.values()].every((t) => t.status === 'TERMINATED')).toBe(true);
      // Bracket 0 (t0-t2) runs to 9; bracket 1 (t3-t7) promotes the best 2 of 5 at 3; bracket 2
      // (t8-t16) the best 3 of 9 at 1, then the best of those at 3.
      const toMaxT = ids.filter((id) => trials.get(id)!.it === 9).sort();
      expect(toMaxT).toEqual(['t0', 't1', 't12', 't2', 't4', 't7']);
      const stoppedAt = (id: string): number => trials.get(id)!.it;
      // Without takeTrialsToStop, a loser stopped while PAUSED runs one more iteration first.
      for (const id of ['t3', 't5', 't6', 't9', 't14']) expect(drain ? [3] : [3, 4]).toContain(stoppedAt(id));
      for (const id of ['t8', 't10', 't11', 't13', 't15', 't16']) expect(drain ? [1] : [1, 2]).toContain(stoppedAt(id));
    }
  });

  it('throws a clear error without metric or mode, and for bad options', () => {
    expect(() => new HyperBandScheduler().onTrialAdd(trial('a'))).toThrow(/HyperBandScheduler has no metric/);
    expect(() => new HyperBandScheduler({ reductionFactor: 1 })).toThrow(TuneInvalidArgumentError);
    expect(() => new HyperBandScheduler({ maxT: 0 })).toThrow(/maxT must be/);
  });

  it('save() and restore() through JSON give the same decisions afterwards', () => {
    const a = twoBrackets();
    for (const id of ['b0', 'b1', 'b2']) step(a, id, 3, ACC[id]);
    step(a, 'a0', 2, 0.4);
    const b = new HyperBandScheduler({ metric: 'acc', mode: 'max', maxT: 9, reductionFactor: 3 });
    b.restore(JSON.parse(JSON.stringify(a.save())));
    expect(b.save()).toEqual(a.save());
    const run = (s: HyperBandScheduler): unknown[] => {
      const out: unknown[] = [];
      const d = (x: SchedulerDecision): void => void out.push(x.action);
      d(s.onTrialResult(trial('b3'), result('b3', 3, { acc: ACC.b3 })));
      d(s.onTrialResult(trial('b4'), result('b4', 3, { acc: ACC.b4 })));
      out.push(s.takeTrialsToStop().sort());
      out.push(s.chooseTrialToRun(['b0', 'b1', 'b2', 'b3'].map((id) => trial(id, 'PAUSED')))?.trialId);
      for (let i = 8; i < 20; i++) s.onTrialAdd(trial(`c${i}`, 'PENDING'));
      out.push(s.describeBrackets());
      return out;
    };
    const ra = run(a);
    expect(run(b)).toEqual(ra);
    expect(ra.slice(0, 4)).toEqual(['PAUSE', 'STOP', ['b0', 'b2'], 'b1']);
    expect(() => b.restore({ type: 'ASHAScheduler', version: 1 })).toThrow(TuneInvalidArgumentError);
  });
});
