// Multi-agent PPO on the embedded cluster: two policies learn MultiAgentCartPole with a fixed
// seed, a multi-agent env without multiAgent() shares one policy, policiesToTrain leaves the
// others as they were, save/restore gives the same actions per policy, a multi-agent config is a
// Tune trainable, and configs explain their mistakes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { get, init, shutdown, type ActorHandle } from '@ray-ts/core';
import { Algorithm, DQNConfig, PPOConfig, RLlibInvalidArgumentError } from '@ray-ts/rllib';
import { Tuner } from '@ray-ts/tune';

let dir = '';
beforeAll(async () => {
  await init({ numCpus: 4, namespace: 'rllib-ma-test' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-ma-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const twoPolicies = () =>
  new PPOConfig().environment('MultiAgentCartPole', { envConfig: { numAgents: 2 } }).multiAgent({
    policies: ['p0', 'p1'],
    policyMappingFn: (agentId: string) => (agentId === 'agent_0' ? 'p0' : 'p1'),
  });

const observations = Array.from({ length: 20 }, (_, i) =>
  Float32Array.from([Math.sin(i) * 0.1, Math.cos(i) * 0.2, Math.sin(i * 3) * 0.05, Math.cos(i * 2) * 0.3]),
);

suite('multi-agent PPO', () => {
  it('learns MultiAgentCartPole with a policy per agent past a mean return of 100 each within 40k env steps (seed 1)', async () => {
    const algo = twoPolicies()
      .envRunners({ numEnvRunners: 2, numEnvsPerEnvRunner: 2 })
      .training({ trainBatchSize: 2000 })
      .evaluation({ evaluationDuration: 4 })
      .debugging({ seed: 1 })
      .build();
    try {
      let r = await algo.train();
      expect(r.numEnvStepsSampled).toBe(2000);
      expect(r.numAgentStepsSampled).toBeGreaterThan(2000);
      expect(r.learnerStats['p0/numMinibatchUpdates']).toBeGreaterThan(0);
      expect(r.learnerStats['p1/policyLoss']).toEqual(expect.any(Number));
      const first = r.policyReturnMean!;
      while (Math.min(...Object.values(r.policyReturnMean!)) < 100 && r.numEnvStepsSampledLifetime < 40_000)
        r = await algo.train();
      expect(r.policyReturnMean!.p0).toBeGreaterThan(100);
      expect(r.policyReturnMean!.p1).toBeGreaterThan(100);
      expect(r.policyReturnMean!.p0).toBeGreaterThan(2 * first.p0);
      expect(r.policyReturnMean!.p1).toBeGreaterThan(2 * first.p1);
      // The episode return sums the agents'; here each policy acts for one agent.
      expect(r.agentReturnMean!.agent_0).toBe(r.policyReturnMean!.p0);
      expect(r.episodeReturnMean).toBeGreaterThan(r.policyReturnMean!.p0);
      const ev = await algo.evaluate();
      expect(ev.numEpisodes).toBe(4);
      expect(ev.policyReturnMean!.p0).toBeGreaterThan(50);

      const weights = algo.getWeights();
      expect(Object.keys(weights)).toEqual(['p0', 'p1']);
      expect(weights.p0).not.toEqual(weights.p1);
      expect(() => algo.computeSingleAction(observations[0], { policyId: 'p2' })).toThrow(
        /unknown policy 'p2'; this algorithm's policies are p0, p1/,
      );

      // Save, restore: the same greedy actions of each policy.
      const saved = await algo.save(path.join(dir, 'ma-ppo'));
      const actions = (policyId: string, a: Algorithm) =>
        observations.map((o) => a.computeSingleAction(o, { policyId }));
      const before = { p0: actions('p0', algo), p1: actions('p1', algo) };
      await algo.stop();
      const restored = await Algorithm.fromCheckpoint(saved);
      try {
        expect({ p0: actions('p0', restored), p1: actions('p1', restored) }).toEqual(before);
        expect(restored.getWeights()).toEqual(weights);
        const next = await restored.train();
        expect(next.trainingIteration).toBe(r.trainingIteration + 1);
        expect(next.numEnvStepsSampledLifetime).toBe(r.numEnvStepsSampledLifetime + 2000);
        expect(next.policyReturnMean!.p0).toBeGreaterThan(80);
      } finally {
        await restored.stop();
      }
    } finally {
      await algo.stop();
    }
  }, 90_000);

  it('shares default_policy between the agents without multiAgent(); policiesToTrain leaves the others unchanged', async () => {
    const shared = new PPOConfig()
      .environment('MultiAgentCartPole', { envConfig: { numAgents: 2 } })
      .envRunners({ numEnvRunners: 1 })
      .training({ trainBatchSize: 400, numEpochs: 2 })
      .debugging({ seed: 3 })
      .build();
    try {
      const r = await shared.train();
      expect(Object.keys(r.policyReturnMean!)).toEqual(['default_policy']);
      expect(r.policyReturnMean!.default_policy).toBeCloseTo(r.episodeReturnMean, 6);
      expect(Object.keys(r.agentReturnMean!).sort()).toEqual(['agent_0', 'agent_1']);
      expect(r.learnerStats['default_policy/numAgentStepsTrained']).toBe(r.numAgentStepsSampled);
      expect([0, 1]).toContain(shared.computeSingleAction(observations[0]));
    } finally {
      await shared.stop();
    }

    const algo = twoPolicies()
      .multiAgent({
        policies: ['p0', 'p1'],
        policyMappingFn: (agentId: string, episodeIndex: number) =>
          (agentId === 'agent_0') === (episodeIndex % 2 === 0) ? 'p0' : 'p1',
        policiesToTrain: ['p0'],
      })
      .envRunners({ numEnvRunners: 1 })
      .training({ trainBatchSize: 400, numEpochs: 2 })
      .debugging({ seed: 3 })
      .build();
    try {
      const r1 = await algo.train();
      const w1 = algo.getWeights();
      expect(Object.keys(r1.learnerStats).filter((k) => k.startsWith('p1/'))).toEqual([]);
      const r2 = await algo.train();
      expect(r2.learnerStats['p0/numMinibatchUpdates']).toBeGreaterThan(0);
      const w2 = algo.getWeights();
      expect(w2.p1).toEqual(w1.p1);
      expect(w2.p0).not.toEqual(w1.p0);
      // p1 acted (agents swap policies every episode) though it was not trained.
      expect(r2.policyReturnMean!.p1).toBeGreaterThan(0);
    } finally {
      await algo.stop();
    }
  });

  it('is a Tune trainable: the mapping function travels to the trial as source text', async () => {
    const config = twoPolicies()
      .envRunners({ numEnvRunners: 1, numCpusPerEnvRunner: 0.5 })
      .training({ trainBatchSize: 300, numEpochs: 1 })
      .debugging({ seed: 4 });
    const grid = await new Tuner(config, {
      tuneConfig: { metric: 'episodeReturnMean', mode: 'max' },
      runConfig: { name: 'ma-ppo-trial', storagePath: dir, stop: { trainingIteration: 1 }, verbose: 0 },
    }).fit();
    expect(grid.errors.map((r) => r.error?.message)).toEqual([]);
    const m = grid.get(0).metrics as unknown as {
      trainingIteration: number;
      policyReturnMean: Record<string, number>;
      learnerStats: Record<string, number>;
    };
    expect(m.trainingIteration).toBe(1);
    expect(Object.keys(m.policyReturnMean)).toEqual(['p0', 'p1']);
    expect(m.learnerStats['p1/policyLoss']).toEqual(expect.any(Number));
  });

  it('runs two learners per policy trained, each pair averaging its gradients, and restores them', async () => {
    const algo = twoPolicies()
      .envRunners({ numEnvRunners: 1 })
      .learners({ numLearners: 2, numCpusPerLearner: 0.25 })
      .training({ trainBatchSize: 500, minibatchSize: 100, numEpochs: 2 })
      .debugging({ seed: 4 })
      .build();
    let saved: string;
    let actions: number[];
    try {
      await algo.train();
      const r = await algo.train();
      expect(r.learnerStats['p0/numMinibatchUpdates']).toBeGreaterThan(0);
      expect(r.learnerStats['p1/numMinibatchUpdates']).toBeGreaterThan(0);
      const byPolicy = (
        algo as unknown as { policyLearners: Map<string, ActorHandle<{ getWeights(): Promise<Float32Array> }>[]> }
      ).policyLearners;
      expect([...byPolicy.keys()]).toEqual(['p0', 'p1']);
      for (const ls of byPolicy.values()) {
        expect(ls).toHaveLength(2);
        const [w0, w1] = await get(ls.map((l) => l.getWeights.remote()));
        expect(w1).toEqual(w0);
      }
      const [p0, p1] = await get([...byPolicy.values()].map((ls) => ls[0].getWeights.remote()));
      expect(p1).not.toEqual(p0); // each policy learned on its own agent's steps
      actions = observations.map((o) => algo.computeSingleAction(o, { policyId: 'p1' }) as number);
      saved = await algo.save(path.join(dir, 'ma-two-learners'));
    } finally {
      await algo.stop();
    }
    const restored = await Algorithm.fromCheckpoint(saved);
    try {
      expect(observations.map((o) => restored.computeSingleAction(o, { policyId: 'p1' }))).toEqual(actions);
      const next = await restored.train();
      expect(next.trainingIteration).toBe(3);
    } finally {
      await restored.stop();
    }
  }, 60_000);

  it('explains multi-agent config mistakes', () => {
    const env = () => new PPOConfig().environment('MultiAgentCartPole', { envConfig: { numAgents: 2 } });
    const map = (agentId: string) => (agentId === 'agent_0' ? 'p0' : 'p1');
    expect(() => env().multiAgent({ policies: ['p0', 'p1'], policy_mapping_fn: map } as never)).toThrow(
      /unknown option 'policy_mapping_fn'. Did you mean 'policyMappingFn'/,
    );
    expect(() => env().multiAgent({ policies: [] })).toThrow(/policies must be a non-empty array/);
    expect(() => env().multiAgent({ policies: ['p0', 'p0'], policyMappingFn: map })).toThrow(/lists 'p0' twice/);
    expect(() => env().multiAgent({ policies: ['p0', 'p1'], policyMappingFn: map, policiesToTrain: ['p2'] })).toThrow(
      /policiesToTrain: 'p2' is not one of the policies \(p0, p1\)/,
    );
    expect(() => env().multiAgent({ policies: ['p0', 'p1'], policyMappingFn: 'p0' as never })).toThrow(
      /policyMappingFn must be a function/,
    );
    expect(() => env().multiAgent({ policies: ['p0', 'p1'] })).toThrow(/needs a policyMappingFn with several policies/);
    expect(() => env().multiAgent({ policies: ['p0', 'p1'], policyMappingFn: map.bind(null) })).toThrow(
      /cannot be rebuilt from its source text/,
    );
    // A captured variable does not exist where the function is rebuilt: build() says so.
    const table: Record<string, string> = { agent_0: 'p0', agent_1: 'p1' };
    expect(() =>
      env()
        .multiAgent({ policies: ['p0', 'p1'], policyMappingFn: (agentId: string) => table[agentId] })
        .build(),
    ).toThrow(/threw when called as policyMappingFn\('agent_0', 0\): table is not defined.*self-contained/);
    expect(() =>
      env()
        .multiAgent({ policies: ['p0', 'p1'], policyMappingFn: () => 'p9' })
        .build(),
    ).toThrow(/returned 'p9' for agent 'agent_0' \(episode 0\), which is not one of the policies: p0, p1/);
    expect(() =>
      new PPOConfig()
        .environment('CartPole-v1')
        .multiAgent({ policies: ['p0'] })
        .build(),
    ).toThrow(/needs a multi-agent env .* 'CartPole-v1' is single-agent/);
    expect(() => new DQNConfig().environment('MultiAgentCartPole').build()).toThrow(
      /DQN does not train multi-agent envs yet \(env 'MultiAgentCartPole' is multi-agent\)/,
    );
    expect(() =>
      new DQNConfig()
        .environment('CartPole-v1')
        .multiAgent({ policies: ['p0'] })
        .build(),
    ).toThrow(RLlibInvalidArgumentError);
  });
});
