#!/usr/bin/env node
// Allreduce bandwidth of @ray-ts/core's collectives: 1, 16 and 64 MiB Float32 buffers across 2
// and 4 actors of one embedded node (threads; messages through shared memory), and across the 2
// nodes of a local cluster with --cluster (the nodes' gRPC peer streams). Reports, per case, the
// time per allreduce, the algorithm bandwidth (buffer bytes / time) and the bus bandwidth (NCCL's
// convention: bytes × 2(n-1)/n / time, what each member sends and receives).
//
//   npm run bench:collective [-- --iters 5 --sizes 1,16,64 --workers 2,4 --cluster --json OUT]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    iters: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1,16,64' },
    workers: { type: 'string', default: '2,4' },
    cluster: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const iters = Number(values.iters);
const sizes = values.sizes.split(',').map(Number);
const workerCounts = values.workers.split(',').map(Number);
if (
  !Number.isInteger(iters) ||
  iters < 1 ||
  sizes.some((s) => !(s > 0)) ||
  workerCounts.some((w) => !Number.isInteger(w) || w < 2)
) {
  console.error('--iters takes a whole number >= 1, --sizes MiB values > 0, --workers whole numbers >= 2');
  process.exit(2);
}

const { init, shutdown, get, kill, collective } = await import('@ray-ts/core');
const { Cluster } = await import('@ray-ts/core/testing');
const { BenchMemberActor } = await import('./collective-bench-fixtures.js');
const MiB = 1024 * 1024;
const rows = [];

async function run(where, n, options) {
  const members = Array.from({ length: n }, (_, i) => BenchMemberActor.options(options(i)).remote());
  const group = `bench-${where.replace(/ /g, '-')}-${n}`;
  await collective.createCollectiveGroup(members, { groupName: group });
  try {
    for (const mib of sizes) {
      const secs = await get(members.map((m) => m.allreduce.remote(mib * MiB, iters, group)));
      const per = Math.max(...secs) / iters;
      const row = {
        where,
        workers: n,
        mib,
        msPerAllreduce: per * 1000,
        algMBps: (mib * MiB) / per / 1e6,
        busMBps: (mib * MiB * 2 * (n - 1)) / n / per / 1e6,
      };
      rows.push(row);
      console.log(
        `${where} ${n} workers, ${mib} MiB: ${row.msPerAllreduce.toFixed(1)} ms per allreduce, ${row.algMBps.toFixed(0)} MB/s (bus ${row.busMBps.toFixed(0)} MB/s)`,
      );
    }
  } finally {
    for (const m of members) await kill(m);
  }
}

const maxWorkers = Math.max(...workerCounts);
await init({ numCpus: maxWorkers });
try {
  for (const n of workerCounts) await run('one node', n, () => ({ numCpus: 1 }));
} finally {
  await shutdown();
}

if (values.cluster) {
  const cluster = await Cluster.start({ head: { numCpus: maxWorkers / 2 }, nodes: [{ numCpus: maxWorkers / 2 }] });
  await init({ address: cluster.address });
  try {
    const ids = cluster.nodes.map((x) => x.nodeId);
    // Alternating nodes: every ring step crosses between the two.
    for (const n of workerCounts)
      await run('two nodes', n, (i) => ({ numCpus: 1, schedulingStrategy: { nodeId: ids[i % 2] } }));
  } finally {
    await shutdown();
    await cluster.shutdown();
  }
}

console.log(
  '\n| where | workers | buffer | ms per allreduce | MB/s (buffer / time) | bus MB/s |\n|---|---:|---:|---:|---:|---:|',
);
for (const r of rows)
  console.log(
    `| ${r.where} | ${r.workers} | ${r.mib} MiB | ${r.msPerAllreduce.toFixed(1)} | ${r.algMBps.toFixed(0)} | ${r.busMBps.toFixed(0)} |`,
  );
if (values.json) fs.writeFileSync(values.json, JSON.stringify(rows, null, 2));
