import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { availableResources, init, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import {
  ASHAScheduler,
  PlacementGroupFactory,
  PopulationBasedTraining,
  TuneInvalidArgumentError,
  Tuner,
  choice,
  gridSearch,
  loguniform,
  uniform,
  withParameters,
  withResources,
} from '@ray-ts/tune';
import * as f from './fixtures/trainables.js';

let storagePath = '';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'tune-test' });
  storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tune-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
});

const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

suite('Tuner', () => {
  it('runs random search in parallel and finds the best trial, writing results as it goes', async () => {
    const tuner = new Tuner(f.quadratic, {
      paramSpace: { x: uniform(-5, 10), iters: 4 },
      tuneConfig: { metric: 'score', mode: 'max', numSamples: 12 },
      runConfig: { name: 'random', storagePath, verbose: 0 },
    });
    const grid = await tuner.fit();
    expect(grid.length).toBe(12);
    expect(grid.numErrors).toBe(0);
    const best = grid.getBestResult();
    const xs = [...grid].map((r) => r.config.x as number);
    expect(best.config.x).toBe(xs.reduce((a, b) => (Math.abs(a - 3) < Math.abs(b - 3) ? a : b)));
    expect(best.metricsHistory.map((r) => r.trainingIteration)).toEqual([1, 2, 3, 4]);
    const state = JSON.parse(fs.readFileSync(path.join(grid.experimentPath, 'experiment_state.json'), 'utf8'));
    expect(state.trials).toHaveLength(12);
    expect(lines(path.join(best.path, 'result.json'))).toHaveLength(4);
    const csv = lines(path.join(best.path, 'progress.csv'));
    expect(csv[0].split(',')).toContain('score');
    expect(csv).toHaveLength(5);
    expect(JSON.parse(fs.readFileSync(path.join(best.path, 'params.json'), 'utf8')).x).toBe(best.config.x);
  });

  it('runs every grid point numSamples times', async () => {
    const grid = await new Tuner(f.quadratic, {
      paramSpace: { x: gridSearch([1, 2, 3]), iters: 1, tag: choice(['a', 'b']) },
      tuneConfig: { numSamples: 2 },
      runConfig: { name: 'grid', storagePath, verbose: 0 },
    }).fit();
    expect([...grid].map((r) => r.config.x).sort()).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('runs class trainables with checkpoints and stop criteria', async () => {
    const grid = await new Tuner(f.Accumulator, {
      paramSpace: { rate: gridSearch([1, 2]) },
      runConfig: {
        name: 'class',
        storagePath,
        stop: { trainingIteration: 5 },
        checkpointConfig: { checkpointFrequency: 2 },
        verbose: 0,
      },
    }).fit();
    const totals = [...grid].map((r) => r.metrics!.total as number).sort((a, b) => a - b);
    expect(totals).toEqual([5, 10]);
    for (const r of grid) expect(r.checkpoint?.toDict()).toMatchObject({ total: r.config.rate === 1 ? 4 : 8 });
  });

  it('retries a failing trial from its checkpoint, records one that keeps failing, and goes on', async () => {
    const grid = await new Tuner(f.steady, {
      paramSpace: { lr: gridSearch([0.1, 0.2, 0.3]), iters: 4, sleepMs: 1, failAt: 3, alwaysFail: false },
      runConfig: { name: 'failures', storagePath, failureConfig: { maxFailures: 1 }, verbose: 0 },
    }).fit();
    for (const r of grid) {
      expect(r.error).toBeUndefined();
      expect(r.metrics).toMatchObject({ i: 4, starts: 2 });
      // Resumed from the checkpoint at iteration 2: iterations 1..4 once each.
      expect(r.metricsHistory.map((x) => x.trainingIteration)).toEqual([1, 2, 3, 4]);
    }
    // Checkpointed at 2, failed at 4: iteration 3 runs again, and the files hold it once.
    const rerun = await new Tuner(f.steady, {
      paramSpace: { lr: 0.1, iters: 6, sleepMs: 1, failAt: 4, checkpointEvery: 2 },
      runConfig: {
        name: 'rerun',
        storagePath,
        failureConfig: { maxFailures: 1 },
        verbose: 0,
        checkpointConfig: { numToKeep: 2, checkpointScoreAttribute: 'i', checkpointScoreOrder: 'min' },
      },
    }).fit();
    const r = rerun.get(0);
    expect(r.metricsHistory.map((x) => x.trainingIteration)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines(path.join(r.path, 'result.json')).map((l) => JSON.parse(l).i)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines(path.join(r.path, 'progress.csv'))).toHaveLength(7);
    // numToKeep 2, lowest i first: the one at 2 and the latest (always kept) at 6; 4 was deleted.
    expect(r.bestCheckpoints.map((c) => c.checkpoint.toDict<{ i: number }>().i)).toEqual([2, 6]);
    expect(r.bestCheckpoints.map((c) => c.metrics?.i)).toEqual([2, 6]);
    expect(r.getBestCheckpoint('loss', 'min')?.toDict()).toEqual({ i: 6 });
    expect(
      fs
        .readdirSync(r.path)
        .filter((d) => d.startsWith('checkpoint_'))
        .sort(),
    ).toEqual(['checkpoint_000002', 'checkpoint_000006']);

    const bad = await new Tuner(f.steady, {
      paramSpace: { lr: gridSearch([0.1, 0.5]), iters: 2, sleepMs: 1, alwaysFail: gridSearch([false, true]) },
      runConfig: { name: 'errors', storagePath, failureConfig: { maxFailures: 1 }, verbose: 0 },
    }).fit();
    expect(bad.length).toBe(4);
    expect(bad.numErrors).toBe(2);
    const e = bad.errors[0].error!;
    expect(e.message).toMatch(/always fails/);
    expect(e.stack).toMatch(/RangeError/);
  });

  it('stops bad trials early with ASHA', async () => {
    const grid = await new Tuner(f.steady, {
      paramSpace: { lr: gridSearch([1, 2, 4, 8, 16, 32, 64, 128]), iters: 27, sleepMs: 0 },
      tuneConfig: {
        metric: 'loss',
        mode: 'min',
        scheduler: new ASHAScheduler({ maxT: 27, gracePeriod: 1, reductionFactor: 3 }),
        maxConcurrentTrials: 2,
      },
      runConfig: { name: 'asha', storagePath, verbose: 0 },
    }).fit();
    const iters = [...grid].map((r) => r.metrics!.trainingIteration);
    expect(Math.max(...iters)).toBe(27);
    expect(iters.filter((n) => n < 27).length).toBeGreaterThanOrEqual(4);
    expect(grid.getBestResult().config.lr).toBe(1);
  });

  it('shares big objects through the object store with withParameters, and sets resources with withResources', async () => {
    const data: Float64Array = Float64Array.from({ length: 200_000 }, (_, i) => i % 10);
    const grid = await new Tuner(withResources(withParameters(f.sumShared, { data }), { numCpus: 0.5 }), {
      paramSpace: { scale: gridSearch([1, 2, 3, 4]) },
      runConfig: { name: 'params', storagePath, verbose: 0 },
    }).fit();
    expect([...grid].map((r) => r.metrics!.sum).sort((a, b) => (a as number) - (b as number))).toEqual([
      900_000, 1_800_000, 2_700_000, 3_600_000,
    ]);
  });
  it('reserves a placement group per trial with PlacementGroupFactory: the trainable in bundle 0, its tasks in the group', async () => {
    const pgf = new PlacementGroupFactory([{ CPU: 0.5 }, { CPU: 0.5 }]);
    expect(pgf.requiredResources).toEqual({ CPU: 1 });
    const grid = await new Tuner(withResources(f.inGroup, pgf), {
      paramSpace: { i: gridSearch([1, 2, 3, 4]) },
      runConfig: { name: 'pgf', storagePath, verbose: 0 },
    }).fit();
    expect(grid.numErrors).toBe(0);
    const groups = [...grid].map((r) => r.metrics?.group);
    expect(new Set(groups).size).toBe(4);
    for (const r of grid) {
      expect(r.metrics?.bundles).toBe(2);
      expect(r.metrics?.kids).toEqual([r.metrics?.group, r.metrics?.group]);
    }
    // Every trial's group is removed when it ends.
    await waitFor(async () => (await availableResources()).CPU === 2, { what: 'bundles returned' });

    expect(() => new PlacementGroupFactory([])).toThrow(TuneInvalidArgumentError);
    expect(() => new PlacementGroupFactory([{ cpu: 1 }])).toThrow(/Ray's names, e.g. \{ CPU: 1/);
    expect(() => new PlacementGroupFactory([{ CPU: 1 }], 'TIGHT' as never)).toThrow(/STRICT_PACK/);
    expect(() => withResources(f.quadratic, { cpu: 2 } as never)).toThrow(/Did you mean 'numCpus'/);
    const tooBig = new Tuner(withResources(f.quadratic, new PlacementGroupFactory([{ CPU: 2 }, { CPU: 1 }])), {
      paramSpace: { x: 1 },
      runConfig: { name: 'pgf-too-big', storagePath, verbose: 0 },
    });
    await expect(tooBig.fit()).rejects.toThrow(/\{"CPU":3\} in all.*no trial can run/);
  });
});

suite('population based training', () => {
  it('exploits good trials on a synthetic problem: the population ends far better than without it', async () => {
    const space = { lr: gridSearch([1e-4, 1e-3, 0.1, 10]), iters: 24 };
    const run = (name: string, scheduler?: PopulationBasedTraining) =>
      new Tuner(f.pbtToy, {
        paramSpace: space,
        tuneConfig: { metric: 'score', mode: 'max', maxConcurrentTrials: 4, ...(scheduler ? { scheduler } : {}) },
        runConfig: { name, storagePath, verbose: 0 },
      }).fit();
    const plain = await run('pbt-off');
    const pbt = await run(
      'pbt-on',
      new PopulationBasedTraining({
        timeAttr: 'trainingIteration',
        perturbationInterval: 4,
        hyperparamMutations: { lr: loguniform(1e-4, 10) },
        quantileFraction: 0.25,
        seed: 7,
      }),
    );
    const mean = (g: typeof plain) => [...g].reduce((a, r) => a + (r.metrics!.score as number), 0) / g.length;
    // Without PBT the worst trials stay bad; with it they restart from the best one's checkpoint.
    expect(mean(pbt)).toBeGreaterThan(mean(plain) + 5);
    const lrs = [...pbt].map((r) => r.config.lr as number);
    expect(lrs.some((lr) => ![1e-4, 1e-3, 0.1, 10].includes(lr))).toBe(true); // explored: perturbed configs
  });
});

suite('Tuner.restore', () => {
  it('resumes an experiment whose driver was killed: finished trials are kept, running ones resume from their checkpoint', async () => {
    const { spawn } = await import('node:child_process');
    const { waitFor } = await import('@ray-ts/core/testing');
    const name = 'killed';
    const dir = path.join(storagePath, name);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/restore-driver.ts'), storagePath, name],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, RAY_TS_ADDRESS: '' },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const state = () =>
      (Tuner.canRestore(dir)
        ? JSON.parse(fs.readFileSync(path.join(dir, 'experiment_state.json'), 'utf8'))
        : undefined) as { trials: { status: string; checkpointIteration: number; trialName: string }[] } | undefined;
    await waitFor(
      () => {
        const s = state();
        return (
          !!s &&
          s.trials.some((t) => t.status === 'TERMINATED') &&
          s.trials.some((t) => t.status === 'RUNNING' && t.checkpointIteration >= 2)
        );
      },
      { timeoutMs: 60_000, what: `a finished and a checkpointed running trial (driver output: ${out})` },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = state()!;
    const finished = before.trials.filter((t) => t.status === 'TERMINATED').map((t) => t.trialName);
    const resumed = before.trials
      .filter((t) => t.status === 'RUNNING' && t.checkpointIteration >= 2)
      .map((t) => t.trialName);
    expect(out).not.toMatch(/finished without being killed/);

    const grid = await Tuner.restore(dir, f.steady, {
      paramSpace: { lr: gridSearch([0.1, 0.2, 0.3, 0.4]), iters: 10, sleepMs: 150 },
      runConfig: { verbose: 0 },
    }).fit();
    expect(grid.length).toBe(4);
    expect(grid.numErrors).toBe(0);
    for (const r of grid) {
      expect(r.metrics!.i).toBe(10);
      expect(r.metricsHistory.map((x) => x.trainingIteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const starts = fs.readFileSync(path.join(r.path, 'starts'), 'utf8').length;
      const trialName = path.basename(r.path);
      if (finished.includes(trialName)) expect(starts).toBe(1); // not run again
      if (resumed.includes(trialName)) expect(starts).toBe(2); // resumed once, from its checkpoint
    }
    expect(grid.getBestResult().config.lr).toBe(0.1);
  });
});
