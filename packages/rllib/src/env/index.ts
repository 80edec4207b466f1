/**
 * The env layer of @ray-ts/rllib: spaces, a seeded generator, the Gymnasium-style `Env`, the
 * registry with the classic-control built-ins, `VectorEnv` and multi-agent envs.
 */
export { RLlibInvalidArgumentError } from './errors.js';
/**
 * Core's seeded generator under the names RLlib has always exported it by (spaces' `sample()`,
 * envs and replay buffers take it): `Rng` is `SeededRng` from `@ray-ts/core`.
 */
export { SeededRng as Rng, randomSeed } from '@ray-ts/core';
/** The state of an {@link Rng}: `SeededRngState` from `@ray-ts/core`. */
export type { SeededRngState as RngState } from '@ray-ts/core';
export {
  Discrete,
  Box,
  MultiDiscrete,
  DictSpace,
  TupleSpace,
  isSpace,
  flatDim,
  flatten,
  spaceToJSON,
  spaceFromJSON,
} from './spaces.js';
export type { Space, SpaceValue, BoxValue, MultiDiscreteValue, SpaceJSON, JSONBound } from './spaces.js';
export type { Env, EnvCreator, Info, ResetResult, StepResult } from './types.js';
export { registerEnv, makeEnv, registeredEnvs, isEnvRegistered } from './registry.js';
export type { AnyEnvCreator } from './registry.js';
export { ClassicControlEnv } from './classic/base.js';
export type { ClassicControlConfig, ResetOptions } from './classic/base.js';
export { CartPoleEnv } from './classic/cartpole.js';
export { MountainCarEnv } from './classic/mountain-car.js';
export { AcrobotEnv } from './classic/acrobot.js';
export { PendulumEnv, angleNormalize } from './classic/pendulum.js';
export type { PendulumConfig } from './classic/pendulum.js';
export { VectorEnv } from './vector.js';
export type { VectorEnvOptions, VectorResetResult, VectorStepResult } from './vector.js';
export { MultiAgentCartPole, isMultiAgentEnv } from './multi-agent.js';
export type {
  AgentId,
  MultiAgentDict,
  MultiAgentDoneDict,
  MultiAgentEnv,
  MultiAgentEnvCreator,
  MultiAgentResetResult,
  MultiAgentStepResult,
  MultiAgentCartPoleConfig,
} from './multi-agent.js';
