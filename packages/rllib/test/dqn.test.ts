// DQN on the embedded cluster: it learns CartPole with a fixed seed, evaluation plays greedy
// episodes, save/restore gives the same greedy actions and continues the counters, and configs
// explain mistakes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { init, kill, shutdown } from '@ray-ts/core';
import { get, type ActorHandle } from '@ray-ts/core';
import { Algorithm, DQNConfig, RLlibInvalidArgumentError } from '@ray-ts/rllib';
// Internal: the env runner's n-step transitions are checked directly.
import { DQNEnvRunner, qNetSpec, qParamCount, type DQNEnvRunnerMethods } from '../dist/dqn-runner.js';

let dir = '';
beforeAll(async () => {
  await init({ numCpus: 4, namespace: 'rllib-dqn-test' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-dqn-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

suite('DQN', () => {
  it('learns CartPole-v1 past a mean return of 150 within 40k env steps (seed 1)', async () => {
    const algo = new DQNConfig()
      .environment('CartPole-v1')
      .envRunners({ numEnvRunners: 2 })
      .evaluation({ evaluationDuration: 4 })
      .debugging({ seed: 1 })
      .build();
    try {
      let r = await algo.train();
      expect(r.numEnvStepsSampled).toBe(1000);
      expect(r.learnerStats.epsilon).toBeLessThan(1);
      while (r.episodeReturnMean < 150 && r.numEnvStepsSampledLifetime < 40_000) r = await algo.train();
      expect(r.episodeReturnMean).toBeGreaterThanOrEqual(150);
      expect(r.learnerStats.numUpdates).toBeGreaterThan(0);
      expect(r.learnerStats.meanQ).toBeGreaterThan(1);
      expect(r.numEnvStepsTrainedLifetime).toBeGreaterThan(0);
      const ev = await algo.evaluate();
      expect(ev.numEpisodes).toBe(4);
      expect(ev.episodeReturnMean).toBeGreaterThan(100);

      // Save, restore: the same greedy actions for the same observations.
      const saved = await algo.save(path.join(dir, 'dqn'));
      const observations = Array.from({ length: 20 }, (_, i) =>
        Float32Array.from([Math.sin(i) * 0.1, Math.cos(i) * 0.2, Math.sin(i * 3) * 0.05, Math.cos(i * 2) * 0.3]),
      );
      const actions = observations.map((o) => algo.computeSingleAction(o));
      expect(new Set(actions).size).toBe(2); // a policy, not a constant
      await algo.stop(); // frees its CPUs for the restored one
      const restored = await Algorithm.fromCheckpoint(saved);
      try {
        expect(restored).toBeInstanceOf(Algorithm);
        expect(observations.map((o) => restored.computeSingleAction(o))).toEqual(actions);
        const next = await restored.train();
        expect(next.trainingIteration).toBe(r.trainingIteration + 1);
        expect(next.numEnvStepsSampledLifetime).toBe(r.numEnvStepsSampledLifetime + 1000);
      } finally {
        await restored.stop();
      }
    } finally {
      await algo.stop();
    }
  }, 120_000);

  it('env runners return n-step transitions, kept across sample() calls and flushed at episode ends', async () => {
    const q = qNetSpec(4, 2, [8], 'relu', true);
    const runner = DQNEnvRunner.options({ numCpus: 0 }).remote(
      { env: 'CartPole-v1', envConfig: {}, numEnvs: 2, seed: 3, q, gamma: 0.5, nStep: 3 },
      0,
    ) as unknown as ActorHandle<DQNEnvRunnerMethods>;
    try {
      const w = new Float32Array(qParamCount(q));
      const [a, b] = [await get(runner.sample.remote(w, 50, 1)), await get(runner.sample.remote(w, 50, 1))];
      expect(a.numEnvSteps).toBe(100);
      // Every step becomes one transition, but for up to nStep - 1 per env still pending.
      expect(a.count + b.count).toBeGreaterThanOrEqual(200 - 2 * 2);
      expect(a.count + b.count).toBeLessThanOrEqual(200);
      const episodes = a.episodeReturns.length + b.episodeReturns.length;
      expect(episodes).toBeGreaterThan(2); // random CartPole episodes last ~20 steps, never 500 (no truncation)
      let flushedLast = 0;
      for (const x of [a, b]) {
        for (let k = 0; k < x.count; k++) {
          // CartPole pays 1 per step: 1 + 0.5 + 0.25 over 3 steps, shorter sums when the episode ended first.
          const [r, d] = [x.rewards[k], x.discounts[k]];
          if (x.dones[k] === 0) expect([r, d]).toEqual([1.75, 0.125]);
          else
            expect([
              [1.75, 0.125],
              [1.5, 0.25],
              [1, 0.5],
            ]).toContainEqual([r, d]);
          if (x.dones[k] === 1 && d === 0.5) flushedLast++;
        }
      }
      expect(flushedLast).toBe(episodes);
      // A transition's next observation is the observation 3 steps later: one of the later rows'.
      const key = (o: Float32Array, k: number) => Array.from(o.subarray(4 * k, 4 * k + 4)).join(',');
      const starts = new Set([
        ...Array.from({ length: a.count }, (_, k) => key(a.obs, k)),
        ...Array.from({ length: b.count }, (_, k) => key(b.obs, k)),
      ]);
      for (let k = 0; k < a.count; k++) if (a.dones[k] === 0) expect(starts.has(key(a.nextObs, k))).toBe(true);
    } finally {
      await kill(runner);
    }
  });

  it('keeps the replay buffer in checkpoints with storeBufferInCheckpoints: the restored algorithm learns at once', async () => {
    const make = (store: boolean) =>
      new DQNConfig()
        .environment('CartPole-v1')
        .envRunners({ numEnvRunners: 1 })
        .training({ storeBufferInCheckpoints: store, numStepsSampledBeforeLearningStarts: 1000 })
        .debugging({ seed: 2 })
        .build();
    for (const store of [true, false]) {
      const algo = make(store);
      let saved: string;
      try {
        await algo.train();
        const r = await algo.train();
        expect(r.learnerStats.numUpdates).toBe(1000); // one per step, the buffer past 1000
        expect(r.learnerStats.replayBufferSize).toBeGreaterThan(1900);
        saved = await algo.save(path.join(dir, `dqn-buffer-${store}`));
      } finally {
        await algo.stop();
      }
      expect(fs.existsSync(path.join(saved, 'arrays', 'learner.buffer.obs.bin'))).toBe(store);
      const restored = await Algorithm.fromCheckpoint(saved);
      try {
        const next = await restored.train();
        // With the buffer: 1000 updates at once. Without: none until the buffer holds 1000 again.
        expect(next.learnerStats.numUpdates).toBe(store ? 1000 : 0);
        expect(next.learnerStats.replayBufferSize).toBeGreaterThan(store ? 2900 : 900);
      } finally {
        await restored.stop();
      }
    }
  }, 60_000);

  it('trains with two learners: a shard of the buffer each, averaged gradients, the same networks, both shards in checkpoints', async () => {
    const algo = new DQNConfig()
      .environment('CartPole-v1')
      .envRunners({ numEnvRunners: 1 })
      .learners({ numLearners: 2, numCpusPerLearner: 0.5 })
      .training({ storeBufferInCheckpoints: true, numStepsSampledBeforeLearningStarts: 1000 })
      .debugging({ seed: 2 })
      .build();
    let saved: string;
    try {
      await algo.train();
      const r = await algo.train();
      // As many updates as one learner makes, each on a batch from every shard (2 x 32 transitions).
      expect(r.learnerStats.numUpdates).toBe(1000);
      expect(r.numEnvStepsTrained).toBe(1000 * 2 * 32);
      expect(r.learnerStats.replayBufferSize).toBeGreaterThan(1900);
      const learners = (
        algo as unknown as {
          learners: ActorHandle<{
            getWeights(): Promise<Float32Array>;
            getState(): Promise<{ buffer: { filled: number; obs: Float32Array } }>;
          }>[];
        }
      ).learners;
      expect(learners).toHaveLength(2);
      const [w0, w1] = await get(learners.map((l) => l.getWeights.remote()));
      expect(w1).toEqual(w0);
      // The shards split the transitions evenly, and hold different ones.
      const [s0, s1] = await get(learners.map((l) => l.getState.remote()));
      expect(Math.abs(s0.buffer.filled - s1.buffer.filled)).toBeLessThanOrEqual(1);
      expect(s0.buffer.filled + s1.buffer.filled).toBe(r.learnerStats.replayBufferSize);
      expect(s0.buffer.obs.subarray(0, 8)).not.toEqual(s1.buffer.obs.subarray(0, 8));
      saved = await algo.save(path.join(dir, 'dqn-two-learners'));
    } finally {
      await algo.stop();
    }
    expect(fs.existsSync(path.join(saved, 'arrays', 'learner.otherLearners.0.buffer.obs.bin'))).toBe(true);
    const restored = await Algorithm.fromCheckpoint(saved);
    try {
      const next = await restored.train();
      expect(next.learnerStats.numUpdates).toBe(1000); // both shards came back: learning goes on at once
      const learners = (restored as unknown as { learners: ActorHandle<{ getWeights(): Promise<Float32Array> }>[] })
        .learners;
      const [w0, w1] = await get(learners.map((l) => l.getWeights.remote()));
      expect(w1).toEqual(w0);
    } finally {
      await restored.stop();
    }
  }, 60_000);

  it('explains config mistakes', () => {
    expect(() => new DQNConfig().training({ storeBufferInCheckpoints: 'yes' as never })).toThrow(
      /storeBufferInCheckpoints must be true or false/,
    );
    expect(() => new DQNConfig().training({ learning_rate: 0.1 } as never)).toThrow(RLlibInvalidArgumentError);
    expect(() => new DQNConfig().training({ target_network_update_freq: 500 } as never)).toThrow(
      /Did you mean 'targetNetworkUpdateFreq'/,
    );
    expect(() => new DQNConfig().training({ replayBuffer: { capcity: 10 } as never })).toThrow(
      /training\(\)\.replayBuffer: unknown option 'capcity'/,
    );
    expect(() =>
      new DQNConfig().training({
        epsilon: [
          [0, 1],
          [0, 0.5],
        ],
      }),
    ).toThrow(/increasing steps/);
    expect(() => new DQNConfig().training({ gamma: 1.5 })).toThrow(/gamma must be in \[0, 1\]/);
    expect(() => new DQNConfig().training({ nStep: 0 })).toThrow(/nStep must be an integer >= 1/);
    expect(() => new DQNConfig().build()).toThrow(/no environment/);
    expect(() => new DQNConfig().environment('Pendulum-v1').build()).toThrow(/Discrete action space/);
    // Nested options merge: one key of replayBuffer keeps the others.
    const c = new DQNConfig().training({ replayBuffer: { capacity: 1000 } });
    expect(c.train.replayBuffer).toMatchObject({ capacity: 1000, prioritized: true, alpha: 0.6 });
  });
});
