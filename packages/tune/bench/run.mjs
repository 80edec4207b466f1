#!/usr/bin/env node
// The Tune benchmark: the same tuning workloads in ray-ts (@ray-ts/tune) and in Ray Tune (Python,
// through ../shared/tools/ray-baseline.sh), one side after the other on this machine (never both
// at once), each in its own process with 2 CPUs (1 per trial: 2 trials at once); then a table of
// both with the ratio Ray time / ray-ts time. Nothing else should run meanwhile.
//
//   npm run bench -w @ray-ts/tune [-- --only trivial,asha --trials 200 --asha-trials 64 --seed 42
//                                     --no-ray --no-ray-ts --no-ray-default --timeout 1800]
//
// Workloads: trivial: --trials trials, x ~ uniform(0, 1), each reports {score: x * i} for
// i = 1..10. asha: --asha-trials trials, a, b ~ uniform(0, 1), each reports
// score = a (1 - exp(-t / (10 + 40 b))) for t = 1..100 under ASHA (maxT 100, grace 1, rf 4),
// metric score, mode max. Each in two actor modes: "reuse" (trials run one after another on the
// same actors: ray-ts's default, Ray's reuse_actors=True) and "fresh" (an actor per trial: Ray's
// default reuse_actors=False, ray-ts's reuseActors: false). Ray's fresh (default) line of trivial
// takes about 200 s; --no-ray-default leaves Ray's fresh lines out. Only fit() is timed on both
// sides, after an untimed warm-up of 2 trivial trials. Results: <repo>/.bench/tune-bench.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSide as runSideIn } from '../../../tools/bench-side.mjs';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'trivial,asha' },
    trials: { type: 'string', default: '200' },
    'asha-trials': { type: 'string', default: '64' },
    seed: { type: 'string', default: '42' },
    cpus: { type: 'string', default: '2' },
    'warmup-trials': { type: 'string', default: '2' },
    timeout: { type: 'string', default: '1800' },
    'no-ray': { type: 'boolean', default: false },
    'no-ray-ts': { type: 'boolean', default: false },
    'ray-default': { type: 'boolean', default: false },
    'no-ray-default': { type: 'boolean', default: false },
  },
});

const titles = { trivial: 'trivial', asha: 'ASHA' };
const names = values.only.split(',');
for (const n of names) {
  if (!titles[n]) {
    console.error(`unknown workload '${n}' in --only; choose from ${Object.keys(titles).join(', ')}`);
    process.exit(2);
  }
}
for (const f of ['trials', 'asha-trials', 'seed', 'cpus', 'warmup-trials', 'timeout']) {
  if (!Number.isInteger(Number(values[f])) || Number(values[f]) < 0) {
    console.error(`--${f} takes a whole number, got '${values[f]}'`);
    process.exit(2);
  }
}
if (values['ray-default'] && values['no-ray-default']) {
  console.error('--ray-default and --no-ray-default contradict each other');
  process.exit(2);
}
// Ray's default (reuse_actors=False) line is on unless --no-ray-default: the issue asks for both.
const rayDefault = !values['no-ray-default'];
const cpus = Number(values.cpus);
const common = [
  '--only',
  values.only,
  '--trials',
  values.trials,
  '--asha-trials',
  values['asha-trials'],
  '--seed',
  values.seed,
  '--cpus',
  values.cpus,
  '--warmup-trials',
  values['warmup-trials'],
];
const budgetMs = Number(values.timeout) * 1000;

const runSide = (label, cmd, args) => runSideIn(label, cmd, args, { cwd: root, budgetMs });

const key = (r) => `${r.name}/${r.variant}`;
const ours = new Map();
const ray = new Map();
let oursStatus = 0;
if (!values['no-ray-ts']) {
  const r = await runSide('ray-ts', process.execPath, [
    path.join(here, 'ray-ts-bench.mjs'),
    ...common,
    '--variants',
    'reuse,fresh',
  ]);
  oursStatus = r.status;
  for (const l of r.results) ours.set(key(l), l);
}
const baseline = path.resolve(root, '../shared/tools/ray-baseline.sh');
let rayStatus = 0;
if (!values['no-ray']) {
  if (fs.existsSync(baseline)) {
    const variants = rayDefault ? 'reuse,fresh' : 'reuse';
    const r = await runSide('Ray Tune', 'bash', [
      baseline,
      'python',
      path.join(here, 'ray_tune_bench.py'),
      ...common,
      '--variants',
      variants,
    ]);
    rayStatus = r.status;
    for (const l of r.results) ray.set(key(l), l);
  } else {
    console.error(`${baseline} not found; showing ray-ts only`);
  }
}

const variantTitles = {
  reuse: 'actors reused (ray-ts default; Ray reuse_actors=True)',
  fresh: 'actor per trial (ray-ts reuseActors: false; Ray default)',
};
const rows = [];
for (const name of names) {
  for (const variant of ['reuse', 'fresh']) {
    const o = ours.get(`${name}/${variant}`) ?? null;
    const b = ray.get(`${name}/${variant}`) ?? null;
    rows.push({ name, variant, rayts: o, ray: b, rayOverRayts: o && b ? b.wallS / o.wallS : null });
  }
}
// Default against default: ray-ts reuses actors, Ray does not.
const defaults = names.map((name) => {
  const o = ours.get(`${name}/reuse`);
  const b = ray.get(`${name}/fresh`);
  return {
    name,
    raytsWallS: o?.wallS ?? null,
    rayWallS: b?.wallS ?? null,
    rayOverRayts: o && b ? b.wallS / o.wallS : null,
  };
});

const num = (x, digits = 0) =>
  x === null || x === undefined
    ? '-'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const secs = (x) => (x === null || x === undefined ? '-' : `${num(x, x < 10 ? 2 : 1)} s`);
const msec = (x) => (x === null || x === undefined ? '-' : `${num(x, x < 10 ? 1 : 0)} ms`);
const early = (r) => (!r ? '-' : r.name === 'asha' ? `${r.stoppedEarly} of ${r.trials}` : '-');
const side = (r) => [
  secs(r?.wallS),
  num(r?.trialsPerS, 1),
  msec(r?.overheadMsPerTrial),
  early(r),
  r ? String(r.errors) : '-',
];
const ratio = (x) => (x === null ? '-' : `${x.toFixed(2)}x`);

console.log(
  `\nTune: ${values.trials} trivial trials / ${values['asha-trials']} ASHA trials, ${cpus} CPUs, 1 CPU per trial; wall time of fit()`,
);
console.log('(overhead per trial = wall time x parallelism / trials: the trainables compute next to nothing)\n');
console.log(
  '| workload | actors | ray-ts wall | trials/s | overhead/trial | stopped early | errors | Ray wall | trials/s | overhead/trial | stopped early | errors | Ray / ray-ts |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${titles[r.name]} | ${variantTitles[r.variant]} | ${[...side(r.rayts), ...side(r.ray), ratio(r.rayOverRayts)].join(' | ')} |`,
  );
}
console.log('\nDefault against default (ray-ts reuses actors; Ray reuse_actors=False):');
for (const d of defaults)
  console.log(
    `- ${titles[d.name]}: ray-ts ${secs(d.raytsWallS)}, Ray ${secs(d.rayWallS)}: Ray / ray-ts ${ratio(d.rayOverRayts)}`,
  );
const withOverhead = rows.filter((r) => r.rayts?.overhead);
if (withOverhead.length) {
  console.log('\nray-ts internals (driver side): experiment_state.json writes and worker actors started\n');
  console.log('| workload | actors | state writes | state write time | per trial | workers started |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of withOverhead) {
    const o = r.rayts.overhead;
    console.log(
      `| ${titles[r.name]} | ${r.variant} | ${o.stateWrites} | ${msec(o.stateWriteMs)} | ${msec(o.stateWriteMs / r.rayts.trials)} | ${o.workersStarted} |`,
    );
  }
}

fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
const out = path.join(root, '.bench/tune-bench.json');
const settings = {
  trials: Number(values.trials),
  ashaTrials: Number(values['asha-trials']),
  seed: Number(values.seed),
  cpus,
  warmupTrials: Number(values['warmup-trials']),
  workloads: names,
  rayDefault,
};
fs.writeFileSync(
  out,
  JSON.stringify(
    { date: new Date().toISOString(), settings, status: { rayts: oursStatus, ray: rayStatus }, rows, defaults },
    null,
    2,
  ),
);
console.error(`results: ${path.relative(process.cwd(), out) || out}`);
if (oursStatus !== 0 || rayStatus !== 0) process.exitCode = 1;
