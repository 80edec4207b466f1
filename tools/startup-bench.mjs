#!/usr/bin/env node
// Start-up time of a plain `node app.js` that runs `import`, `init()` (the embedded default, no
// environment variables) and `get(f.remote())`: fresh processes, median and p90 of each phase.
//
//   node tools/startup-bench.mjs [--runs N] [--entry PATH ...] [--json FILE]
//
// --entry names a build of @ray-ts/core to measure (its dist/bundle/index.js); give it twice to
// compare an old build with the new one in one run: the processes alternate between the entries,
// so both sides see the same machine load. Without --entry, the package as installed.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./startup-child.mjs', import.meta.url));
const REPO = path.dirname(path.dirname(CHILD));

/** The phases a child reports, in order, with what each line prints. */
export const PHASES = [
  ['nodeStartMs', 'node start-up (process start -> first line of app.js)'],
  ['importMs', "import '@ray-ts/core'"],
  ['initMs', 'init()'],
  ['firstTaskMs', 'first get(f.remote())'],
  ['importToResultMs', 'import -> first result'],
  ['totalMs', 'process start -> first result'],
];

/** The environment of a plain `node app.js`: no ray-ts settings, no glibc tunables. */
function plainEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('RAY_TS_') || k === 'GLIBC_TUNABLES') delete env[k];
  return env;
}

/** Runs one fresh process on `entry` (undefined: the installed package); resolves with its phases. */
export function runStartupChild(entry) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, entry ? [CHILD, entry] : [CHILD], {
      cwd: REPO,
      env: plainEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch (e) {
        reject(new Error(`start-up child failed (${e.message}): ${(err || out).trim().slice(-2000)}`));
      }
    });
  });
}

/** The q-quantile (0..1) of xs, nearest rank. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/**
 * Measures `runs` fresh processes per entry, alternating between entries; resolves with
 * `{ [entry]: { [phase]: { median, p90 } } }` (entry '' is the installed package).
 */
export async function measureStartup({ runs = 10, entries = [''] } = {}) {
  const samples = new Map(entries.map((e) => [e, []]));
  for (let i = 0; i < runs; i++) for (const e of entries) samples.get(e).push(await runStartupChild(e || undefined));
  const out = {};
  for (const [e, rs] of samples) {
    out[e] = {};
    for (const [k] of PHASES) {
      const xs = rs.map((r) => r[k]);
      out[e][k] = { median: quantile(xs, 0.5), p90: quantile(xs, 0.9) };
    }
  }
  return out;
}

function parseArgs(argv) {
  const o = { runs: 10, entries: [], json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--entry') o.entries.push(path.resolve(argv[++i]));
    else if (a === '--json') o.json = argv[++i];
    else {
      console.error(
        `startup-bench: unknown argument ${a}\nUsage: node tools/startup-bench.mjs [--runs N] [--entry PATH ...] [--json FILE]`,
      );
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) {
    console.error('startup-bench: --runs needs a positive integer');
    process.exit(2);
  }
  if (o.entries.length === 0) o.entries.push('');
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const r = await measureStartup(o);
  const fmt = (x) => x.toFixed(1).padStart(7);
  console.log(`start-up of a plain \`node app.js\`: ${o.runs} fresh processes per build, node ${process.version}`);
  for (const e of o.entries) {
    console.log(`\n${e || '@ray-ts/core (installed)'}\n${'phase'.padEnd(56)} median     p90 (ms)`);
    for (const [k, label] of PHASES) console.log(`${label.padEnd(56)}${fmt(r[e][k].median)} ${fmt(r[e][k].p90)}`);
  }
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(r, null, 2) + '\n');
}
