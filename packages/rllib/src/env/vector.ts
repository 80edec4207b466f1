/**
 * `VectorEnv`: N copies of an env stepped together, with automatic reset, for env runners that
 * batch their policy's forward pass.
 */
import { RLlibInvalidArgumentError } from './errors.js';
import { makeEnv } from './registry.js';
import type { Space } from './spaces.js';
import type { Env, EnvCreator, Info } from './types.js';

/** Options of {@link VectorEnv}. */
export interface VectorEnvOptions {
  /** How many copies (at least 1). */
  numEnvs: number;
  /** The config each copy's creator gets (default `{}`). */
  config?: Record<string, unknown>;
}

/** What `VectorEnv.reset` returns: one observation and info per copy. */
export interface VectorResetResult<O> {
  obs: O[];
  infos: Info[];
}

/**
 * What `VectorEnv.step` returns, one entry per copy. Where copy `i`'s episode ended on this step
 * (`terminateds[i] || truncateds[i]`), `rewards[i]` and the flags are those of the final step,
 * `infos[i].finalObs` / `infos[i].finalInfo` are that step's observation and info, and `obs[i]`
 * is already the first observation of the next episode (the copy was reset).
 */
export interface VectorStepResult<O> {
  obs: O[];
  rewards: number[];
  terminateds: boolean[];
  truncateds: boolean[];
  infos: Info[];
}

/**
 * N copies of one env, stepped together, each reset automatically when its episode ends.
 *
 * Semantics, exactly: `reset({ seed })` resets copy `i` with `seed + i` (without a seed, each copy
 * continues its own generator; an unseeded copy starts from a random seed). `step(actions)`
 * steps copy `i` with `actions[i]`; when that step ends the episode (terminated or truncated), the
 * copy is reset at once (without a seed: its generator continues) and the step's result for `i`
 * carries the final step's reward and flags, `infos[i].finalObs` and `infos[i].finalInfo` (the
 * final step's observation and info; the reset's info fields are merged in), and the new
 * episode's first observation in `obs[i]`. So every `step` takes exactly one action per copy,
 * and there is no separate "reset step" (unlike Gymnasium 1.0's default next-step autoreset).
 *
 * @example
 * ```ts
 * const venv = new VectorEnv('CartPole-v1', { numEnvs: 4 });
 * let { obs } = venv.reset({ seed: 0 });
 * const r = venv.step(obs.map(() => 1));
 * r.obs;   // 4 observations, reset copies included
 * ```
 */
export class VectorEnv<O = unknown, A = unknown> {
  /** The copies, in order. */
  readonly envs: readonly Env<O, A>[];
  readonly numEnvs: number;
  /** The observation space of one copy. */
  readonly singleObservationSpace: Space;
  /** The action space of one copy. */
  readonly singleActionSpace: Space;
  private resetDone = false;

  /**
   * @param env - A registered env name (see `registerEnv`) or a creator.
   * @throws RLlibInvalidArgumentError when `numEnvs` is not a positive integer, the name is not
   *   registered, or the env is multi-agent.
   */
  constructor(env: string | EnvCreator, options: VectorEnvOptions) {
    const n = options?.numEnvs;
    if (!Number.isInteger(n) || n < 1) {
      throw new RLlibInvalidArgumentError(`VectorEnv: numEnvs must be a positive integer, got ${String(n)}.`);
    }
    const config = options.config ?? {};
    const envs: Env<O, A>[] = [];
    for (let i = 0; i < n; i++) {
      const e = typeof env === 'string' ? makeEnv<Env>(env, config) : env(config);
      if (
        typeof e !== 'object' ||
        e === null ||
        typeof e.step !== 'function' ||
        typeof e.reset !== 'function' ||
        e.observationSpace === undefined
      ) {
        throw new RLlibInvalidArgumentError(
          `VectorEnv: ${typeof env === 'string' ? `env '${env}'` : 'the creator'} did not make a single-agent Env ` +
            `(reset, step, observationSpace, actionSpace); a VectorEnv cannot hold multi-agent envs.`,
        );
      }
      envs.push(e as Env<O, A>);
    }
    this.envs = Object.freeze(envs);
    this.numEnvs = n;
    this.singleObservationSpace = envs[0].observationSpace;
    this.singleActionSpace = envs[0].actionSpace;
  }

  /** Resets every copy; copy `i` gets seed `seed + i` when `seed` is given. */
  reset(options: { seed?: number; options?: Record<string, unknown> } = {}): VectorResetResult<O> {
    const obs: O[] = [];
    const infos: Info[] = [];
    this.envs.forEach((e, i) => {
      const r = e.reset({ seed: options.seed === undefined ? undefined : options.seed + i, options: options.options });
      obs.push(r.obs);
      infos.push(r.info);
    });
    this.resetDone = true;
    return { obs, infos };
  }

  /**
   * Steps every copy with its action, resetting those whose episode ended (see the class doc).
   * @throws RLlibInvalidArgumentError before `reset()`, or when `actions` does not hold exactly
   *   `numEnvs` actions.
   */
  step(actions: readonly A[]): VectorStepResult<O> {
    if (!this.resetDone) {
      throw new RLlibInvalidArgumentError('VectorEnv: step() was called before reset(). Call reset() first.');
    }
    if (!Array.isArray(actions) || actions.length !== this.numEnvs) {
      throw new RLlibInvalidArgumentError(
        `VectorEnv: step() needs one action per copy (${this.numEnvs}), got ${Array.isArray(actions) ? actions.length : typeof actions}.`,
      );
    }
    const out: VectorStepResult<O> = { obs: [], rewards: [], terminateds: [], truncateds: [], infos: [] };
    this.envs.forEach((e, i) => {
      const r = e.step(actions[i]);
      out.rewards.push(r.reward);
      out.terminateds.push(r.terminated);
      out.truncateds.push(r.truncated);
      if (r.terminated || r.truncated) {
        const next = e.reset();
        out.obs.push(next.obs);
        out.infos.push({ ...next.info, finalObs: r.obs, finalInfo: r.info });
      } else {
        out.obs.push(r.obs);
        out.infos.push(r.info);
      }
    });
    return out;
  }

  /** Closes every copy. */
  close(): void {
    for (const e of this.envs) e.close?.();
  }
}
