import { describe, expect, it } from 'vitest';
import { CartPoleEnv } from './classic/cartpole.js';
import { RLlibInvalidArgumentError } from './errors.js';
import { MultiAgentCartPole, isMultiAgentEnv } from './multi-agent.js';
import type { MultiAgentEnv } from './multi-agent.js';
import { isEnvRegistered, makeEnv, registerEnv, registeredEnvs } from './registry.js';
import type { Env } from './types.js';

describe('env registry', () => {
  it('has the built-ins registered on import', () => {
    expect(registeredEnvs()).toEqual(
      expect.arrayContaining(['Acrobot-v1', 'CartPole-v1', 'MountainCar-v0', 'MultiAgentCartPole', 'Pendulum-v1']),
    );
    expect(makeEnv('CartPole-v1')).toBeInstanceOf(CartPoleEnv);
    const ma = makeEnv<Env | MultiAgentEnv>('MultiAgentCartPole', { numAgents: 3 });
    expect(isMultiAgentEnv(ma)).toBe(true);
    expect(ma).toBeInstanceOf(MultiAgentCartPole);
    expect(isMultiAgentEnv(makeEnv('CartPole-v1'))).toBe(false);
  });

  it('makes registered user envs with their config', () => {
    const name = `Custom-${Math.random().toString(36).slice(2)}`;
    registerEnv(name, (config) => new CartPoleEnv({ maxEpisodeSteps: config.steps as number }));
    expect(isEnvRegistered(name)).toBe(true);
    const env = makeEnv<CartPoleEnv>(name, { steps: 7 });
    expect(env.maxEpisodeSteps).toBe(7);
  });

  it('fails on unknown names, listing registered ones and saying to call registerEnv', () => {
    let err: unknown;
    try {
      makeEnv('NoSuchEnv-v0');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RLlibInvalidArgumentError);
    expect((err as Error).message).toMatch(/Unknown env 'NoSuchEnv-v0'\. Registered envs: .*CartPole-v1/);
    expect((err as Error).message).toMatch(
      /Call registerEnv\('NoSuchEnv-v0', \(config\) => new YourEnv\(config\)\) first/,
    );
  });

  it('rejects bad registrations and creators that return no env', () => {
    expect(() => registerEnv('', () => new CartPoleEnv())).toThrow(/name must be a non-empty string/);
    expect(() => registerEnv('Y', 'CartPole-v1' as never)).toThrow(/creator must be a function/);
    registerEnv('Broken', () => 42 as never);
    expect(() => makeEnv('Broken')).toThrow(/The creator registered for env 'Broken' returned number, not an env/);
  });
});
