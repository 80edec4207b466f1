#!/usr/bin/env node
// Where a Serve request's time goes: runs the trivial JSON deployment (1 replica) under
// `wrk -t2 -cN` with every thread CPU-profiled (node --cpu-prof), then prints the process's CPU
// per request (from /proc) and, for each thread (the driver, which hosts the node and relays
// actor calls; each proxy; the replica), its share of it and that share by part: HTTP parsing and writing (node:http, net, streams),
// the actor-call hop (messages between threads, serialization), the Request/Response objects
// (undici), Serve's own code, the rest of ray-ts, garbage collection. The busiest functions of
// each thread follow.
//
//   node packages/serve/bench/breakdown.mjs [--duration 5] [--connections 16] [--cpus 2] [--top 12]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, runWrk } from './wrk.mjs';

/** CPU seconds (user + system, all threads) this process used so far; null off Linux. */
function cpuSeconds() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** Context switches (voluntary: the thread waited; involuntary: it was preempted) of all this process's threads. */
function contextSwitches() {
  let voluntary = 0;
  let involuntary = 0;
  try {
    for (const t of fs.readdirSync('/proc/self/task')) {
      const st = fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8');
      voluntary += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
      involuntary += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
    }
  } catch {
    return null;
  }
  return { voluntary, involuntary };
}

const INTERVAL_US = 500;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    cpus: { type: 'string', default: '2' },
    top: { type: 'string', default: '12' },
    child: { type: 'string' },
  },
});

if (values.child) {
  // The profiled process: Serve under load, then the request count on stdout.
  const serve = await import('@ray-ts/serve');
  const { init, shutdown } = await import('@ray-ts/core');
  const { Hello } = await import('./deployments.mjs');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  await init({ numCpus: Number(values.cpus) });
  await serve.start({ http: { host: '127.0.0.1', port } });
  await serve.run(Hello.options({ numReplicas: 1, maxOngoingRequests: 100 }).bind(), {
    name: 'default',
    routePrefix: '/',
  });
  await (await fetch(url)).text();
  // The profiles' clock is the monotonic one of process.hrtime: only samples inside the load count.
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const cpu0 = cpuSeconds();
  const cs0 = contextSwitches();
  const r = await runWrk({ url, connections: Number(values.connections), durationS: Number(values.duration) });
  const cpu1 = cpuSeconds();
  const cs1 = contextSwitches();
  const switches =
    cs0 && cs1 ? { voluntary: cs1.voluntary - cs0.voluntary, involuntary: cs1.involuntary - cs0.involuntary } : null;
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpuUs = cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) * 1e6;
  console.error(`wrk: ${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
  await serve.shutdown();
  await shutdown();
  process.stdout.write(JSON.stringify({ requests: r.requests, rps: r.rps, fromUs, toUs, cpuUs, switches }) + '\n');
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-breakdown-'));
const child = spawn(
  process.execPath,
  [
    '--cpu-prof',
    '--cpu-prof-interval',
    String(INTERVAL_US),
    '--cpu-prof-dir',
    dir,
    import.meta.filename,
    '--child',
    '1',
    ...process.argv.slice(2),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
const code = await new Promise((r) => child.on('close', r));
if (code !== 0) {
  console.error(`the profiled run failed (exit ${code})`);
  process.exit(1);
}
const { requests, rps, fromUs, toUs, cpuUs, switches } = JSON.parse(out.trim().split('\n').pop());

/** The part of the request path a function belongs to, by its name and script. */
function partOf(fn, url) {
  if (fn === '(idle)' || fn === '(program)') return fn;
  if (fn === '(garbage collector)') return 'gc';
  if (/undici|fetch\/|web\/|webstreams|internal\/webstreams/.test(url)) return 'Request/Response (undici, web streams)';
  if (
    /_http_|node:http|llhttp|internal\/http/.test(url) ||
    /^(parserOnHeadersComplete|parserOnBody|parserOnMessageComplete)$/.test(fn)
  )
    return 'HTTP (node:http)';
  if (/node:net|internal\/stream_base|node:stream|internal\/streams|node:events|internal\/timers|node:timers/.test(url))
    return 'sockets, streams, events, timers';
  if (/worker|MessagePort|internal\/per_context\/messageport|structured|serializ|v8\.js/i.test(url + ' ' + fn))
    return 'thread hop (messages, serialization)';
  if (/packages\/serve\//.test(url)) return 'Serve (proxy, router, replica)';
  if (/packages\/core\/|ray-ts/.test(url)) return 'ray-ts core (actor calls, node)';
  if (url.startsWith('node:') || url === '') return 'node internals, native';
  return 'other';
}

const threads = [];
for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
  const prof = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    // A sample is taken when the thread runs (the profiler's signal waits while it is off the CPU),
    // so the count of samples, not the time between them, measures its CPU on a busy machine.
    const dt = INTERVAL_US;
    if (t < fromUs || t > toUs) continue;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const parts = new Map();
  const fns = new Map();
  let busy = 0;
  let names = '';
  for (const [id, us] of self) {
    const n = byId.get(id);
    const fn = n.callFrame.functionName || '(anonymous)';
    const url = n.callFrame.url;
    names += ` ${fn}`;
    const part = partOf(fn, url);
    if (part === '(idle)') continue;
    busy += us;
    parts.set(part, (parts.get(part) ?? 0) + us);
    const key = `${fn} ${path.basename(url)}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const role = /ServeProxyActor|onRequest/.test(names)
    ? 'proxy'
    : /ServeReplicaActor|serveHttp/.test(names)
      ? 'replica'
      : /\.\d+\.0\.\d+\.cpuprofile$/.test(f)
        ? 'driver (node, relay)'
        : 'other worker';
  threads.push({ file: f, role, busy, parts, fns });
}
threads.sort((a, b) => b.busy - a.busy);
const perReq = (us) => (us / requests).toFixed(1);
console.log(
  `\n${requests} requests, ${Math.round(rps)} req/s; the process used ${cpuUs === null ? '?' : perReq(cpuUs)} µs of CPU per request` +
    `\n(by /proc)` +
    (switches
      ? `, and its threads were switched off the CPU ${(switches.voluntary / requests).toFixed(1)} times per request ` +
        `waiting (voluntary) and ${(switches.involuntary / requests).toFixed(1)} times preempted`
      : '') +
    `. Estimated from profile samples, by thread and part (µs per request):\n`,
);
let total = 0;
for (const t of threads) {
  if (t.busy / requests < 0.5) continue;
  total += t.busy;
  console.log(`${t.role} (${t.file}): ${perReq(t.busy)} µs/request`);
  for (const [p, us] of [...t.parts].sort((a, b) => b[1] - a[1])) console.log(`  ${perReq(us).padStart(7)}  ${p}`);
  console.log('  busiest functions:');
  for (const [k, us] of [...t.fns].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`  ${perReq(us).padStart(7)}  ${k}`);
}
console.log(`\nall threads, from samples: ${perReq(total)} µs per request (profiles in ${dir})`);
