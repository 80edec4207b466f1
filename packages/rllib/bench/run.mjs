#!/usr/bin/env node
// The RLlib benchmark: PPO and DQN on CartPole-v1 until the mean return of the last 100 episodes
// reaches 450 (or a step budget runs out), on an embedded cluster of this machine's 2 CPUs: wall
// time, env steps and iterations. RLlib cannot be imported from this machine's local wheel store,
// so its figures are the ones measured on this machine kind in ../shared/BASELINES.md (RLlib's
// default configs: PPO 95.9 s, 76,000 env steps, 19 iterations; DQN 607 s, 30,000 env steps, 30
// iterations), quoted in the table.
//
//   npm run bench -w @ray-ts/rllib [-- --only ppo,dqn --target 450 --max-steps 400000 --seed 1 --cpus 2]
// Results: <repo>/.bench/rllib-bench.json.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'ppo,dqn' },
    target: { type: 'string', default: '450' },
    'max-steps': { type: 'string', default: '400000' },
    seed: { type: 'string', default: '1' },
    cpus: { type: 'string', default: '2' },
  },
});
const target = Number(values.target);
const maxSteps = Number(values['max-steps']);
const names = values.only.split(',');
for (const n of names) if (!['ppo', 'dqn'].includes(n)) {
  console.error(`unknown algorithm '${n}' in --only: ppo, dqn`);
  process.exit(2);
}
const rllibFigures = { ppo: { wallS: 95.9, steps: 76_000, iterations: 19 }, dqn: { wallS: 607, steps: 30_000, iterations: 30 } };

const { init, shutdown } = await import('@ray-ts/core');
const { PPOConfig, DQNConfig } = await import('@ray-ts/rllib');
await init({ numCpus: Number(values.cpus) });
const rows = [];
try {
  for (const name of names) {
    const config = (name === 'ppo' ? new PPOConfig() : new DQNConfig()).environment('CartPole-v1').debugging({ seed: Number(values.seed) });
    const algo = config.build();
    const t0 = performance.now();
    let r;
    do {
      r = await algo.train();
      console.error(`[${name}] iter ${r.trainingIteration}: return ${r.episodeReturnMean.toFixed(1)}, ${r.numEnvStepsSampledLifetime} steps, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } while (!(r.episodeReturnMean >= target) && r.numEnvStepsSampledLifetime < maxSteps);
    const wallS = (performance.now() - t0) / 1000;
    await algo.stop();
    rows.push({ name, reached: r.episodeReturnMean >= target, wallS, steps: r.numEnvStepsSampledLifetime, iterations: r.trainingIteration, sampleS: null, finalReturn: r.episodeReturnMean });
  }
} finally {
  await shutdown();
}
console.log(`\nCartPole-v1 to a mean return of ${target} (last 100 episodes), ${values.cpus} CPUs, seed ${values.seed}; RLlib: ../shared/BASELINES.md (same machine kind, RLlib's default configs)\n`);
console.log('| algorithm | ray-ts wall | env steps | iterations | RLlib wall | env steps | iterations | RLlib / ray-ts wall |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const b = rllibFigures[r.name];
  const wall = r.reached ? `${r.wallS.toFixed(1)} s` : `not reached in ${r.steps} steps (${r.finalReturn.toFixed(0)})`;
  console.log(`| ${r.name.toUpperCase()} | ${wall} | ${r.steps.toLocaleString('en-US')} | ${r.iterations} | ${b.wallS} s | ${b.steps.toLocaleString('en-US')} | ${b.iterations} | ${r.reached ? `${(b.wallS / r.wallS).toFixed(1)}x` : '-'} |`);
}
const root = path.resolve(import.meta.dirname, '../../..');
fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
fs.writeFileSync(path.join(root, '.bench/rllib-bench.json'), JSON.stringify({ settings: values, rows, rllib: rllibFigures }, null, 2));
