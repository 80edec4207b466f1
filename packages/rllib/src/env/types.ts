/**
 * The Gymnasium-style environment API of @ray-ts/rllib: `reset({ seed })` -> `{ obs, info }`,
 * `step(action)` -> `{ obs, reward, terminated, truncated, info }`, with observation and action
 * spaces. Observations and actions of Box spaces are Float32Arrays (Float64Array accepted),
 * of Discrete spaces integers.
 */
import type { Space } from './spaces.js';

export type Info = Record<string, unknown>;

export interface ResetResult<O> {
  obs: O;
  info: Info;
}

export interface StepResult<O> {
  obs: O;
  reward: number;
  /** The episode ended in a terminal state (no bootstrap). */
  terminated: boolean;
  /** The episode was cut short (time limit): bootstrap from `obs`. */
  truncated: boolean;
  info: Info;
}

/** A single-agent environment (Gymnasium's `Env`). */
export interface Env<O = unknown, A = unknown> {
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  reset(options?: { seed?: number; options?: Record<string, unknown> }): ResetResult<O>;
  step(action: A): StepResult<O>;
  close?(): void;
}

/** Makes an env from its config (what `registerEnv` takes). */
export type EnvCreator = (config: Record<string, unknown>) => Env;
