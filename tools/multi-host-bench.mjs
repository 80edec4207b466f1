#!/usr/bin/env node
// Benchmark across hosts, ray-ts and Ray 2.58 side by side: three hosts made with TestHosts
// (network namespaces on a bridge, each with its own address), the head on host A, a worker node
// on host B (1 CPU, custom resource `hostB`), the driver on host C. Every byte between hosts goes
// over the veth links and the bridge. Ray runs the same way in the same namespaces (`ray start`
// through `ip netns exec`), then ray-ts; each case prints both and the ratio.
//
//   node tools/multi-host-bench.mjs [--quick] [--out FILE] [--wait-load MINUTES] [--only ray-ts|ray]
//
// Needs root and iproute2 (as the multi-host tests), a build (`npm run build`) and Ray's venv
// (../shared/tools/ray-baseline.sh setup; made on demand).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withHugePages } from '@ray-ts/core';
import { Cluster, TestHosts } from '@ray-ts/core/testing';

const toolsDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(toolsDir);
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const STORE = 2 * GiB; // object store of every node, both sides
const RAY_PORT = 6379; // the GCS's port in host A's namespace: nobody else listens there

const usage = `Usage: node tools/multi-host-bench.mjs [options]   (npm run bench:hosts -- [options])

  --quick              tiny sizes, for trying it out (not for figures)
  --out FILE           write the results as JSON (default .bench/multi-host.json)
  --wait-load MINUTES  first wait up to MINUTES for the 1-minute load average to drop below 1.0
  --only ray-ts|ray    run one side only
  -h, --help           this help`;

function parseArgs(argv) {
  const o = { quick: false, out: path.join(repoRoot, '.bench', 'multi-host.json'), waitLoad: 0, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--wait-load') o.waitLoad = Number(value());
    else if (a === '--only') o.only = value();
    else if (a === '-h' || a === '--help') {
      console.log(usage);
      process.exit(0);
    } else fail(`unknown option ${a}`);
  }
  if (!(o.waitLoad >= 0)) fail('--wait-load takes a number of minutes');
  if (o.only !== undefined && o.only !== 'ray-ts' && o.only !== 'ray') fail('--only takes ray-ts or ray');
  return o;
}

function fail(msg) {
  console.error(`multi-host-bench: ${msg}\n\n${usage}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
if (process.getuid?.() !== 0) fail('needs root: its hosts are network namespaces (TestHosts), as the multi-host tests');

/** What each side runs; the two drivers read the same plan. */
const plan = opts.quick
  ? { taskBatch: 1000, taskSeconds: 0.5, actorSeconds: 0.5, window: 100, objectBytes: 16 * MiB, objectReps: 1 }
  : { taskBatch: 10_000, taskSeconds: 5, actorSeconds: 3, window: 1000, objectBytes: 256 * MiB, objectReps: 3 };
const objectSize = `${plan.objectBytes / MiB} MiB`;
const CASES = [
  { key: 'tasks', label: `no-op tasks on B, batches of ${plan.taskBatch.toLocaleString('en')} in flight` },
  { key: 'actor calls serial', label: '1:1 actor calls to an actor on B, one at a time' },
  {
    key: 'actor calls pipelined',
    label: `1:1 actor calls to an actor on B, ${plan.window.toLocaleString('en')} in flight`,
  },
  { key: 'put here, read on B', label: `${objectSize} put on C, read by a task on B` },
  { key: 'made on B, get here', label: `${objectSize} made by a task on B, get on C` },
];

// ---- cleanup: every process in our namespaces, the namespaces, the temp dir; once, even on a signal

let hosts;
let tmp;
let cleanedUp = false;

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Pids of the processes in a host's network namespace (`ip netns pids`), ours by construction. */
function pidsIn(host) {
  try {
    return execFileSync('ip', ['netns', 'pids', host.netns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // the namespace is gone
  }
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // it exited meanwhile
  }
}

/**
 * Stops every process in the hosts' namespaces: SIGTERM, then SIGKILL after `graceMs`. This is
 * `ray stop --force` for our hosts only: `ray stop` itself kills every Ray process on the machine
 * by name, other people's included.
 */
function stopAllIn(hostList, graceMs = 5_000) {
  const pids = () => hostList.flatMap(pidsIn);
  for (const pid of pids()) signal(pid, 'SIGTERM');
  for (let waited = 0; pids().length && waited < graceMs; waited += 100) sleepSync(100);
  for (const pid of pids()) signal(pid, 'SIGKILL');
  for (let waited = 0; pids().length && waited < 5_000; waited += 100) sleepSync(100);
  return pids();
}

/** Raylets and GCS servers of this run that are still alive: in our namespaces, or using our temp dir. */
function rayLeftovers() {
  const left = new Set(hosts ? hosts.hosts.flatMap(pidsIn) : []);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // exited meanwhile
    }
    if (tmp && cmd.includes(tmp)) left.add(Number(d));
  }
  return [...left].filter((pid) => {
    try {
      return /raylet|gcs_server/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
}

function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (hosts) {
    const left = stopAllIn(hosts.hosts, 2_000);
    if (left.length) console.error(`multi-host-bench: processes still in the hosts' namespaces: ${left.join(' ')}`);
    try {
      hosts.destroy();
    } catch (err) {
      console.error(`multi-host-bench: removing the hosts failed: ${err.message}`);
    }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`multi-host-bench: ${sig}: stopping every process on the hosts and removing them`);
    cleanup();
    process.exit(130);
  });
}

// ---- helpers

const loadAvg = () => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

async function waitForLoad(minutes) {
  const deadline = Date.now() + minutes * 60_000;
  let load = loadAvg();
  while (load >= 1.0 && Date.now() < deadline) {
    console.log(`waiting for the load average to drop below 1.0: ${load.toFixed(2)} now`);
    await new Promise((r) => setTimeout(r, 15_000));
    load = loadAvg();
  }
  return load;
}

/** Runs a command on a host (in its namespace), its output on ours; rejects on failure or after `timeoutMs`. */
function runOn(host, cmd, args, { env = process.env, timeoutMs = 600_000, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', host.netns, cmd, ...args], {
      env,
      stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(`${path.basename(cmd)} ${args[0] ?? ''} on ${host.address} ended with ${sig ?? code}\n${out}`),
        );
    });
  });
}

/** Bytes through each host's bridge link (not its loopback), from the kernel's counters. */
function linkBytes() {
  const bytes = {};
  for (const [name, h] of Object.entries(hostsByName())) {
    const links = JSON.parse(execFileSync('ip', ['-n', h.netns, '-s', '-j', 'link', 'show'], { encoding: 'utf8' }));
    const sum = (pick) => links.filter((l) => l.ifname !== 'lo').reduce((s, l) => s + pick(l.stats64), 0);
    bytes[name] = { rx: sum((s) => s.rx.bytes), tx: sum((s) => s.tx.bytes) };
  }
  return bytes;
}

function bytesMoved(before, after) {
  return Object.fromEntries(
    Object.keys(after).map((k) => [
      k,
      { rxMB: (after[k].rx - before[k].rx) / 1e6, txMB: (after[k].tx - before[k].tx) / 1e6 },
    ]),
  );
}

const hostsByName = () => ({ A: hosts.hosts[0], B: hosts.hosts[1], C: hosts.hosts[2] });

// ---- the two sides

async function runRayTs() {
  const { A, B, C } = hostsByName();
  const cluster = await Cluster.start({
    head: { numCpus: 1, objectStoreMemory: STORE, host: A },
    nodes: [{ numCpus: 1, resources: { hostB: 1 }, objectStoreMemory: STORE, host: B }],
  });
  try {
    const out = path.join(tmp, 'ray-ts.json');
    const cfg = { address: cluster.address, nodeB: cluster.nodes[1].nodeId, plan };
    await runOn(C, process.execPath, [path.join(toolsDir, 'multi-host-bench-driver.mjs'), JSON.stringify(cfg), out], {
      env: withHugePages({ ...process.env, RAY_TS_ADDRESS: '' }),
    });
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    await cluster.shutdown();
    stopAllIn(hosts.hosts); // workers that outlived their node, if any
  }
}

function rayVenv() {
  const venv = process.env.RAY_BASELINE_VENV || path.join(os.homedir(), '.cache', 'ray-baseline', 'venv');
  const py = path.join(venv, 'bin', 'python');
  try {
    execFileSync(py, ['-c', 'import ray, numpy'], { stdio: 'ignore' });
  } catch {
    const setup = path.resolve(repoRoot, '../shared/tools/ray-baseline.sh');
    console.log(`setting up Ray's venv with ${setup} setup`);
    execFileSync('bash', [setup, 'setup'], { stdio: 'inherit' });
  }
  return { py, ray: path.join(venv, 'bin', 'ray') };
}

async function runRay() {
  const { A, B, C } = hostsByName();
  const { py, ray } = rayVenv();
  const env = { ...process.env, RAY_USAGE_STATS_ENABLED: '0' };
  delete env.RAY_ADDRESS;
  const address = `${A.address}:${RAY_PORT}`;
  const common = [`--object-store-memory=${STORE}`, '--disable-usage-stats'];
  const start = (host, name, args) =>
    runOn(
      host,
      ray,
      ['start', `--node-ip-address=${host.address}`, `--temp-dir=${path.join(tmp, name)}`, ...common, ...args],
      {
        env,
        quiet: true,
        timeoutMs: 120_000,
      },
    );
  try {
    await start(A, 'ray-a', ['--head', `--port=${RAY_PORT}`, '--num-cpus=1', '--include-dashboard=false']);
    await start(B, 'ray-b', [`--address=${address}`, '--num-cpus=1', '--resources={"hostB": 1}']);
    // A Ray driver attaches to a raylet on its own machine: host C gets a node with no CPUs.
    await start(C, 'ray-c', [`--address=${address}`, '--num-cpus=0']);
    const out = path.join(tmp, 'ray.json');
    const cfg = { address, nodeIp: C.address, plan };
    await runOn(C, py, [path.join(toolsDir, 'ray-multi-host-bench.py'), JSON.stringify(cfg), out], { env });
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    stopAllIn(hosts.hosts);
  }
}

async function side(name, fn) {
  const before = linkBytes();
  const load = loadAvg();
  console.log(`\n${name} (load average ${load.toFixed(2)})`);
  try {
    const r = await fn();
    return { ...r, load, bridge: bytesMoved(before, linkBytes()) };
  } catch (err) {
    console.error(`${name} failed: ${err.stack ?? err}`);
    return { error: String(err.message ?? err), load, bridge: bytesMoved(before, linkBytes()) };
  }
}

// ---- the run

const fmt = (v) => (v === undefined ? 'n/a' : v >= 100 ? Math.round(v).toLocaleString('en') : v.toPrecision(3));

const startedAt = new Date();
const loadBefore = loadAvg();
const loadAtStart = opts.waitLoad > 0 ? await waitForLoad(opts.waitLoad) : loadBefore;
tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rmh-'));
hosts = TestHosts.create(3);
const { A, B, C } = hostsByName();
const placement = `head on host A (${A.address}), worker node on host B (${B.address}), driver on host C (${C.address}); each host a network namespace on one bridge`;
console.log(placement);

let rayResult;
let rayTsResult;
let leftovers;
try {
  if (opts.only !== 'ray-ts') {
    rayResult = await side('Ray', runRay);
    leftovers = rayLeftovers();
    if (leftovers.length) console.error(`Ray processes left after stopping Ray: ${leftovers.join(' ')}`);
  }
  if (opts.only !== 'ray') rayTsResult = await side('ray-ts', runRayTs);
} finally {
  cleanup();
}
const loadAtEnd = loadAvg();

const rows = CASES.map(({ key, label }) => {
  const ours = rayTsResult?.cases?.[key];
  const theirs = rayResult?.cases?.[key];
  const ratio = ours && theirs ? ours.value / theirs.value : undefined;
  return { key, label, unit: (ours ?? theirs)?.unit, rayTs: ours?.value, ray: theirs?.value, ratio };
});
const table = [
  '| case (across hosts) | ray-ts | Ray 2.58 | ray-ts / Ray |',
  '|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.label} | ${fmt(r.rayTs)} ${r.unit ?? ''} | ${fmt(r.ray)} ${r.unit ?? ''} | ${r.ratio === undefined ? 'n/a' : r.ratio.toFixed(2) + 'x'} |`,
  ),
].join('\n');

const notes = [
  `${startedAt.toISOString().slice(0, 10)}, ${os.cpus().length} cores; ${placement}.`,
  `1-minute load average: ${loadBefore.toFixed(2)} at the start${opts.waitLoad > 0 ? `, ${loadAtStart.toFixed(2)} when measuring began${loadAtStart >= 1.0 ? ' (it never dropped below 1.0)' : ''}` : ''}, ${rayResult ? `${rayResult.load.toFixed(2)} before Ray, ` : ''}${rayTsResult ? `${rayTsResult.load.toFixed(2)} before ray-ts, ` : ''}${loadAtEnd.toFixed(2)} at the end.`,
  `Both sides: 1 CPU on A and on B, ${STORE / GiB} GiB object store per node; Ray's driver attaches to a node of 0 CPUs on C (Ray drivers need a local raylet), ray-ts's driver is a plain driver process there.`,
  ...(opts.quick ? ['--quick: tiny sizes, not figures to quote.'] : []),
];
const mb = (b) =>
  Object.entries(b ?? {})
    .map(([h, v]) => `${h} ${Math.round(v.rxMB + v.txMB)} MB`)
    .join(', ');
console.log(`\n${table}\n\n${notes.join('\n')}`);
if (rayResult) console.log(`Ray: through each host's bridge link: ${mb(rayResult.bridge)}`);
if (rayTsResult) console.log(`ray-ts: through each host's bridge link: ${mb(rayTsResult.bridge)}`);
if (leftovers) console.log(`Ray processes left after stopping it: ${leftovers.length ? leftovers.join(' ') : 'none'}`);

fs.mkdirSync(path.dirname(opts.out), { recursive: true });
fs.writeFileSync(
  opts.out,
  JSON.stringify(
    {
      date: startedAt.toISOString(),
      quick: opts.quick,
      plan,
      hosts: { A: A.address, B: B.address, C: C.address },
      placement,
      load: { beforeWait: loadBefore, atStart: loadAtStart, atEnd: loadAtEnd },
      cases: rows,
      markdown: table,
      notes,
      rayTs: rayTsResult,
      ray: rayResult,
      rayProcessesLeft: leftovers,
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${path.relative(process.cwd(), opts.out) || opts.out}`);
process.exit(rayResult?.error || rayTsResult?.error || leftovers?.length ? 1 : 0);
