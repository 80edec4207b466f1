// The ray-ts driver of tools/multi-host-bench.mjs: runs on host C (a network namespace of its
// own), connects to the head on host A and times work on the node on host B. The cases are the
// same as tools/ray-multi-host-bench.py's, with the same plan.
//
//   node tools/multi-host-bench-driver.mjs '{"address", "nodeB", "plan": {...}}' OUT.json
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { get, init, nodes, put, shutdown, wait } from '@ray-ts/core';
import * as fx from './multi-host-bench-fixtures.js';

const { address, nodeB, plan } = JSON.parse(process.argv[2]);
const outFile = process.argv[3];
const cases = {};
const info = {};
const report = (key, value, unit, extra = {}) => {
  cases[key] = { value, unit, ...extra };
  console.log(`  ray-ts ${key}: ${value.toPrecision(4)} ${unit}`);
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

async function tasks() {
  await get(Array.from({ length: Math.min(1000, plan.taskBatch) }, () => fx.noop.remote())); // warm-up
  let n = 0;
  const t0 = now();
  do {
    await get(Array.from({ length: plan.taskBatch }, () => fx.noop.remote()));
    n += plan.taskBatch;
  } while (now() - t0 < plan.taskSeconds * 1000);
  report('tasks', n / ((now() - t0) / 1000), 'tasks/s');
}

async function actorCalls() {
  const a = fx.PingerRemote.remote();
  const where = await get(a.node.remote());
  if (where !== nodeB) throw new Error(`the actor runs on ${where}, not on host B's node ${nodeB}`);
  let n = 0;
  let t0 = now();
  do {
    await get(a.ping.remote());
    n++;
  } while (now() - t0 < plan.actorSeconds * 1000);
  report('actor calls serial', n / ((now() - t0) / 1000), 'calls/s');
  await get(Array.from({ length: plan.window }, () => a.ping.remote()));
  n = 0;
  t0 = now();
  do {
    await get(Array.from({ length: plan.window }, () => a.ping.remote()));
    n += plan.window;
  } while (now() - t0 < plan.actorSeconds * 1000);
  report('actor calls pipelined', n / ((now() - t0) / 1000), 'calls/s');
}

async function putThere() {
  const size = plan.objectBytes;
  const arr = new Uint8Array(size).fill(2);
  const reps = [];
  for (let i = 0; i <= plan.objectReps; i++) {
    const t = now();
    const len = await get(fx.nbytes.remote(put(arr)));
    const dt = (now() - t) / 1000;
    if (len !== size) throw new Error(`the task on B read ${len} bytes, not ${size}`);
    if (i > 0) reps.push(size / 1e9 / dt); // the first is a warm-up
  }
  report('put here, read on B', median(reps), 'GB/s', { reps });
}

async function getHere() {
  const size = plan.objectBytes;
  const reps = [];
  for (let i = 0; i <= plan.objectReps; i++) {
    const [big, made] = fx.makeArray.remote(size);
    await wait([made]); // made on B, not pulled here yet
    const t = now();
    const v = await get(big);
    const dt = (now() - t) / 1000;
    if (v.byteLength !== size || v[size - 1] !== 1) throw new Error('the array made on B arrived wrong');
    if (i > 0) reps.push(size / 1e9 / dt);
  }
  report('made on B, get here', median(reps), 'GB/s', { reps });
}

const t0 = now();
const rt = await init({ address, logToDriver: false });
info.initSeconds = (now() - t0) / 1000;
try {
  info.driverNodeId = rt.nodeId;
  info.nodes = (await nodes()).map((n) => ({ nodeId: n.nodeId, address: n.address, isHead: n.isHead }));
  const where = await get(fx.whereAmI.remote());
  if (where !== nodeB) throw new Error(`a pinned task ran on ${where}, not on host B's node ${nodeB}`);
  await tasks();
  await actorCalls();
  await putThere();
  await getHere();
} finally {
  fs.writeFileSync(outFile, JSON.stringify({ cases, info }, null, 2) + '\n');
  await shutdown();
}
process.exit(0);
