// The Serve benchmark's deployments, the same as ray_serve_bench.py's: Hello (trivial JSON) and
// MatMul (a batched 256x256 float64 matmul per request). In a module of their own, wrapped at its
// top level, so that workers import this module (by reference); ray-ts-bench.mjs sets numReplicas
// with .options(). Hello's body is self-contained (it would also work sent by value, as source
// text); MatMul uses this module's helpers and onnxruntime-node, so it relies on being imported.
//
// Each side computes the matmul with its ecosystem's tool for the job: numpy on Ray's side,
// onnxruntime-node here (a one-node ONNX graph Y = MatMul(X, B), float64, run on ORT's CPU
// execution provider), with the batch stacked into one [N, 256, 256] tensor and one session.run().
import * as serve from '@ray-ts/serve';
import { encodeOnnxModel } from '../../../tools/make-mlp-onnx.mjs';

const N = 256;
const DOUBLE = 11; // onnx.TensorProto.DataType.DOUBLE

/**
 * The fixed matrices, the same as ray_serve_bench.py's: A[i,j] = ((31i + 17j) mod 97) / 97 - 0.5,
 * B[i,j] = ((13i + 29j) mod 89) / 89 - 0.5 (row-major Float64Arrays), so both sides can check sum(A @ B).
 */
function matrices() {
  const a = new Float64Array(N * N);
  const b = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      a[i * N + j] = ((31 * i + 17 * j) % 97) / 97 - 0.5;
      b[i * N + j] = ((13 * i + 29 * j) % 89) / 89 - 0.5;
    }
  }
  return { a, b };
}

/** The ONNX model (bytes): Y[n] = X[n] @ B for X: double [N, 256, 256], B a constant initializer. */
function matmulModel(b) {
  const shape = { dim: [{ dim_param: 'N' }, { dim_value: N }, { dim_value: N }] };
  return encodeOnnxModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'ray-ts packages/serve/bench/deployments.mjs',
    graph: {
      name: 'matmul',
      node: [{ name: 'matmul', op_type: 'MatMul', domain: '', input: ['X', 'B'], output: ['Y'] }],
      initializer: [
        { name: 'B', dims: [N, N], data_type: DOUBLE, raw_data: Buffer.from(b.buffer, b.byteOffset, b.byteLength) },
      ],
      input: [{ name: 'X', type: { tensor_type: { elem_type: DOUBLE, shape } } }],
      output: [{ name: 'Y', type: { tensor_type: { elem_type: DOUBLE, shape } } }],
    },
  });
}

export const Hello = serve.deployment({ name: 'Hello', numReplicas: 1, maxOngoingRequests: 100 })(
  class Hello {
    fetch(_request) {
      return Response.json({ hello: 'world' });
    }
  },
);

export const MatMul = serve.deployment({ name: 'MatMul', numReplicas: 2, maxOngoingRequests: 32 })(
  class MatMul {
    constructor() {
      const { a, b } = matrices();
      this.a = a;
      // One session per replica, on one thread: the replicas already use the CPUs side by side.
      this.session = import('onnxruntime-node').then(async (ort) => ({
        ort,
        session: await ort.InferenceSession.create(matmulModel(b), { intraOpNumThreads: 1, interOpNumThreads: 1 }),
      }));
      this.session.catch(() => undefined); // reported by the requests that await it
      // Ray's @serve.batch: concurrent calls of run(item) become one call with the array of items.
      // maxBatchSize and batchWaitTimeoutS as in ray_serve_bench.py (max_batch_size, batch_wait_timeout_s).
      this.run = serve.batch((items) => this.matmulSums(items.length), { maxBatchSize: 32, batchWaitTimeoutS: 0.01 });
    }

    /** sum(A @ B) once per item: the batch as one [n, 256, 256] tensor of A's, one session.run(). */
    async matmulSums(n) {
      const { ort, session } = await this.session;
      const x = new Float64Array(n * N * N);
      for (let i = 0; i < n; i++) x.set(this.a, i * N * N);
      const { Y } = await session.run({ X: new ort.Tensor('float64', x, [n, N, N]) });
      const y = Y.data;
      const sums = [];
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let k = i * N * N, end = (i + 1) * N * N; k < end; k++) sum += y[k];
        sums.push(sum);
      }
      return sums;
    }

    async fetch(_request) {
      return Response.json({ sum: await this.run(1) });
    }
  },
);

/** sum(A @ B) for the matrices above, computed another way (sum over k of colsum(A)_k * rowsum(B)_k). */
export function expectedMatmulSum() {
  const n = 256;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    let colA = 0;
    let rowB = 0;
    for (let i = 0; i < n; i++) colA += ((31 * i + 17 * k) % 97) / 97 - 0.5;
    for (let j = 0; j < n; j++) rowB += ((13 * k + 29 * j) % 89) / 89 - 0.5;
    sum += colA * rowB;
  }
  return sum;
}
