/**
 * An algorithm config as a Tune trainable: `new Tuner(new PPOConfig().environment('CartPole-v1'),
 * { paramSpace: { lr: loguniform(1e-4, 1e-2) } })`. The trial's config overrides training
 * options by name; each `train()` is a result of the trial, with a checkpoint every iteration
 * (so PBT can clone a trial), and the trial resumes from its checkpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import { remote } from '@ray-ts/core';
import { Checkpoint, PlacementGroupFactory, type TuneContext } from '@ray-ts/tune';
import { makeTempDir } from '@ray-ts/tune/internal';
import { setTrialTrainable } from './algorithm-config.js';
import { Algorithm, makeConfig } from './algorithm.js';
// The algorithms register their configs (trials build them by name).
import './ppo.js';
import './dqn.js';
import './sac.js';

/** The function Tune runs in each trial's actor (loaded by reference in workers). */
export const rllibTrial = remote(
  async (config: Record<string, unknown>, ctx: TuneContext, params: { algoConfig: Record<string, unknown> }) => {
    const base = params.algoConfig;
    const training = { ...(base.training as Record<string, unknown>) };
    for (const [k, v] of Object.entries(config)) if (k in training) training[k] = v;
    const cfg = makeConfig({ ...base, training });
    const cp = ctx.getCheckpoint();
    let algo: Algorithm;
    if (cp?.path && fs.existsSync(path.join(cp.path, 'algorithm'))) {
      algo = cfg.build();
      await algo.restoreFrom(path.join(cp.path, 'algorithm'));
    } else algo = cfg.build();
    try {
      for (;;) {
        const r = await algo.train();
        // Scratch that Tune copies into checkpoint_NNNNNN/; one a crash leaves is removed on restore.
        const dir = makeTempDir(path.join(ctx.trialDir, 'rllib-checkpoint'));
        await algo.save(path.join(dir, 'algorithm'));
        const { learnerStats, evaluation, ...flat } = r;
        await ctx.report(
          { ...flat, ...(evaluation ? { evaluationReturnMean: evaluation.episodeReturnMean } : {}), learnerStats },
          { checkpoint: Checkpoint.fromDirectory(dir) },
        );
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await algo.stop();
    }
  },
);

setTrialTrainable({
  fn: rllibTrial,
  resources: (bundles) =>
    new PlacementGroupFactory(
      bundles.filter((b, i) => i === 0 || Object.values(b).some((v) => v > 0)),
      'PACK',
    ),
});
