import { init, get, shutdown } from '@ray-ts/core';
import { Cluster } from '@ray-ts/core/testing';
const fx = await import('/work/main/tools/cluster-bench-fixtures.js');
const GiB = 1024 ** 3;
const cluster = await Cluster.start({ head: { numCpus: 1, objectStoreMemory: 2 * GiB }, nodes: [{ numCpus: 1, resources: { node2: 1 }, objectStoreMemory: 2 * GiB, env: process.env.PROF_NODE ? { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof-node' } : {} }] });
await init({ address: cluster.address });
for (let i = 0; i < 3; i++) {
  const [big, small] = fx.makeArray.remote(256 * 1024 * 1024);
  await get(small);
  const t = performance.now();
  const v = await get(big);
  const s = (performance.now() - t) / 1000;
  console.log(`get 256 MiB: ${s.toFixed(2)} s = ${(v.byteLength / 1e9 / s).toFixed(3)} GB/s`);
}
await shutdown(); await cluster.shutdown();
