// Batch inference with @ray-ts/data: read features from Parquet, predict them with an ONNX model
// on a pool of 2 actors (the model is loaded once per actor), and write the predictions to
// Parquet. The model is a 64 -> 256 -> 10 MLP made by tools/make-mlp-onnx.mjs; the predictions
// are checked against a plain-JavaScript forward pass of the same weights.
//
//   npx tsx examples/batch-inference/main.ts [--rows 20000] [--out DIR]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import { range, readParquet } from '@ray-ts/data';
import { Predictor } from './predictor.js';
// @ts-expect-error: a plain .mjs tool without type declarations
import { loadWeights, mlpReference } from '../../tools/mlp-reference.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '20000' }, out: { type: 'string' } } });
const rows = Number(values.rows);
const root = path.resolve(import.meta.dirname, '../..');
const work = values.out ?? mkdtempSync(path.join(tmpdir(), 'ray-ts-batch-inference-'));

await init();
try {
  // 1. The model, made by the project's own tool (deterministic weights).
  const modelDir = path.join(work, 'model');
  execFileSync(process.execPath, [path.join(root, 'tools/make-mlp-onnx.mjs'), '--out', modelDir]);
  const modelPath = path.join(modelDir, 'mlp.onnx');

  // 2. Features: rows of 64 float32 values, written as Parquet by Data itself.
  const features = path.join(work, 'features');
  await range(rows, { numBlocks: 8 })
    .mapBatches(
      (b) => {
        const out: Record<string, ArrayLike<unknown>> = { id: b.id };
        for (let j = 0; j < 64; j++)
          out[`f${j}`] = Float32Array.from(b.id as Int32Array, (i) => Math.sin(i * 0.37 + j * 1.3));
        return out;
      },
      { batchSize: null },
    )
    .writeParquet(features);

  // 3. Inference: read, predict on an actor pool of 2, write.
  const predictions = path.join(work, 'predictions');
  const t0 = performance.now();
  const written = await readParquet(features)
    .mapBatches(Predictor, {
      compute: { size: 2 },
      batchSize: 1024,
      batchFormat: 'arrow',
      fnConstructorArgs: [modelPath],
    })
    .writeParquet(predictions);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `predicted ${written.numRows} rows in ${seconds.toFixed(2)} s (${Math.round(written.numRows / seconds)} rows/s) on 2 actors; ${written.paths.length} files in ${predictions}`,
  );

  // 4. Check against a forward pass in plain JavaScript over the same features.
  const got = (await readParquet(predictions).sort('id').takeAll()) as { id: number; label: number; score: number }[];
  const weights = loadWeights(modelDir);
  const x = new Float32Array(rows * 64);
  for (let i = 0; i < rows; i++) for (let j = 0; j < 64; j++) x[i * 64 + j] = Math.fround(Math.sin(i * 0.37 + j * 1.3));
  const ref = mlpReference(weights, x, rows) as Float32Array;
  let maxDiff = 0;
  let labelsAgree = 0;
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (ref[i * 10 + k] > ref[i * 10 + best]) best = k;
    if (got[i].id !== i) throw new Error(`prediction ${i} has id ${got[i].id}`);
    if (got[i].label === best) labelsAgree++;
    maxDiff = Math.max(maxDiff, Math.abs(got[i].score - ref[i * 10 + best]));
  }
  console.log(
    `checked ${got.length} predictions against the JavaScript reference: labels agree on ${labelsAgree}, max |score - reference| = ${maxDiff.toExponential(2)}`,
  );
  if (got.length !== rows || labelsAgree !== rows || maxDiff > 1e-4)
    throw new Error('predictions do not match the reference');
} finally {
  await shutdown();
  if (!values.out) rmSync(work, { recursive: true, force: true });
}
