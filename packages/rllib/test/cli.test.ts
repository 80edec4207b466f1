// `ray-ts rllib train|evaluate` through the core CLI, as a user runs them.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const cli = path.resolve(import.meta.dirname, '../../core/dist/cli.js');

it('trains until a stop criterion, saves, and evaluates the checkpoint', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-rllib-cli-'));
  try {
    const { stdout } = await run(
      process.execPath,
      [
        cli,
        'rllib',
        'train',
        '--algo',
        'ppo',
        '--env',
        'CartPole-v1',
        '--stop',
        '{"trainingIteration": 2}',
        '--config',
        '{"trainBatchSize": 500, "numEpochs": 2}',
        '--num-env-runners',
        '1',
        '--seed',
        '3',
        '--checkpoint-dir',
        path.join(dir, 'cp'),
      ],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/^iter 1 {2}return [\d.]+ \(min [\d.]+, max [\d.]+\) {2}len [\d.]+ {2}steps 500/m);
    expect(stdout).toMatch(/stopped: trainingIteration 2\.00 >= 2 after 2 iterations, 1000 env steps/);
    expect(stdout).toContain(`saved to ${path.join(dir, 'cp')}`);
    const ev = await run(process.execPath, [cli, 'rllib', 'evaluate', path.join(dir, 'cp'), '--episodes', '3'], {
      timeout: 60_000,
    });
    expect(ev.stdout).toMatch(/evaluated 3 episodes: return [\d.]+/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

it('explains a bad algorithm, option or resource need', async () => {
  const fail = (args: string[]) =>
    run(process.execPath, [cli, 'rllib', ...args]).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
  expect(await fail(['train', '--algo', 'A3C', '--env', 'CartPole-v1'])).toMatch(
    /Unknown algorithm 'A3C'. Known: PPO, DQN/,
  );
  expect(await fail(['train', '--algo', 'PPO', '--env', 'CartPole-v1', '--config', '{"learning_rate": 1}'])).toMatch(
    /unknown option 'learning_rate'/,
  );
  expect(await fail(['train', '--algo', 'PPO', '--env', 'CartPole-v1', '--num-env-runners', '64'])).toMatch(
    /needs 64 CPUs .* Lower envRunners/,
  );
}, 60_000);
