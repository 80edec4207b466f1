/**
 * An algorithm's policies: their spaces and networks, laid out in the algorithm's flat weights;
 * for a multi-agent env, one per `multiAgent({ policies })` entry with the spaces of the agents the
 * mapping sends to it. Also the action a policy takes for one observation, computed in this thread.
 */
import {
  compilePolicyMappingFn,
  DEFAULT_POLICY_ID,
  mapAgent,
  type MultiAgentSettings,
  type PolicyMappingFn,
} from './algorithm-config.js';
import { RLlibInvalidArgumentError } from './env/errors.js';
import type { MultiAgentEnv } from './env/multi-agent.js';
import { flatDim, flatten, spaceToJSON, type Space } from './env/spaces.js';
import type { Env } from './env/types.js';
import { actionInfo, type ActionInfo } from './env-runner.js';
import { mlpDenseLayers, mlpForward, mlpParamCount, sampleCategorical, type MlpSpec } from './model.js';

/** A dense layer of an exported network. */
export type DenseLayer = ReturnType<typeof mlpDenseLayers>[number];

/**
 * One policy: its id, the spaces of the agents it acts for, its networks, and where its weights
 * (policy network then value network) lie in the algorithm's flat weights.
 */
export interface PolicySetup {
  id: string;
  obsSpace: Space;
  obsDim: number;
  actionSpace: Space;
  action: ActionInfo;
  nets: { pi: MlpSpec; vf: MlpSpec };
  /** First float of the policy's weights in the flat weights, and their count. */
  offset: number;
  size: number;
}

/** The multi-agent setup of an algorithm: its policies (in listed order), the mapping, which are trained. */
export interface MultiAgentSetup {
  policies: PolicySetup[];
  /** The mapping function's source text, and the function rebuilt from it. */
  mappingSource: string;
  mappingFn: PolicyMappingFn;
  policiesToTrain: string[];
}

/** The policy and value networks of an env's spaces. */
export function networks(
  obsDim: number,
  action: ReturnType<typeof actionInfo>,
  hiddens: number[],
  activation: 'tanh' | 'relu',
): { pi: MlpSpec; vf: MlpSpec } {
  const out = action.kind === 'categorical' ? action.n : 2 * action.dims;
  return {
    pi: { sizes: [obsDim, ...hiddens, out], activation },
    vf: { sizes: [obsDim, ...hiddens, 1], activation },
  };
}

/** The one policy, `default_policy`, of a single-agent env. */
export function singleAgentPolicy(env: Env, hiddens: number[], activation: 'tanh' | 'relu'): PolicySetup {
  const obsSpace = env.observationSpace;
  const action = actionInfo(env.actionSpace);
  const obsDim = flatDim(obsSpace);
  const nets = networks(obsDim, action, hiddens, activation);
  return {
    id: DEFAULT_POLICY_ID,
    obsSpace,
    obsDim,
    actionSpace: env.actionSpace,
    action,
    nets,
    offset: 0,
    size: mlpParamCount(nets.pi) + mlpParamCount(nets.vf),
  };
}

/**
 * Policy `p`'s action for one observation, with its network's weights from `weights` (greedy
 * unless `explore`; exploration draws from `Math.random`, unseeded, as RLlib's does).
 * @throws RLlibInvalidArgumentError for an observation that does not fit the policy's space.
 */
export function policyAction(
  p: PolicySetup,
  weights: Float32Array,
  obs: unknown,
  explore: boolean,
): number | Float32Array {
  const x = flatten(p.obsSpace, obs as never);
  if (x.length !== p.obsDim)
    throw new RLlibInvalidArgumentError(
      `computeSingleAction(): the observation has ${x.length} values, the observation space of policy '${p.id}' ${p.obsDim}.`,
    );
  const out = mlpForward(p.nets.pi, weights, p.offset, x, 1);
  const a = p.action;
  if (a.kind === 'categorical') return sampleCategorical(out, 0, a.n, Math.random(), explore).action;
  const act = new Float32Array(a.dims);
  for (let d = 0; d < a.dims; d++) {
    const z = explore ? Math.sqrt(-2 * Math.log(Math.random() + 1e-12)) * Math.cos(2 * Math.PI * Math.random()) : 0;
    act[d] = Math.min(a.high[d], Math.max(a.low[d], out[d] + Math.exp(out[a.dims + d]) * z));
  }
  return act;
}

/** Mapping episodes checked at build(): a mapping that depends on the episode shows its variety in a few. */
const CHECKED_EPISODES = [0, 1, 2, 3];

/**
 * The policies of a multi-agent env: each gets the spaces of the agents the mapping sends to it
 * (in episodes 0-3), which must agree; a policy no agent is sent to there takes the agents'
 * common spaces.
 */
export function multiAgentSetup(
  opts: MultiAgentSettings | undefined,
  env: MultiAgentEnv,
  hiddens: number[],
  activation: 'tanh' | 'relu',
): MultiAgentSetup {
  const ma = opts ?? {
    policies: [DEFAULT_POLICY_ID],
    policyMappingFn: `() => '${DEFAULT_POLICY_ID}'`,
    policiesToTrain: [DEFAULT_POLICY_ID],
  };
  const fn = compilePolicyMappingFn(ma.policyMappingFn);
  const agents = env.possibleAgents;
  if (agents.length === 0)
    throw new RLlibInvalidArgumentError('The multi-agent env has no possibleAgents: list every agent id it can have.');
  const key = (a: string) => {
    const o = env.observationSpaces[a];
    const s = env.actionSpaces[a];
    if (!o || !s)
      throw new RLlibInvalidArgumentError(
        `The multi-agent env's agent '${a}' has no ${o ? 'action' : 'observation'} space: fill observationSpaces and actionSpaces for every possible agent.`,
      );
    return `${JSON.stringify(spaceToJSON(o))} ${JSON.stringify(spaceToJSON(s))}`;
  };
  const agentsOf = new Map<string, string[]>(ma.policies.map((p) => [p, []]));
  for (const ep of CHECKED_EPISODES) {
    for (const a of agents) {
      const list = agentsOf.get(mapAgent(fn, ma.policies, a, ep))!;
      if (!list.includes(a)) list.push(a);
    }
  }
  let offset = 0;
  const policies = ma.policies.map((id): PolicySetup => {
    let mapped = agentsOf.get(id)!;
    if (mapped.length === 0) {
      if (new Set(agents.map(key)).size > 1) {
        throw new RLlibInvalidArgumentError(
          `Policy '${id}' gets no agent from policyMappingFn in episodes ${CHECKED_EPISODES.join(', ')}, and the env's agents have different spaces, so its spaces are unknown. Map an agent to it, or remove it from multiAgent({ policies }).`,
        );
      }
      mapped = [agents[0]];
    }
    const other = mapped.find((a) => key(a) !== key(mapped[0]));
    if (other !== undefined) {
      throw new RLlibInvalidArgumentError(
        `Agents '${mapped[0]}' and '${other}' both map to policy '${id}' but have different spaces ` +
          `(${env.observationSpaces[mapped[0]].toString()} -> ${env.actionSpaces[mapped[0]].toString()} against ${env.observationSpaces[other].toString()} -> ${env.actionSpaces[other].toString()}). ` +
          `Map agents with different spaces to different policies.`,
      );
    }
    const obsSpace = env.observationSpaces[mapped[0]];
    const obsDim = flatDim(obsSpace);
    const actionSpace = env.actionSpaces[mapped[0]];
    const action = actionInfo(actionSpace);
    const nets = networks(obsDim, action, hiddens, activation);
    const size = mlpParamCount(nets.pi) + mlpParamCount(nets.vf);
    const p = { id, obsSpace, obsDim, actionSpace, action, nets, offset, size };
    offset += size;
    return p;
  });
  return { policies, mappingSource: ma.policyMappingFn, mappingFn: fn, policiesToTrain: [...ma.policiesToTrain] };
}
