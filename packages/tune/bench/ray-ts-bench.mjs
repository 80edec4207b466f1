// The ray-ts side of the Tune benchmark: the same workloads as ray_tune_bench.py, against
// @ray-ts/tune, on an embedded cluster with 2 CPUs (1 CPU per trial: 2 trials at once). For each
// workload and actor mode it times tuner.fit() (init() is not timed) and prints one JSON line:
//   {"side":"ray-ts","name","variant","reuseActors","wallS","trials","trialsPerS","overheadMsPerTrial",
//    "stoppedEarly","errors","iterations","overhead":{stateWrites,stateWriteMs,workersStarted}}
// variant is "reuse" (ray-ts's default: trials run one after another on the same worker actors)
// or "fresh" (reuseActors: false, an actor per trial, as Ray's default). Everything else goes to stderr.
//
//   node packages/tune/bench/ray-ts-bench.mjs [--only trivial,asha] [--variants reuse,fresh]
//       [--trials 200] [--asha-trials 64] [--seed 42] [--cpus 2] [--warmup-trials 2]
// Before the timed runs, an untimed warm-up of --warmup-trials trivial trials (reused actors)
// loads the modules in the driver and the worker threads, as ray_tune_bench.py does for Ray.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'trivial,asha' },
    variants: { type: 'string', default: 'reuse,fresh' },
    trials: { type: 'string', default: '200' },
    'asha-trials': { type: 'string', default: '64' },
    seed: { type: 'string', default: '42' },
    cpus: { type: 'string', default: '2' },
    'warmup-trials': { type: 'string', default: '2' },
  },
});
const log = (msg) => console.error(`[ray-ts] ${msg}`);

let tune;
try {
  tune = await import('@ray-ts/tune');
} catch (err) {
  console.error(
    `ray-ts-bench: cannot import @ray-ts/tune: ${err.message}\n` +
      'Build the packages first (npx nx run-many -t build; npm run bench -w @ray-ts/tune does it), ' +
      'and run npm install at the repository root if node_modules/@ray-ts/tune is missing.',
  );
  process.exit(2);
}
const { Tuner, uniform, ASHAScheduler, BasicVariantGenerator } = tune;
const { init, shutdown } = await import('@ray-ts/core');
const { trivial, curve } = await import('./trainables.mjs');

// Internal overhead counters, read from tune's own modules (not public API; skipped if they moved):
// experiment_state.json writes (count and ms) and worker actors started.
const overhead = { stateWrites: 0, stateWriteMs: 0, workersStarted: 0 };
let countersOk = false;
try {
  const dist = import.meta.resolve('@ray-ts/tune');
  const { ExperimentStorage } = await import(new URL('./storage.js', dist).href);
  const { TrialWorker } = await import(new URL('./trainable.js', dist).href);
  const write = ExperimentStorage.prototype.writeState;
  ExperimentStorage.prototype.writeState = function (...args) {
    const t0 = performance.now();
    try {
      return write.apply(this, args);
    } finally {
      overhead.stateWriteMs += performance.now() - t0;
      overhead.stateWrites++;
    }
  };
  const opts = TrialWorker.options;
  TrialWorker.options = function (...args) {
    overhead.workersStarted++;
    return opts.apply(this, args);
  };
  countersOk = true;
} catch (err) {
  log(`internal overhead counters unavailable (${err.message}); reporting wall times only`);
}

const cpus = Number(values.cpus);
const seed = Number(values.seed);
const parallelism = cpus; // 1 CPU per trial
const MAX_T = 100;
const workloads = {
  trivial: {
    trainable: trivial,
    numSamples: Number(values.trials),
    paramSpace: { x: uniform(0, 1) },
    tuneConfig: () => ({}),
    expectIterations: 10,
  },
  asha: {
    trainable: curve,
    numSamples: Number(values['asha-trials']),
    paramSpace: { a: uniform(0, 1), b: uniform(0, 1) },
    tuneConfig: () => ({
      metric: 'score',
      mode: 'max',
      scheduler: new ASHAScheduler({ timeAttr: 'trainingIteration', maxT: MAX_T, gracePeriod: 1, reductionFactor: 4 }),
    }),
    expectIterations: MAX_T,
  },
};
const names = values.only.split(',');
const variants = values.variants.split(',');
for (const n of names)
  if (!workloads[n]) {
    console.error(`ray-ts-bench: unknown workload '${n}'; choose from ${Object.keys(workloads).join(', ')}`);
    process.exit(2);
  }
for (const v of variants)
  if (v !== 'reuse' && v !== 'fresh') {
    console.error(`ray-ts-bench: unknown variant '${v}'; choose from reuse, fresh`);
    process.exit(2);
  }

const storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tune-bench-'));
let t0 = performance.now();
await init({ numCpus: cpus });
log(`init: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
try {
  const warmup = Number(values['warmup-trials']);
  if (warmup > 0) {
    t0 = performance.now();
    await new Tuner(trivial, {
      paramSpace: { x: uniform(0, 1) },
      tuneConfig: { numSamples: warmup },
      runConfig: { name: 'warmup', storagePath, verbose: 0 },
    }).fit();
    log(
      `warm-up (${warmup} trivial trials, reused actors, not timed): ${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
  }
  for (const name of names) {
    const w = workloads[name];
    for (const variant of variants) {
      const reuseActors = variant === 'reuse';
      try {
        const tuner = new Tuner(w.trainable, {
          paramSpace: w.paramSpace,
          tuneConfig: {
            numSamples: w.numSamples,
            searchAlg: new BasicVariantGenerator({ seed }),
            ...w.tuneConfig(),
            ...(reuseActors ? {} : { reuseActors: false }),
          },
          runConfig: { name: `${name}-${variant}`, storagePath, verbose: 0 },
        });
        const before = { ...overhead };
        const t0 = performance.now();
        const grid = await tuner.fit();
        const wallS = (performance.now() - t0) / 1000;
        const results = [...grid];
        const iterations = results.map((r) => r.metrics?.trainingIteration ?? 0);
        const stoppedEarly = iterations.filter((n) => n < w.expectIterations).length;
        const line = {
          side: 'ray-ts',
          name,
          variant,
          reuseActors,
          wallS,
          trials: results.length,
          trialsPerS: results.length / wallS,
          // The trainables compute next to nothing: all of a trial's slot time is tuning overhead.
          overheadMsPerTrial: (wallS * parallelism * 1000) / results.length,
          stoppedEarly,
          errors: grid.numErrors,
          iterations: iterations.reduce((a, b) => a + b, 0),
          ...(countersOk
            ? {
                overhead: {
                  stateWrites: overhead.stateWrites - before.stateWrites,
                  stateWriteMs: overhead.stateWriteMs - before.stateWriteMs,
                  workersStarted: overhead.workersStarted - before.workersStarted,
                },
              }
            : {}),
        };
        if (name === 'asha') line.best = grid.getBestResult().config;
        log(
          `${name} ${variant}: ${wallS.toFixed(2)} s, ${results.length} trials, ${stoppedEarly} stopped early, ${grid.numErrors} errors`,
        );
        if (grid.numErrors > 0) {
          log(`first error: ${grid.errors[0].error?.stack ?? grid.errors[0].error?.message}`);
          process.exitCode = 1;
        }
        console.log(JSON.stringify(line));
      } catch (err) {
        log(`${name} ${variant} failed: ${err.stack ?? err}`);
        process.exitCode = 1;
      }
    }
  }
} finally {
  await shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);
