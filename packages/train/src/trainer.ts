/**
 * DataParallelTrainer: runs a training loop on a group of worker actors (one per
 * `scalingConfig.numWorkers`, reserved together in a placement group), joined in a collective
 * group so that they can keep their models in sync; collects their reports, saves checkpoints
 * under the run's folder, and restarts the group from the latest checkpoint when a worker fails.
 * Its options are checked in trainer-options.ts; a run is run-training.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { init, isInitialized } from '@ray-ts/core';
import { registerRun } from '@ray-ts/tune/internal';
import { PlacementGroupFactory } from '@ray-ts/tune';
import { TrainInvalidArgumentError } from './errors.js';
import { runTraining } from './run-training.js';
import type { Result } from './train-result.js';
import { compileTrainerSpec, type DataParallelTrainerOptions, type TrainerSpec } from './trainer-options.js';

const SPEC = Symbol.for('ray-ts.tune.trainable-spec');

/**
 * Data-parallel training (Ray Train's `DataParallelTrainer`): `trainLoopPerWorker(config)` runs
 * on every worker; inside it, `getContext()`, `report()`, `getCheckpoint()`, `getDatasetShard()`
 * and `collective.*` with `{ groupName: getContext().collectiveGroup }`.
 * @example
 * const trainer = new DataParallelTrainer(trainLoop, {
 *   trainLoopConfig: { lr: 0.01, epochs: 3 },
 *   scalingConfig: { numWorkers: 2 },
 *   runConfig: { name: 'mlp', failureConfig: { maxFailures: 2 } },
 * });
 * const result = await trainer.fit();
 */
export class DataParallelTrainer<C extends Record<string, unknown> = Record<string, unknown>> {
  private readonly spec: TrainerSpec;

  constructor(trainLoopPerWorker: ((config: C) => unknown) | object, options: DataParallelTrainerOptions<C> = {}) {
    this.spec = compileTrainerSpec(trainLoopPerWorker, options);
  }

  /** Trains: resolves with the result, also when the run failed for good (then `result.error` says why). */
  async fit(): Promise<Result> {
    if (!isInitialized()) await init();
    const name = this.spec.run.name ?? `train_${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const root = path.resolve(this.spec.run.storagePath ?? path.join(os.homedir(), 'ray_ts_results'));
    await registerRun('train', name, path.join(root, name));
    return runTraining(this.spec, name, root, undefined);
  }

  /**
   * @internal A trainer is a Tune trainable: each trial runs one training group, in the trial's
   * placement group (bundle 0 for the trial's own actor, one bundle per worker).
   */
  get [SPEC](): { trainable: unknown; resources: PlacementGroupFactory; params: Record<string, unknown> } {
    // Loaded lazily: the trial function's module registers a remote function.
    // A trial reserves the most workers (elastic trials do not resize).
    const bundles = [
      { CPU: 0 },
      ...Array.from({ length: this.spec.scaling.maxWorkers }, () => ({ ...this.spec.scaling.resources })),
    ];
    return {
      trainable: trialTrainable(),
      resources: new PlacementGroupFactory(bundles, this.spec.scaling.placementStrategy),
      // Callbacks stay in the driver (the Tuner's apply to the trial): they do not cross to the trial's actor.
      params: { trainerSpec: { ...this.spec, run: { ...this.spec.run, callbacks: undefined } } },
    };
  }
}

let trialFn: unknown;
/** @internal Set by tune-trainable.ts (which imports this module). */
export function setTrialTrainable(fn: unknown): void {
  trialFn = fn;
}
function trialTrainable(): unknown {
  if (!trialFn)
    throw new TrainInvalidArgumentError(
      'Tune integration is not loaded: import @ray-ts/train (its index) rather than its modules.',
    );
  return trialFn;
}
