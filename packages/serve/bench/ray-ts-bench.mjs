// The ray-ts side of the Serve benchmark: the same workloads as ray_serve_bench.py, against
// @ray-ts/serve. Starts an embedded cluster and Serve's HTTP proxy on a free port of 127.0.0.1;
// for each workload deploys the app (deployments.mjs), checks one response, then for each
// connection count runs wrk (a warm-up, then the measured run) and prints one JSON line:
//   {"side":"ray-ts","name","connections","rps","p50Ms","p99Ms","errors","non2xx","requests","durationS"}
// Everything else goes to stderr.
//
//   node --import tsx packages/serve/bench/ray-ts-bench.mjs [--duration 20] [--warmup 2]
//       [--connections 16,64] [--only json1,json2,matmul] [--threads 2] [--cpus 2]
import { parseArgs } from 'node:util';
import { freePort, runWrk, wrkAvailable, WRK_INSTALL } from './wrk.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16,64' },
    only: { type: 'string' },
    threads: { type: 'string', default: '2' },
    cpus: { type: 'string', default: '2' },
    port: { type: 'string', default: '0' },
  },
});
const log = (msg) => console.error(`[ray-ts] ${msg}`);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const threads = Number(values.threads);
const connectionCounts = values.connections.split(',').map(Number);

if (!wrkAvailable()) {
  console.error(`wrk is not installed; run: ${WRK_INSTALL}`);
  process.exit(2);
}

let serve;
try {
  serve = await import('@ray-ts/serve');
} catch (err) {
  console.error(
    `ray-ts-bench: cannot import @ray-ts/serve: ${err.message}\n` +
      `Build the packages first (npx nx run-many -t build; npm run bench -w @ray-ts/serve does it), ` +
      `and run npm install at the repository root if node_modules/@ray-ts/serve is missing.`,
  );
  process.exit(2);
}
const missing = ['start', 'run', 'delete', 'shutdown', 'deployment', 'batch'].filter(
  (f) => typeof serve[f] !== 'function',
);
if (missing.length) {
  console.error(`ray-ts-bench: @ray-ts/serve does not export ${missing.join(', ')} (yet); the benchmark needs them.`);
  process.exit(2);
}
const { init, shutdown } = await import('@ray-ts/core');
const { Hello, MatMul, expectedMatmulSum } = await import('./deployments.mjs');

/** What each workload deploys and how its response is checked; the same as ray_serve_bench.py. */
const expectedSum = expectedMatmulSum();
const workloads = {
  json1: {
    app: () => Hello.options({ numReplicas: 1, maxOngoingRequests: 100 }).bind(),
    check: (body) => body.hello === 'world',
  },
  json2: {
    app: () => Hello.options({ numReplicas: 2, maxOngoingRequests: 100 }).bind(),
    check: (body) => body.hello === 'world',
  },
  matmul: {
    app: () => MatMul.options({ numReplicas: 2, maxOngoingRequests: 32 }).bind(),
    check: (body) => Math.abs(body.sum - expectedSum) <= 1e-9 * Math.max(1, Math.abs(expectedSum)),
  },
};
const names = values.only ? values.only.split(',') : Object.keys(workloads);
for (const n of names) {
  if (!workloads[n]) {
    console.error(`ray-ts-bench: unknown workload '${n}'; choose from ${Object.keys(workloads).join(', ')}.`);
    process.exit(2);
  }
}

/** GETs url until it answers 200 with a body that passes check (up to 60 s); throws otherwise. */
async function verify(url, check) {
  const deadline = Date.now() + 60_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      const text = await res.text();
      if (res.status === 200 && check(JSON.parse(text))) return text;
      last = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      if (res.status === 200) break; // a wrong answer will not become right by waiting
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the deployment at ${url} did not answer as expected: ${last}`);
}

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  log('interrupted; shutting down');
  Promise.resolve()
    .then(() => serve.shutdown())
    .then(() => shutdown())
    .finally(() => process.exit(130));
});

const port = Number(values.port) || (await freePort());
const url = `http://127.0.0.1:${port}/`;
await init({ numCpus: Number(values.cpus) });
try {
  await serve.start({ http: { host: '127.0.0.1', port } });
  log(`serve listening on ${url}`);
  for (const name of names) {
    const w = workloads[name];
    try {
      await serve.run(w.app(), { name: 'default', routePrefix: '/' });
      log(`${name}: deployed; answer ${await verify(url, w.check)}`);
      for (const connections of connectionCounts) {
        if (warmupS > 0) await runWrk({ url, connections, durationS: warmupS, threads });
        const r = await runWrk({ url, connections, durationS, threads });
        log(`${name} c=${connections}:\n${r.raw}`);
        const { raw: _raw, ...figures } = r;
        console.log(JSON.stringify({ side: 'ray-ts', name, connections, durationS, ...figures }));
      }
    } catch (err) {
      log(`${name} failed: ${err.stack ?? err}`);
      process.exitCode = 1;
    } finally {
      await serve.delete('default').catch((err) => log(`serve.delete('default') failed: ${err.message}`));
    }
  }
} finally {
  await serve.shutdown().catch((err) => log(`serve.shutdown() failed: ${err.message}`));
  await shutdown();
}
// Whatever handles remain (sockets, timers) must not keep the benchmark alive.
process.exit(process.exitCode ?? 0);
