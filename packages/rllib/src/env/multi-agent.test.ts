import { describe, expect, it } from 'vitest';
import { CartPoleEnv } from './classic/cartpole.js';
import { MultiAgentCartPole, isMultiAgentEnv } from './multi-agent.js';
import { makeEnv } from './registry.js';
import type { MultiAgentEnv } from './multi-agent.js';

describe('MultiAgentCartPole', () => {
  it('has one CartPole per agent, with per-agent spaces', () => {
    const env = makeEnv<MultiAgentEnv<Float32Array, number>>('MultiAgentCartPole', { numAgents: 3 });
    expect(isMultiAgentEnv(env)).toBe(true);
    expect(env.possibleAgents).toEqual(['agent_0', 'agent_1', 'agent_2']);
    expect(env.agents).toEqual([]);
    expect(env.observationSpaces.agent_2.toString()).toMatch(/^Box\(/);
    expect(env.actionSpaces.agent_0.toString()).toBe('Discrete(2)');
    const { obs, infos } = env.reset({ seed: 5 });
    expect(Object.keys(obs)).toEqual(env.possibleAgents);
    expect(infos).toEqual({ agent_0: {}, agent_1: {}, agent_2: {} });
    expect(obs.agent_1).toEqual(new CartPoleEnv().reset({ seed: 6 }).obs);
    expect(env.agents).toEqual(env.possibleAgents);
  });

  it('steps agents independently; done agents drop out; __all__ when every agent is done', () => {
    const env = new MultiAgentCartPole({ numAgents: 2 });
    env.reset({ seed: 0 });
    const twin0 = new CartPoleEnv();
    twin0.reset({ seed: 0 });
    // agent_0 always pushes right (falls fast); agent_1 alternates (stays up longer).
    let t = 0;
    let r = env.step({ agent_0: 1, agent_1: 0 });
    expect(r.obs.agent_0).toEqual(twin0.step(1).obs);
    expect(r.rewards).toEqual({ agent_0: 1, agent_1: 1 });
    while (!r.terminateds.agent_0) {
      t++;
      r = env.step({ agent_0: 1, agent_1: t % 2 });
    }
    expect(r.terminateds).toEqual({ agent_0: true, agent_1: false, __all__: false });
    expect(r.truncateds.__all__).toBe(false);
    expect(r.obs.agent_0).toBeInstanceOf(Float32Array); // the final observation
    expect(env.agents).toEqual(['agent_1']);
    expect(() => env.step({ agent_0: 1, agent_1: 0 })).toThrow(
      /agent 'agent_0' is done .* give actions only to agents in the last obs \(agent_1\)/,
    );
    while (!r.terminateds.__all__) {
      t++;
      r = env.step({ agent_1: 1 });
      expect(Object.keys(r.obs)).toEqual(['agent_1']);
    }
    expect(r.terminateds).toEqual({ agent_1: true, __all__: true });
    expect(env.agents).toEqual([]);
  });

  it('ends with truncateds.__all__ when the time limit cuts the agents off', () => {
    const env = new MultiAgentCartPole({ numAgents: 2, maxEpisodeSteps: 2 });
    env.reset({ seed: 0 });
    expect(env.step({ agent_0: 0, agent_1: 1 }).truncateds).toEqual({ agent_0: false, agent_1: false, __all__: false });
    const r = env.step({ agent_0: 1, agent_1: 0 });
    expect(r.truncateds).toEqual({ agent_0: true, agent_1: true, __all__: true });
    expect(r.terminateds.__all__).toBe(false);
    env.reset();
    expect(env.agents).toHaveLength(2);
  });

  it('rejects bad configs and actions', () => {
    expect(() => new MultiAgentCartPole({ numAgents: 0 })).toThrow(/numAgents must be a positive integer, got 0/);
    const env = new MultiAgentCartPole();
    expect(() => env.step({ agent_0: 0 })).toThrow(/or reset\(\) was not called/);
    env.reset({ seed: 4 });
    expect(() => env.step({})).toThrow(/needs an action for at least one active agent \(agent_0, agent_1\)/);
    expect(() => env.step({ agent_9: 0 })).toThrow(/unknown agent 'agent_9'; agents are agent_0, agent_1/);
    expect(() => env.step({ agent_0: 0, agent_1: 3 })).toThrow(/agent 'agent_1': action 3 is not in Discrete\(2\)/);
    // The bad action stepped no one: both agents are still at their reset state.
    expect(env.step({ agent_0: 0, agent_1: 0 }).obs.agent_0).toEqual(
      (() => {
        const twin = new MultiAgentCartPole();
        twin.reset({ seed: 4 });
        return twin.step({ agent_0: 0, agent_1: 0 }).obs.agent_0;
      })(),
    );
  });
});
