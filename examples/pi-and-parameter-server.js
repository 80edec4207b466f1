// The ray-ts demo (npm start): parallel Monte Carlo estimate of pi with tasks, then a
// parameter-server actor updated by many tasks, all on the embedded cluster in this process.
import { availableResources, get, init, put, remote, shutdown } from '@ray-ts/core';

const t0 = performance.now();
const info = await init();
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;
console.log(
  `${info.address === 'embedded' ? 'Started an embedded cluster' : `Connected to the cluster at ${info.address}`} in ${ms(t0)}: ${JSON.stringify(info.resources)}`,
);

// 1. Monte Carlo pi: each task throws darts; the driver adds up the hits.
function darts(n, seed) {
  let s = seed >>> 0 || 1;
  const rand = () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const x = rand();
    const y = rand();
    if (x * x + y * y <= 1) inside++;
  }
  return inside;
}
const samplePi = remote(darts);

const tasks = 64;
const perTask = 1_000_000;
let t = performance.now();
const hits = await get(Array.from({ length: tasks }, (_, i) => samplePi.remote(perTask, i + 1)));
const pi = (4 * hits.reduce((a, b) => a + b, 0)) / (tasks * perTask);
const parallel = performance.now() - t;
darts(perTask, 1); // warm up the JIT on this thread, then time one task's worth, to compare
t = performance.now();
darts(perTask, 2);
const serial = (performance.now() - t) * tasks;
console.log(
  `pi ~ ${pi.toFixed(5)} from ${((tasks * perTask) / 1e6).toFixed(0)}M samples in ${tasks} tasks: ${parallel.toFixed(0)} ms ` +
    `(one thread: ~${serial.toFixed(0)} ms, ${(serial / parallel).toFixed(1)}x faster on ${info.resources.CPU} CPUs)`,
);

// 2. A parameter server: one actor holds the weights; many tasks compute gradients and push them.
class ParameterServer {
  constructor(dim) {
    this.weights = new Float64Array(dim);
    this.updates = 0;
  }
  apply(grad, lr) {
    for (let i = 0; i < grad.length; i++) this.weights[i] -= lr * grad[i];
    this.updates++;
    return this.updates;
  }
  getWeights() {
    return this.weights;
  }
}

// Each worker fits y = 3x - 1 on its shard: reads the weights, computes a gradient, pushes it.
const worker = remote(async (ps, data, steps) => {
  for (let s = 0; s < steps; s++) {
    const [w, b] = await get(ps.getWeights.remote());
    let gw = 0;
    let gb = 0;
    for (let i = 0; i < data.length; i += 2) {
      const err = w * data[i] + b - data[i + 1];
      gw += (2 * err * data[i]) / (data.length / 2);
      gb += (2 * err) / (data.length / 2);
    }
    await get(ps.apply.remote(new Float64Array([gw, gb]), 0.1));
  }
  return steps;
});

t = performance.now();
const ps = remote(ParameterServer).remote(2);
const shards = Array.from({ length: 8 }, (_, k) => {
  const d = new Float64Array(200);
  for (let i = 0; i < d.length; i += 2) {
    const x = (i / d.length) * 2 - 1 + k * 0.01;
    d[i] = x;
    d[i + 1] = 3 * x - 1;
  }
  return put(d);
});
const steps = await get(shards.map((shard) => worker.remote(ps, shard, 50)));
const [w, b] = await get(ps.getWeights.remote());
console.log(
  `parameter server: ${steps.reduce((a, c) => a + c, 0)} updates from ${shards.length} tasks in ${ms(t)}; ` +
    `learned y = ${w.toFixed(3)}x ${b < 0 ? '-' : '+'} ${Math.abs(b).toFixed(3)} (target y = 3x - 1)`,
);
console.log(`available now: ${JSON.stringify(await availableResources())}`);
await shutdown();
console.log(`done in ${ms(t0)}`);
