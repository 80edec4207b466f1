/**
 * `Tuner`: runs an experiment. `fit()` hands it to the trial runner (trial-runner.ts);
 * `Tuner.restore()` resumes one from its experiment_state.json after a crash. The options are in
 * tuner-options.ts.
 */
import path from 'node:path';
import { init, isInitialized } from '@ray-ts/core';
import { TuneInvalidArgumentError } from './errors.js';
import type { ResultGrid } from './result-grid.js';
import { ExperimentStorage, type ExperimentState } from './storage.js';
import { unwrapTrainable } from './trainable.js';
import { TrialRunner } from './trial-runner.js';
import type { TunerOptions } from './tuner-options.js';

/**
 * Runs a hyperparameter search: `fit()` returns a {@link ResultGrid}.
 * @example
 * const tuner = new Tuner(async (config, ctx) => {
 *   for (let i = 0; i < 10; i++) await ctx.report({ score: config.x * i });
 * }, { paramSpace: { x: uniform(0, 1) }, tuneConfig: { metric: 'score', mode: 'max', numSamples: 20 } });
 * const best = (await tuner.fit()).getBestResult();
 */
export class Tuner {
  private restored: ExperimentState | undefined;

  constructor(
    private readonly trainable: unknown,
    private readonly options: TunerOptions = {},
  ) {
    const t = unwrapTrainable(trainable).trainable;
    if (typeof t !== 'function' && !(t && typeof t === 'object' && 'fnRef' in t)) {
      throw new TuneInvalidArgumentError(
        'Tuner takes a trainable: a function (config, ctx) => ..., or a class extending Trainable.',
      );
    }
  }

  /** True when `dir` holds an experiment that {@link Tuner.restore} can resume. */
  static canRestore(dir: string): boolean {
    return ExperimentStorage.readState(dir) !== undefined;
  }

  /**
   * Resumes the experiment in `dir` (`storagePath/name`): finished trials are kept, unfinished
   * ones resume from their last checkpoint. Give the same trainable, and the same searcher and
   * scheduler kinds in `options.tuneConfig` (their state is read back into them).
   */
  static restore(dir: string, trainable: unknown, options: TunerOptions = {}): Tuner {
    const state = ExperimentStorage.readState(dir);
    if (!state)
      throw new TuneInvalidArgumentError(
        `No experiment to restore in ${dir} (no experiment_state.json). Check the path: storagePath/name.`,
      );
    if (!state.finishedSearch && options.paramSpace === undefined) {
      throw new TuneInvalidArgumentError(
        `Tuner.restore(${dir}) needs the experiment's paramSpace (and the same searcher and scheduler kinds in tuneConfig): ` +
          'its search had not finished, and the space is code (domains, functions) that is not stored.',
      );
    }
    const t = new Tuner(trainable, {
      ...options,
      runConfig: { ...options.runConfig, name: path.basename(dir), storagePath: path.dirname(dir) },
    });
    t.restored = state;
    return t;
  }

  /** Runs the experiment and returns every trial's result. */
  async fit(): Promise<ResultGrid> {
    if (!isInitialized()) await init();
    const runner = new TrialRunner(this.trainable, this.options, this.restored);
    return runner.run();
  }
}
