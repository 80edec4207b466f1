/**
 * A trainer as a Tune trainable: one training group per trial. The trial's config may override
 * the trainer's `trainLoopConfig` (`paramSpace: { trainLoopConfig: { lr: uniform(...) } }`), and
 * each of the group's reports is a result of the trial.
 */
import { remote } from '@ray-ts/core';
import type { TuneContext } from '@ray-ts/tune';
import { runTraining } from './run-training.js';
import { setTrialTrainable } from './trainer.js';
import type { TrainerSpec } from './trainer-options.js';

/** The function Tune runs in each trial's actor (loaded by reference in workers). */
export const trainTrial = remote(
  async (config: Record<string, unknown>, ctx: TuneContext, params: { trainerSpec: TrainerSpec }) => {
    const spec = params.trainerSpec;
    const trainLoopConfig = {
      ...spec.trainLoopConfig,
      ...((config.trainLoopConfig as Record<string, unknown> | undefined) ?? {}),
    };
    const checkpoint = ctx.getCheckpoint();
    const result = await runTraining(
      {
        ...spec,
        trainLoopConfig,
        run: { ...spec.run, verbose: 0 },
        resumeFrom: checkpoint ? checkpoint.toWire() : spec.resumeFrom,
      },
      'train',
      ctx.trialDir,
      ctx,
    );
    if (result.error) throw result.error;
  },
);

setTrialTrainable(trainTrial);
