// The policy mapping function's trip as source text, and the multi-agent runner's batches
// (per-agent trajectories, GAE, episode returns), run in this thread without actors.
import { describe, expect, it } from 'vitest';
import { compilePolicyMappingFn, mapAgent } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { spaceToJSON } from './env/spaces.js';
import { MultiAgentCartPole } from './env/multi-agent.js';
import { computeGae } from './env-runner.js';
import { mlpParamCount, type MlpSpec } from './model.js';
import { MultiAgentEnvRunnerActor, type MultiAgentRunnerSpec } from './multi-agent-runner.js';

describe('policy mapping functions as source text', () => {
  it('rebuilds arrow functions, function expressions and shorthand methods', () => {
    const arrow = (agentId: string, episodeIndex: number) =>
      agentId === 'agent_0' ? 'p0' : episodeIndex % 2 ? 'p1' : 'p2';
    expect(compilePolicyMappingFn(arrow.toString())('agent_0', 0)).toBe('p0');
    expect(compilePolicyMappingFn(arrow.toString())('agent_1', 1)).toBe('p1');
    expect(compilePolicyMappingFn(arrow.toString())('agent_1', 2)).toBe('p2');
    const expr = function (agentId: string) {
      return `p${agentId.slice(-1)}`;
    };
    expect(compilePolicyMappingFn(expr.toString())('agent_3', 0)).toBe('p3');
    const holder = {
      policyMappingFn(agentId: string) {
        return agentId.toUpperCase();
      },
    };
    expect(compilePolicyMappingFn(holder.policyMappingFn.toString())('a', 0)).toBe('A');
  });

  it('explains source text that is not a function, and what a rebuilt function gets wrong', () => {
    expect(() => compilePolicyMappingFn(((a: string) => a).bind(null).toString())).toThrow(
      /cannot be rebuilt from its source text/,
    );
    expect(() => compilePolicyMappingFn('42')).toThrow(RLlibInvalidArgumentError);
    const table: Record<string, string> = { agent_0: 'p0' };
    const captured = compilePolicyMappingFn(((agentId: string) => table[agentId]).toString());
    expect(() => mapAgent(captured, ['p0'], 'agent_0', 0)).toThrow(/table is not defined.*self-contained/);
    expect(() => mapAgent(compilePolicyMappingFn('() => "p9"'), ['p0', 'p1'], 'agent_1', 3)).toThrow(
      /returned 'p9' for agent 'agent_1' \(episode 3\), which is not one of the policies: p0, p1/,
    );
  });
});

describe('computeGae', () => {
  it('resets at ends, bootstraps truncation and the fragment end, and stops at termination', () => {
    // Rows 0-2: terminated after row 1, then row 2 runs to the fragment's end.
    const cols = {
      rewards: Float32Array.of(1, 1, 1, 1),
      values: Float32Array.of(0.5, 0.5, 0.5, 0.5),
      ended: Uint8Array.of(0, 1, 0, 1),
      terminated: Uint8Array.of(0, 1, 0, 0),
      nextValue: Float32Array.of(0, 0, 0, 10),
      advantages: new Float32Array(4),
      valueTargets: new Float32Array(4),
    };
    computeGae(cols, 0, 3, 2, 0.5, 1);
    expect(Array.from(cols.advantages.subarray(0, 3))).toEqual([
      1 + 0.5 * 0.5 - 0.5 + 0.5 * (1 - 0.5),
      0.5,
      1 + 0.5 * 2 - 0.5,
    ]);
    expect(cols.valueTargets[1]).toBe(1);
    // Row 3 alone: truncated, bootstrapped from nextValue.
    computeGae(cols, 3, 1, 999, 0.5, 1);
    expect(cols.advantages[3]).toBe(1 + 0.5 * 10 - 0.5);
  });
});

describe('MultiAgentEnvRunnerActor', () => {
  const pi: MlpSpec = { sizes: [4, 8, 2], activation: 'tanh' };
  const vf: MlpSpec = { sizes: [4, 8, 1], activation: 'tanh' };
  const size = mlpParamCount(pi) + mlpParamCount(vf);
  const env = new MultiAgentCartPole({ numAgents: 3 });
  const policy = (id: string, k: number) => ({
    id,
    pi,
    vf,
    offset: k * size,
    obsDim: 4,
    action: { kind: 'categorical' as const, n: 2 },
    obsSpace: spaceToJSON(env.observationSpaces.agent_0),
    actionSpace: spaceToJSON(env.actionSpaces.agent_0),
  });
  const spec = (mapping: string, numEnvs = 2): MultiAgentRunnerSpec => ({
    env: 'MultiAgentCartPole',
    envConfig: { numAgents: 3 },
    numEnvs,
    seed: 5,
    gamma: 1,
    lambda: 1,
    policies: [policy('p0', 0), policy('p1', 1)],
    policyMappingFn: mapping,
  });

  it("returns a batch per policy of its agents' steps, with GAE per agent trajectory", () => {
    const runner = new MultiAgentEnvRunnerActor(spec(((a: string) => (a === 'agent_0' ? 'p0' : 'p1')).toString()), 0);
    // Zero weights: every value is 0 and actions are uniform, so with gamma = lambda = 1 each
    // step's advantage is the number of steps left in its agent's trajectory fragment.
    const s = runner.sample(new Float32Array(2 * size), 300);
    expect(s.numEnvSteps).toBe(600);
    expect(s.batches.p0.count + s.batches.p1.count).toBe(s.numAgentSteps);
    expect(s.batches.p1.count).toBeGreaterThan(s.batches.p0.count);
    expect(s.batches.p0.obs.length).toBe(4 * s.batches.p0.count);
    for (const b of [s.batches.p0, s.batches.p1]) {
      const adv = Array.from(b.advantages);
      adv.forEach((x, i) => {
        expect(Number.isInteger(x) && x >= 1).toBe(true);
        if (i + 1 < adv.length && x > 1) expect(adv[i + 1]).toBe(x - 1);
      });
      expect(adv.at(-1)).toBe(1);
    }
    // Episodes: the return sums the agents' (CartPole pays 1 a step), p1 acts for two agents.
    expect(s.episodeReturns.length).toBeGreaterThan(5);
    s.episodeReturns.forEach((r, e) => {
      expect(r).toBe(s.policyReturns.p0[e] + s.policyReturns.p1[e]);
      expect(r).toBe(s.agentReturns.agent_0[e] + s.agentReturns.agent_1[e] + s.agentReturns.agent_2[e]);
      expect(s.episodeLengths[e]).toBe(
        Math.max(s.agentReturns.agent_0[e], s.agentReturns.agent_1[e], s.agentReturns.agent_2[e]),
      );
    });
  });

  it('maps agents per episode, and explains an agent mapped to a policy of other spaces', () => {
    const byEpisode = new MultiAgentEnvRunnerActor(spec('(a, ep) => (ep % 2 ? "p1" : "p0")', 1), 0);
    const s = byEpisode.sample(new Float32Array(2 * size), 200);
    // Episode 0 is all p0's, episode 1 all p1's.
    expect(s.policyReturns.p0[0]).toBe(s.episodeReturns[0]);
    expect(s.policyReturns.p1[0]).toBe(s.episodeReturns[1]);
    // p0's first trajectory is that of episode 0's agent that fell first: its first advantage is its return.
    expect(s.batches.p0.advantages[0]).toBe(
      Math.min(s.agentReturns.agent_0[0], s.agentReturns.agent_1[0], s.agentReturns.agent_2[0]),
    );
    const ev = byEpisode.evaluate(new Float32Array(2 * size), 2, 0);
    expect(ev.returns.length).toBe(2);
    expect(ev.policyReturns).toEqual({ p0: [ev.returns[0]], p1: [ev.returns[1]] });

    const other = spec('() => "p1"');
    other.policies[1] = {
      ...other.policies[1],
      obsDim: 3,
      obsSpace: { type: 'Box', low: [0, 0, 0], high: [1, 1, 1], shape: [3], dtype: 'float32' } as never,
    };
    expect(() => new MultiAgentEnvRunnerActor(other, 0).sample(new Float32Array(2 * size), 1)).toThrow(
      /mapped agent 'agent_0' \(episode 0\) to policy 'p1', whose spaces differ/,
    );
  });
});
