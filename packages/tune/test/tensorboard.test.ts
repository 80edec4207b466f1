// TBXLoggerCallback's event files, read back with TensorBoard's own reader (EventAccumulator)
// and the HParams plugin's protos, in a venv made by tools/tensorboard-venv.sh.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Tuner, gridSearch } from '@ray-ts/tune';
import * as f from './fixtures/trainables.js';
import { readEvents, tensorboardSuite } from './fixtures/tensorboard.js';

const suite = tensorboardSuite('tune-tensorboard-test', 'ray-ts-tune-tb-');

const eventFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('events.out.tfevents.'));

it('writes each trial as a TensorBoard run: its results as scalars per step, its config as hyperparameters', async () => {
  const grid = await new Tuner(f.counting, {
    paramSpace: { x: gridSearch([1, 3]), iters: 4, name: 'counting', nested: { on: true } },
    tuneConfig: { metric: 'score', mode: 'max' },
    runConfig: { name: 'tb', storagePath: suite.storagePath, verbose: 0 },
  }).fit();
  expect(grid.numErrors).toBe(0);
  const runs = readEvents([...grid].map((r) => r.path));
  for (const r of grid) {
    expect(eventFiles(r.path)).toHaveLength(1);
    expect(eventFiles(r.path)[0]).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname()}\\.`));
    const ev = runs[r.path];
    const x = r.config.x as number;
    expect(ev.file_version).toBe(2);
    expect(ev.scalars['ray/tune/score']).toEqual([1, 2, 3, 4].map((i) => [i, x * i]));
    expect(ev.scalars['ray/tune/loss']).toEqual([1, 2, 3, 4].map((i) => [i, 10 - i]));
    expect(ev.scalars['ray/tune/extra/half']).toEqual([1, 2, 3, 4].map((i) => [i, i / 2]));
    expect(ev.scalars['ray/tune/timeThisIterS']).toHaveLength(4);
    // The step and the clock are the events' own, as in Ray.
    for (const t of ['trainingIteration', 'timestamp', 'timeTotalS'])
      expect(ev.scalars[`ray/tune/${t}`]).toBeUndefined();
    expect(ev.hparams.tags).toEqual([
      '_hparams_/experiment',
      '_hparams_/session_start_info',
      '_hparams_/session_end_info',
    ]);
    expect(ev.hparams.session_start_info).toEqual({ x, iters: 4, name: 'counting', 'nested/on': true });
    // hparams/api.proto DataType: 1 string, 2 bool, 3 float64.
    expect(ev.hparams.experiment!.hparams).toEqual({ x: 3, iters: 3, name: 1, 'nested/on': 2 });
    expect(ev.hparams.experiment!.metrics).toEqual(
      expect.arrayContaining(['ray/tune/score', 'ray/tune/loss', 'ray/tune/extra/half']),
    );
    expect(ev.hparams.session_end_info).toEqual({ status: 1 }); // STATUS_SUCCESS
  }
  // The default loggers' other files are there too.
  for (const file of ['result.json', 'progress.csv', 'params.json'])
    expect(fs.existsSync(path.join(grid.get(0).path, file))).toBe(true);
});

it('drops the iterations a retried trial runs again: TensorBoard shows each step once, from the run that kept it', async () => {
  // Checkpoints at 2 and 4; the first start throws at 4, after reporting 3. The retry resumes from
  // iteration 2's checkpoint and reports 3 and 4 again, with starts = 2.
  const grid = await new Tuner(f.steady, {
    paramSpace: { lr: 1, iters: 5, sleepMs: 0, failAt: 4, checkpointEvery: 2 },
    runConfig: { name: 'tb-retry', storagePath: suite.storagePath, verbose: 0, failureConfig: { maxFailures: 1 } },
  }).fit();
  const r = grid.get(0);
  expect(r.error).toBeUndefined();
  expect(r.metricsHistory.map((m) => [m.trainingIteration, m.starts])).toEqual([
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [5, 2],
  ]);
  const ev = readEvents([r.path])[r.path];
  expect(ev.scalars['ray/tune/starts']).toEqual([
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [5, 2],
  ]);
  expect(ev.scalars['ray/tune/i']).toEqual([1, 2, 3, 4, 5].map((i) => [i, i]));
  expect(ev.hparams.session_end_info).toEqual({ status: 1 });
});

it('marks a trial that failed for good as a failed HParams session', async () => {
  const grid = await new Tuner(f.steady, {
    paramSpace: { lr: 0.5, iters: 3, sleepMs: 0, failAt: 3 },
    runConfig: { name: 'tb-error', storagePath: suite.storagePath, verbose: 0 },
  }).fit();
  const r = grid.get(0);
  expect(r.error?.message).toBe('failed at 3');
  const ev = readEvents([r.path])[r.path];
  expect(ev.scalars['ray/tune/loss']).toEqual([
    [1, 0.5],
    [2, 0.25],
  ]);
  expect(ev.hparams.session_end_info).toEqual({ status: 2 }); // STATUS_FAILURE
});
