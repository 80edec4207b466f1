// RLlib on a 2-node cluster of real processes: env runners and learners land on both nodes, and
// training, evaluation and checkpoints work unchanged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { init, listActors, shutdown } from '@ray-ts/core';
import { Cluster } from '@ray-ts/core/testing';
import { Algorithm, PPOConfig, SACConfig } from '@ray-ts/rllib';

let cluster: Cluster;
let dir = '';

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }] });
  await init({ address: cluster.address });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-cluster-'));
}, 60_000);

afterAll(async () => {
  await shutdown();
  await cluster.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The nodes of the live actors whose class name contains `name`. */
async function nodesOf(name: string): Promise<string[]> {
  const rows = await listActors({ filters: [['state', '=', 'ALIVE']] });
  return rows
    .filter((r) => String(r.className).includes(name))
    .map((r) => String(r.nodeId))
    .sort();
}

it('PPO samples with an env runner on each node (one CPU each), and its checkpoint restores on the cluster', async () => {
  const algo = new PPOConfig()
    .environment('CartPole-v1')
    .envRunners({ numEnvRunners: 2 })
    .training({ trainBatchSize: 1000, numEpochs: 3 })
    .evaluation({ evaluationDuration: 2 })
    .debugging({ seed: 1 })
    .build();
  let saved = '';
  let r;
  try {
    for (let i = 0; i < 3; i++) r = await algo.train();
    expect(r!.numEnvStepsSampledLifetime).toBe(3000);
    expect(r!.numEpisodes).toBeGreaterThan(0);
    expect(await nodesOf('EnvRunner')).toEqual(cluster.nodes.map((n) => n.nodeId).sort());
    expect((await algo.evaluate()).numEpisodes).toBe(2);
    saved = await algo.save(path.join(dir, 'ppo'));
  } finally {
    await algo.stop();
  }
  const restored = await Algorithm.fromCheckpoint(saved);
  try {
    const next = await restored.train();
    expect(next.trainingIteration).toBe(4);
    expect(next.numEnvStepsSampledLifetime).toBe(4000);
  } finally {
    await restored.stop();
  }
}, 90_000);

it('SAC runs its learner actor and its env runner on different nodes', async () => {
  const algo = new SACConfig()
    .environment('Pendulum-v1')
    .envRunners({ numEnvRunners: 1 })
    .learners({ numLearners: 1 })
    .training({ numStepsSampledBeforeLearningStarts: 200, minSampleTimestepsPerIteration: 400, trainingIntensity: 32 })
    .debugging({ seed: 1 })
    .build();
  try {
    await algo.train();
    const r = await algo.train();
    expect(r.learnerStats.numUpdates).toBe(100); // one update of 128 per 4 steps
    expect(r.learnerStats.replayBufferSize).toBe(800);
    const runner = await nodesOf('SACEnvRunner');
    const learner = await nodesOf('SACLearner');
    expect(runner).toHaveLength(1);
    expect(learner).toHaveLength(1);
    expect(runner[0]).not.toBe(learner[0]);
  } finally {
    await algo.stop();
  }
}, 90_000);
