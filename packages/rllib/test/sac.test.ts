// SAC on the embedded cluster: it learns Pendulum-v1 with a fixed seed, save/restore gives the same
// actions and continues the counters, and configs explain mistakes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { get, init, shutdown, type ActorHandle } from '@ray-ts/core';
import { Algorithm, SACConfig, RLlibInvalidArgumentError } from '@ray-ts/rllib';

let dir = '';
beforeAll(async () => {
  await init({ numCpus: 4, namespace: 'rllib-sac-test' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-sac-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

suite('SAC', () => {
  it('learns Pendulum-v1: greedy episodes average above -400 within 10k env steps (seed 1)', async () => {
    const algo = new SACConfig()
      .environment('Pendulum-v1')
      .envRunners({ numEnvRunners: 1 })
      .training({ numStepsSampledBeforeLearningStarts: 500 })
      .evaluation({ evaluationInterval: 1, evaluationDuration: 5 })
      .debugging({ seed: 1 })
      .build();
    try {
      let r = await algo.train();
      expect(r.numEnvStepsSampled).toBe(1000);
      expect(r.learnerStats.numUpdates).toBe(504); // one per step from the round of 4 steps that fills the buffer to 500
      const first = r.evaluation!.episodeReturnMean;
      expect(first).toBeLessThan(-800); // an untrained policy does not swing up
      while (r.evaluation!.episodeReturnMean < -400 && r.numEnvStepsSampledLifetime < 10_000) r = await algo.train();
      expect(r.evaluation!.episodeReturnMean).toBeGreaterThanOrEqual(-400);
      expect(r.learnerStats.alpha).toBeLessThan(1); // the temperature was tuned down
      expect(r.learnerStats.meanQ).toBeLessThan(0);
      expect(r.numEnvStepsTrainedLifetime).toBe(128 * (r.numEnvStepsSampledLifetime - 496));

      // Actions are torques within the env's bounds.
      const obs = Array.from({ length: 20 }, (_, i) => Float32Array.from([Math.cos(i), Math.sin(i), (i % 7) - 3]));
      const actions = obs.map((o) => algo.computeSingleAction(o) as Float32Array);
      for (const a of actions) {
        expect(a).toBeInstanceOf(Float32Array);
        expect(a.length).toBe(1);
        expect(Math.abs(a[0])).toBeLessThanOrEqual(2);
      }
      expect(new Set(actions.map((a) => a[0].toFixed(3))).size).toBeGreaterThan(5); // a policy, not a constant
      const sampled = algo.computeSingleAction(obs[0], { explore: true }) as Float32Array;
      expect(Math.abs(sampled[0])).toBeLessThanOrEqual(2);

      // Save, restore: the same actions, and training continues from the same counters.
      const saved = await algo.save(path.join(dir, 'sac'));
      await algo.stop();
      const restored = await Algorithm.fromCheckpoint(saved);
      try {
        expect(obs.map((o) => Array.from(restored.computeSingleAction(o) as Float32Array))).toEqual(
          actions.map((a) => Array.from(a)),
        );
        const next = await restored.train();
        expect(next.trainingIteration).toBe(r.trainingIteration + 1);
        expect(next.numEnvStepsSampledLifetime).toBe(r.numEnvStepsSampledLifetime + 1000);
        // The temperature and critics came back too: alpha goes on from where it was, not from 1.
        expect(next.learnerStats.alpha).toBeLessThan(r.learnerStats.alpha * 1.5);
        // The buffer's transitions are not checkpointed (RLlib's default): updates wait for it to refill.
        expect(next.learnerStats.numUpdates).toBe(504);
      } finally {
        await restored.stop();
      }
    } finally {
      await algo.stop();
    }
  }, 150_000);

  it('trains with two learners whose critics, policy and temperature stay the same', async () => {
    const algo = new SACConfig()
      .environment('Pendulum-v1')
      .envRunners({ numEnvRunners: 1 })
      .learners({ numLearners: 2, numCpusPerLearner: 0.5 })
      .training({
        numStepsSampledBeforeLearningStarts: 200,
        minSampleTimestepsPerIteration: 200,
        trainBatchSize: 64,
        trainingIntensity: 64,
        model: { hiddens: [32, 32] },
      })
      .debugging({ seed: 3 })
      .build();
    try {
      await algo.train();
      const r = await algo.train();
      expect(r.learnerStats.numUpdates).toBe(200);
      expect(r.numEnvStepsTrained).toBe(200 * 2 * 64); // each update on a batch from every shard
      expect(Number.isFinite(r.learnerStats.criticLoss)).toBe(true);
      const learners = (
        algo as unknown as {
          learners: ActorHandle<{
            getState(): Promise<{ weights: Float32Array; targetWeights: Float32Array; logAlpha: number }>;
          }>[];
        }
      ).learners;
      const [s0, s1] = await get(learners.map((l) => l.getState.remote()));
      expect(s1.weights).toEqual(s0.weights);
      expect(s1.targetWeights).toEqual(s0.targetWeights);
      expect(s1.logAlpha).toBe(s0.logAlpha);
      expect(s0.logAlpha).not.toBe(0); // it was trained
    } finally {
      await algo.stop();
    }
  }, 60_000);

  it('explains bad configs', () => {
    expect(() => new SACConfig().environment('CartPole-v1').build()).toThrow(
      /Box \(continuous\) action space.*Use DQN or PPO/,
    );
    expect(() => new SACConfig().training({ tau: 2 })).toThrow(RLlibInvalidArgumentError);
    expect(() => new SACConfig().training({ targetEntropy: 'high' as never })).toThrow(/'auto'/);
    expect(() => new SACConfig().training({ actor_lr: 1e-3 } as never)).toThrow(/Did you mean 'actorLr'/);
    expect(() => new SACConfig().training({ replayBuffer: { capacity: 0 } })).toThrow(
      /capacity must be an integer >= 1/,
    );
    // Options merge: setting one replay option keeps the others' defaults.
    const c = new SACConfig().training({ replayBuffer: { capacity: 5000 }, model: { hiddens: [32] } });
    expect(c.train.replayBuffer).toMatchObject({ capacity: 5000, prioritized: false });
    expect(c.train.model).toEqual({ hiddens: [32], activation: 'relu' });
  });
});
