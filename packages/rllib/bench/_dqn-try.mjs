import { init, shutdown } from '@ray-ts/core';
import { DQNConfig } from '@ray-ts/rllib';
await init({ numCpus: 2 });
const variants = JSON.parse(process.argv[2]);
const limit = Number(process.env.LIMIT ?? 100000);
for (const seed of (process.env.SEEDS ?? '1').split(',').map(Number)) for (const v of variants) {
  const algo = new DQNConfig().environment('CartPole-v1').training(v).debugging({ seed }).build();
  const t0 = performance.now();
  let r; const marks = [];
  do { r = await algo.train(); if (r.trainingIteration % 10 === 0) marks.push(`${r.trainingIteration}k:${r.episodeReturnMean.toFixed(0)}`); } while (!(r.episodeReturnMean >= 450) && r.numEnvStepsSampledLifetime < limit);
  console.log(`seed ${seed}`, JSON.stringify(v), `reached=${r.episodeReturnMean >= 450} steps=${r.numEnvStepsSampledLifetime} wall=${((performance.now() - t0) / 1000).toFixed(1)}s`, marks.join(' '));
  await algo.stop();
}
await shutdown();
