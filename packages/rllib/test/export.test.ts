// Policies exported as ONNX (exportPolicyModel) give, under onnxruntime, the actions the algorithm
// computes itself: PPO's logits, DQN's combined dueling Q-values, SAC's squashed means.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { DQNConfig, PPOConfig, RLlibInvalidArgumentError, SACConfig, type Algorithm } from '@ray-ts/rllib';

let dir = '';
beforeAll(async () => {
  await init({ numCpus: 4, namespace: 'rllib-export-test' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-export-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The exported model's outputs for `obs` (rows of `dim` floats). */
async function run(file: string, output: string, obs: Float32Array[], dim: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const x = new ort.Tensor('float32', Float32Array.from(obs.flatMap((o) => Array.from(o))), [obs.length, dim]);
  const out = await session.run({ obs: x });
  await session.release();
  return out[output].data as Float32Array;
}

function argmax(v: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[off + j] > v[off + best]) best = j;
  return best;
}

const cartObs = Array.from({ length: 16 }, (_, i) =>
  Float32Array.from([Math.sin(i) * 0.5, Math.cos(i), Math.sin(i * 3) * 0.2, Math.cos(i * 2) * 1.5]),
);

async function withAlgo(algo: Algorithm, fn: (a: Algorithm) => Promise<void>): Promise<void> {
  try {
    await fn(algo);
  } finally {
    await algo.stop();
  }
}

it('PPO: the exported logits pick the greedy actions', async () => {
  await withAlgo(
    new PPOConfig()
      .environment('CartPole-v1')
      .envRunners({ numEnvRunners: 1 })
      .training({ trainBatchSize: 400, numEpochs: 2 })
      .debugging({ seed: 4 })
      .build(),
    async (algo) => {
      await algo.train();
      const r = await algo.exportPolicyModel(path.join(dir, 'ppo.onnx'));
      expect(r).toMatchObject({ inputName: 'obs', outputName: 'action_dist_inputs' });
      expect(r.bytes).toBeGreaterThan(4 * 4 * 64);
      const logits = await run(r.path, r.outputName, cartObs, 4);
      expect(logits.length).toBe(16 * 2);
      cartObs.forEach((o, i) => expect(argmax(logits, 2 * i, 2)).toBe(algo.computeSingleAction(o)));
      await expect(algo.exportPolicyModel(path.join(dir, 'x.onnx'), { policyId: 'nope' })).rejects.toThrow(
        RLlibInvalidArgumentError,
      );
    },
  );
}, 60_000);

it('DQN: the exported Q-values (dueling heads combined) pick the greedy actions', async () => {
  await withAlgo(
    new DQNConfig().environment('CartPole-v1').envRunners({ numEnvRunners: 1 }).debugging({ seed: 4 }).build(),
    async (algo) => {
      const r = await algo.exportPolicyModel(path.join(dir, 'dqn.onnx')); // the initial network: no train() needed
      expect(r.outputName).toBe('q_values');
      const q = await run(r.path, r.outputName, cartObs, 4);
      expect(q.length).toBe(16 * 2);
      const actions = cartObs.map((o) => algo.computeSingleAction(o));
      expect(new Set(actions).size).toBe(2);
      cartObs.forEach((_, i) => expect(argmax(q, 2 * i, 2)).toBe(actions[i]));
    },
  );
}, 60_000);

it('SAC: tanh of the exported means, scaled to the bounds, is the greedy torque', async () => {
  await withAlgo(
    new SACConfig().environment('Pendulum-v1').envRunners({ numEnvRunners: 1 }).debugging({ seed: 4 }).build(),
    async (algo) => {
      const r = await algo.exportPolicyModel(path.join(dir, 'sac.onnx'));
      const obs = Array.from({ length: 8 }, (_, i) => Float32Array.from([Math.cos(i), Math.sin(i), i - 4]));
      const out = await run(r.path, r.outputName, obs, 3);
      expect(out.length).toBe(8 * 2); // mean, log std
      obs.forEach((o, i) =>
        expect(2 * Math.tanh(out[2 * i])).toBeCloseTo((algo.computeSingleAction(o) as Float32Array)[0], 4),
      );
    },
  );
}, 60_000);
