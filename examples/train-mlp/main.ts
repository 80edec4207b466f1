// Distributed training with @ray-ts/train, end to end: a TensorFlow.js MLP trained on 2 workers
// (gradients averaged every step), checkpointed each epoch, exported to ONNX, and served over
// HTTP by @ray-ts/serve, whose predictions are checked against the tfjs model's.
//
//   node --import tsx examples/train-mlp/main.ts [--rows 6000] [--epochs 4] [--workers 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import { fromItems } from '@ray-ts/data';
import * as serve from '@ray-ts/serve';
import { onnxDeployment } from '@ray-ts/serve';
import { DataParallelTrainer, exportDenseToOnnx } from '@ray-ts/train';
import { loadModelFrom, setupBackend } from '@ray-ts/train/tfjs';
import { CLASSES, FEATURES, trainLoop, type LoopConfig } from './loop.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '6000' },
    epochs: { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
  },
});
const rows = Number(values.rows);

// Three Gaussian blobs in 8 dimensions, deterministic.
let seed = 42;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const centers = Array.from({ length: CLASSES }, () => Array.from({ length: FEATURES }, () => gauss() * 1.5));
const makeRows = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const label = i % CLASSES;
    const r: Record<string, number> = { label };
    for (let j = 0; j < FEATURES; j++) r[`f${j}`] = centers[label][j] + gauss();
    return r;
  });
const trainRows = makeRows(rows);
const testRows = makeRows(600);

await init();
const storagePath = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-train-mlp-'));
try {
  // 1. Train on the workers, a checkpoint per epoch.
  const trainer = new DataParallelTrainer(trainLoop, {
    trainLoopConfig: { epochs: Number(values.epochs), batchSize: 64, lr: 0.05 } satisfies LoopConfig,
    scalingConfig: { numWorkers: Number(values.workers), resourcesPerWorker: { CPU: 0.5 } },
    datasets: { train: fromItems(trainRows, { numBlocks: 8 }) },
    runConfig: { name: 'mlp', storagePath, verbose: 0 },
  });
  const t0 = performance.now();
  const result = await trainer.fit();
  if (result.error) throw result.error;
  const m = result.metrics!;
  console.log(
    `trained ${result.metricsHistory.length} epochs on ${m.worldSize} workers (${m.backend}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      `loss ${(m.loss as number).toFixed(4)}, train accuracy ${(m.accuracy as number).toFixed(3)}, replicas identical: ${result.metricsHistory.every((r) => r.replicasAgree)}`,
  );

  // 2. The best checkpoint's model, back in the driver; test accuracy with tfjs.
  await setupBackend();
  const tf = await import('@tensorflow/tfjs');
  const model = await loadModelFrom(result.checkpoint!.path!);
  const xTest = new Float32Array(testRows.length * FEATURES);
  testRows.forEach((r, i) => {
    for (let j = 0; j < FEATURES; j++) xTest[i * FEATURES + j] = r[`f${j}`];
  });
  const tfOut = (
    model.predict(tf.tensor2d(xTest, [testRows.length, FEATURES])) as import('@tensorflow/tfjs').Tensor
  ).arraySync() as number[][];
  const argmax = (v: number[]) => v.indexOf(Math.max(...v));
  const acc = testRows.filter((r, i) => argmax(tfOut[i]) === r.label).length / testRows.length;
  console.log(`checkpoint ${path.basename(result.checkpoint!.path!)}: test accuracy ${acc.toFixed(3)}`);

  // 3. Export to ONNX and serve it; compare the served predictions with tfjs's.
  const onnxPath = path.join(storagePath, 'mlp.onnx');
  await exportDenseToOnnx(model, onnxPath);
  const proxies = await serve.start({ http: { host: '127.0.0.1', port: 0 } });
  const url = `http://127.0.0.1:${Object.values(proxies)[0].httpPort}/mlp`;
  await serve.run(onnxDeployment({ modelPath: onnxPath, numReplicas: 1, maxBatchSize: 32 }), {
    name: 'mlp',
    routePrefix: '/mlp',
  });
  let agree = 0;
  let maxDiff = 0;
  // 32 clients at a time: beyond its queue bound (maxQueuedRequests, 100 by default) Serve answers 503.
  let next = 0;
  const client = async () => {
    for (let i = next++; i < testRows.length; i = next++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: Array.from(xTest.subarray(i * FEATURES, (i + 1) * FEATURES)) }),
      });
      if (!res.ok) throw new Error(`Serve answered ${res.status}: ${await res.text()}`);
      const y = ((await res.json()) as { outputs: { y: number[] } }).outputs.y;
      if (argmax(y) === argmax(tfOut[i])) agree++;
      for (let k = 0; k < CLASSES; k++) maxDiff = Math.max(maxDiff, Math.abs(y[k] - tfOut[i][k]));
    }
  };
  await Promise.all(Array.from({ length: 32 }, client));
  console.log(
    `served ${testRows.length} predictions of the exported ONNX model: labels agree with tfjs on ${agree}, max |difference| = ${maxDiff.toExponential(2)}`,
  );
  await serve.shutdown();
} finally {
  await shutdown();
  fs.rmSync(storagePath, { recursive: true, force: true });
}
