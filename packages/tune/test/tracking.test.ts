// Callbacks and stoppers of a Tuner (runConfig.callbacks, runConfig.stop, timeBudgetS), with
// deterministic trainables.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe as suite, expect, it, onTestFinished } from 'vitest';
import { init, shutdown } from '@ray-ts/core';
import {
  Callback,
  CombinedStopper,
  JsonLoggerCallback,
  MaximumIterationStopper,
  Stopper,
  TimeoutStopper,
  TrialPlateauStopper,
  TuneCallbackError,
  Tuner,
  gridSearch,
  sampleFrom,
  type CallbackSetupInfo,
  type CallbackTrial,
  type Checkpoint,
  type TrialResult,
} from '@ray-ts/tune';
import * as f from './fixtures/trainables.js';

let storagePath = '';

beforeAll(async () => {
  await init({ numCpus: 2, namespace: 'tune-tracking-test' });
  storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tune-tracking-'));
});
afterAll(async () => {
  await shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
});

/** Records every hook as a line: `hook trial detail`. */
class Recorder extends Callback {
  readonly lines: string[] = [];
  setupInfo: CallbackSetupInfo | undefined;
  override setup(info: CallbackSetupInfo): void {
    this.setupInfo = info;
    this.lines.push('setup');
  }
  override onTrialStart(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`start ${t.config.lr} ${t.status} results=${t.results.length}`);
  }
  override onTrialResult(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial, r: TrialResult): void {
    this.lines.push(`result ${t.config.lr} ${r.trainingIteration}`);
  }
  override onCheckpoint(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial, c: Checkpoint): void {
    this.lines.push(`checkpoint ${t.config.lr} ${path.relative(t.path, c.path!)}`);
  }
  override onTrialComplete(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`complete ${t.config.lr} ${t.status}`);
  }
  override onTrialError(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`error ${t.config.lr} ${t.status} ${t.error?.message} failures=${t.numFailures}`);
  }
  override onTrialRecover(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial): void {
    this.lines.push(`recover ${t.config.lr} failures=${t.numFailures}`);
  }
  override onExperimentEnd(all: readonly CallbackTrial[]): void {
    this.lines.push(`end ${all.map((t) => `${t.config.lr}:${t.status}`).join(' ')}`);
  }
  of(lr: number): string[] {
    return this.lines.filter((l) => l.split(' ')[1] === String(lr));
  }
}

suite('callbacks', () => {
  it('see setup, each trial start, result, checkpoint, retry, completion or error, then the end', async () => {
    const rec = new Recorder();
    const grid = await new Tuner(f.steady, {
      paramSpace: {
        lr: gridSearch([1, 2, 3]),
        iters: 3,
        sleepMs: 0,
        // lr 2 fails once at iteration 2; lr 3 always fails.
        failAt: sampleFrom((spec) => (spec.config.lr === 2 ? 2 : undefined)),
        alwaysFail: sampleFrom((spec) => spec.config.lr === 3),
      },
      runConfig: { name: 'hooks', storagePath, verbose: 0, failureConfig: { maxFailures: 1 }, callbacks: [rec] },
    }).fit();
    expect(grid.length).toBe(3);
    expect(rec.setupInfo).toMatchObject({
      numSamples: 1,
      experimentName: 'hooks',
      experimentPath: grid.experimentPath,
    });
    expect(rec.lines[0]).toBe('setup');
    expect(rec.lines.at(-1)).toBe('end 1:TERMINATED 2:TERMINATED 3:ERROR');
    expect(rec.of(1)).toEqual([
      'start 1 RUNNING results=0',
      'result 1 1',
      'checkpoint 1 checkpoint_000001',
      'result 1 2',
      'checkpoint 1 checkpoint_000002',
      'result 1 3',
      'checkpoint 1 checkpoint_000003',
      'complete 1 TERMINATED',
    ]);
    expect(rec.of(2)).toEqual([
      'start 2 RUNNING results=0',
      'result 2 1',
      'checkpoint 2 checkpoint_000001',
      'recover 2 failures=1',
      // The retry resumes from iteration 1's checkpoint, with that history.
      'start 2 RUNNING results=1',
      'result 2 2',
      'checkpoint 2 checkpoint_000002',
      'result 2 3',
      'checkpoint 2 checkpoint_000003',
      'complete 2 TERMINATED',
    ]);
    expect(rec.of(3)).toEqual([
      'start 3 RUNNING results=0',
      'recover 3 failures=1',
      'start 3 RUNNING results=0',
      'error 3 ERROR always fails (lr 3) failures=2',
    ]);
  });

  it('forward results to a tracking service over HTTP: all of them, in order, before fit() resolves', async () => {
    const received: { trial: string; iteration: number; score: number }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        // A slow service: the hooks queue up behind it while trials go on.
        setTimeout(() => {
          received.push(JSON.parse(body) as (typeof received)[number]);
          res.end('ok');
        }, 5);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log`;
    const forward = {
      async onTrialResult(_i: number, _all: readonly CallbackTrial[], t: CallbackTrial, r: TrialResult) {
        const res = await fetch(url, {
          method: 'POST',
          body: JSON.stringify({ trial: t.trialName, iteration: r.trainingIteration, score: r.score }),
        });
        if (!res.ok) throw new Error(`tracking service: HTTP ${res.status}`);
      },
    };
    const grid = await new Tuner(f.counting, {
      paramSpace: { x: gridSearch([1, 2, 3, 4]), iters: 5 },
      runConfig: { name: 'forward', storagePath, verbose: 0, callbacks: [forward] },
    }).fit();
    expect(received).toHaveLength(20);
    for (const r of grid) {
      const mine = received.filter((m) => m.trial === path.basename(r.path));
      expect(mine.map((m) => m.iteration)).toEqual([1, 2, 3, 4, 5]);
      expect(mine.map((m) => m.score)).toEqual([1, 2, 3, 4, 5].map((i) => i * (r.config.x as number)));
    }
  });

  it('that throw stop the experiment: fit() rejects with TuneCallbackError, and the experiment can be restored', async () => {
    let seen = 0;
    const broken = {
      onTrialResult() {
        if (++seen === 4) throw new Error('tracking server is down');
      },
    };
    const run = new Tuner(f.counting, {
      paramSpace: { x: 1, iters: 3 },
      tuneConfig: { numSamples: 5, maxConcurrentTrials: 1 },
      runConfig: { name: 'broken', storagePath, verbose: 0, callbacks: [broken] },
    }).fit();
    await expect(run).rejects.toThrow(TuneCallbackError);
    await expect(run).rejects.toThrow(
      /^Callback runConfig\.callbacks\[0\]\.onTrialResult for trial_00001 threw Error: tracking server is down/,
    );
    const dir = path.join(storagePath, 'broken');
    expect(Tuner.canRestore(dir)).toBe(true);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'experiment_state.json'), 'utf8')) as {
      trials: { status: string; lastResult?: TrialResult }[];
    };
    // The first trial finished; the second stopped at the result the callback failed on; no other ran.
    expect(state.trials.map((t) => [t.status, t.lastResult?.trainingIteration ?? 0])).toEqual([
      ['TERMINATED', 3],
      ['TERMINATED', 1],
      ['PENDING', 0],
      ['PENDING', 0],
      ['PENDING', 0],
    ]);
  });

  it('replace a default logger of the same class; the other default loggers stay', async () => {
    const mine = new JsonLoggerCallback();
    const grid = await new Tuner(f.counting, {
      paramSpace: { x: 2, iters: 3 },
      runConfig: { name: 'own-json', storagePath, verbose: 0, callbacks: [mine] },
    }).fit();
    const dir = grid.get(0).path;
    expect(fs.readFileSync(path.join(dir, 'result.json'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(fs.readFileSync(path.join(dir, 'progress.csv'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('events.out.tfevents.'))).toHaveLength(1);
  });
});

suite('stoppers', () => {
  it('stop each trial where a CombinedStopper of MaximumIterationStopper and TrialPlateauStopper says', async () => {
    // loss = max(floor, 10 - i): with floor 5 it is flat from iteration 5, so the plateau stopper's
    // window of 4 is flat at 8; with floor -100 it keeps falling, and the iteration limit stops it at 12.
    const grid = await new Tuner(f.counting, {
      paramSpace: { x: 1, iters: 50, floor: gridSearch([5, -100]) },
      runConfig: {
        name: 'combined',
        storagePath,
        verbose: 0,
        stop: new CombinedStopper(new MaximumIterationStopper(12), new TrialPlateauStopper({ metric: 'loss' })),
      },
    }).fit();
    const byFloor = new Map([...grid].map((r) => [r.config.floor, r]));
    expect(byFloor.get(5)!.metricsHistory.map((m) => m.loss)).toEqual([9, 8, 7, 6, 5, 5, 5, 5]);
    expect(byFloor.get(-100)!.metricsHistory).toHaveLength(12);
    for (const r of grid) expect(r.error).toBeUndefined();
    const state = JSON.parse(fs.readFileSync(path.join(grid.experimentPath, 'experiment_state.json'), 'utf8')) as {
      trials: { status: string }[];
    };
    expect(state.trials.map((t) => t.status)).toEqual(['TERMINATED', 'TERMINATED']);
  });

  it('take a function: the trial stops at the first result it returns true for', async () => {
    const grid = await new Tuner(f.counting, {
      paramSpace: { x: 2, iters: 50 },
      runConfig: { name: 'fn-stop', storagePath, verbose: 0, stop: (_id, r) => (r.score as number) >= 7 },
    }).fit();
    expect(grid.get(0).metricsHistory.map((m) => m.score)).toEqual([2, 4, 6, 8]);
  });

  it("end the experiment when a custom Stopper's stopAll() says so: the running trial stops, no other starts", async () => {
    class StopAfter extends Stopper {
      results = 0;
      constructor(private readonly n: number) {
        super();
      }
      shouldStop(): boolean {
        this.results++;
        return false;
      }
      override stopAll(): boolean {
        return this.results >= this.n;
      }
    }
    const grid = await new Tuner(f.counting, {
      paramSpace: { x: 1, iters: 3 },
      tuneConfig: { numSamples: 5, maxConcurrentTrials: 1 },
      runConfig: { name: 'stop-all', storagePath, verbose: 0, stop: new StopAfter(4) },
    }).fit();
    expect([...grid].map((r) => r.metricsHistory.length)).toEqual([3, 1, 0, 0, 0]);
  });

  it('timeBudgetS and TimeoutStopper end an experiment of endless trials: running ones stop, waiting ones never start', async () => {
    for (const [name, opts] of [
      ['budget', { tuneConfig: { timeBudgetS: 1 } }],
      ['timeout', { runConfig: { stop: new TimeoutStopper(1) } }],
    ] as const) {
      const grid = await new Tuner(f.counting, {
        paramSpace: { x: 1, iters: 1_000_000, sleepMs: 10 },
        tuneConfig: { numSamples: 4, maxConcurrentTrials: 2, ...('tuneConfig' in opts ? opts.tuneConfig : {}) },
        runConfig: { name, storagePath, verbose: 0, ...('runConfig' in opts ? opts.runConfig : {}) },
      }).fit();
      const lengths = [...grid].map((r) => r.metricsHistory.length);
      expect(lengths.slice(2)).toEqual([0, 0]);
      // The first two ran (on a loaded machine, maybe not to their first report) and were stopped.
      for (const n of lengths.slice(0, 2)) expect(n).toBeLessThan(1_000_000);
      const state = JSON.parse(fs.readFileSync(path.join(grid.experimentPath, 'experiment_state.json'), 'utf8')) as {
        trials: { status: string }[];
      };
      expect(state.trials.map((t) => t.status)).toEqual(['TERMINATED', 'TERMINATED', 'PENDING', 'PENDING']);
    }
  });
});
