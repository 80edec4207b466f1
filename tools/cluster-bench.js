#!/usr/bin/env node
// Cross-node benchmark: a 2-node ray-ts cluster on this machine (a head with 1 CPU and a second
// node with 1 CPU and the custom resource `node2`), started exactly as tools/ray-cluster-baseline.sh
// starts Ray's, with the same cases as tools/ray-cluster-bench.py. With --ray FILE (Ray's results,
// default .bench/ray-cluster.json when present) it prints ray-ts / Ray ratios.
//
//   node tools/cluster-bench.js [--json OUT] [--ray .bench/ray-cluster.json]
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const jsonOut = opt('--json');
const rayFile = opt('--ray', fs.existsSync('.bench/ray-cluster.json') ? '.bench/ray-cluster.json' : undefined);

// The driver receives the large objects of the get case: huge pages from its start, as the nodes get.
(await import('./huge-pages.mjs')).restartWithHugePages();
const ray = await import('@ray-ts/core');
const { Cluster } = await import('@ray-ts/core/testing');
const fx = await import('./cluster-bench-fixtures.js');
const { init, shutdown, get, put, placementGroup, removePlacementGroup } = ray;

const GiB = 1024 ** 3;
const SIZE = 256 * 1024 * 1024;
const cluster = await Cluster.start({
  head: { numCpus: 1, objectStoreMemory: 2 * GiB },
  nodes: [{ numCpus: 1, resources: { node2: 1 }, objectStoreMemory: 2 * GiB }],
});
await init({ address: cluster.address });
const results = {};
const report = (name, value, unit) => {
  results[name] = { value, unit };
  console.log(`${name}: ${value.toPrecision(4)} ${unit}`);
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  // Tasks forced onto the second node, in batches of 1000.
  await get(Array.from({ length: 1000 }, () => fx.f.remote()));
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    await get(Array.from({ length: 1000 }, () => fx.f.remote()));
    n += 1000;
  }
  report('cross-node tasks', n / ((performance.now() - t0) / 1000), 'tasks/s');

  // get of a 256 MiB array made on node 2 (timed after it exists there, as Ray's case).
  const gets = [];
  for (let i = 0; i < 4; i++) {
    const [big, small] = fx.makeArray.remote(SIZE);
    await get(small);
    const t = performance.now();
    const v = await get(big);
    gets.push(v.byteLength / 1e9 / ((performance.now() - t) / 1000));
  }
  report('cross-node get GB', median(gets.slice(1)), 'GB/s');

  // put of 256 MiB on the driver, read by a task on node 2.
  const puts = [];
  for (let i = 0; i < 4; i++) {
    const arr = new Uint8Array(SIZE).fill(2);
    const t = performance.now();
    const ref = put(arr);
    const len = await get(fx.nbytes.remote(ref));
    puts.push(len / 1e9 / ((performance.now() - t) / 1000));
  }
  report('cross-node put GB', median(puts.slice(1)), 'GB/s');

  // One actor call at a time to an actor on node 2.
  const a = fx.PingerRemote.remote();
  await get(a.ping.remote());
  n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < 3000) {
    await get(a.ping.remote());
    n++;
  }
  report('cross-node 1:1 actor calls sync', n / ((performance.now() - t0) / 1000), 'calls/s');

  // Placement groups created, waited for and removed one at a time.
  n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < 3000) {
    const pg = placementGroup([{ CPU: 0.001 }]);
    await pg.ready();
    await removePlacementGroup(pg);
    n++;
  }
  report('placement group create/removal', n / ((performance.now() - t0) / 1000), 'per s');
} finally {
  await shutdown();
  await cluster.shutdown();
}

if (rayFile) {
  const rayResults = JSON.parse(fs.readFileSync(rayFile, 'utf8')).cases;
  console.log(`\n| case | ray-ts | Ray | ray-ts / Ray |\n|---|---|---|---|`);
  for (const [name, r] of Object.entries(results)) {
    const b = rayResults[name]?.value;
    console.log(
      `| ${name} | ${r.value.toPrecision(4)} ${r.unit} | ${b ?? 'n/a'} | ${b ? (r.value / b).toFixed(2) + 'x' : ''} |`,
    );
  }
}
if (jsonOut) {
  fs.mkdirSync(path.dirname(path.resolve(jsonOut)), { recursive: true });
  fs.writeFileSync(jsonOut, JSON.stringify({ cases: results }, null, 2) + '\n');
}
process.exit(0);
