/**
 * SAC's env runners: actors that step their envs with actions sampled from the squashed Gaussian
 * policy (forward pass in plain JavaScript over the learner's flat policy weights, see model.ts)
 * and return n-step transitions for the replay buffer (see off-policy-runner.ts). Actions are
 * stored as the policy makes them, in [-1, 1]; the env gets them scaled to its Box bounds.
 */
import { remote, SeededRng } from '@ray-ts/core';
import { playEpisodes } from './env-runner.js';
import { mlpForward, type MlpSpec } from './model.js';
import { TransitionCollector, type CollectorSpec, type OffPolicySampleBatch } from './off-policy-runner.js';

/** log(std) of SAC's policy is clipped to this range (as RLlib's and the SAC paper's code). */
export const LOG_STD_MIN = -20;
export const LOG_STD_MAX = 2;

/** How a SAC env runner is set up (built by the algorithm from its config). */
export interface SACEnvRunnerSpec extends CollectorSpec {
  /** The policy: `[obsDim, ...hiddens, 2 × actDim]` (means, then log standard deviations). */
  pi: MlpSpec;
  /** The action Box's bounds. */
  low: Float32Array;
  high: Float32Array;
}

/**
 * Actions in [-1, 1] of `rows` observations: `tanh(mean + std × z)` with `z ~ N(0, 1)` from `rng`,
 * or `tanh(mean)` without one (greedy).
 */
export function squashedGaussianActions(
  pi: MlpSpec,
  w: Float32Array,
  x: Float32Array,
  rows: number,
  rng: SeededRng | undefined,
): Float32Array {
  const out = mlpForward(pi, w, 0, x, rows);
  const d = pi.sizes[pi.sizes.length - 1] / 2;
  const acts = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) {
      const mean = out[r * 2 * d + j];
      const logStd = Math.min(LOG_STD_MAX, Math.max(LOG_STD_MIN, out[r * 2 * d + d + j]));
      acts[r * d + j] = Math.tanh(rng ? mean + Math.exp(logStd) * rng.normal() : mean);
    }
  }
  return acts;
}

/** Row `i`'s action in [-1, 1] scaled to the Box `[low, high]`. */
export function scaleAction(acts: Float32Array, i: number, low: Float32Array, high: Float32Array): Float32Array {
  const d = low.length;
  const out = new Float32Array(d);
  for (let j = 0; j < d; j++) out[j] = low[j] + ((acts[i * d + j] + 1) / 2) * (high[j] - low[j]);
  return out;
}

class SACEnvRunnerActor {
  private readonly collector: TransitionCollector;
  private readonly rng: SeededRng;

  constructor(
    private readonly spec: SACEnvRunnerSpec,
    index: number,
  ) {
    this.collector = new TransitionCollector(spec, index, spec.low.length);
    this.rng = new SeededRng(spec.seed * 7919 + index * 104729 + 23);
  }

  /** Steps every env `steps` times with the policy `weights`, exploring; returns the n-step transitions completed meanwhile. */
  sample(weights: Float32Array, steps: number): OffPolicySampleBatch {
    return this.collector.collect(
      steps,
      (x, rows) => squashedGaussianActions(this.spec.pi, weights, x, rows, this.rng),
      (acts, i) => scaleAction(acts, i, this.spec.low, this.spec.high),
    );
  }

  /** Plays `episodes` whole episodes with the policy's mean actions; returns their returns and lengths. */
  evaluate(weights: Float32Array, episodes: number, seed: number): { returns: number[]; lengths: number[] } {
    return playEpisodes(this.spec, this.collector.obsSpace, episodes, seed, (o) =>
      scaleAction(squashedGaussianActions(this.spec.pi, weights, o, 1, undefined), 0, this.spec.low, this.spec.high),
    );
  }
}

/** @internal */
export const SACEnvRunner = remote(SACEnvRunnerActor);
/** @internal */
export type SACEnvRunnerMethods = SACEnvRunnerActor;
