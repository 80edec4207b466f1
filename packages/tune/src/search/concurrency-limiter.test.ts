import { describe, expect, it } from 'vitest';
import { TuneInvalidArgumentError } from '../errors.js';
import { FINISHED, type Config, type Mode, type Searcher, type TrialResult } from '../types.js';
import { BasicVariantGenerator } from './basic-variant.js';
import { ConcurrencyLimiter, hasSetNumSamples } from './concurrency-limiter.js';
import { uniform } from './space.js';
import { TPESearch } from './tpe.js';

function result(trialId: string, loss: number): TrialResult {
  return { trialId, trainingIteration: 1, timeTotalS: 1, timeThisIterS: 1, timestamp: 0, loss };
}

/** A searcher that records what it is told and suggests `{ i }` up to `total` times. */
class Recorder implements Searcher {
  readonly calls: string[] = [];
  private i = 0;
  constructor(private readonly total = Infinity) {}
  setSearchProperties(metric: string | undefined, mode: Mode | undefined, space: Config): void {
    this.calls.push(`props ${metric} ${mode} ${Object.keys(space).join(',')}`);
  }
  suggest(trialId: string): Config | typeof FINISHED {
    this.calls.push(`suggest ${trialId}`);
    return this.i < this.total ? { i: this.i++ } : FINISHED;
  }
  onTrialResult(trialId: string, r: TrialResult): void {
    this.calls.push(`result ${trialId} ${String(r.loss)}`);
  }
  onTrialComplete(trialId: string, r: TrialResult | undefined, error: boolean): void {
    this.calls.push(`complete ${trialId} ${String(r?.loss)} ${error}`);
  }
  save(): unknown {
    return { i: this.i };
  }
  restore(state: unknown): void {
    this.i = (state as { i: number }).i;
  }
}

describe('ConcurrencyLimiter', () => {
  it('returns undefined while maxConcurrent trials are live, and forwards everything else', () => {
    const inner = new Recorder();
    const limiter = new ConcurrencyLimiter(inner, { maxConcurrent: 2 });
    limiter.setSearchProperties('loss', 'min', { x: 1 });
    expect(limiter.suggest('a')).toEqual({ i: 0 });
    expect(limiter.suggest('b')).toEqual({ i: 1 });
    expect(limiter.suggest('c')).toBeUndefined();
    expect(limiter.liveTrialIds).toEqual(['a', 'b']);
    limiter.onTrialResult('a', result('a', 3));
    limiter.onTrialComplete('a', result('a', 2), false);
    expect(limiter.suggest('c')).toEqual({ i: 2 });
    limiter.onTrialComplete('b', undefined, true);
    limiter.onTrialComplete('stranger', undefined, false); // not started here: ignored, as Ray
    expect(inner.calls).toEqual([
      'props loss min x',
      'suggest a',
      'suggest b',
      'result a 3',
      'complete a 2 false',
      'suggest c',
      'complete b undefined true',
    ]);
  });

  it('passes FINISHED through without taking a slot', () => {
    const limiter = new ConcurrencyLimiter(new Recorder(1), { maxConcurrent: 1 });
    expect(limiter.suggest('a')).toEqual({ i: 0 });
    limiter.onTrialComplete('a', undefined, false);
    expect(limiter.suggest('b')).toBe(FINISHED);
    expect(limiter.liveTrialIds).toEqual([]);
  });

  it('in batch mode, forwards results once the whole batch completed', () => {
    const inner = new Recorder();
    const limiter = new ConcurrencyLimiter(inner, { maxConcurrent: 2, batch: true });
    limiter.suggest('a');
    limiter.suggest('b');
    limiter.onTrialComplete('a', result('a', 1), false);
    expect(limiter.suggest('c')).toBeUndefined();
    expect(inner.calls.filter((c) => c.startsWith('complete'))).toEqual([]);
    limiter.onTrialComplete('b', result('b', 2), false);
    expect(inner.calls.filter((c) => c.startsWith('complete'))).toEqual(['complete a 1 false', 'complete b 2 false']);
    expect(limiter.suggest('c')).toEqual({ i: 2 });
  });

  it('forwards setNumSamples to a searcher that takes it', () => {
    const limiter = new ConcurrencyLimiter(new BasicVariantGenerator({ seed: 1 }), { maxConcurrent: 2 });
    expect(hasSetNumSamples(limiter)).toBe(true);
    limiter.setSearchProperties(undefined, undefined, { x: uniform(0, 1) });
    limiter.setNumSamples(3);
    const ids = ['a', 'b', 'c', 'd'];
    const got = ids.map((id) => {
      const c = limiter.suggest(id);
      limiter.onTrialComplete(id, undefined, false);
      return c;
    });
    expect(got.slice(0, 3).every((c) => typeof c === 'object')).toBe(true);
    expect(got[3]).toBe(FINISHED);
    expect(hasSetNumSamples(new Recorder())).toBe(false);
    new ConcurrencyLimiter(new Recorder(), { maxConcurrent: 1 }).setNumSamples(5); // no-op, no throw
  });

  it('saves and restores the live trials and the wrapped searcher through JSON', () => {
    const make = () => {
      const s = new ConcurrencyLimiter(new TPESearch({ metric: 'loss', mode: 'min', seed: 2, nStartupTrials: 2 }), {
        maxConcurrent: 2,
      });
      s.setSearchProperties(undefined, undefined, { x: uniform(0, 1) });
      return s;
    };
    const first = make();
    first.suggest('a');
    first.suggest('b');
    first.onTrialComplete('a', result('a', 1), false);
    first.suggest('c');
    const restored = make();
    restored.restore(JSON.parse(JSON.stringify(first.save())));
    expect(restored.liveTrialIds).toEqual(['b', 'c']);
    expect(restored.suggest('d')).toBeUndefined();
    restored.onTrialComplete('b', result('b', 0.5), false);
    first.onTrialComplete('b', result('b', 0.5), false);
    expect(restored.suggest('d')).toEqual(first.suggest('d'));
    expect((restored.searcher as TPESearch).observationCount).toBe(2);
  });

  it('rejects bad options', () => {
    expect(() => new ConcurrencyLimiter(new Recorder(), { maxConcurrent: 0 })).toThrow(TuneInvalidArgumentError);
    expect(() => new ConcurrencyLimiter(new Recorder(), { maxConcurrent: 1.5 })).toThrow(
      /maxConcurrent must be an integer >= 1/,
    );
    expect(() => new ConcurrencyLimiter({} as Searcher, { maxConcurrent: 1 })).toThrow(/must be a Searcher/);
    expect(() => new ConcurrencyLimiter(new Recorder(), { maxConcurrent: 1 }).restore({})).toThrow(
      /not written by ConcurrencyLimiter.save/,
    );
  });
});
