// DataParallelTrainer on the embedded cluster: correctness against one worker, failures and
// restarts (a thrown error, a SIGKILLed worker process), datasets, Tune integration.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { availableResources, get, init, kill, shutdown } from '@ray-ts/core';
import { range } from '@ray-ts/data';
import { DataParallelTrainer, TrainInvalidArgumentError, TrainingFailedError } from '@ray-ts/train';
import { Tuner, gridSearch } from '@ray-ts/tune';
import { waitFor } from '@ray-ts/core/testing';
import { Blocker, contextLoop, countShard, gpuLoop, linearLoop, type LinearConfig } from './fixtures/loops.js';

let storagePath = '';
beforeAll(async () => {
  await init({ numCpus: 4, numGpus: 2, namespace: 'train-test' });
  storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-train-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
});

const base: LinearConfig = { steps: 12, lr: 0.2, rows: 64, dims: 3 };
const run = (
  name: string,
  config: Partial<LinearConfig>,
  numWorkers: number | { min: number; max: number },
  extra: Record<string, unknown> = {},
) =>
  new DataParallelTrainer(linearLoop, {
    trainLoopConfig: { ...base, ...config },
    scalingConfig: { numWorkers, ...((extra.scaling as object) ?? {}) },
    runConfig: { name, storagePath, verbose: 0, ...((extra.run as object) ?? {}) },
  }).fit();

suite('DataParallelTrainer', () => {
  it('2 workers on half the rows each end with the weights of 1 worker on all of them', async () => {
    const one = await run('one', {}, 1);
    const two = await run('two', {}, 2);
    expect(one.error).toBeUndefined();
    expect(two.error).toBeUndefined();
    expect(two.metrics?.worldSize).toBe(2);
    expect(two.metricsHistory.map((r) => r.trainingIteration)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const w1 = one.metrics!.w as number[];
    const w2 = two.metrics!.w as number[];
    for (let j = 0; j < w1.length; j++) expect(Math.abs(w1[j] - w2[j])).toBeLessThan(1e-12);
    // It learns: the loss falls.
    expect(two.metricsHistory.at(-1)!.loss as number).toBeLessThan((two.metricsHistory[0].loss as number) / 5);
    expect(fs.readFileSync(path.join(two.path, 'result.json'), 'utf8').trim().split('\n')).toHaveLength(12);
    await waitFor(async () => (await availableResources()).CPU === 4, {
      what: 'the workers and their placement group gone',
    });
  });

  it('gives each worker its context', async () => {
    const r = await new DataParallelTrainer(contextLoop, {
      scalingConfig: { numWorkers: 3 },
      runConfig: { name: 'ctx', storagePath, verbose: 0 },
    }).fit();
    expect(r.metrics).toMatchObject({
      worldRank: 0,
      worldSize: 3,
      localRank: 0,
      localWorldSize: 3,
      nodeRank: 0,
      experimentName: 'ctx',
      attempt: 0,
    });
    expect(r.metrics?.trialDir).toBe(r.path);
  });

  it('restarts the group from the latest checkpoint when a worker throws, and ends as a run without the failure', async () => {
    const clean = await run('clean', { checkpointEvery: 5 }, 2);
    const r = await run('throws', { checkpointEvery: 5, failAt: { rank: 1, step: 8, kind: 'throw' } }, 2, {
      run: { failureConfig: { maxFailures: 1 } },
    });
    expect(r.error).toBeUndefined();
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatchObject({ attempt: 0, rank: 1, restartedFrom: path.join(r.path, 'checkpoint_000005') });
    expect(r.failures[0].error.stack).toMatch(/injected failure at step 8/);
    expect(r.metricsHistory.map((x) => x.trainingIteration)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(r.metrics!.w).toEqual(clean.metrics!.w);
    expect(r.checkpoint?.toDict()).toMatchObject({ step: 10 });
    expect(
      fs
        .readFileSync(path.join(r.path, 'result.json'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).step),
    ).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('keeps the best checkpoints, and resumes a new run from one (resumeFromCheckpoint)', async () => {
    const first = await run('first', { steps: 6, checkpointEvery: 2 }, 2, {
      run: { checkpointConfig: { numToKeep: 2, checkpointScoreAttribute: 'loss', checkpointScoreOrder: 'min' } },
    });
    // Losses fall: the kept ones are the last two, best (lowest loss) first.
    expect(first.bestCheckpoints.map((c) => c.metrics?.step)).toEqual([6, 4]);
    expect(
      fs
        .readdirSync(first.path)
        .filter((d) => d.startsWith('checkpoint_'))
        .sort(),
    ).toEqual(['checkpoint_000004', 'checkpoint_000006']);
    const copy = first.bestCheckpoints[1].checkpoint.toDirectory(path.join(storagePath, 'copied'));
    expect(fs.existsSync(path.join(copy, 'checkpoint.bin'))).toBe(true);
    const { Checkpoint } = await import('@ray-ts/train');
    const resumed = await new DataParallelTrainer(linearLoop, {
      trainLoopConfig: { ...base, steps: 12 },
      scalingConfig: { numWorkers: 2 },
      resumeFromCheckpoint: Checkpoint.fromDirectory(copy),
      runConfig: { name: 'resumed', storagePath, verbose: 0 },
    }).fit();
    // It went on from step 4: 8 more steps, ending with the weights of 12 steps from scratch.
    expect(resumed.metricsHistory.map((m) => m.step)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    const full = await run('full', {}, 2);
    expect(resumed.metrics!.w).toEqual(full.metrics!.w);
  });

  it('restarts after a worker process is killed with SIGKILL', async () => {
    const name = 'sigkill';
    const pidFile = path.join(storagePath, name, 'worker-1.pid');
    const fitting = run(name, { checkpointEvery: 3, sleepMs: 60, steps: 10 }, 2, {
      scaling: { isolation: 'process' },
      run: { failureConfig: { maxFailures: 2 } },
    });
    await waitFor(() => fs.existsSync(pidFile), { what: 'worker 1 running', timeoutMs: 30_000 });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 400));
    process.kill(pid, 'SIGKILL');
    const r = await fitting;
    expect(r.error).toBeUndefined();
    expect(r.failures.length).toBeGreaterThanOrEqual(1);
    expect(r.failures[0].rank).toBe(1);
    expect(r.failures[0].error.name).toMatch(/ActorDiedError/);
    expect(r.metrics?.step).toBe(10);
  });

  it("fails for good after maxFailures, with the worker's stack", async () => {
    const r = await run('fails', { failAt: { rank: 0, step: 2, kind: 'throw' } }, 2);
    expect(r.error).toBeInstanceOf(TrainingFailedError);
    expect(r.error!.message).toMatch(/worker 0 .*RangeError: injected failure at step 2.*maxFailures/s);
    expect(r.error!.message).toMatch(/stack/);
    expect(r.failures).toHaveLength(1);
  });

  it('elastic: starts with the workers that fit, and grows at a checkpoint once more are free', async () => {
    const blocker = Blocker.options({ numCpus: 2 }).remote();
    await get(blocker.ping.remote());
    const clean = await run('elastic-clean', { steps: 16 }, 1);
    const fitting = run('elastic', { steps: 16, sleepMs: 40, checkpointEvery: 2 }, { min: 1, max: 4 });
    const results = path.join(storagePath, 'elastic', 'result.json');
    await waitFor(() => fs.existsSync(results) && fs.readFileSync(results, 'utf8').trim().split('\n').length >= 3, {
      what: '3 reports',
    });
    await kill(blocker);
    const r = await fitting;
    expect(r.error).toBeUndefined();
    expect(r.groupSizes).toEqual([2, 4]);
    expect(r.failures).toEqual([]);
    expect(r.metrics?.worldSize).toBe(4);
    // Full-batch gradients whatever the group's size: the same weights as one worker.
    const w1 = clean.metrics!.w as number[];
    (r.metrics!.w as number[]).forEach((v, j) => expect(Math.abs(v - w1[j])).toBeLessThan(1e-12));
    expect(r.metricsHistory.map((x) => x.trainingIteration)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('splits datasets among the workers', async () => {
    const r = await new DataParallelTrainer(countShard, {
      trainLoopConfig: { epochs: 2 },
      scalingConfig: { numWorkers: 2 },
      datasets: { train: range(100) },
      runConfig: { name: 'data', storagePath, verbose: 0 },
    }).fit();
    expect(r.error).toBeUndefined();
    expect(r.metricsHistory).toHaveLength(2);
    for (const m of r.metricsHistory) {
      expect((m.rows as number[]).reduce((a, b) => a + b, 0)).toBe(100);
      expect(m.sum).toBe(4950);
    }
  });

  it('runs one training group per Tune trial', async () => {
    const trainer = new DataParallelTrainer(linearLoop, {
      trainLoopConfig: { ...base, steps: 6 },
      scalingConfig: { numWorkers: 2, resourcesPerWorker: { CPU: 0.5 } },
    });
    const grid = await new Tuner(trainer, {
      paramSpace: { trainLoopConfig: { lr: gridSearch([0.01, 0.2]) } },
      tuneConfig: { metric: 'loss', mode: 'min' },
      runConfig: { name: 'tuned', storagePath, verbose: 0 },
    }).fit();
    expect(grid.errors.map((r) => r.error?.message)).toEqual([]);
    expect(grid.length).toBe(2);
    for (const r of grid) {
      expect(r.metricsHistory).toHaveLength(6);
      expect(r.metrics?.worldSize).toBe(2);
    }
    expect(grid.getBestResult().config).toEqual({ trainLoopConfig: { lr: 0.2 } });
  });

  it('gives GPU workers a process and a GPU each (CUDA_VISIBLE_DEVICES)', async () => {
    const r = await new DataParallelTrainer(gpuLoop, {
      scalingConfig: { numWorkers: 2, useGpu: true, resourcesPerWorker: { CPU: 0.5 } },
      runConfig: { name: 'gpu', storagePath, verbose: 0 },
    }).fit();
    expect(r.error).toBeUndefined();
    expect([...(r.metrics!.cuda as number[])].sort()).toEqual([0, 1]);
    const pids = r.metrics!.pids as number[];
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(process.pid);
  });

  it('explains bad options', () => {
    expect(() => new DataParallelTrainer(linearLoop, { scalingConfig: { num_workers: 2 } as never })).toThrow(
      /Did you mean 'numWorkers'/,
    );
    expect(() => new DataParallelTrainer(linearLoop, { scalingConfig: { numWorkers: 0 } })).toThrow(
      TrainInvalidArgumentError,
    );
    expect(() => new DataParallelTrainer(linearLoop, { runConfig: { failureConfig: { maxFailures: 1.5 } } })).toThrow(
      /maxFailures/,
    );
  });
});
