#!/usr/bin/env node
// Runs Ray's `ray microbenchmark` and Ray's init time (through ../shared/tools/ray-baseline.sh),
// then tools/microbenchmark.js, one after the other (never at once: each uses every core), and
// prints a markdown table of both.
//
//   node tools/compare-with-ray.js [--duration SECONDS] [--filter SUBSTRING] [--ray-json FILE]
//                                  [--num-cpus N] [--out FILE]
//
// Ray's results are saved to .bench/ray.json (reuse them with --ray-json .bench/ray.json), ours to
// .bench/ray-ts.json, the table to .bench/comparison.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const toolsDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(toolsDir);
const benchDir = path.join(repoRoot, '.bench');
const INIT_CASE = 'init to first task result';
/** The core cases of Ray 2.58's ray_perf.py (`ray microbenchmark` also runs Ray Client cases, 'client: ...'). */
const RAY_CASES = [
  'single client get calls (Plasma Store)',
  'single client put calls (Plasma Store)',
  'multi client put calls (Plasma Store)',
  'single client put gigabytes',
  'single client tasks and get batch',
  'multi client put gigabytes',
  'single client get object containing 10k refs',
  'single client wait 1k refs',
  'single client tasks sync',
  'single client tasks async',
  'multi client tasks async',
  '1:1 actor calls sync',
  '1:1 actor calls async',
  '1:1 actor calls concurrent',
  '1:n actor calls async',
  'n:n actor calls async',
  'n:n actor calls with arg async',
  '1:1 async-actor calls sync',
  '1:1 async-actor calls async',
  '1:1 async-actor calls with args async',
  '1:n async-actor calls async',
  'n:n async-actor calls async',
  'placement group create/removal',
];

const usage = `Usage: node tools/compare-with-ray.js [options]

Runs Ray's microbenchmark and init time (../shared/tools/ray-baseline.sh), then ray-ts's
(tools/microbenchmark.js), sequentially, and prints a markdown table: case | Ray ops/s |
ray-ts ops/s | ratio (ray-ts / Ray).

  --duration SECONDS   per-case time of ray-ts's run (Ray's own timing is fixed: 10 s pause,
                       1 s warm-up, 4 x 2 s per case)
  --filter SUBSTRING   only the cases whose name contains SUBSTRING (Ray's TESTS_TO_RUN)
  --ray-json FILE      reuse Ray results saved by an earlier run (e.g. .bench/ray.json)
                       instead of running Ray
  --num-cpus N         CPUs of ray-ts's cluster (default: all ${os.availableParallelism()} cores,
                       as Ray's microbenchmark calls ray.init() with all cores)
  --ray-baseline PATH  the baseline script (default ../shared/tools/ray-baseline.sh from the repo root)
  --out FILE           where to write the table too (default .bench/comparison.md)
  -h, --help           show this help`;

function fail(msg) {
  console.error(`compare-with-ray: ${msg}\n\n${usage}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    duration: undefined,
    filter: '',
    rayJson: undefined,
    numCpus: os.availableParallelism(),
    rayBaseline: path.resolve(repoRoot, '../shared/tools/ray-baseline.sh'),
    out: path.join(benchDir, 'comparison.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--duration':
        o.duration = value();
        break;
      case '--filter':
        o.filter = value();
        break;
      case '--ray-json':
        o.rayJson = value();
        break;
      case '--num-cpus':
        o.numCpus = value();
        break;
      case '--ray-baseline':
        o.rayBaseline = path.resolve(value());
        break;
      case '--out':
        o.out = value();
        break;
      case '-h':
      case '--help':
        console.log(usage);
        process.exit(0);
        break;
      default:
        fail(`unknown option ${a}`);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const selected = (name) => !opts.filter || name.includes(opts.filter);

/** Runs a command; its output goes to our stderr as it comes (progress) and is returned too. */
function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    console.error(`$ ${[cmd, ...args].map((x) => (/[\s'"]/.test(x) ? JSON.stringify(x) : x)).join(' ')}`);
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('error', (err) => resolve({ code: -1, out, error: err.message }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Lines `<name> per second <mean> +- <sd>`, as Ray's timeit prints them. */
function parsePerSecond(text) {
  const cases = {};
  for (const line of text.split('\n')) {
    const m = /^(.+?) per second (\S+)(?: \+- (\S+))?\s*$/.exec(line.trim());
    if (!m) continue;
    const mean = Number(m[2]);
    cases[m[1]] = Number.isFinite(mean) ? { perSecond: mean, sd: m[3] !== undefined ? Number(m[3]) : undefined } : null;
  }
  return cases;
}

// ------------------------------------------------------------------ Ray
let ray;
if (opts.rayJson) {
  try {
    ray = JSON.parse(fs.readFileSync(opts.rayJson, 'utf8'));
  } catch (e) {
    fail(`cannot read --ray-json ${opts.rayJson}: ${e.message}`);
  }
  if (!ray.cases) {
    // A flat {case: opsPerSecond} map is accepted too.
    const cases = {};
    for (const [k, v] of Object.entries(ray)) if (typeof v === 'number') cases[k] = { perSecond: v };
    ray = { cases, initTimeS: ray[`${INIT_CASE} (s)`] };
  }
  console.error(`Ray results from ${opts.rayJson}${ray.date ? ` (${ray.date})` : ''}`);
} else {
  if (!fs.existsSync(opts.rayBaseline))
    fail(`no Ray baseline script at ${opts.rayBaseline} (see --ray-baseline, --ray-json)`);
  ray = {
    date: new Date().toISOString(),
    filter: opts.filter,
    host: `${os.hostname()}, ${os.availableParallelism()} cores`,
    cases: {},
  };
  const version = await run('bash', [opts.rayBaseline, 'python', '-c', 'import ray; print(ray.__version__)']);
  if (version.code === 0) ray.rayVersion = version.out.trim().split('\n').pop();
  // A filter that picks only the init row (e.g. 'init') skips Ray's microbenchmark, which takes minutes.
  if (RAY_CASES.some(selected) || !selected(INIT_CASE)) {
    const bench = await run('bash', [opts.rayBaseline, 'microbenchmark', opts.filter]);
    ray.cases = parsePerSecond(bench.out);
    if (bench.code !== 0 || (RAY_CASES.some(selected) && Object.keys(ray.cases).length === 0)) {
      console.error(
        `compare-with-ray: Ray's microbenchmark failed (exit ${bench.code}${bench.error ? `: ${bench.error}` : ''})`,
      );
      ray.error = `exit ${bench.code}`;
    }
  }
  if (selected(INIT_CASE)) {
    const init = await run('bash', [opts.rayBaseline, 'init-time']);
    const s = Number(init.out.trim().split('\n').pop());
    if (init.code === 0 && Number.isFinite(s) && s > 0) ray.initTimeS = s;
    else console.error(`compare-with-ray: Ray's init-time failed (exit ${init.code})`);
  }
  // Merge into earlier results of the same machine, so that filtered runs add up to a full set.
  const saved = path.join(benchDir, 'ray.json');
  try {
    const prev = JSON.parse(fs.readFileSync(saved, 'utf8'));
    if (prev.host === ray.host && prev.rayVersion === ray.rayVersion && !ray.error) {
      ray.cases = { ...prev.cases, ...ray.cases };
      if (ray.initTimeS === undefined && prev.initTimeS !== undefined) ray.initTimeS = prev.initTimeS;
      ray.filter = undefined;
    }
  } catch {
    // no earlier results
  }
  fs.mkdirSync(benchDir, { recursive: true });
  fs.writeFileSync(saved, JSON.stringify(ray, null, 2) + '\n');
  console.error(`Ray results saved to ${path.relative(process.cwd(), path.join(benchDir, 'ray.json'))}`);
}

// ------------------------------------------------------------------ ray-ts
fs.mkdirSync(benchDir, { recursive: true });
const oursJson = path.join(benchDir, 'ray-ts.json');
fs.rmSync(oursJson, { force: true });
const args = [path.join(toolsDir, 'microbenchmark.js'), '--json', oursJson, '--num-cpus', String(opts.numCpus)];
if (opts.duration !== undefined) args.push('--duration', String(opts.duration));
if (opts.filter) args.push('--filter', opts.filter);
const oursRun = await run(process.execPath, args);
let ours = {};
try {
  ours = JSON.parse(fs.readFileSync(oursJson, 'utf8'));
} catch {
  // The run died before writing its JSON: use what it printed.
  for (const [k, v] of Object.entries(parsePerSecond(oursRun.out))) ours[k] = v?.perSecond ?? null;
  const m = /^init to first task result (\S+) ms/m.exec(oursRun.out);
  if (m) ours[`${INIT_CASE} (ms)`] = Number(m[1]);
  console.error(
    `compare-with-ray: ray-ts's microbenchmark exited ${oursRun.code} without its JSON; using its printed lines`,
  );
}

// ------------------------------------------------------------------ table
const num = (x) => {
  if (x === undefined || x === null || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toPrecision(3)));
};
const withSd = (c) => (c ? num(c.perSecond) + (c.sd ? ` ± ${num(c.sd)}` : '') : '—');
const ratio = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${Number((a / b).toPrecision(3))}×` : '—';

const names = [];
for (const k of Object.keys(ours)) if (!k.startsWith(INIT_CASE)) names.push(k);
for (const k of Object.keys(ray.cases ?? {})) if (!names.includes(k) && selected(k)) names.push(k);

const lines = [];
lines.push(
  `Ray ${ray.rayVersion ?? ''} (\`ray microbenchmark\`${ray.date ? `, ${ray.date}` : ''}) vs ray-ts (tools/microbenchmark.js, ` +
    `init({ numCpus: ${opts.numCpus} })${opts.duration ? `, ${opts.duration} s per case` : ''}) on ${os.availableParallelism()} cores, ` +
    `node ${process.version}.`,
  '',
  '| case | Ray ops/s | ray-ts ops/s | ratio (ray-ts / Ray) |',
  '|---|---:|---:|---:|',
);
for (const name of names) {
  const r = ray.cases?.[name];
  const o = ours[name];
  const oursCell = name in ours ? (o === null ? (name.startsWith('placement group') ? 'n/a' : 'error') : num(o)) : '—';
  lines.push(`| ${name} | ${withSd(r)} | ${oursCell} | ${ratio(o, r?.perSecond)} |`);
}
if (selected(INIT_CASE)) {
  const s = ray.initTimeS;
  const ms = ours[`${INIT_CASE} (ms)`];
  lines.push(
    `| ${INIT_CASE} (time, lower is better) | ${Number.isFinite(s) ? `${s} s` : '—'} | ${Number.isFinite(ms) ? `${num(ms)} ms` : '—'} | ` +
      `${Number.isFinite(s) && Number.isFinite(ms) ? ratio(ms / 1000, s) : '—'} |`,
  );
}
lines.push(
  '',
  'Ray figures are mean ± sd over its 4 rounds of 2 s. ratio > 1: ray-ts is faster on an ops/s row; on the time row, ' +
    'ratio < 1: ray-ts starts faster. "Ray init" is import to first ray.get, median of 3 ' +
    "(ray-baseline.sh init-time); ray-ts's is import to first get, median of 3 fresh processes.",
);
const table = lines.join('\n');
console.log('\n' + table);
fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
fs.writeFileSync(opts.out, table + '\n');
