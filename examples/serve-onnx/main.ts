// Model serving with @ray-ts/serve: an ONNX model behind HTTP, its replicas batching the rows of
// concurrent requests into one onnxruntime run. The model is a 64 -> 256 -> 10 MLP made by
// tools/make-mlp-onnx.mjs; several clients send it single rows over real HTTP with fetch, and
// every prediction is checked against a plain-JavaScript forward pass of the same weights.
//
//   node --import tsx examples/serve-onnx/main.ts [--requests 2000] [--clients 16] [--replicas 2]
//
// Serve listens on 127.0.0.1:$PORT (default: a free port). To query it by hand, keep it running
// with --keep and, in another shell:
//   curl -d '{"inputs": [0.1, 0.2, ...64 numbers]}' http://127.0.0.1:$PORT/mlp
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { init, shutdown } from '@ray-ts/core';
import * as serve from '@ray-ts/serve';
import { onnxDeployment } from '@ray-ts/serve';
// @ts-expect-error: a plain .mjs tool without type declarations
import { loadWeights, mlpReference, randomFeatures } from '../../tools/mlp-reference.mjs';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '16' },
    replicas: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const requests = Number(values.requests);
const clients = Number(values.clients);
const IN = 64;
const OUT = 10;
const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'ray-ts-serve-onnx-'));

await init();
try {
  // 1. The model, made by the project's own tool (deterministic weights).
  execFileSync(process.execPath, [path.join(root, 'tools/make-mlp-onnx.mjs'), '--out', work]);
  const modelPath = path.join(work, 'mlp.onnx');

  // 2. Serve it: HTTP proxies on the node, replicas that each load the model once.
  const proxies = await serve.start({ http: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) } });
  const port = Object.values(proxies)[0].httpPort;
  await serve.run(onnxDeployment({ modelPath, numReplicas: Number(values.replicas), maxBatchSize: 32 }), {
    name: 'mlp',
    routePrefix: '/mlp',
  });
  const url = `http://127.0.0.1:${port}/mlp`;
  const meta = (await (await fetch(url)).json()) as { inputNames: string[]; outputNames: string[] };
  console.log(
    `serving ${path.basename(modelPath)} at ${url} (inputs ${meta.inputNames.join(', ')}; outputs ${meta.outputNames.join(', ')})`,
  );

  // 3. Clients: each sends one row at a time and waits for its answer; the replicas batch them.
  const x = randomFeatures(requests, IN, 7) as Float32Array;
  const got = new Float32Array(requests * OUT);
  let next = 0;
  const client = async () => {
    for (let i = next++; i < requests; i = next++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: Array.from(x.subarray(i * IN, (i + 1) * IN)) }),
      });
      if (res.status !== 200) throw new Error(`request ${i}: HTTP ${res.status}: ${await res.text()}`);
      got.set(((await res.json()) as { outputs: { y: number[] } }).outputs.y, i * OUT);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `served ${requests} requests from ${clients} concurrent clients in ${seconds.toFixed(2)} s (${Math.round(requests / seconds)} req/s)`,
  );

  // 4. Check against a forward pass in plain JavaScript.
  const ref = mlpReference(loadWeights(work), x, requests) as Float32Array;
  const argmax = (y: Float32Array, i: number) => {
    let best = 0;
    for (let k = 1; k < OUT; k++) if (y[i * OUT + k] > y[i * OUT + best]) best = k;
    return best;
  };
  let labelsAgree = 0;
  let maxDiff = 0;
  for (let i = 0; i < requests; i++) if (argmax(got, i) === argmax(ref, i)) labelsAgree++;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
  console.log(
    `checked ${requests} predictions against the JavaScript reference: labels agree on ${labelsAgree}, max |output - reference| = ${maxDiff.toExponential(2)}`,
  );
  if (labelsAgree !== requests || !(maxDiff <= 1e-4)) throw new Error('predictions do not match the reference');

  if (values.keep) {
    console.log(`serving until Ctrl-C: curl -d '{"inputs": [${Array(IN).fill(0.5).join(', ')}]}' ${url}`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  await serve.shutdown();
  await shutdown();
  rmSync(work, { recursive: true, force: true });
}
