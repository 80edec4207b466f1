/**
 * What the classic-control envs share: seeding, `reset` options (an exact start `state`, or
 * Gymnasium's `low`/`high` bounds), the built-in time limit (Gymnasium's `TimeLimit` wrapper that
 * `gymnasium.make` adds) and call-order checks.
 */
import { SeededRng } from '@ray-ts/core';
import { RLlibInvalidArgumentError } from '../errors.js';
import type { Space } from '../spaces.js';
import type { Env, Info, ResetResult, StepResult } from '../types.js';

/** Config of every classic-control env (what `makeEnv(name, config)` passes on). */
export interface ClassicControlConfig {
  /**
   * Steps after which an episode is truncated (`truncated: true`), as Gymnasium's `TimeLimit`.
   * Defaults to Gymnasium's registration: CartPole-v1 500, MountainCar-v0 200, Acrobot-v1 500,
   * Pendulum-v1 200. `Infinity` turns the limit off.
   */
  maxEpisodeSteps?: number;
}

/** The argument of `reset`. */
export interface ResetOptions {
  /** Reseeds the env's generator; the start state is then the same on every run. */
  seed?: number;
  /**
   * `state`: the exact start state (numbers, the env's `stateNames` in order), instead of a random
   * one. `low` / `high`: the bounds of the uniform start distribution, as Gymnasium's options
   * (for Pendulum: `x_init` / `y_init`).
   */
  options?: Record<string, unknown>;
}

/** Reads Gymnasium's `low`/`high` reset options (`utils.maybe_parse_reset_bounds`). */
export function resetBounds(
  envId: string,
  options: Record<string, unknown> | undefined,
  low: number,
  high: number,
): [number, number] {
  const read = (key: string, def: number): number => {
    if (options === undefined || !(key in options)) return def;
    const v = Number(options[key]);
    if (!Number.isFinite(v)) {
      throw new RLlibInvalidArgumentError(
        `${envId}: reset option ${key} = ${String(options[key])} is not a finite number.`,
      );
    }
    return v;
  };
  const lo = read('low', low);
  const hi = read('high', high);
  if (lo > hi)
    throw new RLlibInvalidArgumentError(`${envId}: reset option low (${lo}) must not be above high (${hi}).`);
  return [lo, hi];
}

/**
 * The base of the classic-control envs: holds the float64 physical state, the seeded generator
 * and the step count. Subclasses give the start distribution, the dynamics and the observation.
 */
export abstract class ClassicControlEnv<A> implements Env<Float32Array, A> {
  abstract readonly observationSpace: Space;
  abstract readonly actionSpace: Space;
  /** Steps after which an episode is truncated (see {@link ClassicControlConfig}). */
  readonly maxEpisodeSteps: number;
  protected readonly rng = new SeededRng();
  protected state: Float64Array | null = null;
  private elapsedSteps = 0;
  private episodeOver = false;

  constructor(
    /** The registered name, e.g. 'CartPole-v1', used in error messages. */
    readonly id: string,
    /** Names of the physical state's components, in the order of `getState()` and `options.state`. */
    readonly stateNames: readonly string[],
    defaultMaxEpisodeSteps: number,
    config: ClassicControlConfig = {},
  ) {
    const max = config.maxEpisodeSteps ?? defaultMaxEpisodeSteps;
    if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) {
      throw new RLlibInvalidArgumentError(
        `${id}: maxEpisodeSteps must be a positive integer or Infinity, got ${String(config.maxEpisodeSteps)}.`,
      );
    }
    this.maxEpisodeSteps = max;
  }

  /** A random start state from the env's generator. */
  protected abstract sampleState(options: Record<string, unknown> | undefined): Float64Array;
  /** Advances `this.state` by one step; returns the reward and whether the new state is terminal. */
  protected abstract dynamics(action: A): { reward: number; terminated: boolean };
  /** The observation of `this.state` (float32, as Gymnasium returns it). */
  protected abstract observe(): Float32Array;
  /** Throws unless `action` is a valid action. */
  protected abstract checkAction(action: unknown): asserts action is A;

  /**
   * Starts an episode. `seed` reseeds the generator (left out, the stream continues; the first
   * reset of an unseeded env draws a random seed). `options.state` starts from that exact state.
   * @throws RLlibInvalidArgumentError when `seed` or `options` are invalid.
   */
  reset(opts: ResetOptions = {}): ResetResult<Float32Array> {
    if (opts.seed !== undefined) this.rng.seed(opts.seed);
    const given = opts.options?.state;
    if (given !== undefined) {
      const n = this.stateNames.length;
      const arr = ArrayBuffer.isView(given) ? Array.from(given as unknown as ArrayLike<number>) : given;
      if (!Array.isArray(arr) || arr.length !== n || !arr.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new RLlibInvalidArgumentError(
          `${this.id}: reset options.state must be ${n} finite numbers [${this.stateNames.join(', ')}], got ${JSON.stringify(given)}.`,
        );
      }
      this.state = Float64Array.from(arr as number[]);
    } else {
      this.state = this.sampleState(opts.options);
    }
    this.elapsedSteps = 0;
    this.episodeOver = false;
    return { obs: this.observe(), info: {} };
  }

  /**
   * Advances one step. `truncated` is true once `maxEpisodeSteps` steps were taken (it may come
   * together with `terminated`, as in Gymnasium).
   * @throws RLlibInvalidArgumentError before the first `reset()`, after the episode ended
   *   (terminated or truncated: call `reset()`), or for an action outside `actionSpace`.
   */
  step(action: A): StepResult<Float32Array> {
    if (this.state === null) {
      throw new RLlibInvalidArgumentError(
        `${this.id}: step() was called before reset(). Call reset() first to start an episode.`,
      );
    }
    if (this.episodeOver) {
      throw new RLlibInvalidArgumentError(
        `${this.id}: step() was called after the episode ended (terminated or truncated). Call reset() to start a new episode.`,
      );
    }
    this.checkAction(action);
    const { reward, terminated } = this.dynamics(action);
    this.elapsedSteps++;
    const truncated = this.elapsedSteps >= this.maxEpisodeSteps;
    this.episodeOver = terminated || truncated;
    const info: Info = {};
    return { obs: this.observe(), reward, terminated, truncated, info };
  }

  /** The float64 physical state (components named by `stateNames`), or null before `reset()`. */
  getState(): number[] | null {
    return this.state === null ? null : Array.from(this.state);
  }

  /** Steps taken in the current episode. */
  get elapsed(): number {
    return this.elapsedSteps;
  }

  close(): void {}
}

/** The error for a discrete action outside `Discrete(n)`. */
export function checkDiscreteAction(envId: string, n: number, action: unknown): asserts action is number {
  if (typeof action !== 'number' || !Number.isInteger(action) || action < 0 || action >= n) {
    throw new RLlibInvalidArgumentError(
      `${envId}: action ${String(action)} is not in Discrete(${n}); pass an integer in [0, ${n}).`,
    );
  }
}

/** `np.clip` of a scalar. */
export function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}
