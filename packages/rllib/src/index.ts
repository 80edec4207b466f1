/**
 * @ray-ts/rllib: reinforcement learning on ray-ts actors, as RLlib is for Python. Environments
 * (Gymnasium's API; CartPole, MountainCar, Acrobot and Pendulum built in) are stepped in parallel
 * by env-runner actors; learners update TensorFlow.js policies; algorithms are configured with a
 * builder and trained iteration by iteration.
 *
 * @example
 * import { PPOConfig } from '@ray-ts/rllib';
 * const algo = new PPOConfig().environment('CartPole-v1').envRunners({ numEnvRunners: 2 }).build();
 * for (let i = 0; i < 20; i++) console.log((await algo.train()).episodeReturnMean);
 * await algo.save('./ppo-cartpole');
 * await algo.stop();
 *
 * @packageDocumentation
 */
export * from './env/index.js';
export { Algorithm, configFor } from './algorithm.js';
export type { TrainResult, EvaluationResult } from './algorithm-results.js';
export { AlgorithmConfig } from './algorithm-config.js';
export type { EnvRunnersOptions, LearnersOptions, EvaluationOptions, ModelOptions } from './algorithm-config.js';
export { DEFAULT_POLICY_ID } from './algorithm-config.js';
export type { MultiAgentOptions, MultiAgentSettings, PolicyMappingFn } from './algorithm-config.js';
export { PPOConfig, PPO } from './ppo.js';
export type { PPOTrainingOptions } from './ppo.js';
export type { LearnerStats } from './ppo-learner.js';
export { DQNConfig, DQN } from './dqn.js';
export type { DQNTrainingOptions, DQNReplayBufferOptions } from './dqn.js';
export { SACConfig, SAC } from './sac.js';
export type { SACTrainingOptions } from './sac.js';
export type { ReplayBufferOptions, OffPolicyTrainingOptions } from './off-policy.js';
import './tune-trainable.js';
