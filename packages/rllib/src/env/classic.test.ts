import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AcrobotEnv } from './classic/acrobot.js';
import { CartPoleEnv } from './classic/cartpole.js';
import { MountainCarEnv } from './classic/mountain-car.js';
import { PendulumEnv, angleNormalize } from './classic/pendulum.js';
import type { ClassicControlEnv } from './classic/base.js';
import { RLlibInvalidArgumentError } from './errors.js';
import { makeEnv } from './registry.js';

interface Trajectory {
  seed: number;
  policy: string;
  startState: number[];
  initialObs: number[];
  actions: (number | number[])[];
  obs: number[][];
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
  states: number[][];
}

interface Fixture {
  env: string;
  gymnasium: string;
  maxEpisodeSteps: number;
  trajectories: Trajectory[];
}

const ENV_IDS = ['CartPole-v1', 'MountainCar-v0', 'Acrobot-v1', 'Pendulum-v1'] as const;

function loadFixture(id: string): Fixture {
  const url = new URL(`../../test/fixtures/gym/${id}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Fixture;
}

const toAction = (a: number | number[]) => (Array.isArray(a) ? Float32Array.from(a) : a);

/** Largest absolute difference between our float32 obs and Gymnasium's (read back as float32). */
function obsDiff(ours: Float32Array, theirs: number[]): number {
  expect(ours).toBeInstanceOf(Float32Array);
  expect(ours.length).toBe(theirs.length);
  let d = 0;
  theirs.forEach((v, i) => (d = Math.max(d, Math.abs(ours[i] - Math.fround(v)))));
  return d;
}

describe.each(ENV_IDS)('%s matches Gymnasium', (id) => {
  const fixture = loadFixture(id);
  // Pendulum's reward squares with numpy's pow(), which can differ from x * x in the last bit.
  const rewardTol = id === 'Pendulum-v1' ? 1e-12 : 0;

  it('was recorded by Gymnasium with the same time limit', () => {
    expect(fixture.env).toBe(id);
    expect(fixture.gymnasium).toMatch(/^\d+\.\d+/);
    expect(makeEnv<ClassicControlEnv<unknown>>(id).maxEpisodeSteps).toBe(fixture.maxEpisodeSteps);
    // At least one trajectory per env ends the episode (terminated or truncated).
    expect(fixture.trajectories.some((t) => t.terminated.at(-1) || t.truncated.at(-1))).toBe(true);
  });

  it.each(fixture.trajectories.map((t) => [`seed ${t.seed} (${t.policy}, ${t.actions.length} steps)`, t] as const))(
    'replays trajectory %s',
    (_name, traj) => {
      const env = makeEnv(id);
      const { obs: first } = env.reset({ options: { state: traj.startState } });
      expect(obsDiff(first as Float32Array, traj.initialObs)).toBeLessThanOrEqual(1e-5);
      let maxStateDiff = 0;
      traj.actions.forEach((a, t) => {
        const r = env.step(toAction(a));
        expect(obsDiff(r.obs as Float32Array, traj.obs[t]), `obs at step ${t}`).toBeLessThanOrEqual(1e-5);
        if (rewardTol === 0) expect(r.reward, `reward at step ${t}`).toBe(traj.rewards[t]);
        else expect(Math.abs(r.reward - traj.rewards[t]), `reward at step ${t}`).toBeLessThanOrEqual(rewardTol);
        expect(r.terminated, `terminated at step ${t}`).toBe(traj.terminated[t]);
        expect(r.truncated, `truncated at step ${t}`).toBe(traj.truncated[t]);
        if (t < traj.states.length) {
          const s = (env as ClassicControlEnv<unknown>).getState()!;
          s.forEach((v, i) => (maxStateDiff = Math.max(maxStateDiff, Math.abs(v - traj.states[t][i]))));
        }
      });
      // float64 states stay within rounding noise of Gymnasium's over the whole trajectory.
      expect(maxStateDiff).toBeLessThan(1e-9);
      const last = traj.actions.length - 1;
      if (traj.terminated[last] || traj.truncated[last]) {
        expect(() => env.step(toAction(traj.actions[last]))).toThrow(/Call reset\(\)/);
      }
    },
  );

  it('takes each recorded step the same way from the exact recorded state', () => {
    const env = makeEnv(id);
    for (const traj of fixture.trajectories) {
      traj.states.forEach((after, t) => {
        const before = t === 0 ? traj.startState : traj.states[t - 1];
        env.reset({ options: { state: before } });
        const r = env.step(toAction(traj.actions[t]));
        expect(r.terminated).toBe(traj.terminated[t]);
        const s = (env as ClassicControlEnv<unknown>).getState()!;
        s.forEach((v, i) =>
          expect(Math.abs(v - after[i]), `state[${i}] at step ${t}`).toBeLessThanOrEqual(
            1e-12 * Math.max(1, Math.abs(after[i])),
          ),
        );
      });
    }
  });
});

describe('time limits', () => {
  it('truncates Pendulum-v1 at step 200, never terminating', () => {
    const env = makeEnv('Pendulum-v1');
    env.reset({ seed: 3 });
    for (let t = 1; t <= 200; t++) {
      const r = env.step(Float32Array.of(0.5));
      expect(r.terminated).toBe(false);
      expect(r.truncated).toBe(t === 200);
    }
    expect(() => env.step(Float32Array.of(0))).toThrow(RLlibInvalidArgumentError);
  });

  it('truncates Acrobot-v1 at step 500 (at rest, hanging down, no torque)', () => {
    const env = new AcrobotEnv();
    env.reset({ options: { state: [0, 0, 0, 0] } });
    let r = env.step(1);
    let steps = 1;
    while (!r.truncated && !r.terminated) {
      r = env.step(1);
      steps++;
    }
    expect(steps).toBe(500);
    expect(r).toMatchObject({ truncated: true, terminated: false, reward: -1 });
  });

  it('truncates CartPole-v1 at 500 and MountainCar-v0 at 200 by default, and takes maxEpisodeSteps', () => {
    expect(new CartPoleEnv().maxEpisodeSteps).toBe(500);
    expect(new MountainCarEnv().maxEpisodeSteps).toBe(200);
    const env = makeEnv('MountainCar-v0', { maxEpisodeSteps: 3 });
    env.reset({ seed: 0 });
    expect([env.step(1).truncated, env.step(1).truncated, env.step(1).truncated]).toEqual([false, false, true]);
    expect(() => new CartPoleEnv({ maxEpisodeSteps: 0 })).toThrow(/maxEpisodeSteps must be a positive integer/);
    const unlimited = new PendulumEnv({ maxEpisodeSteps: Infinity });
    unlimited.reset({ seed: 0 });
    for (let t = 0; t < 300; t++) expect(unlimited.step(Float32Array.of(0)).truncated).toBe(false);
  });
});

describe('reset distributions and seeding', () => {
  const ranges: Record<string, [number, number][]> = {
    'CartPole-v1': [
      [-0.05, 0.05],
      [-0.05, 0.05],
      [-0.05, 0.05],
      [-0.05, 0.05],
    ],
    'MountainCar-v0': [
      [-0.6, -0.4],
      [0, 0],
    ],
    'Acrobot-v1': [
      [-0.1, 0.1],
      [-0.1, 0.1],
      [-0.1, 0.1],
      [-0.1, 0.1],
    ],
    'Pendulum-v1': [
      [-Math.PI, Math.PI],
      [-1, 1],
    ],
  };

  it.each(ENV_IDS)('%s starts uniformly in Gymnasium ranges, reproducibly per seed', (id) => {
    const env = makeEnv<ClassicControlEnv<unknown>>(id);
    const a = env.reset({ seed: 7 }).obs;
    const sa = env.getState()!;
    expect(env.observationSpace.contains(a)).toBe(true);
    expect(env.reset({ seed: 7 }).obs).toEqual(a);
    expect(env.reset({ seed: 8 }).obs).not.toEqual(a);
    expect(env.reset().obs).not.toEqual(a); // no seed: the stream continues
    sa.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(ranges[id][i][0]);
      expect(v).toBeLessThanOrEqual(ranges[id][i][1]);
    });
    // Spread over the range, not stuck in a corner.
    const firsts = Array.from({ length: 200 }, () => (env.reset(), env.getState()![0]));
    const [lo, hi] = ranges[id][0];
    expect(Math.min(...firsts)).toBeLessThan(lo + (hi - lo) * 0.1);
    expect(Math.max(...firsts)).toBeGreaterThan(hi - (hi - lo) * 0.1);
  });

  it("rounds Acrobot's random start state to float32, as Gymnasium does", () => {
    const env = new AcrobotEnv();
    env.reset({ seed: 1 });
    for (const v of env.getState()!) expect(Math.fround(v)).toBe(v);
  });

  it("takes Gymnasium's low/high reset options", () => {
    const env = new CartPoleEnv();
    env.reset({ seed: 0, options: { low: 0.2, high: 0.3 } });
    for (const v of env.getState()!) expect(v >= 0.2 && v <= 0.3).toBe(true);
    expect(() => env.reset({ options: { low: 1, high: 0 } })).toThrow(/low \(1\) must not be above high \(0\)/);
    const pendulum = new PendulumEnv();
    pendulum.reset({ seed: 0, options: { x_init: 0.1, y_init: 0 } });
    const [th, thdot] = pendulum.getState()!;
    expect(Math.abs(th)).toBeLessThanOrEqual(0.1);
    expect(thdot).toBe(0);
  });
});

describe('errors', () => {
  it('says to call reset() before step()', () => {
    expect(() => new CartPoleEnv().step(0)).toThrow(/step\(\) was called before reset\(\)\. Call reset\(\) first/);
  });

  it('rejects actions outside the action space', () => {
    const env = new CartPoleEnv();
    env.reset({ seed: 0 });
    expect(() => env.step(2)).toThrow(/CartPole-v1: action 2 is not in Discrete\(2\); pass an integer in \[0, 2\)/);
    expect(() => env.step(0.5)).toThrow(RLlibInvalidArgumentError);
    const pendulum = new PendulumEnv();
    pendulum.reset({ seed: 0 });
    expect(() => pendulum.step(Float32Array.of(1, 2))).toThrow(/Pendulum-v1: action .* is not a torque/);
    expect(() => pendulum.step(Float32Array.of(NaN))).toThrow(RLlibInvalidArgumentError);
    expect(() => pendulum.step(1.5)).not.toThrow();
  });

  it('rejects a start state of the wrong size', () => {
    expect(() => new MountainCarEnv().reset({ options: { state: [0.1] } })).toThrow(
      /MountainCar-v0: reset options.state must be 2 finite numbers \[position, velocity\]/,
    );
  });
});

describe('details of the dynamics', () => {
  it("normalises angles like numpy's floor modulo", () => {
    expect(angleNormalize(0)).toBe(0);
    expect(angleNormalize(Math.PI)).toBeCloseTo(-Math.PI, 12);
    expect(angleNormalize(-Math.PI - 0.5)).toBeCloseTo(Math.PI - 0.5, 12);
    expect(angleNormalize(7)).toBeCloseTo(7 - 2 * Math.PI, 12);
  });

  it('clips Pendulum torques to [-2, 2]', () => {
    const a = new PendulumEnv();
    const b = new PendulumEnv();
    a.reset({ options: { state: [1, 0] } });
    b.reset({ options: { state: [1, 0] } });
    expect(a.step(Float32Array.of(5))).toEqual(b.step(Float32Array.of(2)));
  });

  it('stops MountainCar at the left wall', () => {
    const env = new MountainCarEnv();
    env.reset({ options: { state: [-1.19, -0.05] } });
    const r = env.step(0);
    expect(Array.from(r.obs)).toEqual([Math.fround(-1.2), 0]);
    expect(env.getState()).toEqual([-1.2, 0]);
  });
});
