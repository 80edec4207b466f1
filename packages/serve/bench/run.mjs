#!/usr/bin/env node
// The Serve benchmark: the same HTTP workloads in ray-ts (@ray-ts/serve) and in Ray Serve (Python,
// through ../shared/tools/ray-baseline.sh), one side after the other on this machine (never both at
// once), each loaded by wrk from a separate process against 127.0.0.1; then a table of requests/s
// and p50/p99 latency of both, with the throughput ratio. Nothing else should run meanwhile.
//
//   npm run bench -w @ray-ts/serve [-- --duration 20 --warmup 2 --connections 16,64
//                                      --only json1,json2,matmul --no-ray --no-ray-ts]
//
// Workloads: json1 / json2: a deployment returning {"hello":"world"}, 1 / 2 replicas,
// maxOngoingRequests 100; matmul: batch(maxBatchSize 32, batchWaitTimeoutS 0.01) of one 256x256
// float64 matmul per request, maxOngoingRequests 32, 2 replicas. Each line: a warm-up of --warmup
// seconds, then `wrk -t2 -cN -dDs --timeout 10s --latency`. Needs wrk. Results: .bench/serve-bench.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { wrkAvailable, WRK_INSTALL } from './wrk.mjs';
import { runSide as runSideIn } from '../../../tools/bench-side.mjs';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16,64' },
    only: { type: 'string', default: 'json1,json2,matmul' },
    threads: { type: 'string', default: '2' },
    cpus: { type: 'string', default: '2' },
    'no-ray': { type: 'boolean', default: false },
    'no-ray-ts': { type: 'boolean', default: false },
  },
});

const titles = {
  json1: 'trivial JSON, 1 replica',
  json2: 'trivial JSON, 2 replicas',
  matmul: 'batch(32) 256x256 f64 matmul, 2 replicas',
};
const names = values.only.split(',');
const connectionCounts = values.connections.split(',').map(Number);
for (const n of names) {
  if (!titles[n]) {
    console.error(`unknown workload '${n}' in --only; choose from ${Object.keys(titles).join(', ')}`);
    process.exit(2);
  }
}
if (connectionCounts.some((c) => !Number.isInteger(c) || c < 1)) {
  console.error(`--connections takes positive integers separated by commas, got '${values.connections}'`);
  process.exit(2);
}
for (const f of ['duration', 'warmup', 'threads', 'cpus']) {
  if (!(Number(values[f]) >= 0)) {
    console.error(`--${f} takes a number, got '${values[f]}'`);
    process.exit(2);
  }
}
if (!wrkAvailable()) {
  console.error(`The Serve benchmark drives load with wrk, which is not installed. Install it with:\n  ${WRK_INSTALL}`);
  process.exit(2);
}

const common = [
  '--duration',
  values.duration,
  '--warmup',
  values.warmup,
  '--connections',
  values.connections,
  '--only',
  values.only,
  '--threads',
  values.threads,
  '--cpus',
  values.cpus,
];
// Each side gets its measured time plus generous room for starting up (Ray's venv setup included).
const budgetMs =
  (names.length * connectionCounts.length * (Number(values.duration) + Number(values.warmup) + 20) + 300) * 1000;

const runSide = (label, cmd, args) => runSideIn(label, cmd, args, { cwd: root, budgetMs });

const key = (r) => `${r.name}/${r.connections}`;
const ours = new Map();
const ray = new Map();
let oursStatus = 0;
if (!values['no-ray-ts']) {
  const r = await runSide('ray-ts', process.execPath, [
    '--import',
    'tsx',
    path.join(here, 'ray-ts-bench.mjs'),
    ...common,
  ]);
  oursStatus = r.status;
  for (const l of r.results) ours.set(key(l), l);
}
const baseline = path.resolve(root, '../shared/tools/ray-baseline.sh');
let rayStatus = 0;
if (!values['no-ray']) {
  if (fs.existsSync(baseline)) {
    const r = await runSide('Ray Serve', 'bash', [
      baseline,
      'python',
      path.join(here, 'ray_serve_bench.py'),
      ...common,
    ]);
    rayStatus = r.status;
    for (const l of r.results) ray.set(key(l), l);
  } else {
    console.error(`${baseline} not found; showing ray-ts only`);
  }
}

const rows = [];
for (const name of names) {
  for (const connections of connectionCounts) {
    const o = ours.get(`${name}/${connections}`) ?? null;
    const b = ray.get(`${name}/${connections}`) ?? null;
    rows.push({
      name,
      title: titles[name],
      connections,
      rayts: o,
      ray: b,
      throughputRatio: o && b && b.rps > 0 ? o.rps / b.rps : null,
    });
  }
}

const num = (x, digits = 0) =>
  x === null || x === undefined
    ? '-'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (x) => (x === null || x === undefined ? '-' : `${num(x, x < 10 ? 2 : x < 100 ? 1 : 0)} ms`);
const errs = (r) => {
  if (!r) return '-';
  const parts = [];
  if (r.errors) parts.push(`${r.errors} socket`);
  if (r.non2xx) parts.push(`${r.non2xx} non-2xx`);
  return parts.length ? parts.join(', ') : '0';
};
const side = (r) => [r ? num(r.rps) : '-', ms(r?.p50Ms), ms(r?.p99Ms), errs(r)];
console.log(
  `\nServe, wrk -t${values.threads} --latency against 127.0.0.1, ${values.duration} s per line after a ${values.warmup} s warm-up\n`,
);
console.log(
  '| workload | conns | ray-ts req/s | p50 | p99 | errors | Ray req/s | p50 | p99 | errors | ray-ts / Ray req/s |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const ratio = r.throughputRatio === null ? '-' : `${r.throughputRatio.toFixed(2)}x`;
  console.log(`| ${r.title} | ${r.connections} | ${[...side(r.rayts), ...side(r.ray), ratio].join(' | ')} |`);
}

fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
const out = path.join(root, '.bench/serve-bench.json');
const settings = {
  durationS: Number(values.duration),
  warmupS: Number(values.warmup),
  threads: Number(values.threads),
  cpus: Number(values.cpus),
  connections: connectionCounts,
  workloads: names,
};
fs.writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString(), settings, status: { rayts: oursStatus, ray: rayStatus }, rows },
    null,
    2,
  ),
);
console.error(`results: ${path.relative(process.cwd(), out) || out}`);
if (oursStatus !== 0 || rayStatus !== 0) process.exitCode = 1;
