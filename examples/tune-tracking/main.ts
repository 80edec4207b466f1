// Experiment tracking with @ray-ts/tune: a callback forwards every trial's parameters, metrics
// and end to a tracking service (here a small HTTP service on 127.0.0.1 that this script starts,
// a stand-in for MLflow, Weights & Biases or your own); stoppers end each trial when its loss
// stops moving (TrialPlateauStopper) or at 50 iterations (MaximumIterationStopper); and the
// default loggers write result.json, progress.csv and a TensorBoard event file per trial.
//
//   node --import tsx examples/tune-tracking/main.ts [--storage DIR]
//
// With --storage the experiment stays in DIR/tune-tracking: `tensorboard --logdir DIR/tune-tracking`
// shows each trial's loss, and the HPARAMS tab compares the learning rates.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import {
  Callback,
  CombinedStopper,
  MaximumIterationStopper,
  TrialPlateauStopper,
  Tuner,
  gridSearch,
  type CallbackTrial,
  type TrialResult,
} from '@ray-ts/tune';
import { descend } from './train.js';

const { values } = parseArgs({ options: { storage: { type: 'string' } } });
const storagePath = values.storage ?? mkdtempSync(path.join(tmpdir(), 'ray-ts-tune-tracking-'));

/** The tracking service: runs with their parameters, metric points and status, kept in memory. */
interface Run {
  params: Record<string, unknown>;
  metrics: { step: number; loss: number }[];
  status: string | undefined;
}

async function startTrackingService(): Promise<{ url: string; runs: Map<string, Run>; close(): Promise<void> }> {
  const runs = new Map<string, Run>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const msg = JSON.parse(body) as Record<string, unknown>;
      const [, , id, what] = (req.url ?? '').split('/'); // /runs/<id>[/metrics|/end]
      if (what === undefined) runs.set(id, { params: msg, metrics: [], status: undefined });
      else if (what === 'metrics') runs.get(id)?.metrics.push(msg as Run['metrics'][number]);
      else if (what === 'end') runs.get(id)!.status = msg.status as string;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    runs,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Forwards each trial to the tracking service: its config when it starts, each result, its end.
 * Hooks may be async: Tune does not wait for them, keeps each callback's calls in order, and
 * waits for all of them before fit() resolves. The same few lines log to MLflow's REST API
 * (runs/create, runs/log-metric, runs/update) or to W&B.
 */
class TrackingCallback extends Callback {
  constructor(private readonly url: string) {
    super();
  }
  private async post(route: string, body: unknown): Promise<void> {
    const res = await fetch(this.url + route, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`tracking service: HTTP ${res.status} for ${route}`);
  }
  override onTrialStart(_i: number, _trials: readonly CallbackTrial[], trial: CallbackTrial) {
    return this.post(`/runs/${trial.trialName}`, trial.config);
  }
  override onTrialResult(_i: number, _trials: readonly CallbackTrial[], trial: CallbackTrial, result: TrialResult) {
    return this.post(`/runs/${trial.trialName}/metrics`, { step: result.trainingIteration, loss: result.loss });
  }
  override onTrialComplete(_i: number, _trials: readonly CallbackTrial[], trial: CallbackTrial) {
    return this.post(`/runs/${trial.trialName}/end`, { status: trial.status });
  }
  override onTrialError(_i: number, _trials: readonly CallbackTrial[], trial: CallbackTrial) {
    return this.post(`/runs/${trial.trialName}/end`, { status: trial.status, error: trial.error?.message });
  }
}

const service = await startTrackingService();
await init();
try {
  const maxIterations = 50;
  const grid = await new Tuner(descend, {
    paramSpace: { lr: gridSearch([0.01, 0.1, 0.3, 0.45]), epochs: 1000 },
    tuneConfig: { metric: 'loss', mode: 'min' },
    runConfig: {
      name: 'tune-tracking',
      storagePath,
      verbose: 0,
      callbacks: [new TrackingCallback(service.url)],
      stop: new CombinedStopper(
        new MaximumIterationStopper(maxIterations),
        new TrialPlateauStopper({ metric: 'loss', std: 0.001, numResults: 4, gracePeriod: 4 }),
      ),
    },
  }).fit();
  const points = [...service.runs.values()].reduce((n, r) => n + r.metrics.length, 0);
  const ended = [...service.runs.values()].filter((r) => r.status === 'TERMINATED').length;
  const reported = [...grid].reduce((n, r) => n + r.metricsHistory.length, 0);
  console.log(
    `tracking service: ${service.runs.size} runs, ${points} metric points (Tune reported ${reported}), ${ended} ended TERMINATED`,
  );
  for (const r of grid) {
    const n = r.metricsHistory.length;
    const why = n >= maxIterations ? 'at the iteration limit' : 'by the plateau stopper';
    console.log(
      `  lr ${r.config.lr}: loss ${(r.metrics?.loss as number).toExponential(2)} after ${n} iterations, stopped ${why}`,
    );
  }
  const best = grid.getBestResult();
  console.log(`best: lr ${best.config.lr}, loss ${(best.metrics?.loss as number).toExponential(2)}`);
  console.log(`TensorBoard: tensorboard --logdir ${grid.experimentPath}`);
} finally {
  await shutdown();
  await service.close();
  if (!values.storage) rmSync(storagePath, { recursive: true, force: true });
}
