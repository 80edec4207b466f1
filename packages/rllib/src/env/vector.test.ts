import { describe, expect, it } from 'vitest';
import { CartPoleEnv } from './classic/cartpole.js';
import { RLlibInvalidArgumentError } from './errors.js';
import { VectorEnv } from './vector.js';

describe('VectorEnv', () => {
  it('seeds copy i with seed + i', () => {
    const venv = new VectorEnv<Float32Array, number>('CartPole-v1', { numEnvs: 3 });
    const { obs } = venv.reset({ seed: 10 });
    expect(obs).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(obs[i]).toEqual(new CartPoleEnv().reset({ seed: 10 + i }).obs);
    expect(venv.singleObservationSpace).toBe(venv.envs[0].observationSpace);
    expect(venv.singleActionSpace.toString()).toBe('Discrete(2)');
  });

  it('auto-resets a copy whose episode ended: final obs in info.finalObs, new first obs in obs', () => {
    const venv = new VectorEnv<Float32Array, number>((config) => new CartPoleEnv(config), {
      numEnvs: 2,
      config: { maxEpisodeSteps: 3 },
    });
    venv.reset({ seed: 0 });
    const twin = new CartPoleEnv({ maxEpisodeSteps: 3 });
    twin.reset({ seed: 0 });
    for (let t = 1; t <= 2; t++) {
      const r = venv.step([1, 0]);
      expect(r.obs[0]).toEqual(twin.step(1).obs);
      expect(r.truncateds).toEqual([false, false]);
      expect(r.infos[0].finalObs).toBeUndefined();
    }
    const r = venv.step([1, 0]);
    const final = twin.step(1);
    expect(r.truncateds).toEqual([true, true]);
    expect(r.terminateds).toEqual([false, false]);
    expect(r.rewards).toEqual([1, 1]);
    expect(r.infos[0].finalObs).toEqual(final.obs);
    expect(r.infos[0].finalInfo).toEqual({});
    // obs[0] is the next episode's first obs: the copy's generator continued after the seed-0 reset.
    expect(r.obs[0]).not.toEqual(final.obs);
    expect(r.obs[0]).toEqual(twin.reset().obs);
    expect(venv.envs[0].observationSpace.contains(r.obs[0])).toBe(true);
    // ...and the copy keeps stepping in its new episode.
    expect(venv.step([0, 0]).truncateds).toEqual([false, false]);
  });

  it('resets only the copies that ended', () => {
    const venv = new VectorEnv<Float32Array, number>('CartPole-v1', { numEnvs: 2 });
    venv.reset({ seed: 1 });
    // Always pushing right topples copy 0 within ~10 steps; copy 1 alternates and stays up longer.
    let r = venv.step([1, 0]);
    let t = 1;
    while (!r.terminateds[0]) {
      r = venv.step([1, t % 2]);
      t++;
    }
    expect(r.terminateds[1]).toBe(false);
    expect(r.infos[0].finalObs).toBeInstanceOf(Float32Array);
    expect(r.infos[1].finalObs).toBeUndefined();
    expect(Math.abs((r.infos[0].finalObs as Float32Array)[2])).toBeGreaterThan(0.2);
    expect(Math.abs(r.obs[0][2])).toBeLessThanOrEqual(0.05);
  });

  it('rejects bad arguments and call order', () => {
    expect(() => new VectorEnv('CartPole-v1', { numEnvs: 0 })).toThrow(/numEnvs must be a positive integer, got 0/);
    expect(() => new VectorEnv('NoSuchEnv', { numEnvs: 1 })).toThrow(RLlibInvalidArgumentError);
    expect(() => new VectorEnv('MultiAgentCartPole', { numEnvs: 1 })).toThrow(/cannot hold multi-agent envs/);
    const venv = new VectorEnv('CartPole-v1', { numEnvs: 2 });
    expect(() => venv.step([0, 0])).toThrow(/before reset\(\)/);
    venv.reset();
    expect(() => venv.step([0])).toThrow(/needs one action per copy \(2\), got 1/);
  });
});
