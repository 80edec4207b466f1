/**
 * DQN's env runners: actors that step their envs with epsilon-greedy actions from the Q-network
 * (forward pass in plain JavaScript over the learner's flat weights, see model.ts) and return
 * n-step transitions, ready for the replay buffer. Each env keeps its last n steps across
 * `sample()` calls, so fragments do not cut n-step returns short; at an episode's end the shorter
 * ones are flushed: a terminated episode does not bootstrap, a truncated one does (from its last
 * observation, discounted by `gamma^k` for the k steps actually summed).
 */
import { remote } from '@ray-ts/core';
import { makeEnv } from './env/registry.js';
import { Discrete, flatDim, flatten, type Space } from './env/spaces.js';
import { Rng } from './env/rng.js';
import type { Env } from './env/types.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { mlpForward, mlpParamCount, type Activation } from './model.js';
import type { TransitionBatch } from './replay-buffer.js';
import { playEpisodes } from './env-runner.js';

/**
 * A Q-network: an MLP `[obsDim, ...hiddens, out]`. Plain (`dueling: false`): `out = numActions`,
 * the Q-values. Dueling: `out = 1 + numActions`, the value head (column 0) and the advantage head
 * (columns 1..n) side by side on the last hidden layer, combined as `Q = V + A - mean(A)`.
 * Weights are laid out as {@link mlpForward} reads them (kernel [in, out] then bias, per layer).
 */
export interface QNetSpec {
  sizes: number[];
  activation: Activation;
  dueling: boolean;
  numActions: number;
}

/** The Q-network of an env's observation size and action count. */
export function qNetSpec(obsDim: number, numActions: number, hiddens: number[], activation: Activation, dueling: boolean): QNetSpec {
  return { sizes: [obsDim, ...hiddens, dueling ? 1 + numActions : numActions], activation, dueling, numActions };
}

/** Number of floats of a Q-network's weights. */
export function qParamCount(spec: QNetSpec): number {
  return mlpParamCount(spec);
}

/** Q-values of `rows` observations (row-major `x`): `rows × numActions` floats. */
export function qForward(spec: QNetSpec, w: Float32Array, x: Float32Array, rows: number): Float32Array {
  const out = mlpForward(spec, w, 0, x, rows);
  if (!spec.dueling) return out;
  const n = spec.numActions;
  const q = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * (n + 1);
    let meanA = 0;
    for (let j = 0; j < n; j++) meanA += out[o + 1 + j];
    meanA /= n;
    for (let j = 0; j < n; j++) q[r * n + j] = out[o] + out[o + 1 + j] - meanA;
  }
  return q;
}

/** The index of the largest of `n` values at `off` (the first on ties). */
export function argmax(v: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[off + j] > v[off + best]) best = j;
  return best;
}

/** How a DQN env runner is set up (built by the algorithm from its config). */
export interface DQNEnvRunnerSpec {
  env: string;
  envConfig: Record<string, unknown>;
  numEnvs: number;
  seed: number;
  q: QNetSpec;
  gamma: number;
  nStep: number;
}

/** n-step transitions of one `sample()`, with the episodes that ended in it. */
export interface DQNSampleBatch extends TransitionBatch {
  /** Env steps taken (transitions may lag by up to n - 1 per env). */
  numEnvSteps: number;
  episodeReturns: number[];
  episodeLengths: number[];
}

interface Pending {
  obs: Float32Array;
  action: number;
  reward: number;
}

class DQNEnvRunnerActor {
  private readonly envs: Env[];
  private readonly obs: Float32Array[];
  private readonly pending: Pending[][];
  private readonly epReturn: number[];
  private readonly epLength: number[];
  private readonly obsSpace: Space;
  private readonly obsDim: number;
  private readonly numActions: number;
  private readonly rng: Rng;

  constructor(private readonly spec: DQNEnvRunnerSpec, index: number) {
    this.envs = Array.from({ length: spec.numEnvs }, () => makeEnv(spec.env, spec.envConfig));
    const space = this.envs[0].actionSpace;
    if (!(space instanceof Discrete)) throw new RLlibInvalidArgumentError(`DQN needs a Discrete action space; env '${spec.env}' has ${space.constructor.name}.`);
    this.numActions = space.n;
    this.obsSpace = this.envs[0].observationSpace;
    this.obsDim = flatDim(this.obsSpace);
    this.rng = new Rng(spec.seed * 7919 + index * 104729 + 17);
    this.obs = this.envs.map((e, i) => flatten(this.obsSpace, e.reset({ seed: spec.seed + index * 1000 + i }).obs));
    this.pending = this.envs.map(() => []);
    this.epReturn = this.envs.map(() => 0);
    this.epLength = this.envs.map(() => 0);
  }

  /**
   * Steps every env `steps` times with epsilon-greedy actions of the Q-network `weights`; returns
   * the n-step transitions completed meanwhile.
   */
  sample(weights: Float32Array, steps: number, epsilon: number): DQNSampleBatch {
    const n = this.envs.length;
    const od = this.obsDim;
    const { gamma, nStep } = this.spec;
    const cap = n * (steps + nStep);
    const out: DQNSampleBatch = {
      count: 0, obsDim: od, numEnvSteps: n * steps, episodeReturns: [], episodeLengths: [],
      obs: new Float32Array(cap * od), nextObs: new Float32Array(cap * od), actions: new Float32Array(cap),
      rewards: new Float32Array(cap), dones: new Float32Array(cap), discounts: new Float32Array(cap),
    };
    // Emits pending[0] of env i with the k pending steps it sums, bootstrapping from `next`.
    const emit = (p: Pending[], k: number, next: Float32Array, done: boolean) => {
      let ret = 0;
      for (let j = k - 1; j >= 0; j--) ret = p[j].reward + gamma * ret;
      const row = out.count++;
      out.obs.set(p[0].obs, row * od);
      out.nextObs.set(next, row * od);
      out.actions[row] = p[0].action;
      out.rewards[row] = ret;
      out.dones[row] = done ? 1 : 0;
      out.discounts[row] = gamma ** k;
      p.shift();
    };
    const x = new Float32Array(n * od);
    for (let t = 0; t < steps; t++) {
      for (let i = 0; i < n; i++) x.set(this.obs[i], i * od);
      const q = qForward(this.spec.q, weights, x, n);
      for (let i = 0; i < n; i++) {
        const a = this.rng.next() < epsilon ? this.rng.int(this.numActions) : argmax(q, i * this.numActions, this.numActions);
        const r = this.envs[i].step(a as never);
        const p = this.pending[i];
        p.push({ obs: this.obs[i], action: a, reward: r.reward });
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
      ...out, obs: out.obs.slice(0, c * od), nextObs: out.nextObs.slice(0, c * od), actions: out.actions.slice(0, c),
      rewards: out.rewards.slice(0, c), dones: out.dones.slice(0, c), discounts: out.discounts.slice(0, c),
    };
  }

  /** Plays `episodes` whole episodes greedily (argmax Q); returns their returns and lengths. */
  evaluate(weights: Float32Array, episodes: number, seed: number): { returns: number[]; lengths: number[] } {
    return playEpisodes(this.spec, this.obsSpace, episodes, seed, (o) => argmax(qForward(this.spec.q, weights, o, 1), 0, this.numActions));
  }
}

/** @internal */
export const DQNEnvRunner = remote(DQNEnvRunnerActor);
/** @internal */
export type DQNEnvRunnerMethods = DQNEnvRunnerActor;
