/**
 * Algorithm: what `config.build()` returns (RLlib's `Algorithm`). `train()` runs one iteration
 * (sample with the env runners, update with the learners) and returns its result; `evaluate()`
 * plays greedy episodes; `save(dir)` / `Algorithm.fromCheckpoint(dir)` write and read its state;
 * `computeSingleAction(obs)` runs the policy in this thread; `stop()` ends its actors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { init, isInitialized, kill, type ActorHandle } from '@ray-ts/core';
import type { AlgorithmConfig } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import { makeEnv } from './env/registry.js';
import { flatDim, flatten, type Space } from './env/spaces.js';
import { actionInfo, type EnvRunnerSpec } from './env-runner.js';
import { mlpForward, sampleCategorical, type MlpSpec } from './model.js';

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
  numEnvStepsSampled: number;
  numEnvStepsSampledLifetime: number;
  numEnvStepsTrained: number;
  numEnvStepsTrainedLifetime: number;
  /** Seconds: this iteration, its sampling, its learning, and all iterations so far. */
  timeThisIterS: number;
  sampleTimeS: number;
  learnTimeS: number;
  timeTotalS: number;
  learnerStats: Record<string, number>;
  /** The latest evaluation's results, when one ran in this iteration. */
  evaluation?: EvaluationResult;
}

export interface EvaluationResult {
  episodeReturnMean: number;
  episodeReturnMin: number;
  episodeReturnMax: number;
  episodeLenMean: number;
  numEpisodes: number;
}

/** The policy and value networks of an env's spaces. */
export function networks(obsDim: number, action: ReturnType<typeof actionInfo>, hiddens: number[], activation: 'tanh' | 'relu'): { pi: MlpSpec; vf: MlpSpec } {
  const out = action.kind === 'categorical' ? action.n : 2 * action.dims;
  return {
    pi: { sizes: [obsDim, ...hiddens, out], activation },
    vf: { sizes: [obsDim, ...hiddens, 1], activation },
  };
}

/** What every algorithm's env runners can do besides sampling: play greedy episodes. */
export interface EvaluatingRunner {
  evaluate(weights: Float32Array, episodes: number, seed: number): { returns: number[]; lengths: number[] };
}

const STATE_FILE = 'algorithm_state.json';

/** Config makers by algorithm name, for fromCheckpoint (each algorithm's module registers its own). */
const configMakers = new Map<string, () => AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm }>();

/** @internal A config from its toJSON() form. */
export function makeConfig(j: Record<string, unknown>): AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm } {
  const make = configMakers.get(j.algo as string);
  if (!make) throw new RLlibInvalidArgumentError(`Unknown algorithm '${String(j.algo)}': import it from @ray-ts/rllib.`);
  return make().fromJSON(j);
}

/** A fresh config of the algorithm named `name` (PPO, DQN...), with its defaults. */
export function configFor(name: string): AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm } {
  const make = configMakers.get(name);
  if (!make) throw new RLlibInvalidArgumentError(`Unknown algorithm '${name}'. Known: ${[...configMakers.keys()].join(', ')}.`);
  return make();
}

/** @internal */
export function registerAlgorithm(name: string, make: () => AlgorithmConfig<Record<string, unknown>> & { build(): Algorithm }): void {
  configMakers.set(name, make);
}
const WEIGHTS_FILE = 'weights.bin';

export abstract class Algorithm<C extends AlgorithmConfig<Record<string, unknown>> = AlgorithmConfig<Record<string, unknown>>> {
  protected runners: ActorHandle<EvaluatingRunner>[] = [];
  protected iteration = 0;
  protected stepsSampled = 0;
  protected stepsTrained = 0;
  protected timeTotalS = 0;
  protected recentReturns: number[] = [];
  protected recentLengths: number[] = [];
  protected weights: Float32Array | undefined;
  protected started = false;
  protected stopped = false;
  protected readonly obsSpace: Space;
  protected readonly action: ReturnType<typeof actionInfo>;
  protected readonly obsDim: number;
  protected readonly nets: { pi: MlpSpec; vf: MlpSpec };

  /** @internal Use `config.build()`. */
  constructor(readonly config: C) {
    config.validate();
    // The env's spaces, from one copy made here (this also checks the name is registered).
    const env = makeEnv(config.envName!, config.envConfig);
    this.obsSpace = env.observationSpace;
    this.action = actionInfo(env.actionSpace);
    env.close?.();
    this.obsDim = flatDim(this.obsSpace);
    const model = (config.train.model ?? {}) as { hiddens?: number[]; activation?: 'tanh' | 'relu' };
    this.nets = networks(this.obsDim, this.action, model.hiddens ?? [64, 64], model.activation ?? 'tanh');
  }

  protected runnerSpec(): EnvRunnerSpec {
    const t = this.config.train as { gamma?: number; lambda?: number };
    return {
      env: this.config.envName!, envConfig: this.config.envConfig, numEnvs: this.config.runners.numEnvsPerEnvRunner,
      seed: this.config.seed, pi: this.nets.pi, vf: this.nets.vf, gamma: t.gamma ?? 0.99, lambda: t.lambda ?? 1,
    };
  }

  /** Starts the actors on first use. */
  protected async start(): Promise<void> {
    if (this.stopped) throw new RLlibInvalidArgumentError('This algorithm was stopped: build a new one (config.build()) or restore one (Algorithm.fromCheckpoint(dir)).');
    if (this.started) return;
    if (!isInitialized()) await init();
    await this.checkFits();
    this.started = true;
    this.runners = this.createRunners();
    await this.startLearners();
  }

  /** Fails at once, saying what to lower, when the cluster could never hold the actors (they would wait forever). */
  protected async checkFits(): Promise<void> {
    const { clusterResources, getRuntimeContext } = await import('@ray-ts/core');
    if (getRuntimeContext().placementGroupId) return; // a Tune trial: its group was sized for this
    const r = this.config.runners;
    const l = this.config.learnerActors();
    const need = r.numEnvRunners * r.numCpusPerEnvRunner + l.count * l.cpus;
    const have = (await clusterResources()).CPU ?? 0;
    if (need > have + 1e-9) {
      throw new RLlibInvalidArgumentError(
        `${this.config.algoName} needs ${need} CPUs (${r.numEnvRunners} env runners × ${r.numCpusPerEnvRunner}` +
          `${l.cpus ? ` + ${l.count} learners × ${l.cpus}` : ''}) but the cluster has ${have}. ` +
          `Lower envRunners({ numEnvRunners, numCpusPerEnvRunner }) or learners({ numCpusPerLearner }), or add CPUs.`,
      );
    }
  }

  /** The algorithm's env runner actors (`numEnvRunners` of them). */
  protected abstract createRunners(): ActorHandle<EvaluatingRunner>[];
  /** Floats of the weights the runners read (checked when restoring). */
  protected abstract weightCount(): number;
  protected abstract startLearners(): Promise<void>;
  protected abstract stopLearners(): Promise<void>;
  /** One iteration's sampling and learning; returns its step counts, timings and learner stats. */
  protected abstract trainingStep(): Promise<{ sampled: number; trained: number; episodes: { returns: number[]; lengths: number[] }; sampleS: number; learnS: number; stats: Record<string, number> }>;
  /** The learners' state, for checkpoints. */
  protected abstract learnerState(): Promise<Record<string, unknown>>;
  protected abstract setLearnerState(s: Record<string, unknown>): Promise<void>;

  /** Runs one training iteration and returns its result. */
  async train(): Promise<TrainResult> {
    await this.start();
    const t0 = performance.now();
    const step = await this.trainingStep();
    this.iteration++;
    this.stepsSampled += step.sampled;
    this.stepsTrained += step.trained;
    this.recentReturns.push(...step.episodes.returns);
    this.recentLengths.push(...step.episodes.lengths);
    this.recentReturns = this.recentReturns.slice(-100);
    this.recentLengths = this.recentLengths.slice(-100);
    const thisIter = (performance.now() - t0) / 1000;
    this.timeTotalS += thisIter;
    const result: TrainResult = {
      trainingIteration: this.iteration,
      episodeReturnMean: mean(this.recentReturns),
      episodeReturnMin: this.recentReturns.length ? Math.min(...this.recentReturns) : NaN,
      episodeReturnMax: this.recentReturns.length ? Math.max(...this.recentReturns) : NaN,
      episodeLenMean: mean(this.recentLengths),
      numEpisodes: step.episodes.returns.length,
      numEnvStepsSampled: step.sampled,
      numEnvStepsSampledLifetime: this.stepsSampled,
      numEnvStepsTrained: step.trained,
      numEnvStepsTrainedLifetime: this.stepsTrained,
      timeThisIterS: thisIter,
      sampleTimeS: step.sampleS,
      learnTimeS: step.learnS,
      timeTotalS: this.timeTotalS,
      learnerStats: step.stats,
    };
    const every = this.config.evaluationOpts.evaluationInterval;
    if (every > 0 && this.iteration % every === 0) result.evaluation = await this.evaluate();
    return result;
  }

  /** Plays `evaluationDuration` greedy episodes on the env runners. */
  async evaluate(): Promise<EvaluationResult> {
    await this.start();
    const n = this.config.evaluationOpts.evaluationDuration;
    const per = Math.ceil(n / this.runners.length);
    const { get } = await import('@ray-ts/core');
    const parts = await get(this.runners.map((r, i) => r.evaluate.remote(this.weights!, Math.min(per, Math.max(0, n - i * per)), 1_000_000 + this.iteration * 1000 + i * per)));
    const returns = parts.flatMap((p) => p.returns);
    const lengths = parts.flatMap((p) => p.lengths);
    return { episodeReturnMean: mean(returns), episodeReturnMin: Math.min(...returns), episodeReturnMax: Math.max(...returns), episodeLenMean: mean(lengths), numEpisodes: returns.length };
  }

  /** The policy's action for one observation, computed here (greedy unless `explore`). */
  computeSingleAction(obs: unknown, opts: { explore?: boolean } = {}): number | Float32Array {
    if (!this.weights) throw new RLlibInvalidArgumentError('computeSingleAction() needs weights: call train() first, or restore a checkpoint (Algorithm.fromCheckpoint(dir)).');
    const x = flatten(this.obsSpace, obs as never);
    if (x.length !== this.obsDim) throw new RLlibInvalidArgumentError(`computeSingleAction(): the observation has ${x.length} values, the env's observation space ${this.obsDim}.`);
    const out = mlpForward(this.nets.pi, this.weights, 0, x, 1);
    const a = this.action;
    if (a.kind === 'categorical') return sampleCategorical(out, 0, a.n, Math.random(), opts.explore === true).action;
    const act = new Float32Array(a.dims);
    for (let d = 0; d < a.dims; d++) {
      const z = opts.explore ? Math.sqrt(-2 * Math.log(Math.random() + 1e-12)) * Math.cos(2 * Math.PI * Math.random()) : 0;
      act[d] = Math.min(a.high[d], Math.max(a.low[d], out[d] + Math.exp(out[a.dims + d]) * z));
    }
    return act;
  }

  /** Writes the algorithm's state (config, counters, weights, learner state) into `dir`; returns `dir`. */
  async save(dir: string): Promise<string> {
    await this.start();
    const out = path.resolve(dir);
    fs.mkdirSync(out, { recursive: true });
    const learner = await this.learnerState();
    const { weights, ...rest } = learner as { weights?: Float32Array };
    fs.writeFileSync(path.join(out, WEIGHTS_FILE), Buffer.from((weights ?? this.weights!).buffer, (weights ?? this.weights!).byteOffset, (weights ?? this.weights!).byteLength));
    fs.writeFileSync(path.join(out, STATE_FILE), JSON.stringify({
      format: 'ray-ts-rllib-1', config: this.config.toJSON(), iteration: this.iteration, stepsSampled: this.stepsSampled, stepsTrained: this.stepsTrained,
      timeTotalS: this.timeTotalS, recentReturns: this.recentReturns, recentLengths: this.recentLengths, learner: rest,
    }, null, 1));
    return out;
  }

  /** @internal Reads what save() wrote. */
  async restoreFrom(dir: string): Promise<void> {
    const s = readState(dir);
    await this.start();
    const bytes = fs.readFileSync(path.join(dir, WEIGHTS_FILE));
    const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    if (weights.length !== this.weightCount()) {
      throw new RLlibInvalidArgumentError(`Checkpoint ${dir} holds ${weights.length} weights, but this config's networks have ${this.weightCount()}.`);
    }
    this.iteration = s.iteration;
    this.stepsSampled = s.stepsSampled;
    this.stepsTrained = s.stepsTrained;
    this.timeTotalS = s.timeTotalS;
    this.recentReturns = s.recentReturns;
    this.recentLengths = s.recentLengths;
    await this.setLearnerState({ ...(s.learner as Record<string, unknown>), weights });
    this.weights = weights;
  }

  /** An algorithm restored from `algo.save(dir)`: same config, weights, counters and learner state. */
  static async fromCheckpoint(dir: string): Promise<Algorithm> {
    const s = readState(dir);
    const algo = makeConfig(s.config).build();
    await algo.restoreFrom(dir);
    return algo;
  }

  /** Stops the env runners and learners. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.started) return;
    await Promise.all(this.runners.map((r) => kill(r).catch(() => undefined)));
    await this.stopLearners();
  }
}

/** @internal */
export function readState(dir: string): { config: Record<string, unknown>; iteration: number; stepsSampled: number; stepsTrained: number; timeTotalS: number; recentReturns: number[]; recentLengths: number[]; learner: unknown } {
  const f = path.join(dir, STATE_FILE);
  if (!fs.existsSync(f)) throw new RLlibInvalidArgumentError(`${dir} is not an algorithm checkpoint (no ${STATE_FILE}): pass a folder written by algo.save(dir).`);
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
