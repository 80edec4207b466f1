#!/usr/bin/env node
// ray-ts's side of the Train benchmark (see run.mjs): prints one JSON line per case.
//   --case plain|trainer --rows N --epochs E --batch B --workers W
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'trainer' },
    rows: { type: 'string', default: '200000' },
    epochs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    lr: { type: 'string', default: '0.01' },
  },
});
const config = {
  rows: Number(values.rows),
  epochs: Number(values.epochs),
  batch: Number(values.batch),
  lr: Number(values.lr),
  momentum: 0.9,
};
const log = (...a) => console.error('[ray-ts]', ...a);

if (values.case === 'plain') {
  const { trainMlp } = await import('./loop.mjs');
  const t0 = performance.now();
  const r = await trainMlp(config);
  const wallS = (performance.now() - t0) / 1000;
  log(
    `plain loop: ${wallS.toFixed(2)} s (${r.trainS.toFixed(2)} s training, ${r.backend}), final loss ${r.loss.toFixed(4)}`,
  );
  console.log(
    JSON.stringify({
      side: 'ray-ts',
      name: 'plain',
      wallS,
      trainS: r.trainS,
      loss: r.loss,
      steps: r.steps,
      backend: r.backend,
    }),
  );
} else {
  const { init, shutdown } = await import('@ray-ts/core');
  const { DataParallelTrainer } = await import('@ray-ts/train');
  const { benchLoop } = await import('./loop.mjs');
  const t0 = performance.now();
  await init({ numCpus: Number(values.workers) });
  const initS = (performance.now() - t0) / 1000;
  const os = await import('node:os');
  const path = await import('node:path');
  const fs = await import('node:fs');
  const storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-train-bench-'));
  try {
    const t1 = performance.now();
    const result = await new DataParallelTrainer(benchLoop, {
      trainLoopConfig: config,
      scalingConfig: { numWorkers: Number(values.workers) },
      runConfig: { name: 'bench', storagePath, verbose: 0 },
    }).fit();
    const fitS = (performance.now() - t1) / 1000;
    if (result.error) throw result.error;
    const m = result.metrics;
    log(
      `trainer, ${values.workers} workers: fit ${fitS.toFixed(2)} s (${m.trainS.toFixed(2)} s training steps, ${m.loopS.toFixed(2)} s in the loop function; ` +
        `overhead ${(fitS - m.trainS).toFixed(2)} s, of it the trainer's ${(fitS - m.loopS).toFixed(2)} s), init ${initS.toFixed(2)} s, final loss ${m.loss.toFixed(4)}`,
    );
    console.log(
      JSON.stringify({
        side: 'ray-ts',
        name: 'trainer',
        workers: Number(values.workers),
        wallS: fitS + initS,
        fitS,
        initS,
        trainS: m.trainS,
        loopS: m.loopS,
        overheadS: fitS - m.trainS,
        trainerOverheadS: fitS - m.loopS,
        loss: m.loss,
        steps: m.steps,
        backend: m.backend,
      }),
    );
  } finally {
    await shutdown();
    fs.rmSync(storagePath, { recursive: true, force: true });
  }
}
