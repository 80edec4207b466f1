import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverRuns, metricCurves, readResults, runDetail } from './dashboard-runs.js';

let tmp: string;
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tuneRun(dir: string, trials: { id: string; status: string; losses: number[] }[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const records = trials.map((t) => {
    const results = t.losses.map((loss, i) => ({ loss, trainingIteration: i + 1, timestamp: i, trialId: t.id }));
    fs.mkdirSync(path.join(dir, `trial_${t.id}`));
    fs.writeFileSync(
      path.join(dir, `trial_${t.id}`, 'result.json'),
      results.map((r) => JSON.stringify(r) + '\n').join(''),
    );
    return {
      trialId: t.id,
      trialName: `trial_${t.id}`,
      config: { x: 1 },
      status: t.status,
      lastResult: results.at(-1),
    };
  });
  const state = { name: path.basename(dir), metric: 'loss', mode: 'max', trials: records, startedAt: 5 };
  fs.writeFileSync(path.join(dir, 'experiment_state.json'), JSON.stringify(state));
}

describe('run discovery', () => {
  it('finds Tune experiments and Train runs under the roots and at registered folders, newest first', () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runs-test-'));
    const root = path.join(tmp, 'results');
    tuneRun(path.join(root, 'tune_a'), [
      { id: 't1', status: 'TERMINATED', losses: [1, 2] },
      { id: 't2', status: 'RUNNING', losses: [3] },
    ]);
    const train = path.join(root, 'train_b');
    fs.mkdirSync(train);
    fs.writeFileSync(
      path.join(train, 'result.json'),
      '{"loss":0.5,"trainingIteration":1,"timestamp":10}\n{"loss":0.4,"trainingIteration":2,"timestamp":11,"done":true}\n',
    );
    fs.mkdirSync(path.join(root, 'not_a_run'));
    fs.writeFileSync(path.join(root, 'stray-file'), 'x');
    const registered = path.join(tmp, 'elsewhere', 'tune_c');
    tuneRun(registered, [{ id: 'c1', status: 'ERROR', losses: [] }]);
    const runs = discoverRuns([root, path.join(tmp, 'missing-root')], [registered, path.join(root, 'tune_a')]);
    expect(runs.map((r) => [r.name, r.kind, r.status, r.trials])).toEqual([
      ['train_b', 'train', 'TERMINATED', 1],
      ['tune_a', 'tune', 'RUNNING', 2],
      ['tune_c', 'tune', 'ERROR', 1],
    ]);
    expect(runs[1].bestTrial).toEqual({ trialId: 't2', metric: 'loss', value: 3 });
    const detail = runDetail(path.join(root, 'tune_a'));
    expect(detail.best).toEqual({ trialId: 't2', metric: 'loss', mode: 'max' });
    expect(detail.trials.find((t) => t.trialId === 't1')!.metrics).toEqual({
      loss: [
        [1, 1],
        [2, 2],
      ],
    });
    expect(runDetail(train).trials[0].metrics.loss).toEqual([
      [1, 0.5],
      [2, 0.4],
    ]);
    expect(() => runDetail(path.join(root, 'not_a_run'))).toThrow(/no Tune or Train run/);
  });

  it('skips a result line still being written, and plots numbers only, against the iteration', () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runs-test-'));
    fs.writeFileSync(path.join(tmp, 'result.json'), '{"a":1,"trainingIteration":1}\n{"a":2,"trainingIter');
    expect(readResults(tmp)).toEqual([{ a: 1, trainingIteration: 1 }]);
    expect(metricCurves([{ a: 1, s: 'x', timestamp: 5 }, { a: Number.NaN }, { a: 3 }])).toEqual({
      a: [
        [1, 1],
        [3, 3],
      ],
    });
  });
});
