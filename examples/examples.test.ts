import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

it('runs the demo (npm start): pi with tasks and a parameter server actor', async () => {
  const { stdout } = await run(process.execPath, [path.join(root, 'examples/pi-and-parameter-server.js')], {
    cwd: root,
  });
  const pi = Number(/pi ~ ([\d.]+)/.exec(stdout)?.[1]);
  expect(Math.abs(pi - Math.PI)).toBeLessThan(0.01);
  expect(stdout).toMatch(/parameter server: 400 updates from 8 tasks/);
  expect(stdout).toMatch(
    /learned y = 3\.0\d\dx - 0\.9\d\d|learned y = 3\.000x - 1\.000|learned y = 2\.9\d\dx - 1\.0\d\d/,
  );
});

it('runs the same demo unchanged on a 3-node cluster (RAY_TS_ADDRESS)', async () => {
  const { Cluster } = await import('@ray-ts/core/testing');
  const cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }, { numCpus: 1 }] });
  try {
    const { stdout } = await run(process.execPath, [path.join(root, 'examples/pi-and-parameter-server.js')], {
      cwd: root,
      env: { ...process.env, RAY_TS_ADDRESS: cluster.address },
    });
    expect(stdout).toContain(`Connected to the cluster at ${cluster.address}`);
    const pi = Number(/pi ~ ([\d.]+)/.exec(stdout)?.[1]);
    expect(Math.abs(pi - Math.PI)).toBeLessThan(0.01);
    expect(stdout).toMatch(
      /learned y = 3\.0\d\dx - 0\.9\d\d|learned y = 3\.000x - 1\.000|learned y = 2\.9\d\dx - 1\.0\d\d/,
    );
  } finally {
    await cluster.shutdown();
  }
});

it('runs the TypeScript word-count example through tsx', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'examples/word-count.ts')], {
    cwd: root,
  });
  expect(stdout).toContain('top words: it=6000 was=6000 the=');
});

it('runs the work-queue example: a bounded Queue between tasks, and an ActorPool', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'examples/work-queue.ts')], {
    cwd: root,
  });
  expect(stdout).toContain('queue: sum of squares 1..100 = 338350');
  expect(stdout).toContain('pool: primes below 100000 = 9592 (per range: 1492 1270 ');
});

it('runs batch inference: Parquet -> ONNX MLP on an actor pool -> Parquet, checked against a JS reference', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'examples/batch-inference/main.ts'), '--rows', '5000'],
    { cwd: root },
  );
  expect(stdout).toMatch(/predicted 5000 rows in [\d.]+ s .* on 2 actors/);
  expect(stdout).toMatch(
    /checked 5000 predictions against the JavaScript reference: labels agree on 5000, max \|score - reference\| = /,
  );
}, 120_000);

it('serves an ONNX model over HTTP with batching: concurrent clients, predictions checked against a JS reference', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'examples/serve-onnx/main.ts'), '--requests', '500', '--clients', '8'],
    { cwd: root },
  );
  expect(stdout).toMatch(/served 500 requests from 8 concurrent clients in [\d.]+ s \(\d+ req\/s\)/);
  expect(stdout).toMatch(
    /checked 500 predictions against the JavaScript reference: labels agree on 500, max \|output - reference\| = /,
  );
}, 120_000);

it('tunes a small MLP with TPE and ASHA: the best config is well above chance, poor trials are stopped early', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'examples/tune-mlp/main.ts')], {
    cwd: root,
  });
  const summary = /tuned 16 trials in [\d.]+ s: (\d+) stopped early by ASHA, 0 errors/.exec(stdout);
  expect(summary, stdout).not.toBeNull();
  expect(Number(summary![1])).toBeGreaterThan(0);
  expect(Number(/validation accuracy ([\d.]+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(0.8);
  expect(
    Number(/test accuracy of the best checkpoint \(epoch \d+\): ([\d.]+)/.exec(stdout)?.[1]),
  ).toBeGreaterThanOrEqual(0.8);
}, 120_000);

it('tracks a Tune experiment: a callback forwards every result to an HTTP tracking service, stoppers end each trial', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'examples/tune-tracking/main.ts')],
    { cwd: root },
  );
  const tracked = /tracking service: 4 runs, (\d+) metric points \(Tune reported (\d+)\), 4 ended TERMINATED/.exec(
    stdout,
  );
  expect(tracked, stdout).not.toBeNull();
  expect(tracked![1]).toBe(tracked![2]);
  // Gradient descent on (w - 3)^2: the smallest learning rate is still moving at 50 iterations; the
  // others plateau sooner, the faster the larger.
  expect(stdout).toContain('lr 0.01: loss 1.19e+0 after 50 iterations, stopped at the iteration limit');
  expect(stdout).toMatch(/lr 0\.45: loss [\d.e-]+ after \d+ iterations, stopped by the plateau stopper/);
  expect(stdout).toContain('best: lr 0.45');
  expect(stdout).toMatch(/TensorBoard: tensorboard --logdir \S+tune-tracking/);
}, 120_000);

it('trains a TensorFlow.js MLP on 2 workers, checkpoints it, exports it to ONNX and serves it', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'examples/train-mlp/main.ts')], {
    cwd: root,
  });
  const trained =
    /trained 4 epochs on 2 workers \((\w+)\) in [\d.]+ s: loss [\d.]+, train accuracy ([\d.]+), replicas identical: (\w+)/.exec(
      stdout,
    );
  expect(trained, stdout).not.toBeNull();
  expect(Number(trained![2])).toBeGreaterThan(0.9);
  expect(trained![3]).toBe('true');
  expect(Number(/test accuracy ([\d.]+)/.exec(stdout)?.[1])).toBeGreaterThan(0.9);
  const served =
    /served 600 predictions of the exported ONNX model: labels agree with tfjs on (\d+), max \|difference\| = ([\d.e+-]+)/.exec(
      stdout,
    );
  expect(served, stdout).not.toBeNull();
  expect(Number(served![1])).toBe(600);
  expect(Number(served![2])).toBeLessThan(1e-4);
}, 120_000);

it('runs an RL experiment: PPO on CartPole to a mean return of 200, evaluated, saved, restored, exported as ONNX', async () => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'examples/rllib-cartpole/main.ts')],
    { cwd: root },
  );
  const reached = /reached a mean return of ([\d.]+) in \d+ iterations, (\d+) env steps/.exec(stdout);
  expect(reached, stdout).not.toBeNull();
  expect(Number(reached![1])).toBeGreaterThanOrEqual(200);
  expect(Number(/greedy evaluation: mean return ([\d.]+)/.exec(stdout)?.[1])).toBeGreaterThan(150);
  const here = Number(/one episode in this process returned (\d+)/.exec(stdout)?.[1]);
  expect(here).toBeGreaterThan(100);
  // The exported ONNX policy plays the same seeded episode with the same greedy actions.
  expect(Number(/the same episode under onnxruntime returned (\d+)/.exec(stdout)?.[1])).toBe(here);
}, 120_000);

it('runs the multi-host demo as on three machines: its own modules shipped to hosts that cannot see them', async () => {
  const { stdout } = await run(process.execPath, [path.join(root, 'examples/multi-host/three-hosts.mjs')], {
    cwd: root,
  });
  const [, head, worker, driver] = /head on ([\d.]+), worker node on ([\d.]+), driver on ([\d.]+)/.exec(stdout)!;
  expect(new Set([head, worker, driver]).size).toBe(3);
  expect(stdout).toMatch(/: 2 nodes on 2 hosts/);
  const pi = Number(/pi ~ ([\d.]+)/.exec(stdout)?.[1]);
  expect(Math.abs(pi - Math.PI)).toBeLessThan(0.01);
  // SPREAD puts work on both hosts; they load lib/*.js and read data/target.json from their copies.
  expect(stdout).toMatch(new RegExp(`pi ~ .* run on: .*${worker.replace(/\./g, '\\.')} x\\d+`));
  expect(stdout).toMatch(/learned y = 3\.0\d\dx - (0\.9\d\d|1\.0\d\d)|learned y = 2\.9\d\dx - 1\.0\d\d/);
}, 120_000);
