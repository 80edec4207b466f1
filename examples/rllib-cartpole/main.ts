// An RL experiment runner with @ray-ts/rllib: PPO on CartPole-v1 with 2 env runners until the
// mean return reaches a target, an evaluation, a checkpoint, the restored policy driving an
// environment in this process with computeSingleAction, and the policy exported as ONNX driving
// one under onnxruntime (as a Serve deployment would, without TensorFlow).
//
//   node --import tsx examples/rllib-cartpole/main.ts [--target 200] [--max-steps 150000] [--seed 1]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import * as ort from 'onnxruntime-node';
import { Algorithm, PPOConfig, makeEnv } from '@ray-ts/rllib';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: '200' },
    'max-steps': { type: 'string', default: '150000' },
    seed: { type: 'string', default: '1' },
  },
});
const target = Number(values.target);

await init({ numCpus: 2 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-example-'));
try {
  const algo = new PPOConfig()
    .environment('CartPole-v1')
    .envRunners({ numEnvRunners: 2, numEnvsPerEnvRunner: 2 })
    .training({ trainBatchSize: 2000 })
    .evaluation({ evaluationDuration: 10 })
    .debugging({ seed: Number(values.seed) })
    .build();
  let r;
  do {
    r = await algo.train();
    console.log(
      `iteration ${r.trainingIteration}: mean return ${r.episodeReturnMean.toFixed(1)} over the last ${Math.min(100, r.numEpisodes)}+ episodes, ${r.numEnvStepsSampledLifetime} env steps, ${r.timeTotalS.toFixed(1)} s`,
    );
  } while (r.episodeReturnMean < target && r.numEnvStepsSampledLifetime < Number(values['max-steps']));
  console.log(
    `reached a mean return of ${r.episodeReturnMean.toFixed(1)} in ${r.trainingIteration} iterations, ${r.numEnvStepsSampledLifetime} env steps, ${r.timeTotalS.toFixed(1)} s`,
  );
  const ev = await algo.evaluate();
  console.log(`greedy evaluation: mean return ${ev.episodeReturnMean.toFixed(1)} over ${ev.numEpisodes} episodes`);
  const saved = await algo.save(path.join(dir, 'ppo'));
  await algo.stop();

  // The saved policy, restored, drives an environment here.
  const restored = await Algorithm.fromCheckpoint(saved);
  /** One episode's return, each action chosen by `act` from the observation. */
  const episode = async (act: (obs: Float32Array) => number | Promise<number>): Promise<number> => {
    const env = makeEnv('CartPole-v1');
    let { obs } = env.reset({ seed: 123 });
    let total = 0;
    for (;;) {
      const step = env.step(await act(obs as Float32Array));
      total += step.reward;
      obs = step.obs;
      if (step.terminated || step.truncated) return total;
    }
  };
  const total = await episode((obs) => restored.computeSingleAction(obs) as number);
  console.log(`restored from ${path.basename(saved)}: one episode in this process returned ${total}`);

  // The policy as ONNX: its logits, under onnxruntime, choose the same greedy actions.
  const model = await restored.exportPolicyModel(path.join(dir, 'cartpole-policy.onnx'));
  await restored.stop();
  const session = await ort.InferenceSession.create(model.path);
  const onnxTotal = await episode(async (obs) => {
    const out = await session.run({ [model.inputName]: new ort.Tensor('float32', obs, [1, obs.length]) });
    const logits = out[model.outputName].data as Float32Array;
    return logits[1] > logits[0] ? 1 : 0;
  });
  await session.release();
  console.log(
    `exported ${path.basename(model.path)} (${model.bytes} bytes): the same episode under onnxruntime returned ${onnxTotal}`,
  );
} finally {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
}
