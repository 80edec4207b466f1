#!/usr/bin/env node
// GPU placement on real devices (run where a GPU is): a 2-node cluster whose second node declares
// the machine's GPUs; GPU tasks must land there, each in a process whose CUDA_VISIBLE_DEVICES names
// exactly its devices, as nvidia-smi sees them.
import { execSync } from 'node:child_process';
import { init, get, remote, shutdown, getGpuIds, getRuntimeContext } from '@ray-ts/core';
import { Cluster } from '@ray-ts/core/testing';

const gpus = execSync('nvidia-smi -L').toString().trim().split('\n').length;
console.log(`this machine: ${gpus} GPU(s)`);
const cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 2, numGpus: gpus }] });
await init({ address: cluster.address });
const probe = remote(
  async () => ({
    node: getRuntimeContext().nodeId,
    cuda: process.env.CUDA_VISIBLE_DEVICES,
    ids: getGpuIds(),
    seen: (await import('node:child_process')).execSync('nvidia-smi -L').toString().trim(),
  }),
  { numGpus: 1, numCpus: 0.5 },
);
const whole = await get(probe.remote());
console.log('numGpus: 1 ->', JSON.stringify(whole));
const halves = await get([probe.options({ numGpus: 0.5 }).remote(), probe.options({ numGpus: 0.5 }).remote()]);
console.log('numGpus: 0.5 x2 ->', JSON.stringify(halves.map((h) => [h.cuda, h.ids])));
const ok =
  whole.node === cluster.nodes[1].nodeId &&
  whole.cuda === '0' &&
  whole.seen.split('\n').length === 1 &&
  halves.every((h) => h.cuda === '0');
console.log(ok ? 'GPU CHECK OK' : 'GPU CHECK FAILED');
await shutdown();
await cluster.shutdown();
process.exit(ok ? 0 : 1);
