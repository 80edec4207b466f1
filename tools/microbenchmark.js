#!/usr/bin/env node
// ray-ts's equivalent of `ray microbenchmark` (Ray's python/ray/_private/ray_perf.py): the same
// cases, under the same names, doing the same work, timed like Ray's `timeit` helper, on an
// embedded cluster. Prints `<case> per second <mean> +- <sd>` per case, as Ray does.
//
//   node tools/microbenchmark.js [--num-cpus N] [--duration SECONDS] [--filter SUBSTRING]
//                                [--json FILE] [--no-init-time] [--huge-pages] [--no-record]
//
// Each run is recorded with its commit under bench/results/ (tools/bench-results.mjs);
// `npm run bench:compare` prints the change of each figure against the previous run.
//
// The remote functions and actors live in tools/bench-fixtures.js (workers load them by reference).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gitState, makeRun, recordRun } from './bench-results.mjs';
import { measureStartup } from './startup-bench.mjs';

const INIT_CASE = 'init to first task result';
const INIT_RUNS = 7;
const PG_CASE = 'placement group create/removal';
const ROUNDS = 4;

const usage = `Usage: node tools/microbenchmark.js [options]

Ray's core microbenchmark cases (same names as 'ray microbenchmark') on an embedded ray-ts cluster.

  --num-cpus N         CPUs of the embedded cluster (default 2)
  --duration SECONDS   measured time per case (default 2); a warm-up of a quarter of it comes first
  --filter SUBSTRING   run only the cases whose name contains SUBSTRING (like Ray's TESTS_TO_RUN)
  --json FILE          also write {case: opsPerSecond} to FILE (null for a failed or n/a case; the
                       '${INIT_CASE} (ms)' entry is in milliseconds)
  --call-timeout SEC   fail a case when one timed call takes longer than this (default 300)
  --no-init-time       skip the '${INIT_CASE}' measurement (${INIT_RUNS} fresh \`node app.js\`
                       processes with a plain init(), as tools/startup-bench.mjs runs them)
  --no-record          do not record the figures under bench/results/ (see npm run bench:compare)
  --huge-pages         restart with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 first (as ray-ts does for
                       the processes it starts; see packages/core/src/runtime/huge-pages.ts). By
                       default the benchmark runs as a user's plain \`node app.js\` would, with no
                       variable set (the targets are defined that way); --no-huge-pages is that default
  -h, --help           show this help`;

function parseArgs(argv) {
  const o = {
    numCpus: 2,
    duration: 2,
    filter: '',
    json: undefined,
    callTimeout: 300,
    initTime: true,
    hugePages: false,
    record: true,
  };
  const num = (flag, v) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0)
      fail(`${flag} needs a positive number, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--num-cpus':
        o.numCpus = num(flag, value());
        break;
      case '--duration':
        o.duration = num(flag, value());
        break;
      case '--filter':
        o.filter = value() ?? '';
        break;
      case '--json':
        o.json = value();
        if (!o.json) fail('--json needs a file name');
        break;
      case '--call-timeout':
        o.callTimeout = num(flag, value());
        break;
      case '--no-init-time':
        o.initTime = false;
        break;
      case '--no-huge-pages':
        o.hugePages = false;
        break;
      case '--huge-pages':
        o.hugePages = true;
        break;
      case '--no-record':
        o.record = false;
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

function fail(msg) {
  console.error(`microbenchmark: ${msg}\n\n${usage}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));

// The driver hosts the embedded cluster's workers (threads): huge pages need them from its start.
if (opts.hugePages) (await import('./huge-pages.mjs')).restartWithHugePages();
const selected = (name) => !opts.filter || name.includes(opts.filter);
const fmt = (x) => String(Math.round(x * 100) / 100);

// ------------------------------------------------------------------ timing (Ray's timeit)
/**
 * Ray's `timeit`: a warm-up that counts calls, then rounds of `step = count // 10 + 1` calls until
 * each round has lasted its share of the time; reports the mean and standard deviation over the
 * rounds of multiplier * calls / second. Ray's 10 s pause before each case is left out, and its
 * 1 s warm-up and 4 rounds of 2 s become duration/4 each. Bounds for slow cases: rounds stop once
 * `duration` seconds are measured (at least one round), and when the first call alone takes longer
 * than `duration`, it counts as the warm-up and the next single call is the measurement.
 */
async function timeit(fn, multiplier) {
  const durationMs = opts.duration * 1000;
  const roundMs = durationMs / ROUNDS;
  const call = async () => {
    await withTimeout(fn(), opts.callTimeout * 1000);
    await maybeYield();
  };
  let start = performance.now();
  await call();
  let count = 1;
  const first = performance.now() - start;
  if (first >= durationMs) {
    // Slow case: the first call is a cold start (fresh memory, first imports); measure one more.
    start = performance.now();
    await call();
    const second = performance.now() - start;
    return { mean: (multiplier * 1000) / second, sd: 0, rounds: 1, singleCallMs: second };
  }
  while (performance.now() - start < roundMs) {
    await call();
    count++;
  }
  const step = Math.floor(count / 10) + 1;
  const stats = [];
  const measureStart = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    start = performance.now();
    count = 0;
    while (performance.now() - start < roundMs) {
      for (let i = 0; i < step; i++) await call();
      count += step;
    }
    stats.push((multiplier * count * 1000) / (performance.now() - start));
    if (performance.now() - measureStart >= durationMs) break;
  }
  const mean = stats.reduce((a, b) => a + b, 0) / stats.length;
  const sd = Math.sqrt(stats.reduce((a, b) => a + (b - mean) ** 2, 0) / stats.length); // np.std
  return { mean, sd, rounds: stats.length };
}

/**
 * Lets timers, I/O and FinalizationRegistry callbacks run every 2 ms or so. Calls that never wait
 * on a worker (get of a ready object, put) only yield to microtasks, and dropped ObjectRefs are
 * released by finalizers, which run as macrotasks: without this, every object put in a round would
 * stay in the store until the round ends (Ray's Python frees them at once, by reference counting).
 */
let lastYield = performance.now();
async function maybeYield() {
  if (performance.now() - lastYield < 2) return;
  await new Promise((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

function withTimeout(p, ms) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`one call took over ${ms / 1000} s (see --call-timeout)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ------------------------------------------------------------------ main
const results = {};

console.log(
  `ray-ts microbenchmark: node ${process.version}, ${os.availableParallelism()} cores, ` +
    `init({ numCpus: ${opts.numCpus} }), ${opts.duration} s per case${opts.filter ? `, filter '${opts.filter}'` : ''}, ` +
    `GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`,
);

if (opts.initTime && selected(INIT_CASE)) {
  // Fresh processes as a user's `node app.js` runs them: no environment variables, a plain init().
  const startFigure = `process start to first task result (ms)`;
  try {
    const r = (await measureStartup({ runs: INIT_RUNS }))[''];
    results[`${INIT_CASE} (ms)`] = r.importToResultMs.median;
    results[startFigure] = r.totalMs.median;
    console.log(
      `${INIT_CASE} ${fmt(r.importToResultMs.median)} ms (median of ${INIT_RUNS} fresh processes, from import; p90 ` +
        `${fmt(r.importToResultMs.p90)} ms; ${fmt(r.totalMs.median)} ms from process start)`,
    );
  } catch (e) {
    results[`${INIT_CASE} (ms)`] = null;
    results[startFigure] = null;
    console.log(`${INIT_CASE} ERROR: ${e.message}`);
  }
}

const ray = await import('@ray-ts/core');
const { init, shutdown, get, put, wait, kill } = ray;
const fx = await import('./bench-fixtures.js');

await init({ numCpus: opts.numCpus });

// `multiprocessing.cpu_count() // 2` in Ray's script (at least 1 here).
const nCpu = Math.max(1, Math.floor(os.availableParallelism() / 2));
const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));

/**
 * Starts n actors one after another, each ready (one call answered) before the next. Starting
 * several actors of a class at once fails in ray-ts today: actors share worker threads, the node
 * sends a class's code only with the first actor it places on a thread, and a second creation
 * that arrives while the first is still importing the module fails with "Worker has no code for
 * function fn_...; this is a bug in ray-ts." Ray makes its actors before timing too.
 */
async function spawnActors(n, make, ping) {
  const actors = [];
  for (let i = 0; i < n; i++) {
    const a = make(i);
    await get(ping(a));
    actors.push(a);
  }
  return actors;
}
const newActor = () => fx.ActorRemote.remote();
const newAsyncActor = () => fx.AsyncActorRemote.remote();
const pingActor = (a) => a.smallValue.remote();
const pingClient = (c) => c.ready.remote();

/**
 * The cases of ray_perf.py, in its order. `setup` runs before timing (Ray makes its actors and
 * objects outside timeit too) and returns the timed function and the actors to kill afterwards.
 */
const cases = [
  {
    name: 'single client get calls (Plasma Store)',
    setup: () => {
      const value = put(0);
      return { fn: () => get(value) };
    },
  },
  { name: 'single client put calls (Plasma Store)', setup: () => ({ fn: async () => void put(0) }) },
  {
    name: 'multi client put calls (Plasma Store)',
    multiplier: 1000,
    setup: () => ({ fn: () => get(range(10, () => fx.doPutSmall.remote())) }),
  },
  {
    name: 'single client put gigabytes',
    multiplier: 8 * 0.1,
    setup: () => {
      const arr = new BigInt64Array(100 * 1024 * 1024); // np.zeros(100 * 1024 * 1024, dtype=np.int64): 800 MiB
      return { fn: async () => void put(arr) };
    },
  },
  {
    name: 'single client tasks and get batch',
    setup: () => ({ fn: () => get(range(1000, () => fx.smallValue.remote())) }),
  },
  {
    name: 'multi client put gigabytes',
    multiplier: 10 * 8 * 0.1,
    setup: () => ({ fn: () => get(range(10, () => fx.doPut.remote())) }),
  },
  {
    name: 'single client get object containing 10k refs',
    setup: async () => {
      const objContainingRef = fx.createObjectContainingRef.remote();
      await get(objContainingRef);
      return { fn: () => get(objContainingRef) };
    },
  },
  {
    name: 'single client wait 1k refs',
    setup: () => ({
      fn: async () => {
        let notReady = range(1000, () => fx.smallValue.remote());
        for (let i = 0; i < 1000; i++) ({ notReady } = await wait(notReady));
      },
    }),
  },
  { name: 'single client tasks sync', setup: () => ({ fn: () => get(fx.smallValue.remote()) }) },
  {
    name: 'single client tasks async',
    multiplier: 1000,
    setup: () => ({ fn: () => get(range(1000, () => fx.smallValue.remote())) }),
  },
  {
    name: 'multi client tasks async',
    multiplier: 10000 * 4,
    setup: async () => {
      const actors = await spawnActors(4, newActor, pingActor);
      return { fn: () => get(actors.map((a) => a.smallValueBatch.remote(10000))), actors };
    },
  },
  {
    name: '1:1 actor calls sync',
    setup: async () => {
      const [a] = await spawnActors(1, newActor, pingActor);
      return { fn: () => get(a.smallValue.remote()), actors: [a] };
    },
  },
  {
    name: '1:1 actor calls async',
    multiplier: 1000,
    setup: async () => {
      const [a] = await spawnActors(1, newActor, pingActor);
      return { fn: () => get(range(1000, () => a.smallValue.remote())), actors: [a] };
    },
  },
  {
    name: '1:1 actor calls concurrent',
    multiplier: 1000,
    setup: async () => {
      const [a] = await spawnActors(1, () => fx.ActorRemote.options({ maxConcurrency: 16 }).remote(), pingActor);
      return { fn: () => get(range(1000, () => a.smallValue.remote())), actors: [a] };
    },
  },
  {
    name: '1:n actor calls async',
    multiplier: 5000 * nCpu,
    setup: async () => {
      const actors = await spawnActors(nCpu, newActor, pingActor);
      const [client] = await spawnActors(1, () => fx.ClientRemote.remote(actors), pingClient);
      return { fn: () => get(client.smallValueBatch.remote(5000)), actors: [...actors, client] };
    },
  },
  {
    name: 'n:n actor calls async',
    multiplier: 4 * 5000,
    setup: async () => {
      const actors = await spawnActors(nCpu, newActor, pingActor);
      return { fn: () => get(range(4, () => fx.work.remote(actors, 5000))), actors };
    },
  },
  {
    name: 'n:n actor calls with arg async',
    multiplier: 1000 * nCpu,
    setup: async () => {
      const actors = await spawnActors(nCpu, newActor, pingActor);
      const clients = await spawnActors(nCpu, (i) => fx.ClientRemote.remote(actors[i]), pingClient);
      return { fn: () => get(clients.map((c) => c.smallValueBatchArg.remote(1000))), actors: [...actors, ...clients] };
    },
  },
  {
    name: '1:1 async-actor calls sync',
    setup: async () => {
      const [a] = await spawnActors(1, newAsyncActor, pingActor);
      return { fn: () => get(a.smallValue.remote()), actors: [a] };
    },
  },
  {
    name: '1:1 async-actor calls async',
    multiplier: 1000,
    setup: async () => {
      const [a] = await spawnActors(1, newAsyncActor, pingActor);
      return { fn: () => get(range(1000, () => a.smallValue.remote())), actors: [a] };
    },
  },
  {
    name: '1:1 async-actor calls with args async',
    multiplier: 1000,
    setup: async () => {
      const [a] = await spawnActors(1, newAsyncActor, pingActor);
      return { fn: () => get(range(1000, (i) => a.smallValueWithArg.remote(i))), actors: [a] };
    },
  },
  {
    name: '1:n async-actor calls async',
    multiplier: 5000 * nCpu,
    setup: async () => {
      const actors = await spawnActors(nCpu, newAsyncActor, pingActor);
      const [client] = await spawnActors(1, () => fx.ClientRemote.remote(actors), pingClient);
      return { fn: () => get(client.smallValueBatch.remote(5000)), actors: [...actors, client] };
    },
  },
  {
    name: 'n:n async-actor calls async',
    multiplier: 4 * 5000,
    setup: async () => {
      const actors = await spawnActors(nCpu, newAsyncActor, pingActor);
      return { fn: () => get(range(4, () => fx.asyncActorWork.remote(actors, 5000))), actors };
    },
  },
];

let failures = 0;
for (const c of cases) {
  if (!selected(c.name)) continue;
  let actors = [];
  let failed = false;
  try {
    const s = await c.setup();
    actors = s.actors ?? [];
    const r = await timeit(s.fn, c.multiplier ?? 1);
    results[c.name] = r.mean;
    console.log(`${c.name} per second ${fmt(r.mean)} +- ${fmt(r.sd)}`);
    if (r.singleCallMs)
      console.log(`  (slow case: timed one call after a warm-up call; it took ${fmt(r.singleCallMs / 1000)} s)`);
  } catch (e) {
    failures++;
    failed = true;
    results[c.name] = null;
    console.log(`${c.name} per second ERROR: ${e?.stack ?? e}`);
  }
  for (const a of actors) await kill(a).catch(() => {});
  if (failed) {
    // Work of a failed or timed-out case may still run: start a fresh cluster for the next case.
    await shutdown();
    await init({ numCpus: opts.numCpus });
  }
}

if (selected(PG_CASE)) {
  // As Ray's case: 100 groups of one small bundle created, waited for, and removed per call.
  const { placementGroup, removePlacementGroup } = ray;
  const once = async () => {
    const pgs = range(100, () => placementGroup([{ CPU: 0.001 }]));
    await Promise.all(pgs.map((pg) => pg.ready()));
    await Promise.all(pgs.map((pg) => removePlacementGroup(pg)));
  };
  try {
    const r = await timeit(once, 100);
    results[PG_CASE] = r.mean;
    console.log(`${PG_CASE} per second ${fmt(r.mean)} +- ${fmt(r.sd)}`);
  } catch (e) {
    failures++;
    results[PG_CASE] = null;
    console.log(`${PG_CASE} per second ERROR: ${e?.stack ?? e}`);
  }
}

await shutdown();

if (opts.json) {
  fs.mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
  fs.writeFileSync(opts.json, JSON.stringify(results, null, 2) + '\n');
}
if (opts.record) {
  const run = makeRun({
    suite: opts.filter ? `microbenchmark-${opts.filter.replace(/[^A-Za-z0-9]+/g, '_')}` : 'microbenchmark',
    figures: results,
    git: gitState(path.dirname(path.dirname(fileURLToPath(import.meta.url)))),
    notes: `numCpus ${opts.numCpus}, ${opts.duration} s per case, GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`,
  });
  console.log(
    `Recorded in ${path.relative(process.cwd(), recordRun(run))}; compare with the previous run: npm run bench:compare`,
  );
}
process.exit(failures ? 1 : 0);
