// PPO on the embedded cluster: it learns CartPole with a fixed seed, save/restore gives the same
// actions, evaluation runs, configs explain mistakes, and an algorithm is a Tune trainable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import { Algorithm, PPOConfig, RLlibInvalidArgumentError } from '@ray-ts/rllib';
import { ASHAScheduler, Tuner, gridSearch } from '@ray-ts/tune';

let dir = '';
beforeAll(async () => {
  await init({ numCpus: 4, namespace: 'rllib-test' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

suite('PPO', () => {
  it('learns CartPole-v1 past a mean return of 150 within 60k env steps (seed 1)', async () => {
    const algo = new PPOConfig()
      .environment('CartPole-v1')
      .envRunners({ numEnvRunners: 2, numEnvsPerEnvRunner: 2 })
      .training({ trainBatchSize: 2000 })
      .evaluation({ evaluationInterval: 5, evaluationDuration: 4 })
      .debugging({ seed: 1 })
      .build();
    try {
      let r = await algo.train();
      expect(r.numEnvStepsSampled).toBe(2000);
      expect(r.learnerStats.numMinibatchUpdates).toBeGreaterThan(0);
      while (r.episodeReturnMean < 150 && r.numEnvStepsSampledLifetime < 60_000) r = await algo.train();
      expect(r.episodeReturnMean).toBeGreaterThanOrEqual(150);
      expect(r.timeTotalS).toBeGreaterThan(0);
      const ev = await algo.evaluate();
      expect(ev.numEpisodes).toBe(4);
      expect(ev.episodeReturnMean).toBeGreaterThan(100);

      // Save, restore: the same greedy actions for the same observations.
      const saved = await algo.save(path.join(dir, 'ppo'));
      const observations = Array.from({ length: 20 }, (_, i) =>
        Float32Array.from([Math.sin(i) * 0.1, Math.cos(i) * 0.2, Math.sin(i * 3) * 0.05, Math.cos(i * 2) * 0.3]),
      );
      const actions = observations.map((o) => algo.computeSingleAction(o));
      await algo.stop(); // frees its CPUs for the restored one
      const restored = await Algorithm.fromCheckpoint(saved);
      try {
        expect(observations.map((o) => restored.computeSingleAction(o))).toEqual(actions);
        const next = await restored.train();
        expect(next.trainingIteration).toBe(r.trainingIteration + 1);
        expect(next.numEnvStepsSampledLifetime).toBe(r.numEnvStepsSampledLifetime + 2000);
      } finally {
        await restored.stop();
      }
    } finally {
      await algo.stop();
    }
  }, 120_000);

  it('explains config mistakes', () => {
    expect(() => new PPOConfig().training({ learning_rate: 0.1 } as never)).toThrow(RLlibInvalidArgumentError);
    expect(() => new PPOConfig().envRunners({ num_env_runners: 2 } as never)).toThrow(/Did you mean 'numEnvRunners'/);
    expect(() => new PPOConfig().training({ gamma: 1.5 })).toThrow(/gamma must be in \[0, 1\]/);
    expect(() => new PPOConfig().build()).toThrow(/no environment/);
    expect(() => new PPOConfig().environment('NoSuchEnv-v0').build()).toThrow(/registerEnv/);
  });

  it('is a Tune trainable: a sweep over lr', async () => {
    const config = new PPOConfig()
      .environment('CartPole-v1')
      .envRunners({ numEnvRunners: 1, numCpusPerEnvRunner: 0.5 })
      .learners({ numCpusPerLearner: 0.5 })
      .training({ trainBatchSize: 500, numEpochs: 2 })
      .debugging({ seed: 2 });
    const grid = await new Tuner(config, {
      paramSpace: { lr: gridSearch([1e-4, 1e-3]) },
      tuneConfig: { metric: 'episodeReturnMean', mode: 'max' },
      runConfig: { name: 'ppo-sweep', storagePath: dir, stop: { trainingIteration: 2 }, verbose: 0 },
    }).fit();
    expect(grid.errors.map((r) => r.error?.message)).toEqual([]);
    expect(grid.length).toBe(2);
    for (const r of grid) expect(r.metrics?.trainingIteration).toBe(2);
  });

  it('sweeps lr with ASHA: the trial with a tiny lr is stopped at the first rung, the best runs to maxT', async () => {
    const config = new PPOConfig()
      .environment('CartPole-v1')
      .envRunners({ numEnvRunners: 1 })
      .training({ trainBatchSize: 1000, minibatchSize: 128, numEpochs: 4 })
      .debugging({ seed: 3 });
    // One trial at a time: ASHA's decisions then depend only on the results (seeded), not on timing.
    const grid = await new Tuner(config, {
      paramSpace: { lr: gridSearch([3e-3, 1e-6, 1e-3]) },
      tuneConfig: {
        metric: 'episodeReturnMean',
        mode: 'max',
        maxConcurrentTrials: 1,
        scheduler: new ASHAScheduler({ maxT: 6, gracePeriod: 2, reductionFactor: 2 }),
      },
      runConfig: { name: 'ppo-asha', storagePath: dir, verbose: 0 },
    }).fit();
    expect(grid.errors.map((r) => r.error?.message)).toEqual([]);
    const byLr = new Map([...grid].map((r) => [r.config.lr as number, r]));
    // lr 1e-6 barely moves the policy: below the first trial's return at iteration 2, it stops there.
    expect(byLr.get(1e-6)!.metrics?.trainingIteration).toBe(2);
    const best = grid.getBestResult();
    expect([3e-3, 1e-3]).toContain(best.config.lr);
    expect(best.metrics?.trainingIteration).toBe(6);
    expect(best.metrics!.episodeReturnMean as number).toBeGreaterThan(
      byLr.get(1e-6)!.metrics!.episodeReturnMean as number,
    );
  }, 120_000);
});
