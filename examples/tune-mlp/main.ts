// Hyperparameter tuning with @ray-ts/tune: a small MLP (2 -> hidden -> 1, plain TypeScript SGD,
// see train.ts) learns the two-moons dataset; Tune searches its learning rate, hidden size and
// batch size with TPE, runs the trials in parallel on worker actors, and stops the poor ones
// early with ASHA. The best trial's checkpoint is then scored on a held-out test set.
//
//   node --import tsx examples/tune-mlp/main.ts [--samples 16] [--epochs 20] [--storage DIR]
//
// Without --storage the experiment is written to a temporary folder, removed at the end; with it,
// the experiment stays in DIR/tune-mlp (experiment_state.json, and per trial params.json,
// result.json, progress.csv and its checkpoint). The exit code is 1 when the best trial is not
// clearly above chance (50%) or when ASHA stopped no trial early.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import { ASHAScheduler, TPESearch, Tuner, choice, loguniform, withParameters } from '@ray-ts/tune';
import { evaluate, makeMoons, trainMlp, type TrainState } from './train.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '16' },
    epochs: { type: 'string', default: '20' },
    storage: { type: 'string' },
  },
});
const numSamples = Number(values.samples);
const epochs = Number(values.epochs);
const storagePath = values.storage ?? mkdtempSync(path.join(tmpdir(), 'ray-ts-tune-mlp-'));
const MIN_ACCURACY = 0.8; // chance is 0.5; a linear model gets about 0.87, the MLP up to 0.98

// Seeded data: the same on every run. Training and validation sets go to the trials through the
// object store (withParameters: stored once, read by each trial); the test set stays here.
const train = makeMoons(600, 0.2, 1);
const val = makeMoons(300, 0.2, 2);
const test = makeMoons(1000, 0.2, 3);

await init();
try {
  const scheduler = new ASHAScheduler({ maxT: epochs, gracePeriod: 2, reductionFactor: 3 });
  const tuner = new Tuner(withParameters(trainMlp, { train, val }), {
    paramSpace: {
      lr: loguniform(1e-3, 3),
      hidden: choice([2, 4, 8, 16, 32]),
      batchSize: choice([8, 16, 32, 64, 128]),
      epochs, // constants pass through to every config
      seed: 0,
    },
    tuneConfig: {
      metric: 'loss',
      mode: 'min',
      numSamples,
      searchAlg: new TPESearch({ nStartupTrials: 8, seed: 7 }),
      scheduler,
    },
    runConfig: { name: 'tune-mlp', storagePath, checkpointConfig: { numToKeep: 1 } },
  });
  const t0 = performance.now();
  const grid = await tuner.fit();
  const seconds = (performance.now() - t0) / 1000;

  const iterations = [...grid].map((r) => r.metrics?.trainingIteration ?? 0);
  const stoppedEarly = iterations.filter((n) => n < epochs).length;
  const best = grid.getBestResult();
  const { lr, hidden, batchSize } = best.config as { lr: number; hidden: number; batchSize: number };
  const accuracy = best.metrics!.accuracy as number;
  console.log(
    `tuned ${grid.length} trials in ${seconds.toFixed(1)} s: ${stoppedEarly} stopped early by ASHA, ${grid.numErrors} errors, ` +
      `${iterations.reduce((a, b) => a + b, 0)} epochs run of ${grid.length * epochs}`,
  );
  console.log(
    `best config: lr=${lr.toPrecision(3)} hidden=${hidden} batchSize=${batchSize}; ` +
      `validation loss ${(best.metrics!.loss as number).toFixed(4)}, validation accuracy ${accuracy.toFixed(3)} after ${best.metrics!.trainingIteration} epochs`,
  );

  // The best trial's weights, read back from its checkpoint folder, on data no trial saw.
  const state = best.checkpoint!.toDict<TrainState>();
  const testAccuracy = evaluate(state.weights, test).accuracy;
  console.log(
    `test accuracy of the best checkpoint (epoch ${state.epoch}): ${testAccuracy.toFixed(3)} on ${test.n} points`,
  );

  if (grid.numErrors > 0) {
    console.error(`FAILED: ${grid.numErrors} trials errored: ${grid.errors[0].error!.message}`);
    process.exitCode = 1;
  }
  if (!(accuracy >= MIN_ACCURACY && testAccuracy >= MIN_ACCURACY)) {
    console.error(
      `FAILED: the best accuracy (validation ${accuracy.toFixed(3)}, test ${testAccuracy.toFixed(3)}) is not clearly above chance (>= ${MIN_ACCURACY})`,
    );
    process.exitCode = 1;
  }
  if (stoppedEarly === 0) {
    console.error('FAILED: ASHA stopped no trial early');
    process.exitCode = 1;
  }
} finally {
  await shutdown();
  if (!values.storage) rmSync(storagePath, { recursive: true, force: true });
}
