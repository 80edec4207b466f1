// A Train run calls Tune's callbacks as one trial (Ray Train's RunConfig(callbacks=)): hooks in
// order across a restart, and TBXLoggerCallback's event file read back with TensorBoard's reader.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import {
  Callback,
  DataParallelTrainer,
  TrainInvalidArgumentError,
  type CallbackTrial,
  type Checkpoint,
} from '@ray-ts/train';
import type { TrialResult } from '@ray-ts/tune';
import { readEvents, tensorboardSuite } from '../../tune/test/fixtures/tensorboard.js';
import { linearLoop } from './fixtures/loops.js';

const suite = tensorboardSuite('train-tracking-test', 'ray-ts-train-tracking-');

class Recorder extends Callback {
  readonly lines: string[] = [];
  override setup(): void {
    this.lines.push('setup');
  }
  override onTrialStart(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`start ${t.trialName} results=${t.results.length}`);
  }
  override onTrialResult(_i: number, _all: readonly CallbackTrial[], _t: CallbackTrial, r: TrialResult): void {
    this.lines.push(`result ${r.trainingIteration}`);
  }
  override onCheckpoint(_i: number, _all: readonly CallbackTrial[], _t: CallbackTrial, c: Checkpoint): void {
    this.lines.push(`checkpoint ${path.basename(c.path!)}`);
  }
  override onTrialRecover(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`recover failures=${t.numFailures}`);
  }
  override onTrialComplete(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`complete ${t.status}`);
  }
  override onExperimentEnd(): void {
    this.lines.push('end');
  }
}

it('calls the callbacks of runConfig for the run as one trial, and writes its results for TensorBoard', async () => {
  const rec = new Recorder();
  // Checkpoints every 2 steps; the first start throws before step 4, so the group restarts from
  // step 2's checkpoint and runs steps 3 and 4 again.
  const result = await new DataParallelTrainer(linearLoop, {
    trainLoopConfig: {
      steps: 5,
      lr: 0.2,
      rows: 32,
      dims: 2,
      checkpointEvery: 2,
      failAt: { rank: 0, step: 4, kind: 'throw' },
    },
    scalingConfig: { numWorkers: 2 },
    runConfig: {
      name: 'tracked',
      storagePath: suite.storagePath,
      verbose: 0,
      failureConfig: { maxFailures: 1 },
      callbacks: [rec],
    },
  }).fit();
  expect(result.error).toBeUndefined();
  const recover = rec.lines.indexOf('recover failures=1');
  // The restart must be the injected one at step 4: say which failure it was when it is not (a CI
  // run once saw a restart after step 1, cause unknown).
  const failures = result.failures.map(
    (f) => `rank ${f.rank} attempt ${f.attempt}: ${f.error.stack ?? f.error.message}`,
  );
  // Step 3 of the first start may be in or not: rank 0 fails right after it.
  expect(rec.lines.slice(0, 5), failures.join('\n')).toEqual([
    'setup',
    'start tracked results=0',
    'result 1',
    'result 2',
    'checkpoint checkpoint_000002',
  ]);
  expect(rec.lines.slice(5, recover).join()).toMatch(/^(result 3)?$/);
  expect(rec.lines.slice(recover)).toEqual([
    'recover failures=1',
    'start tracked results=2',
    'result 3',
    'result 4',
    'checkpoint checkpoint_000004',
    'result 5',
    'complete TERMINATED',
    'end',
  ]);
  const ev = readEvents([result.path])[result.path];
  const losses = result.metricsHistory.map((m) => m.loss as number);
  expect(ev.scalars['ray/tune/step']).toEqual([1, 2, 3, 4, 5].map((s) => [s, s]));
  expect(ev.scalars['ray/tune/loss'].map(([s]) => s)).toEqual([1, 2, 3, 4, 5]);
  ev.scalars['ray/tune/loss'].forEach(([, v], i) => expect(v).toBeCloseTo(losses[i], 5)); // float32 in the file
  expect(ev.hparams.session_start_info).toMatchObject({ steps: 5, lr: 0.2, rows: 32, dims: 2, checkpointEvery: 2 });
  expect(ev.hparams.session_end_info).toEqual({ status: 1 });
  expect(JSON.parse(fs.readFileSync(path.join(result.path, 'params.json'), 'utf8'))).toMatchObject({ steps: 5 });
  expect(fs.readFileSync(path.join(result.path, 'result.json'), 'utf8').trim().split('\n')).toHaveLength(5);
});

it('rejects callbacks that are not callbacks', () => {
  expect(
    () =>
      new DataParallelTrainer(linearLoop, {
        runConfig: { callbacks: ['tensorboard' as never] },
      }),
  ).toThrow(TrainInvalidArgumentError);
});
