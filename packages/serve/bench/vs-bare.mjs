#!/usr/bin/env node
// Serve against a bare `node:http` server on the same machine, in one run: the trivial JSON
// deployment ({"hello":"world"}, 1 replica) behind Serve's proxy, and a plain http.createServer
// answering the same body from a process of its own, each loaded by the same
// `wrk -t2 -cN -dDs --latency` one after the other, --rounds times (bare, Serve, bare, Serve), so
// the ratio holds on a shared machine. Prints a table of req/s, p50/p99 and the CPU each server's
// process used per request, with Serve / bare; writes the figures to .bench/serve-vs-bare.json.
//
//   npm run bench:serve [-- --duration 10 --warmup 2 --connections 16 --rounds 2 --cpus 2 --proxies N]
//   node --import tsx packages/serve/bench/vs-bare.mjs (the same, from the sources' build)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, runWrk, wrkAvailable, WRK_INSTALL } from './wrk.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    cpus: { type: 'string', default: '2' },
    proxies: { type: 'string' },
  },
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const connections = Number(values.connections);
const threads = Number(values.threads);
const rounds = Number(values.rounds);
if (!wrkAvailable()) {
  console.error(`The benchmark drives load with wrk, which is not installed. Install it with:\n  ${WRK_INSTALL}`);
  process.exit(2);
}

/** The bare server: one process, one thread, the same body and content type as Serve's answer. */
const BARE = `
const http = require('node:http');
const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const body = JSON.stringify({ hello: 'world' });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

async function startBare() {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', BARE, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the bare server exited (${code})`)));
    child.stdout.once('data', resolve);
  });
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid, stop: () => child.kill() };
}

/** CPU seconds (user + system, all threads) a process used so far; null off Linux. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

/**
 * wrk against `url`, with the CPU the server's process used per request meanwhile: on a shared
 * machine the throughput of each side depends on what else runs, its CPU per request much less.
 */
async function load(url, pid) {
  if (warmupS > 0) await runWrk({ url, connections, durationS: warmupS, threads });
  const before = cpuSeconds(pid);
  const r = await runWrk({ url, connections, durationS, threads });
  const after = cpuSeconds(pid);
  const cpuUs = before === null || after === null || !r.requests ? null : ((after - before) * 1e6) / r.requests;
  return { ...r, cpuUs };
}

const serve = await import('@ray-ts/serve');
const { init, shutdown } = await import('@ray-ts/core');
const { Hello } = await import('./deployments.mjs');

const bare = await startBare();
const port = await freePort();
const serveUrl = `http://127.0.0.1:${port}/`;
await init({ numCpus: Number(values.cpus) });
const rows = [];
try {
  const proxiesPerNode = values.proxies ? Number(values.proxies) : undefined;
  await serve.start({ http: { host: '127.0.0.1', port, ...(proxiesPerNode ? { proxiesPerNode } : {}) } });
  await serve.run(Hello.options({ numReplicas: 1, maxOngoingRequests: 100 }).bind(), {
    name: 'default',
    routePrefix: '/',
  });
  const check = await (await fetch(serveUrl)).text();
  if (JSON.parse(check).hello !== 'world') throw new Error(`Serve answered ${check}`);
  for (let i = 0; i < rounds; i++) {
    const b = await load(bare.url, bare.pid);
    const s = await load(serveUrl, process.pid);
    rows.push({ round: i + 1, bare: b, serve: s });
    console.error(`round ${i + 1}: bare ${b.rps} req/s, Serve ${s.rps} req/s (${((100 * s.rps) / b.rps).toFixed(1)}%)`);
  }
} finally {
  bare.stop();
  await serve.shutdown().catch((err) => console.error(`serve.shutdown() failed: ${err.message}`));
  await shutdown();
}

const ms = (x) => (x === null ? '-' : `${x.toFixed(2)} ms`);
const errs = (r) => r.errors + r.non2xx;
console.log(
  `\nTrivial JSON, 1 replica: Serve vs bare node:http, wrk -t${threads} -c${connections} -d${durationS}s (after ${warmupS} s warm-up)\n`,
);
console.log(
  '| round | bare req/s | p50 | p99 | CPU µs/req | Serve req/s | p50 | p99 | CPU µs/req | errors | Serve / bare req/s |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const cpu = (x) => (x === null ? '-' : x.toFixed(0));
for (const r of rows) {
  console.log(
    `| ${r.round} | ${Math.round(r.bare.rps)} | ${ms(r.bare.p50Ms)} | ${ms(r.bare.p99Ms)} | ${cpu(r.bare.cpuUs)} | ` +
      `${Math.round(r.serve.rps)} | ${ms(r.serve.p50Ms)} | ${ms(r.serve.p99Ms)} | ${cpu(r.serve.cpuUs)} | ${errs(r.serve)} | ` +
      `${((100 * r.serve.rps) / r.bare.rps).toFixed(1)}% |`,
  );
}

const root = path.resolve(import.meta.dirname, '../../..');
fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
const out = path.join(root, '.bench/serve-vs-bare.json');
const strip = ({ raw: _raw, ...r }) => r;
const settings = { durationS, warmupS, connections, threads, rounds, cpus: Number(values.cpus) };
const results = rows.map((r) => ({ round: r.round, bare: strip(r.bare), serve: strip(r.serve) }));
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), settings, rows: results }, null, 2));
console.error(`results: ${path.relative(process.cwd(), out) || out}`);
