import { init, get, shutdown } from '@ray-ts/core';
import { Cluster } from '@ray-ts/core/testing';
const fx = await import('./cluster-bench-fixtures.js');
const GiB = 1024 ** 3;
const cluster = await Cluster.start({
  head: { numCpus: 1, objectStoreMemory: 3 * GiB },
  nodes: [{ numCpus: 1, resources: { node2: 1 }, objectStoreMemory: 3 * GiB }],
});
await init({ address: cluster.address });
const [big, small] = fx.makeArray.remote(GiB);
await get(small);
global.gc?.();
const before = process.memoryUsage().rss;
let peak = before;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const t = performance.now();
const v = await get(big);
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(
  `1 GiB pulled in ${((performance.now() - t) / 1000).toFixed(2)} s; receiver RSS grew ${((peak - before) / 2 ** 20).toFixed(0)} MiB (object ${v.byteLength / 2 ** 20} MiB): over by ${((peak - before - v.byteLength) / 2 ** 20).toFixed(0)} MiB`,
);
await shutdown();
await cluster.shutdown();
