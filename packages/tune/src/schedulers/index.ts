/**
 * Trial schedulers, as in Ray Tune: they decide after each result whether a trial continues,
 * stops, pauses or restarts from a better trial's checkpoint.
 */
export { FIFOScheduler } from './fifo.js';
export { ASHAScheduler, AsyncHyperBandScheduler } from './asha.js';
export type { ASHASchedulerOptions, CompiledASHASchedulerOptions } from './asha.js';
export { HyperBandScheduler } from './hyperband.js';
export type { HyperBandSchedulerOptions, CompiledHyperBandSchedulerOptions } from './hyperband.js';
export { MedianStoppingRule } from './median-stopping.js';
export type { MedianStoppingRuleOptions, CompiledMedianStoppingRuleOptions } from './median-stopping.js';
export { PopulationBasedTraining, explore as pbtExplore } from './pbt.js';
export type {
  PopulationBasedTrainingOptions,
  CompiledPopulationBasedTrainingOptions,
  HyperparamMutation,
  HyperparamMutations,
  SampleableDomain,
  ExploreSettings,
} from './pbt.js';
