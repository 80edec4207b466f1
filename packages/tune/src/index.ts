/**
 * @ray-ts/tune: parallel hyperparameter tuning on ray-ts actors, as Ray Tune is for Python.
 * Trials run in parallel with their own resources; searchers propose configurations; schedulers
 * stop bad trials early; experiments are written as they go and resume after a crash.
 *
 * @example
 * import { Tuner, uniform, ASHAScheduler } from '@ray-ts/tune';
 * const tuner = new Tuner(async (config, ctx) => {
 *   for (let i = 1; i <= 100; i++) await ctx.report({ loss: (config.lr as number) / i });
 * }, {
 *   paramSpace: { lr: uniform(0.001, 0.1) },
 *   tuneConfig: { metric: 'loss', mode: 'min', numSamples: 32, scheduler: new ASHAScheduler() },
 * });
 * console.log((await tuner.fit()).getBestResult().config);
 *
 * Results go to JSON, CSV and TensorBoard files per trial (`tensorboard --logdir <storagePath>/<name>`);
 * `runConfig.callbacks` adds your own hooks, `runConfig.stop` takes stoppers.
 *
 * @packageDocumentation
 */
export { Tuner } from './tuner.js';
export type { TunerOptions, TuneConfig, RunConfig, CheckpointConfig } from './tuner-options.js';
export { ResultGrid } from './result-grid.js';
export type { Result } from './result-grid.js';
export { Checkpoint } from './checkpoint.js';
export { Trainable, withResources, withParameters } from './trainable.js';
export type { TuneContext, TrainableFunction, TrialPlacementGroup } from './trainable.js';
export { PlacementGroupFactory } from './placement-group-factory.js';
export { FINISHED } from './types.js';
export type {
  Config,
  Mode,
  TrialResult,
  TrialStatus,
  TrialInfo,
  Searcher,
  TrialScheduler,
  SchedulerDecision,
} from './types.js';
export * from './search/index.js';
export * from './schedulers/index.js';
export { TuneInvalidArgumentError, TuneCallbackError } from './errors.js';
export { Callback } from './callbacks.js';
export type { TuneCallback, CallbackTrial, CallbackSetupInfo, CallbackHook } from './callbacks.js';
export {
  LoggerCallback,
  JsonLoggerCallback,
  CSVLoggerCallback,
  TBXLoggerCallback,
  MetricsLoggerCallback,
} from './loggers/index.js';
export {
  Stopper,
  FunctionStopper,
  MaximumIterationStopper,
  TrialPlateauStopper,
  TimeoutStopper,
  CombinedStopper,
} from './stopper.js';
export type { StopCriteria, TrialPlateauStopperOptions } from './stopper.js';
