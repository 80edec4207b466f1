#!/usr/bin/env node
// The Data benchmark: the same five workloads in ray-ts (@ray-ts/data) and in Ray Data (Python,
// through ../shared/tools/ray-baseline.sh), one after the other on this machine, then a table of
// both with ratios. Each side runs in its own process; nothing else should run meanwhile.
//
//   npm run bench -w @ray-ts/data [-- --rows 10000000 --mlp-rows 1000000 --repeat 1 --only a,b --no-ray]
//
// Data (written once, reused): <repo>/.bench/data-bench/{tabular,mlp,model}. Results: .bench/data-bench.json.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { withHugePages } from '@ray-ts/core';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    'mlp-rows': { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '1' },
    only: { type: 'string' },
    'no-ray': { type: 'boolean', default: false },
    data: { type: 'string', default: path.join(root, '.bench/data-bench') },
  },
});
const data = path.resolve(values.data);
const model = path.join(data, 'model');
const node = process.execPath;

console.error('preparing data (skipped when already there)...');
execFileSync(
  node,
  [path.join(here, 'make-data.mjs'), '--out', data, '--rows', values.rows, '--mlp-rows', values['mlp-rows']],
  { stdio: 'inherit' },
);
if (!fs.existsSync(path.join(model, 'mlp.onnx')))
  execFileSync(node, [path.join(root, 'tools/make-mlp-onnx.mjs'), '--out', model], { stdio: 'inherit' });

const common = [
  '--data',
  data,
  '--model',
  model,
  '--repeat',
  values.repeat,
  '--range-rows',
  values.rows,
  ...(values.only ? ['--only', values.only] : []),
];

function lines(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

console.error('ray-ts...');
// The driver hosts the embedded cluster's workers: huge pages from its start (packages/core/src/huge-pages.ts).
const ours = spawnSync(node, ['--import', 'tsx', path.join(here, 'ray-ts-bench.mjs'), ...common], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  env: withHugePages(process.env),
});
if (ours.status !== 0) throw new Error(`ray-ts benchmark failed (exit ${ours.status})`);
const ray = new Map();
const baseline = path.resolve(root, '../shared/tools/ray-baseline.sh');
if (!values['no-ray'] && fs.existsSync(baseline)) {
  console.error('Ray Data...');
  const r = spawnSync('bash', [baseline, 'python', path.join(here, 'ray_data_bench.py'), ...common], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status === 0) for (const l of lines(r.stdout)) ray.set(l.name, l);
  else console.error(`Ray Data baseline failed (exit ${r.status}); showing ray-ts only`);
}

const rows = lines(ours.stdout).map((o) => {
  const b = ray.get(o.name);
  return {
    name: o.name,
    rows: o.rows,
    raytsSeconds: o.seconds,
    raySeconds: b?.seconds ?? null,
    speedup: b ? b.seconds / o.seconds : null,
  };
});
const fmt = (s) => (s === null ? '-' : `${s.toFixed(2)} s`);
console.log('| workload | rows | ray-ts | Ray Data | Ray / ray-ts |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.rows ?? '-'} | ${fmt(r.raytsSeconds)} | ${fmt(r.raySeconds)} | ${r.speedup === null ? '-' : `${r.speedup.toFixed(2)}x`} |`,
  );
fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
fs.writeFileSync(
  path.join(root, '.bench/data-bench.json'),
  JSON.stringify({ date: new Date().toISOString(), rows }, null, 2),
);
