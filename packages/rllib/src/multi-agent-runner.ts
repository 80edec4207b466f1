/**
 * Multi-agent env runners (RLlib's `MultiAgentEnvRunner`): actors that step copies of a
 * `MultiAgentEnv`, map each agent to a policy when it first appears in an episode (the config's
 * mapping function, rebuilt from its source text), run each policy's forward pass once per step
 * over all the rows of the agents it acts for, and return one sample batch per policy. Each
 * agent's steps form its own trajectory, so GAE runs per agent, with env-runner.ts's function.
 */
import { remote, SeededRng } from '@ray-ts/core';
import { compilePolicyMappingFn, mapAgent, type PolicyMappingFn } from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import type { MultiAgentEnv, MultiAgentStepResult } from './env/multi-agent.js';
import { makeEnv } from './env/registry.js';
import { flatten, spaceToJSON, type Space, type SpaceJSON } from './env/spaces.js';
import { chooseActions, computeGae, envAction, type ActionInfo, type SampleBatch } from './env-runner.js';
import { mlpForward, mlpParamCount, type MlpSpec } from './model.js';

/** One policy as a multi-agent runner sees it. */
export interface RunnerPolicySpec {
  id: string;
  pi: MlpSpec;
  vf: MlpSpec;
  /** First float of this policy's weights (policy network, then value network) in the flat weights. */
  offset: number;
  obsDim: number;
  action: ActionInfo;
  /** The spaces of the agents it acts for (an agent with other spaces mapped to it is an error). */
  obsSpace: SpaceJSON;
  actionSpace: SpaceJSON;
}

/** How a multi-agent env runner is set up (built by the algorithm from its config). */
export interface MultiAgentRunnerSpec {
  env: string;
  envConfig: Record<string, unknown>;
  numEnvs: number;
  seed: number;
  gamma: number;
  lambda: number;
  /** In the config's order; the flat weights hold them in this order. */
  policies: RunnerPolicySpec[];
  /** The mapping function's source text. */
  policyMappingFn: string;
}

/** What `sample()` returns: a batch per policy, and the episodes that ended. */
export interface MultiAgentSample {
  /** Per policy id (every policy, possibly with 0 rows): its agents' steps, GAE included. */
  batches: Record<string, SampleBatch>;
  /** Env steps (each `env.step()` once) and agent steps (each acting agent once). */
  numEnvSteps: number;
  numAgentSteps: number;
  /** Per episode that ended: its return summed over all agents, and its length in env steps. */
  episodeReturns: number[];
  episodeLengths: number[];
  /** Per policy (agent): the returns of the ended episodes it was in (a policy's sums its agents'). */
  policyReturns: Record<string, number[]>;
  agentReturns: Record<string, number[]>;
}

/** One agent's steps in one episode, column by column. */
interface Trajectory {
  policy: number;
  obs: Float32Array[];
  actions: number[];
  logp: number[];
  dist: number[];
  values: number[];
  rewards: number[];
  ended: number[];
  terminated: number[];
  nextValue: number[];
}

/** A trajectory cut for the batch: ended, or stopped by the fragment's end (then `lastValue` bootstraps). */
interface Segment {
  traj: Trajectory;
  lastValue: number;
}

/** An env copy and its current episode. */
interface Slot {
  env: MultiAgentEnv;
  episode: number;
  /** Agent -> policy index, for this episode. */
  mapping: Map<string, number>;
  /** Agents holding an observation to act on, with it (flat). */
  pending: Map<string, Float32Array>;
  open: Map<string, Trajectory>;
  ret: number;
  len: number;
  agentRet: Map<string, number>;
}

function newTrajectory(policy: number): Trajectory {
  return {
    policy,
    obs: [],
    actions: [],
    logp: [],
    dist: [],
    values: [],
    rewards: [],
    ended: [],
    terminated: [],
    nextValue: [],
  };
}

/** The agent ids flagged true in a done dict (`__all__` aside). */
function doneAgents(d: Record<string, boolean>): string[] {
  return Object.keys(d).filter((k) => k !== '__all__' && d[k] === true);
}

/** @internal The actor class (exported for unit tests); algorithms start it as {@link MultiAgentEnvRunner}. */
export class MultiAgentEnvRunnerActor {
  private readonly slots: Slot[];
  private readonly mappingFn: PolicyMappingFn;
  private readonly ids: string[];
  private readonly rng: SeededRng;
  /** Agents checked against the policy they were mapped to ("agent policy"). */
  private readonly checked = new Set<string>();
  private episodes = 0;
  private weights: Float32Array | undefined;

  constructor(
    private readonly spec: MultiAgentRunnerSpec,
    index: number,
  ) {
    this.mappingFn = compilePolicyMappingFn(spec.policyMappingFn);
    this.ids = spec.policies.map((p) => p.id);
    this.rng = new SeededRng(spec.seed * 7919 + index * 104729 + 1);
    this.slots = Array.from({ length: spec.numEnvs }, (_, i) => {
      const env = makeEnv<MultiAgentEnv>(spec.env, spec.envConfig);
      const slot: Slot = {
        env,
        episode: 0,
        mapping: new Map(),
        pending: new Map(),
        open: new Map(),
        ret: 0,
        len: 0,
        agentRet: new Map(),
      };
      this.startEpisode(slot, spec.seed + index * 1000 + i);
      return slot;
    });
  }

  private startEpisode(slot: Slot, seed?: number): void {
    const r = slot.env.reset(seed === undefined ? {} : { seed });
    slot.episode = this.episodes++;
    slot.mapping.clear();
    slot.pending.clear();
    slot.open.clear();
    slot.agentRet.clear();
    slot.ret = 0;
    slot.len = 0;
    for (const [a, o] of Object.entries(r.obs)) slot.pending.set(a, this.flat(slot.env, a, o));
  }

  private flat(env: MultiAgentEnv, agent: string, o: unknown): Float32Array {
    const space: Space | undefined = env.observationSpaces[agent];
    if (!space)
      throw new RLlibInvalidArgumentError(
        `Env '${this.spec.env}' gave an observation for agent '${agent}', which has no observation space: list it in possibleAgents and observationSpaces.`,
      );
    return flatten(space, o);
  }

  /** The policy (index) of `agent` in this slot's episode, mapped on first use and checked against the agent's spaces. */
  private policyOf(slot: Slot, agent: string, episode = slot.episode): number {
    let p = slot.mapping.get(agent);
    if (p !== undefined) return p;
    p = this.ids.indexOf(mapAgent(this.mappingFn, this.ids, agent, episode));
    const key = `${agent} ${p}`;
    if (!this.checked.has(key)) {
      const pol = this.spec.policies[p];
      const o = slot.env.observationSpaces[agent];
      const s = slot.env.actionSpaces[agent];
      if (
        !o ||
        !s ||
        JSON.stringify(spaceToJSON(o)) !== JSON.stringify(pol.obsSpace) ||
        JSON.stringify(spaceToJSON(s)) !== JSON.stringify(pol.actionSpace)
      ) {
        throw new RLlibInvalidArgumentError(
          `multiAgent().policyMappingFn mapped agent '${agent}' (episode ${episode}) to policy '${pol.id}', whose spaces differ from the agent's ` +
            `(${o?.toString()} -> ${s?.toString()}). A policy acts only for agents with the spaces of the agents mapped to it at build().`,
        );
      }
      this.checked.add(key);
    }
    slot.mapping.set(agent, p);
    return p;
  }

  /** Policy outputs and values of policy `p` for `rows` observations. */
  private forward(p: number, x: Float32Array, rows: number): { dist: Float32Array; values: Float32Array } {
    const pol = this.spec.policies[p];
    const w = this.weights!;
    return {
      dist: mlpForward(pol.pi, w, pol.offset, x, rows),
      values: mlpForward(pol.vf, w, pol.offset + mlpParamCount(pol.pi), x, rows),
    };
  }

  /** Values of (policy, observation) pairs, one forward pass per policy; calls `set(k, value)` for the k-th pair. */
  private valuesOf(items: { p: number; obs: Float32Array }[], set: (k: number, v: number) => void): void {
    this.spec.policies.forEach((pol, p) => {
      const ks = items.flatMap((it, k) => (it.p === p ? [k] : []));
      if (!ks.length) return;
      const x = new Float32Array(ks.length * pol.obsDim);
      ks.forEach((k, r) => x.set(items[k].obs, r * pol.obsDim));
      const v = this.forward(p, x, ks.length).values;
      ks.forEach((k, r) => set(k, v[r]));
    });
  }

  /**
   * Actions of every agent holding an observation, one forward pass per policy (sampled when
   * exploring); calls `record` for each with its row's outputs. Returns each slot's action dict.
   */
  private act(
    slots: Slot[],
    explore: boolean,
    episodeOf: (i: number) => number,
    record?: (
      i: number,
      agent: string,
      p: number,
      o: Float32Array,
      out: { action: Float32Array; logp: number; dist: Float32Array; value: number },
    ) => void,
  ): Record<string, unknown>[] {
    const rows: { i: number; agent: string; obs: Float32Array }[][] = this.spec.policies.map(() => []);
    slots.forEach((slot, i) => {
      for (const [agent, o] of slot.pending) rows[this.policyOf(slot, agent, episodeOf(i))].push({ i, agent, obs: o });
    });
    const out: Record<string, unknown>[] = slots.map(() => ({}));
    this.spec.policies.forEach((pol, p) => {
      const rs = rows[p];
      if (!rs.length) return;
      const x = new Float32Array(rs.length * pol.obsDim);
      rs.forEach((r, k) => x.set(r.obs, k * pol.obsDim));
      const { dist, values } = this.forward(p, x, rs.length);
      const { actions, logp } = chooseActions(pol.action, dist, rs.length, explore, this.rng);
      const actDim = pol.action.kind === 'categorical' ? 1 : pol.action.dims;
      const distDim = pol.action.kind === 'categorical' ? pol.action.n : 2 * pol.action.dims;
      rs.forEach((r, k) => {
        out[r.i][r.agent] = envAction(pol.action, actions, k);
        record?.(r.i, r.agent, p, r.obs, {
          action: actions.subarray(k * actDim, (k + 1) * actDim),
          logp: logp[k],
          dist: dist.subarray(k * distDim, (k + 1) * distDim),
          value: values[k],
        });
      });
    });
    return out;
  }

  /**
   * Steps every env `steps` times with `weights` and returns a batch per policy (each agent's
   * trajectory fragments, with GAE advantages and value targets) and the episodes that ended.
   */
  sample(weights: Float32Array, steps: number): MultiAgentSample {
    this.weights = weights;
    const P = this.spec.policies.length;
    const segments: Segment[][] = Array.from({ length: P }, () => []);
    const out: Omit<MultiAgentSample, 'batches'> = {
      numEnvSteps: 0,
      numAgentSteps: 0,
      episodeReturns: [],
      episodeLengths: [],
      policyReturns: Object.fromEntries(this.ids.map((id) => [id, []])),
      agentReturns: {},
    };
    const policyLengths: number[][] = Array.from({ length: P }, () => []);
    // Trajectories truncated with a final observation: V(that observation) bootstraps their last step.
    let boot: { p: number; obs: Float32Array; traj: Trajectory }[] = [];
    const close = (slot: Slot, agent: string, terminated: boolean, finalObs: Float32Array | undefined) => {
      const traj = slot.open.get(agent);
      if (!traj) return;
      slot.open.delete(agent);
      if (!traj.values.length) return;
      const last = traj.values.length - 1;
      traj.ended[last] = 1;
      traj.terminated[last] = terminated ? 1 : 0;
      // Truncated without a final observation: bootstrap from the last step's own value.
      if (!terminated) {
        if (finalObs) boot.push({ p: traj.policy, obs: finalObs, traj });
        else traj.nextValue[last] = traj.values[last];
      }
      segments[traj.policy].push({ traj, lastValue: 0 });
    };
    for (let t = 0; t < steps; t++) {
      const actions = this.act(
        this.slots,
        true,
        (i) => this.slots[i].episode,
        (i, agent, p, o, r) => {
          const slot = this.slots[i];
          let traj = slot.open.get(agent);
          if (!traj) slot.open.set(agent, (traj = newTrajectory(p)));
          traj.obs.push(o);
          traj.actions.push(...r.action);
          traj.logp.push(r.logp);
          traj.dist.push(...r.dist);
          traj.values.push(r.value);
          traj.rewards.push(0);
          traj.ended.push(0);
          traj.terminated.push(0);
          traj.nextValue.push(0);
        },
      );
      this.slots.forEach((slot, i) => {
        const acting = Object.keys(actions[i]);
        if (!acting.length) {
          throw new RLlibInvalidArgumentError(
            `Env '${this.spec.env}' gave no agent an observation to act on, but its episode is not over: return observations for the agents that act next, or set terminateds.__all__ / truncateds.__all__.`,
          );
        }
        for (const a of acting) slot.pending.delete(a);
        const r: MultiAgentStepResult<unknown> = slot.env.step(actions[i]);
        slot.len++;
        out.numEnvSteps++;
        out.numAgentSteps += acting.length;
        // A reward goes to the agent's last step (it may come on a step the agent did not act in).
        for (const [a, rew] of Object.entries(r.rewards)) {
          this.policyOf(slot, a);
          slot.ret += rew;
          slot.agentRet.set(a, (slot.agentRet.get(a) ?? 0) + rew);
          const traj = slot.open.get(a);
          if (traj?.rewards.length) traj.rewards[traj.rewards.length - 1] += rew;
        }
        const allDone = r.terminateds.__all__ === true || r.truncateds.__all__ === true;
        const done = new Set([...doneAgents(r.terminateds), ...doneAgents(r.truncateds)]);
        for (const a of done) {
          const term = r.terminateds[a] === true;
          close(slot, a, term, !term && r.obs[a] !== undefined ? this.flat(slot.env, a, r.obs[a]) : undefined);
          slot.pending.delete(a);
        }
        if (allDone) {
          const term = r.terminateds.__all__ === true && r.truncateds.__all__ !== true;
          for (const a of [...slot.open.keys()])
            close(slot, a, term, !term && r.obs[a] !== undefined ? this.flat(slot.env, a, r.obs[a]) : undefined);
          out.episodeReturns.push(slot.ret);
          out.episodeLengths.push(slot.len);
          const sums = new Map<number, number>();
          for (const [a, ret] of slot.agentRet) {
            (out.agentReturns[a] ??= []).push(ret);
            const p = slot.mapping.get(a)!;
            sums.set(p, (sums.get(p) ?? 0) + ret);
          }
          for (const [p, ret] of sums) {
            out.policyReturns[this.ids[p]].push(ret);
            policyLengths[p].push(slot.len);
          }
          this.startEpisode(slot);
        } else {
          for (const [a, o] of Object.entries(r.obs)) if (!done.has(a)) slot.pending.set(a, this.flat(slot.env, a, o));
        }
      });
      if (boot.length) {
        const b = boot;
        this.valuesOf(b, (k, v) => (b[k].traj.nextValue[b[k].traj.values.length - 1] = v));
        boot = [];
      }
    }
    // The fragment's end: cut the open trajectories, each bootstrapped from the observation its
    // agent holds (or, waiting for its turn, from its last step's value); they go on next time.
    const cut: { p: number; obs: Float32Array; seg: Segment }[] = [];
    for (const slot of this.slots) {
      for (const [a, traj] of slot.open) {
        if (!traj.values.length) continue;
        const seg: Segment = { traj, lastValue: traj.values[traj.values.length - 1] };
        segments[traj.policy].push(seg);
        const o = slot.pending.get(a);
        if (o) cut.push({ p: traj.policy, obs: o, seg });
        slot.open.set(a, newTrajectory(traj.policy));
      }
    }
    this.valuesOf(cut, (k, v) => (cut[k].seg.lastValue = v));
    const batches: Record<string, SampleBatch> = {};
    this.spec.policies.forEach((pol, p) => {
      batches[pol.id] = this.toBatch(pol, segments[p], out.policyReturns[pol.id], policyLengths[p]);
    });
    return { batches, ...out };
  }

  /** A policy's segments as one batch, GAE computed segment by segment. */
  private toBatch(
    pol: RunnerPolicySpec,
    segs: Segment[],
    episodeReturns: number[],
    episodeLengths: number[],
  ): SampleBatch {
    const od = pol.obsDim;
    const actDim = pol.action.kind === 'categorical' ? 1 : pol.action.dims;
    const n = segs.reduce((s, g) => s + g.traj.values.length, 0);
    const obs = new Float32Array(n * od);
    const cols = {
      rewards: new Float32Array(n),
      values: new Float32Array(n),
      ended: new Uint8Array(n),
      terminated: new Uint8Array(n),
      nextValue: new Float32Array(n),
      advantages: new Float32Array(n),
      valueTargets: new Float32Array(n),
    };
    const actions: number[] = [];
    const logp: number[] = [];
    const dist: number[] = [];
    let at = 0;
    for (const { traj, lastValue } of segs) {
      const len = traj.values.length;
      traj.obs.forEach((o, k) => obs.set(o, (at + k) * od));
      cols.rewards.set(traj.rewards, at);
      cols.values.set(traj.values, at);
      cols.ended.set(traj.ended, at);
      cols.terminated.set(traj.terminated, at);
      cols.nextValue.set(traj.nextValue, at);
      for (const x of traj.actions) actions.push(x);
      for (const x of traj.logp) logp.push(x);
      for (const x of traj.dist) dist.push(x);
      computeGae(cols, at, len, lastValue, this.spec.gamma, this.spec.lambda);
      at += len;
    }
    return {
      count: n,
      obsDim: od,
      actDim,
      obs,
      actions: Float32Array.from(actions),
      logp: Float32Array.from(logp),
      distInputs: Float32Array.from(dist),
      values: cols.values,
      advantages: cols.advantages,
      valueTargets: cols.valueTargets,
      episodeReturns,
      episodeLengths,
    };
  }

  /**
   * Plays `episodes` whole episodes of a fresh env greedily (episode `e` seeded `seed + e`, its
   * agents mapped with episode index `e`); returns their returns (summed over agents), lengths,
   * and each policy's returns.
   */
  evaluate(
    weights: Float32Array,
    episodes: number,
    seed: number,
  ): { returns: number[]; lengths: number[]; policyReturns: Record<string, number[]> } {
    this.weights = weights;
    const env = makeEnv<MultiAgentEnv>(this.spec.env, this.spec.envConfig);
    const slot: Slot = {
      env,
      episode: 0,
      mapping: new Map(),
      pending: new Map(),
      open: new Map(),
      ret: 0,
      len: 0,
      agentRet: new Map(),
    };
    const returns: number[] = [];
    const lengths: number[] = [];
    const policyReturns: Record<string, number[]> = Object.fromEntries(this.ids.map((id) => [id, []]));
    for (let e = 0; e < episodes; e++) {
      const r0 = env.reset({ seed: seed + e });
      slot.episode = e;
      slot.mapping.clear();
      slot.pending.clear();
      for (const [a, o] of Object.entries(r0.obs)) slot.pending.set(a, this.flat(env, a, o));
      const sums = new Map<number, number>();
      let ret = 0;
      let len = 0;
      for (;;) {
        const acts = this.act([slot], false, () => e)[0];
        if (!Object.keys(acts).length)
          throw new RLlibInvalidArgumentError(
            `Env '${this.spec.env}' gave no agent an observation to act on, but its episode is not over.`,
          );
        slot.pending.clear();
        const r = env.step(acts);
        len++;
        for (const [a, rew] of Object.entries(r.rewards)) {
          const p = this.policyOf(slot, a, e);
          ret += rew;
          sums.set(p, (sums.get(p) ?? 0) + rew);
        }
        if (r.terminateds.__all__ || r.truncateds.__all__) break;
        const done = new Set([...doneAgents(r.terminateds), ...doneAgents(r.truncateds)]);
        for (const [a, o] of Object.entries(r.obs)) if (!done.has(a)) slot.pending.set(a, this.flat(env, a, o));
      }
      returns.push(ret);
      lengths.push(len);
      for (const [p, s] of sums) policyReturns[this.ids[p]].push(s);
    }
    env.close?.();
    return { returns, lengths, policyReturns };
  }
}

/** @internal */
export const MultiAgentEnvRunner = remote(MultiAgentEnvRunnerActor);
/** @internal */
export type MultiAgentEnvRunnerMethods = MultiAgentEnvRunnerActor;
