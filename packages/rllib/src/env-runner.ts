/**
 * Env runners: actors that step copies of an environment with the current policy and return
 * sample batches (RLlib's `EnvRunner`). Each runs its envs in lockstep, one batched forward pass
 * per step in plain JavaScript (see model.ts), and computes GAE advantages for on-policy
 * algorithms before sending the batch, so the learner gets ready columns.
 */
import { remote, SeededRng } from '@ray-ts/core';
import { makeEnv } from './env/registry.js';
import { Box, Discrete, flatDim, flatten, type Space } from './env/spaces.js';
import type { Env } from './env/types.js';
import { mlpForward, mlpParamCount, sampleCategorical, type MlpSpec } from './model.js';

/** How an env runner is set up (built by the algorithm from its config). */
export interface EnvRunnerSpec {
  env: string;
  envConfig: Record<string, unknown>;
  numEnvs: number;
  seed: number;
  pi: MlpSpec;
  vf: MlpSpec;
  gamma: number;
  lambda: number;
}

/** Columns of sampled steps (row-major Float32Arrays), GAE included. */
export interface SampleBatch {
  count: number;
  obsDim: number;
  actDim: number;
  obs: Float32Array;
  actions: Float32Array;
  logp: Float32Array;
  /** The action distribution's inputs at sampling time (logits, or mean and log std). */
  distInputs: Float32Array;
  values: Float32Array;
  advantages: Float32Array;
  valueTargets: Float32Array;
  /** Episodes that ended in this batch: their returns and lengths. */
  episodeReturns: number[];
  episodeLengths: number[];
}

/** What kind of actions a space gives: categorical over n, or a diagonal Gaussian over dims. */
export function actionInfo(
  space: Space,
): { kind: 'categorical'; n: number } | { kind: 'gaussian'; dims: number; low: Float32Array; high: Float32Array } {
  if (space instanceof Discrete) return { kind: 'categorical', n: space.n };
  if (space instanceof Box)
    return {
      kind: 'gaussian',
      dims: flatDim(space),
      low: Float32Array.from(space.low),
      high: Float32Array.from(space.high),
    };
  throw new Error(`action space ${space.constructor.name} is not supported yet: use Discrete or Box`);
}

/** What {@link actionInfo} returns. */
export type ActionInfo = ReturnType<typeof actionInfo>;

/**
 * Chooses actions for `rows` rows of distribution inputs `dist` (logits, or means then log stds):
 * sampled with `rng` when exploring, else greedy (argmax, or the mean). Returns the actions
 * (row-major, 1 per row for categorical) and their log-probabilities.
 */
export function chooseActions(
  a: ActionInfo,
  dist: Float32Array,
  rows: number,
  explore: boolean,
  rng: SeededRng,
): { actions: Float32Array; logp: Float32Array } {
  const actDim = a.kind === 'categorical' ? 1 : a.dims;
  const actions = new Float32Array(rows * actDim);
  const logp = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (a.kind === 'categorical') {
      const s = sampleCategorical(dist, r * a.n, a.n, rng.next(), explore);
      actions[r] = s.action;
      logp[r] = s.logp;
    } else {
      let lp = 0;
      for (let d = 0; d < a.dims; d++) {
        const mean = dist[r * 2 * a.dims + d];
        const logStd = dist[r * 2 * a.dims + a.dims + d];
        const z = explore ? rng.normal() : 0;
        actions[r * a.dims + d] = mean + Math.exp(logStd) * z;
        lp += -0.5 * z * z - logStd - 0.5 * Math.log(2 * Math.PI);
      }
      logp[r] = lp;
    }
  }
  return { actions, logp };
}

/** Row `i` of `actions` as the env takes it: an integer, or a Float32Array clipped to the Box's bounds. */
export function envAction(a: ActionInfo, actions: Float32Array, i: number): unknown {
  if (a.kind === 'categorical') return actions[i];
  const out = new Float32Array(a.dims);
  for (let d = 0; d < a.dims; d++) out[d] = Math.min(a.high[d], Math.max(a.low[d], actions[i * a.dims + d]));
  return out;
}

/** The per-step columns GAE reads, and the two it writes. */
export interface GaeColumns {
  rewards: Float32Array;
  values: Float32Array;
  /** 1 where the trajectory ended after this step (terminated or truncated). */
  ended: Uint8Array;
  /** 1 where it ended in a terminal state (no bootstrap). */
  terminated: Uint8Array;
  /** V(final observation) where it was truncated (bootstrapped, as RLlib does). */
  nextValue: Float32Array;
  advantages: Float32Array;
  valueTargets: Float32Array;
}

/**
 * GAE advantages and value targets of rows `[start, start + len)`: one trajectory fragment, in
 * step order. A step's next value is 0 after termination, `nextValue` after truncation, the next
 * row's value within the fragment, and `lastValue` (V of the observation the fragment stopped
 * at) after its last row. Written into `cols.advantages` and `cols.valueTargets`.
 */
export function computeGae(
  cols: GaeColumns,
  start: number,
  len: number,
  lastValue: number,
  gamma: number,
  lambda: number,
): void {
  const { rewards, values, ended, terminated, nextValue, advantages, valueTargets } = cols;
  let gae = 0;
  for (let t = len - 1; t >= 0; t--) {
    const row = start + t;
    let nv: number;
    if (ended[row]) nv = terminated[row] ? 0 : nextValue[row];
    else nv = t === len - 1 ? lastValue : values[row + 1];
    const delta = rewards[row] + gamma * nv - values[row];
    gae = delta + (ended[row] ? 0 : gamma * lambda * gae);
    advantages[row] = gae;
    valueTargets[row] = gae + values[row];
  }
}

class EnvRunnerActor {
  private readonly envs: Env[];
  private readonly obs: Float32Array[];
  private readonly epReturn: number[];
  private readonly epLength: number[];
  private readonly obsSpace: Space;
  private readonly act: ReturnType<typeof actionInfo>;
  private readonly obsDim: number;
  private readonly rng: SeededRng;
  private weights: Float32Array | undefined;

  constructor(
    private readonly spec: EnvRunnerSpec,
    index: number,
  ) {
    this.envs = Array.from({ length: spec.numEnvs }, () => makeEnv(spec.env, spec.envConfig));
    this.obsSpace = this.envs[0].observationSpace;
    this.act = actionInfo(this.envs[0].actionSpace);
    this.obsDim = flatDim(this.obsSpace);
    this.rng = new SeededRng(spec.seed * 7919 + index * 104729 + 1);
    this.obs = this.envs.map((e, i) => flatten(this.obsSpace, e.reset({ seed: spec.seed + index * 1000 + i }).obs));
    this.epReturn = this.envs.map(() => 0);
    this.epLength = this.envs.map(() => 0);
  }

  /** Policy outputs and values of `rows` observations. */
  private forward(x: Float32Array, rows: number): { dist: Float32Array; values: Float32Array } {
    const w = this.weights!;
    const dist = mlpForward(this.spec.pi, w, 0, x, rows);
    const values = mlpForward(this.spec.vf, w, mlpParamCount(this.spec.pi), x, rows);
    return { dist, values };
  }

  private choose(dist: Float32Array, rows: number, explore: boolean): { actions: Float32Array; logp: Float32Array } {
    return chooseActions(this.act, dist, rows, explore, this.rng);
  }

  private envAction(actions: Float32Array, i: number): unknown {
    return envAction(this.act, actions, i);
  }

  /**
   * Steps every env `steps` times with `weights` and returns the batch (numEnvs × steps rows,
   * env by env), with GAE advantages and value targets.
   */
  sample(weights: Float32Array, steps: number): SampleBatch {
    this.weights = weights;
    const n = this.envs.length;
    const od = this.obsDim;
    const a = this.act;
    const actDim = a.kind === 'categorical' ? 1 : a.dims;
    const distDim = a.kind === 'categorical' ? a.n : 2 * a.dims;
    const T = steps;
    const obs = new Float32Array(n * T * od);
    const actions = new Float32Array(n * T * actDim);
    const logp = new Float32Array(n * T);
    const distInputs = new Float32Array(n * T * distDim);
    const values = new Float32Array(n * T);
    const rewards = new Float32Array(n * T);
    const terminated = new Uint8Array(n * T);
    // Bootstrap value after each step: V(next obs) if the episode goes on or was truncated, 0 if terminated.
    const nextValue = new Float32Array(n * T);
    const ended = new Uint8Array(n * T);
    const episodeReturns: number[] = [];
    const episodeLengths: number[] = [];
    const x = new Float32Array(n * od);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) x.set(this.obs[i], i * od);
      const { dist, values: v } = this.forward(x, n);
      const { actions: act, logp: lp } = this.choose(dist, n, true);
      const truncatedObs: { i: number; obs: Float32Array }[] = [];
      for (let i = 0; i < n; i++) {
        const row = i * T + t;
        obs.set(this.obs[i], row * od);
        actions.set(act.subarray(i * actDim, (i + 1) * actDim), row * actDim);
        logp[row] = lp[i];
        distInputs.set(dist.subarray(i * distDim, (i + 1) * distDim), row * distDim);
        values[row] = v[i];
        const r = this.envs[i].step(this.envAction(act, i) as never);
        rewards[row] = r.reward;
        this.epReturn[i] += r.reward;
        this.epLength[i]++;
        const next = flatten(this.obsSpace, r.obs);
        if (r.terminated || r.truncated) {
          ended[row] = 1;
          terminated[row] = r.terminated ? 1 : 0;
          if (!r.terminated) truncatedObs.push({ i: row, obs: next });
          episodeReturns.push(this.epReturn[i]);
          episodeLengths.push(this.epLength[i]);
          this.epReturn[i] = 0;
          this.epLength[i] = 0;
          this.obs[i] = flatten(this.obsSpace, this.envs[i].reset().obs);
        } else this.obs[i] = next;
      }
      if (truncatedObs.length) {
        const xo = new Float32Array(truncatedObs.length * od);
        truncatedObs.forEach((o, k) => xo.set(o.obs, k * od));
        const vo = this.forward(xo, truncatedObs.length).values;
        truncatedObs.forEach((o, k) => (nextValue[o.i] = vo[k]));
      }
    }
    // Bootstrap the fragments' last steps from the observations the envs are at now.
    for (let i = 0; i < n; i++) x.set(this.obs[i], i * od);
    const last = this.forward(x, n).values;
    const advantages = new Float32Array(n * T);
    const valueTargets = new Float32Array(n * T);
    const cols = { rewards, values, ended, terminated, nextValue, advantages, valueTargets };
    for (let i = 0; i < n; i++) computeGae(cols, i * T, T, last[i], this.spec.gamma, this.spec.lambda);
    return {
      count: n * T,
      obsDim: od,
      actDim,
      obs,
      actions,
      logp,
      distInputs,
      values,
      advantages,
      valueTargets,
      episodeReturns,
      episodeLengths,
    };
  }

  /** Plays `episodes` whole episodes greedily (no exploration); returns their returns and lengths. */
  evaluate(weights: Float32Array, episodes: number, seed: number): { returns: number[]; lengths: number[] } {
    this.weights = weights;
    return playEpisodes(this.spec, this.obsSpace, episodes, seed, (o) =>
      this.envAction(this.choose(this.forward(o, 1).dist, 1, false).actions, 0),
    );
  }
}

/** Plays whole episodes of a fresh env with `act` choosing each action from the flat observation. */
export function playEpisodes(
  spec: { env: string; envConfig: Record<string, unknown> },
  obsSpace: Space,
  episodes: number,
  seed: number,
  act: (obs: Float32Array) => unknown,
): { returns: number[]; lengths: number[] } {
  const env = makeEnv(spec.env, spec.envConfig);
  const returns: number[] = [];
  const lengths: number[] = [];
  for (let e = 0; e < episodes; e++) {
    let o = flatten(obsSpace, env.reset({ seed: seed + e }).obs);
    let ret = 0;
    let len = 0;
    for (;;) {
      const r = env.step(act(o) as never);
      ret += r.reward;
      len++;
      o = flatten(obsSpace, r.obs);
      if (r.terminated || r.truncated) break;
    }
    returns.push(ret);
    lengths.push(len);
  }
  env.close?.();
  return { returns, lengths };
}

/** The batches' columns `keys`, each concatenated in order (the runners' batches as one). */
export function concatColumns<B extends Record<K, Float32Array>, K extends string>(
  bs: readonly B[],
  keys: readonly K[],
): Record<K, Float32Array> {
  const out = {} as Record<K, Float32Array>;
  for (const k of keys) {
    const col = new Float32Array(bs.reduce((n, b) => n + b[k].length, 0));
    let at = 0;
    for (const b of bs) {
      col.set(b[k], at);
      at += b[k].length;
    }
    out[k] = col;
  }
  return out;
}

/** @internal */
export const EnvRunner = remote(EnvRunnerActor);
/** @internal */
export type EnvRunnerMethods = EnvRunnerActor;
