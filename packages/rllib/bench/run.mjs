#!/usr/bin/env node
// The RLlib benchmark: PPO and DQN on CartPole-v1 until the mean return of the last 100 episodes
// reaches 450 (or a step budget runs out), on an embedded cluster of this machine's 2 CPUs: wall
// time, env steps and iterations. RLlib cannot be imported from this machine's local wheel store,
// so its figures are the ones measured on this machine kind in ../shared/BASELINES.md (RLlib's
// default configs: PPO 95.9 s, 76,000 env steps, 19 iterations; DQN 607 s, 30,000 env steps, 30
// iterations), quoted in the table. SAC runs on Pendulum-v1 until the mean return reaches -250
// (--sac-target): BASELINES.md has no RLlib figure for it, so its row has ours only.
//
// Two measures of "reached": the mean return of the last 100 episodes (ours, `episodeReturnMean`,
// the stricter), and the mean return of the episodes finished in one iteration
// (`iterationEpisodeReturnMean`), which is what RLlib 2.58 reports as episode_return_mean (its
// windowed means are cleared at every iteration) and so what BASELINES.md's RLlib figures used.
// A mean of 450 over 100 episodes needs 45,000 steps of them at least; RLlib's DQN reached its
// 450 in 30,000 steps in all.
//
//   npm run bench -w @ray-ts/rllib [-- --only ppo,dqn,sac --target 450 --sac-target -250 --max-steps 400000 --seed 1 --cpus 2]
// Results: <repo>/.bench/rllib-bench.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'ppo,dqn,sac' },
    target: { type: 'string', default: '450' },
    'sac-target': { type: 'string', default: '-250' },
    'max-steps': { type: 'string', default: '400000' },
    seed: { type: 'string', default: '1' },
    cpus: { type: 'string', default: '2' },
  },
});
const target = Number(values.target);
const maxSteps = Number(values['max-steps']);
const names = values.only.split(',');
for (const n of names)
  if (!['ppo', 'dqn', 'sac'].includes(n)) {
    console.error(`unknown algorithm '${n}' in --only: ppo, dqn, sac`);
    process.exit(2);
  }
const rllibFigures = {
  ppo: { wallS: 95.9, steps: 76_000, iterations: 19 },
  dqn: { wallS: 607, steps: 30_000, iterations: 30 },
};

const { init, shutdown } = await import('@ray-ts/core');
const { PPOConfig, DQNConfig, SACConfig } = await import('@ray-ts/rllib');
await init({ numCpus: Number(values.cpus) });
const rows = [];
try {
  for (const name of names) {
    const config =
      name === 'sac'
        ? new SACConfig().environment('Pendulum-v1')
        : (name === 'ppo' ? new PPOConfig() : new DQNConfig()).environment('CartPole-v1');
    config.debugging({ seed: Number(values.seed) });
    const goal = name === 'sac' ? Number(values['sac-target']) : target;
    const algo = config.build();
    const t0 = performance.now();
    let r;
    let iterMeasure; // the first iteration whose own episodes average the goal (RLlib 2.58's measure)
    do {
      r = await algo.train();
      const s = (performance.now() - t0) / 1000;
      if (!iterMeasure && r.iterationEpisodeReturnMean >= goal)
        iterMeasure = { wallS: s, steps: r.numEnvStepsSampledLifetime, iterations: r.trainingIteration };
      console.error(
        `[${name}] iter ${r.trainingIteration}: return ${r.episodeReturnMean.toFixed(1)} (this iteration's episodes ${r.iterationEpisodeReturnMean.toFixed(1)}), ${r.numEnvStepsSampledLifetime} steps, ${s.toFixed(1)} s`,
      );
    } while (!(r.episodeReturnMean >= goal) && r.numEnvStepsSampledLifetime < maxSteps);
    const wallS = (performance.now() - t0) / 1000;
    await algo.stop();
    rows.push({
      name,
      env: name === 'sac' ? 'Pendulum-v1' : 'CartPole-v1',
      goal,
      reached: r.episodeReturnMean >= goal,
      wallS,
      steps: r.numEnvStepsSampledLifetime,
      iterations: r.trainingIteration,
      sampleS: null,
      finalReturn: r.episodeReturnMean,
      iterMeasure: iterMeasure ?? null,
    });
  }
} finally {
  await shutdown();
}
console.log(
  `\nTo a mean return (last 100 episodes) of ${target} on CartPole-v1, ${values['sac-target']} on Pendulum-v1; ${values.cpus} CPUs, seed ${values.seed}; RLlib: ../shared/BASELINES.md (same machine kind, RLlib's default configs)\n`,
);
const fmt = (m) => `${m.wallS.toFixed(1)} s | ${m.steps.toLocaleString('en-US')} | ${m.iterations}`;
console.log("RLlib's measure (the episodes of one iteration, as RLlib 2.58 reports episode_return_mean):\n");
console.log(
  '| algorithm | env | ray-ts wall | env steps | iterations | RLlib wall | env steps | iterations | RLlib / ray-ts wall |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const b = rllibFigures[r.name];
  const ours = r.iterMeasure ? fmt(r.iterMeasure) : `not reached in ${r.steps.toLocaleString('en-US')} steps | - | -`;
  const theirs = b ? fmt(b) : 'not measured | - | -';
  console.log(
    `| ${r.name.toUpperCase()} | ${r.env} | ${ours} | ${theirs} | ${r.iterMeasure && b ? `${(b.wallS / r.iterMeasure.wallS).toFixed(1)}x` : '-'} |`,
  );
}
console.log('\nOurs (the last 100 episodes):\n');
console.log('| algorithm | env | ray-ts wall | env steps | iterations |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name.toUpperCase()} | ${r.env} | ${r.reached ? fmt(r) : `not reached in ${r.steps.toLocaleString('en-US')} steps (${r.finalReturn.toFixed(0)}) | - | -`} |`,
  );
}
const root = path.resolve(import.meta.dirname, '../../..');
fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
fs.writeFileSync(
  path.join(root, '.bench/rllib-bench.json'),
  JSON.stringify({ settings: values, rows, rllib: rllibFigures }, null, 2),
);
