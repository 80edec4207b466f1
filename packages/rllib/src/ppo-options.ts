/** PPO's training options, in a module of their own: the learner and the algorithm both read them. */
import type { ModelOptions } from './algorithm-config.js';

/** PPO's training options (`.training({...})`), with their defaults. */
export interface PPOTrainingOptions {
  [k: string]: unknown;
  /** Adam's learning rate (default 3e-4). */
  lr: number;
  /** Discount (default 0.99). */
  gamma: number;
  /** GAE's lambda (default 0.95). */
  lambda: number;
  /** The surrogate's clip (default 0.2). */
  clipParam: number;
  /**
   * Value losses are clipped at this (default 10000: in effect off for returns in the hundreds;
   * RLlib's 10 clips most of CartPole's value errors, which slows learning: 144k steps to a mean
   * return of 450 against 68k here).
   */
  vfClipParam: number;
  vfLossCoeff: number;
  entropyCoeff: number;
  /** Initial KL penalty coefficient, adapted towards klTarget (default 0.2; 0: none). */
  klCoeff: number;
  klTarget: number;
  /** Steps per iteration, over all env runners (default 4000). */
  trainBatchSize: number;
  minibatchSize: number;
  /** Passes over each batch (default 10; RLlib's is 30). */
  numEpochs: number;
  /** Clip gradients to this global norm (default none). */
  gradClip: number | undefined;
  model: ModelOptions;
}
