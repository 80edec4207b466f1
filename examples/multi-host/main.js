// The demo on a cluster of machines: run it on any host that reaches the head,
//   RAY_TS_ADDRESS=HEAD:6379 node main.js
// Its helpers live in its own modules (lib/), which the cluster's hosts do not have: init() ships
// this folder (runtimeEnv.workingDir) and every node loads them from its copy.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { get, init, nodes, shutdown } from '@ray-ts/core';
import { samplePi } from './lib/pi.js';
import { fitShard, makeShard, ParameterServerActor } from './lib/parameter-server.js';

const t0 = performance.now();
const info = await init({ runtimeEnv: { workingDir: path.dirname(fileURLToPath(import.meta.url)) } });
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;
const hosts = new Map((await nodes()).map((n) => [n.nodeId, n.address.split(':')[0]]));
const where = (nodeIds) => {
  const counts = new Map();
  for (const id of nodeIds) counts.set(hosts.get(id) ?? id, (counts.get(hosts.get(id) ?? id) ?? 0) + 1);
  return [...counts].map(([h, n]) => `${h} x${n}`).join(', ');
};
console.log(`Connected to ${info.address} in ${ms(t0)}: ${hosts.size} nodes on ${new Set(hosts.values()).size} hosts`);

let t = performance.now();
const tasks = 32;
const perTask = 500_000;
const samples = await get(
  Array.from({ length: tasks }, (_, i) => samplePi.options({ schedulingStrategy: 'SPREAD' }).remote(perTask, i + 1)),
);
const pi = (4 * samples.reduce((a, s) => a + s.inside, 0)) / (tasks * perTask);
console.log(`pi ~ ${pi.toFixed(5)} from ${tasks} tasks in ${ms(t)}, run on: ${where(samples.map((s) => s.nodeId))}`);

t = performance.now();
const ps = ParameterServerActor.remote(2);
const shards = Array.from({ length: 6 }, (_, k) => makeShard.options({ schedulingStrategy: 'SPREAD' }).remote(k));
const ran = await get(shards.map((shard) => fitShard.options({ schedulingStrategy: 'SPREAD' }).remote(ps, shard, 50)));
const [w, b] = await get(ps.getWeights.remote());
console.log(
  `parameter server: 300 updates from ${ran.length} tasks in ${ms(t)}, run on: ${where(ran)}; ` +
    `learned y = ${w.toFixed(3)}x ${b < 0 ? '-' : '+'} ${Math.abs(b).toFixed(3)} (target in data/target.json: y = 3x - 1)`,
);
await shutdown();
