#!/usr/bin/env node
// The Train benchmark: an MLP 64 -> 256 -> 10 on 200k random rows, 3 epochs, global batch 256,
// SGD with momentum 0.9, lr 0.01, run four ways one after the other on this machine (never two at
// once): ray-ts's DataParallelTrainer with 2 workers (TensorFlow.js on wasm, gradients averaged
// with core's allreduce), the same loop in one plain process, Ray Train's TorchTrainer with 2
// workers (DDP on gloo) through ../shared/tools/ray-baseline.sh, and a plain PyTorch loop. Then a
// table: fit wall time, training time (the slowest worker's time in the training steps), the
// overhead (fit wall minus training time), and the trainer's own share of it (fit wall minus the
// time inside the loop function, which also loads tfjs or torch and makes the data).
//
//   npm run bench -w @ray-ts/train [-- --rows 200000 --epochs 3 --batch 256 --workers 2 --no-ray --timeout 900]
// Results: <repo>/.bench/train-bench.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSide } from '../../../tools/bench-side.mjs';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    epochs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '900' },
    'no-ray': { type: 'boolean', default: false },
  },
});
for (const f of ['rows', 'epochs', 'batch', 'workers', 'timeout']) {
  if (!Number.isInteger(Number(values[f])) || Number(values[f]) < 1) {
    console.error(`--${f} takes a whole number >= 1, got '${values[f]}'`);
    process.exit(2);
  }
}
if (Number(values.batch) % Number(values.workers) !== 0) {
  console.error('--batch must be a multiple of --workers (each worker takes batch / workers rows per step)');
  process.exit(2);
}
const common = ['--rows', values.rows, '--epochs', values.epochs, '--batch', values.batch, '--workers', values.workers];
const opts = { cwd: root, budgetMs: Number(values.timeout) * 1000 };
const results = {};
for (const c of ['trainer', 'plain']) {
  const r = await runSide(
    `ray-ts ${c}`,
    process.execPath,
    [path.join(here, 'ray-ts-bench.mjs'), '--case', c, ...common],
    opts,
  );
  results[`ray-ts/${c}`] = r.results[0] ?? null;
}
const baseline = path.resolve(root, '../shared/tools/ray-baseline.sh');
if (!values['no-ray'] && fs.existsSync(baseline)) {
  for (const c of ['trainer', 'plain']) {
    const r = await runSide(
      `Ray ${c}`,
      'bash',
      [baseline, 'python', path.join(here, 'ray_train_bench.py'), '--case', c, ...common],
      opts,
    );
    results[`ray/${c}`] = r.results[0] ?? null;
  }
} else if (!values['no-ray']) console.error(`${baseline} not found; showing ray-ts only`);

const s = (x) => (x === null || x === undefined ? '-' : `${x.toFixed(2)} s`);
const rows = [
  ['ray-ts DataParallelTrainer (TensorFlow.js wasm)', results['ray-ts/trainer']],
  ['ray-ts loop, one plain process', results['ray-ts/plain']],
  ['Ray TorchTrainer (PyTorch, DDP gloo)', results['ray/trainer']],
  ['PyTorch loop, one plain process', results['ray/plain']],
];
console.log(
  `\nTrain: MLP ${64}->${256}->${10}, ${values.rows} rows, ${values.epochs} epochs, global batch ${values.batch}, ${values.workers} workers, SGD momentum 0.9\n`,
);
console.log(
  '| run | wall (fit) | training steps | overhead (fit - training) | trainer overhead (fit - loop function) | final loss |',
);
console.log('|---|---:|---:|---:|---:|---:|');
for (const [label, r] of rows) {
  console.log(
    `| ${label} | ${s(r?.fitS ?? r?.wallS)} | ${s(r?.trainS)} | ${s(r?.overheadS)} | ${s(r?.trainerOverheadS)} | ${r ? r.loss.toFixed(4) : '-'} |`,
  );
}
const o = results['ray-ts/trainer'];
const b = results['ray/trainer'];
if (o && b)
  console.log(
    `\nfit wall: Ray / ray-ts = ${(b.fitS / o.fitS).toFixed(2)}x; trainer overhead: ray-ts ${o.trainerOverheadS.toFixed(2)} s, Ray ${b.trainerOverheadS.toFixed(2)} s`,
  );
fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
fs.writeFileSync(path.join(root, '.bench/train-bench.json'), JSON.stringify({ settings: values, results }, null, 2));
console.log(`results: ${path.relative(process.cwd(), path.join(root, '.bench/train-bench.json'))}`);
