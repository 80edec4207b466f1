/**
 * What off-policy env runners (DQN's, SAC's) share: copies of an env stepped in lockstep, and
 * their steps turned into n-step transitions for a replay buffer. Each env keeps its last n steps
 * across `collect()` calls, so fragments do not cut n-step returns short; at an episode's end the
 * shorter ones are flushed: a terminated episode does not bootstrap, a truncated one does (from
 * its last observation, discounted by `gamma^k` for the k steps actually summed).
 */
import { makeEnv } from './env/registry.js';
import { flatDim, flatten, type Space } from './env/spaces.js';
import type { Env } from './env/types.js';
import type { TransitionBatch } from './replay-buffer.js';

/** n-step transitions of one `sample()`, with the episodes that ended in it. */
export interface OffPolicySampleBatch extends TransitionBatch {
  /** Env steps taken (transitions may lag by up to n - 1 per env). */
  numEnvSteps: number;
  episodeReturns: number[];
  episodeLengths: number[];
}

/** How an off-policy runner's envs are set up. */
export interface CollectorSpec {
  env: string;
  envConfig: Record<string, unknown>;
  numEnvs: number;
  seed: number;
  gamma: number;
  nStep: number;
}

interface Pending {
  obs: Float32Array;
  action: Float32Array;
  reward: number;
}

/** Steps envs with a policy's actions and returns n-step transitions (see the module's doc). */
export class TransitionCollector {
  readonly envs: Env[];
  readonly obsSpace: Space;
  readonly actionSpace: Space;
  readonly obsDim: number;
  private readonly obs: Float32Array[];
  private readonly pending: Pending[][];
  private readonly epReturn: number[];
  private readonly epLength: number[];

  /** `index` is the runner's, so each runner's envs get their own seeds. */
  constructor(
    private readonly spec: CollectorSpec,
    index: number,
    private readonly actDim: number,
  ) {
    this.envs = Array.from({ length: spec.numEnvs }, () => makeEnv(spec.env, spec.envConfig));
    this.obsSpace = this.envs[0].observationSpace;
    this.actionSpace = this.envs[0].actionSpace;
    this.obsDim = flatDim(this.obsSpace);
    this.obs = this.envs.map((e, i) => flatten(this.obsSpace, e.reset({ seed: spec.seed + index * 1000 + i }).obs));
    this.pending = this.envs.map(() => []);
    this.epReturn = this.envs.map(() => 0);
    this.epLength = this.envs.map(() => 0);
  }

  /**
   * Steps every env `steps` times. `choose(x, rows)` gives the actions (`rows × actDim`, as stored
   * in the buffer) of the row-major observations `x`; `toEnv(actions, i)` makes row i's action what
   * the env takes. Returns the n-step transitions completed meanwhile.
   */
  collect(
    steps: number,
    choose: (x: Float32Array, rows: number) => Float32Array,
    toEnv: (actions: Float32Array, i: number) => unknown,
  ): OffPolicySampleBatch {
    const n = this.envs.length;
    const od = this.obsDim;
    const ad = this.actDim;
    const { gamma, nStep } = this.spec;
    const cap = n * (steps + nStep);
    const out: OffPolicySampleBatch = {
      count: 0,
      obsDim: od,
      actDim: ad,
      numEnvSteps: n * steps,
      episodeReturns: [],
      episodeLengths: [],
      obs: new Float32Array(cap * od),
      nextObs: new Float32Array(cap * od),
      actions: new Float32Array(cap * ad),
      rewards: new Float32Array(cap),
      dones: new Float32Array(cap),
      discounts: new Float32Array(cap),
    };
    // Emits p[0] with the k pending steps it sums, bootstrapping from `next`.
    const emit = (p: Pending[], k: number, next: Float32Array, done: boolean) => {
      let ret = 0;
      for (let j = k - 1; j >= 0; j--) ret = p[j].reward + gamma * ret;
      const row = out.count++;
      out.obs.set(p[0].obs, row * od);
      out.nextObs.set(next, row * od);
      out.actions.set(p[0].action, row * ad);
      out.rewards[row] = ret;
      out.dones[row] = done ? 1 : 0;
      out.discounts[row] = gamma ** k;
      p.shift();
    };
    const x = new Float32Array(n * od);
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < n; i++) x.set(this.obs[i], i * od);
      const acts = choose(x, n);
      for (let i = 0; i < n; i++) {
        const r = this.envs[i].step(toEnv(acts, i) as never);
        const p = this.pending[i];
        p.push({ obs: this.obs[i], action: acts.slice(i * ad, (i + 1) * ad), reward: r.reward });
        this.epReturn[i] += r.reward;
        this.epLength[i]++;
        const next = flatten(this.obsSpace, r.obs);
        if (r.terminated || r.truncated) {
          while (p.length) emit(p, p.length, next, r.terminated);
          out.episodeReturns.push(this.epReturn[i]);
          out.episodeLengths.push(this.epLength[i]);
          this.epReturn[i] = 0;
          this.epLength[i] = 0;
          this.obs[i] = flatten(this.obsSpace, this.envs[i].reset().obs);
        } else {
          if (p.length === nStep) emit(p, nStep, next, false);
          this.obs[i] = next;
        }
      }
    }
    const c = out.count;
    return {
      ...out,
      obs: out.obs.slice(0, c * od),
      nextObs: out.nextObs.slice(0, c * od),
      actions: out.actions.slice(0, c * ad),
      rewards: out.rewards.slice(0, c),
      dones: out.dones.slice(0, c),
      discounts: out.discounts.slice(0, c),
    };
  }
}
