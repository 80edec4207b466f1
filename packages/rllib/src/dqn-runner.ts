/**
 * DQN's env runners: actors that step their envs with epsilon-greedy actions from the Q-network
 * (forward pass in plain JavaScript over the learner's flat weights, see model.ts) and return
 * n-step transitions, ready for the replay buffer (see off-policy-runner.ts).
 */
import { remote, SeededRng } from '@ray-ts/core';
import { Discrete } from './env/spaces.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { mlpForward, mlpParamCount, type Activation } from './model.js';
import { playEpisodes } from './env-runner.js';
import { TransitionCollector, type CollectorSpec, type OffPolicySampleBatch } from './off-policy-runner.js';

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
export function qNetSpec(
  obsDim: number,
  numActions: number,
  hiddens: number[],
  activation: Activation,
  dueling: boolean,
): QNetSpec {
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
export interface DQNEnvRunnerSpec extends CollectorSpec {
  q: QNetSpec;
}

/** n-step transitions of one `sample()`, with the episodes that ended in it. */
export type DQNSampleBatch = OffPolicySampleBatch;

class DQNEnvRunnerActor {
  private readonly collector: TransitionCollector;
  private readonly numActions: number;
  private readonly rng: SeededRng;

  constructor(
    private readonly spec: DQNEnvRunnerSpec,
    index: number,
  ) {
    this.collector = new TransitionCollector(spec, index, 1);
    const space = this.collector.actionSpace;
    if (!(space instanceof Discrete))
      throw new RLlibInvalidArgumentError(
        `DQN needs a Discrete action space; env '${spec.env}' has ${space.constructor.name}.`,
      );
    this.numActions = space.n;
    this.rng = new SeededRng(spec.seed * 7919 + index * 104729 + 17);
  }

  /**
   * Steps every env `steps` times with epsilon-greedy actions of the Q-network `weights`; returns
   * the n-step transitions completed meanwhile.
   */
  sample(weights: Float32Array, steps: number, epsilon: number): DQNSampleBatch {
    const n = this.numActions;
    return this.collector.collect(
      steps,
      (x, rows) => {
        const q = qForward(this.spec.q, weights, x, rows);
        const acts = new Float32Array(rows);
        for (let i = 0; i < rows; i++) acts[i] = this.rng.next() < epsilon ? this.rng.int(n) : argmax(q, i * n, n);
        return acts;
      },
      (acts, i) => acts[i],
    );
  }

  /** Plays `episodes` whole episodes greedily (argmax Q); returns their returns and lengths. */
  evaluate(weights: Float32Array, episodes: number, seed: number): { returns: number[]; lengths: number[] } {
    return playEpisodes(this.spec, this.collector.obsSpace, episodes, seed, (o) =>
      argmax(qForward(this.spec.q, weights, o, 1), 0, this.numActions),
    );
  }
}

/** @internal */
export const DQNEnvRunner = remote(DQNEnvRunnerActor);
/** @internal */
export type DQNEnvRunnerMethods = DQNEnvRunnerActor;
