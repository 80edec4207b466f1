/**
 * Multi-agent environments, as RLlib's `MultiAgentEnv`: observations, rewards, `terminateds`,
 * `truncateds` and infos are records keyed by agent id, and `terminateds.__all__` /
 * `truncateds.__all__` say whether the whole episode is over.
 */
import { CartPoleEnv } from './classic/cartpole.js';
import { checkDiscreteAction } from './classic/base.js';
import type { ClassicControlConfig } from './classic/base.js';
import { RLlibInvalidArgumentError } from './errors.js';
import type { Space } from './spaces.js';
import type { Info } from './types.js';

/** An agent's id. */
export type AgentId = string;

/** A record keyed by agent id. */
export type MultiAgentDict<T> = Record<AgentId, T>;

/** `terminateds` / `truncateds`: one flag per agent that stepped, plus `__all__` for the episode. */
export type MultiAgentDoneDict = Record<AgentId, boolean> & { __all__: boolean };

/** What `MultiAgentEnv.reset` returns: an observation (and info) per agent that acts first. */
export interface MultiAgentResetResult<O> {
  obs: MultiAgentDict<O>;
  infos: MultiAgentDict<Info>;
}

/**
 * What `MultiAgentEnv.step` returns. `obs`, `rewards`, `terminateds`, `truncateds` and `infos`
 * hold the agents that stepped (for an agent that just finished, its final observation); the
 * agents to give actions to next are the env's `agents`. The episode is over when
 * `terminateds.__all__ || truncateds.__all__`.
 */
export interface MultiAgentStepResult<O> {
  obs: MultiAgentDict<O>;
  rewards: MultiAgentDict<number>;
  terminateds: MultiAgentDoneDict;
  truncateds: MultiAgentDoneDict;
  infos: MultiAgentDict<Info>;
}

/**
 * A multi-agent environment (RLlib's `MultiAgentEnv`). Agents that finish drop out of `agents`
 * and get no more actions; `possibleAgents` lists every agent that can ever appear.
 */
export interface MultiAgentEnv<O = unknown, A = unknown> {
  /** Every agent id that may appear in an episode. */
  readonly possibleAgents: readonly AgentId[];
  /** The agents still active in the current episode (empty before `reset`). */
  readonly agents: readonly AgentId[];
  /** Each possible agent's observation space. */
  readonly observationSpaces: Readonly<Record<AgentId, Space>>;
  /** Each possible agent's action space. */
  readonly actionSpaces: Readonly<Record<AgentId, Space>>;
  reset(options?: { seed?: number; options?: Record<string, unknown> }): MultiAgentResetResult<O>;
  /** Steps the agents given actions; `actions` holds one action per agent that got an observation. */
  step(actions: MultiAgentDict<A>): MultiAgentStepResult<O>;
  close?(): void;
}

/** Makes a multi-agent env from its config (what `registerEnv` takes for multi-agent envs). */
export type MultiAgentEnvCreator = (config: Record<string, unknown>) => MultiAgentEnv;

/** Whether `env` is a {@link MultiAgentEnv} (it has `possibleAgents` and per-agent spaces) rather than an `Env`. */
export function isMultiAgentEnv(env: unknown): env is MultiAgentEnv {
  return (
    typeof env === 'object' &&
    env !== null &&
    Array.isArray((env as MultiAgentEnv).possibleAgents) &&
    typeof (env as MultiAgentEnv).observationSpaces === 'object' &&
    typeof (env as MultiAgentEnv).step === 'function'
  );
}

/** Config of {@link MultiAgentCartPole}. */
export interface MultiAgentCartPoleConfig extends ClassicControlConfig {
  /** How many agents, each with its own CartPole (default 2). */
  numAgents?: number;
}

/**
 * Independent CartPole-v1 envs, one per agent (ids `agent_0`, `agent_1`, ...), as RLlib's
 * `MultiAgentCartPole`: each agent sees and moves only its own cart. An agent whose pole falls
 * (or hits the time limit) drops out; the episode ends when every agent is done:
 * `terminateds.__all__` when all terminated, `truncateds.__all__` when all are done and at least
 * one was truncated. `reset({ seed })` seeds agent `i`'s CartPole with `seed + i`.
 *
 * @example
 * ```ts
 * const env = new MultiAgentCartPole({ numAgents: 2 });
 * const { obs } = env.reset({ seed: 0 });
 * const r = env.step({ agent_0: 1, agent_1: 0 });
 * ```
 */
export class MultiAgentCartPole implements MultiAgentEnv<Float32Array, number> {
  readonly possibleAgents: readonly AgentId[];
  readonly observationSpaces: Readonly<Record<AgentId, Space>>;
  readonly actionSpaces: Readonly<Record<AgentId, Space>>;
  private readonly envs: ReadonlyMap<AgentId, CartPoleEnv>;
  private active: AgentId[] = [];
  private readonly terminated = new Set<AgentId>();
  private readonly truncated = new Set<AgentId>();

  /** @throws RLlibInvalidArgumentError when `numAgents` is not a positive integer. */
  constructor(config: MultiAgentCartPoleConfig = {}) {
    const n = config.numAgents ?? 2;
    if (!Number.isInteger(n) || n < 1) {
      throw new RLlibInvalidArgumentError(
        `MultiAgentCartPole: numAgents must be a positive integer, got ${String(config.numAgents)}.`,
      );
    }
    const ids = Array.from({ length: n }, (_, i) => `agent_${i}`);
    this.possibleAgents = Object.freeze(ids);
    this.envs = new Map(ids.map((id) => [id, new CartPoleEnv({ maxEpisodeSteps: config.maxEpisodeSteps })]));
    this.observationSpaces = Object.freeze(
      Object.fromEntries(ids.map((id) => [id, this.envs.get(id)!.observationSpace])),
    );
    this.actionSpaces = Object.freeze(Object.fromEntries(ids.map((id) => [id, this.envs.get(id)!.actionSpace])));
  }

  get agents(): readonly AgentId[] {
    return this.active;
  }

  /** Resets every agent's CartPole; `seed` seeds agent `i` with `seed + i`. */
  reset(options: { seed?: number; options?: Record<string, unknown> } = {}): MultiAgentResetResult<Float32Array> {
    const obs: MultiAgentDict<Float32Array> = {};
    const infos: MultiAgentDict<Info> = {};
    this.possibleAgents.forEach((id, i) => {
      const r = this.envs
        .get(id)!
        .reset({ seed: options.seed === undefined ? undefined : options.seed + i, options: options.options });
      obs[id] = r.obs;
      infos[id] = r.info;
    });
    this.active = [...this.possibleAgents];
    this.terminated.clear();
    this.truncated.clear();
    return { obs, infos };
  }

  /**
   * Steps each agent in `actions`.
   * @throws RLlibInvalidArgumentError before `reset()`, for an empty `actions`, or for an agent id
   *   that is unknown or already done (give actions only to the agents in the last `obs`).
   */
  step(actions: MultiAgentDict<number>): MultiAgentStepResult<Float32Array> {
    const ids = Object.keys(actions ?? {});
    if (ids.length === 0) {
      throw new RLlibInvalidArgumentError(
        `MultiAgentCartPole: step() needs an action for at least one active agent (${this.active.length > 0 ? this.active.join(', ') : 'none: call reset() first'}).`,
      );
    }
    for (const id of ids) {
      if (!this.envs.has(id)) {
        throw new RLlibInvalidArgumentError(
          `MultiAgentCartPole: unknown agent '${id}'; agents are ${this.possibleAgents.join(', ')}.`,
        );
      }
      if (!this.active.includes(id)) {
        throw new RLlibInvalidArgumentError(
          `MultiAgentCartPole: agent '${id}' is done (or reset() was not called); give actions only to agents in the last obs (${this.active.join(', ') || 'none'}).`,
        );
      }
    }
    // Check every action first, so a bad one leaves no agent half-stepped.
    for (const id of ids) checkDiscreteAction(`MultiAgentCartPole agent '${id}'`, 2, actions[id]);
    const obs: MultiAgentDict<Float32Array> = {};
    const rewards: MultiAgentDict<number> = {};
    const terminateds = { __all__: false } as MultiAgentDoneDict;
    const truncateds = { __all__: false } as MultiAgentDoneDict;
    const infos: MultiAgentDict<Info> = {};
    for (const id of ids) {
      const r = this.envs.get(id)!.step(actions[id]);
      rewards[id] = r.reward;
      terminateds[id] = r.terminated;
      truncateds[id] = r.truncated;
      infos[id] = r.info;
      if (r.terminated) this.terminated.add(id);
      else if (r.truncated) this.truncated.add(id);
      obs[id] = r.obs;
    }
    this.active = this.active.filter((id) => !this.terminated.has(id) && !this.truncated.has(id));
    const allDone = this.active.length === 0;
    terminateds.__all__ = allDone && this.truncated.size === 0;
    truncateds.__all__ = allDone && this.truncated.size > 0;
    return { obs, rewards, terminateds, truncateds, infos };
  }

  close(): void {
    for (const env of this.envs.values()) env.close();
  }
}
