/**
 * What an algorithm's iterations and evaluations report (`TrainResult`, `EvaluationResult`), what
 * its env runners return about episodes, and the windows of recent episodes the means run over.
 */

/** What `train()` returns (RLlib's result dict, in camelCase). */
export interface TrainResult {
  trainingIteration: number;
  /** Mean, min and max return of the last 100 episodes (NaN before the first ends). */
  episodeReturnMean: number;
  episodeReturnMin: number;
  episodeReturnMax: number;
  episodeLenMean: number;
  /** Episodes finished in this iteration. */
  numEpisodes: number;
  /**
   * Mean return of the episodes finished in this iteration (NaN if none). This is what RLlib 2.58
   * reports as `episode_return_mean`: its windowed means are cleared at every iteration, so its
   * window of 100 episodes holds one iteration's episodes. Noisier than `episodeReturnMean`.
   */
  iterationEpisodeReturnMean: number;
  numEnvStepsSampled: number;
  numEnvStepsSampledLifetime: number;
  numEnvStepsTrained: number;
  numEnvStepsTrainedLifetime: number;
  /** Seconds: this iteration, its sampling, its learning, and all iterations so far. */
  timeThisIterS: number;
  sampleTimeS: number;
  learnTimeS: number;
  timeTotalS: number;
  /** The learners' statistics; with several policies (multi-agent), keyed `policyId/stat`, e.g. `p0/policyLoss`. */
  learnerStats: Record<string, number>;
  /**
   * Multi-agent only: each policy's mean return over the last 100 episodes it acted in (the sum
   * of the rewards of the agents it acted for in an episode; RLlib's module episode returns).
   * `episodeReturnMean` and the others sum over all agents.
   */
  policyReturnMean?: Record<string, number>;
  /** Multi-agent only: each agent's mean return over the last 100 episodes it was in. */
  agentReturnMean?: Record<string, number>;
  /** Multi-agent only: agent steps sampled this iteration (each agent's step counts once). */
  numAgentStepsSampled?: number;
  /** The latest evaluation's results, when one ran in this iteration. */
  evaluation?: EvaluationResult;
}

/** What `evaluate()` returns: the greedy episodes' returns and lengths. */
export interface EvaluationResult {
  episodeReturnMean: number;
  episodeReturnMin: number;
  episodeReturnMax: number;
  episodeLenMean: number;
  numEpisodes: number;
  /** Multi-agent only: each policy's mean return over the evaluation's episodes. */
  policyReturnMean?: Record<string, number>;
}

/** What a runner returns about episodes besides their returns and lengths (multi-agent runners). */
export interface EpisodeStats {
  returns: number[];
  lengths: number[];
  /** Per policy (per agent): the returns of the episodes it was in. */
  policyReturns?: Record<string, number[]>;
  agentReturns?: Record<string, number[]>;
}

/** What every algorithm's env runners can do besides sampling: play greedy episodes. */
export interface EvaluatingRunner {
  evaluate(
    weights: Float32Array,
    episodes: number,
    seed: number,
  ): { returns: number[]; lengths: number[]; policyReturns?: Record<string, number[]> };
}

/** The mean of `xs`; NaN when there are none. */
export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Appends each key's new values to `recent`, keeping the last 100. */
export function keepRecent(recent: Record<string, number[]>, add: Record<string, number[]> | undefined): void {
  for (const [k, xs] of Object.entries(add ?? {})) recent[k] = [...(recent[k] ?? []), ...xs].slice(-100);
}
