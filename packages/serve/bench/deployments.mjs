// The Serve benchmark's deployments, the same as ray_serve_bench.py's: Hello (trivial JSON) and
// MatMul (a batched 256x256 float64 matmul per request). In a module of their own, wrapped at its
// top level, so that workers can import this module; ray-ts-bench.mjs sets numReplicas with
// .options(). The class bodies are self-contained all the same (globals and import() only), so
// they also work where a class travels by value, as its source text.
import * as serve from '@ray-ts/serve';

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
      // Fixed matrices, the same as ray_serve_bench.py's: A[i,j] = ((31i + 17j) mod 97) / 97 - 0.5,
      // B[i,j] = ((13i + 29j) mod 89) / 89 - 0.5, so both sides can check sum(A @ B).
      const n = 256;
      this.n = n;
      this.a = new Float64Array(n * n);
      this.b = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          this.a[i * n + j] = ((31 * i + 17 * j) % 97) / 97 - 0.5;
          this.b[i * n + j] = ((13 * i + 29 * j) % 89) / 89 - 0.5;
        }
      }
      // Ray's @serve.batch: concurrent calls of run(item) become one call with the array of items.
      // maxBatchSize and batchWaitTimeoutS as in ray_serve_bench.py (max_batch_size, batch_wait_timeout_s).
      // Loaded with import() rather than the module's `serve`, so this body needs nothing outside it.
      this.run = import('@ray-ts/serve').then((s) =>
        s.batch(async (items) => items.map(() => this.matmulSum()), { maxBatchSize: 32, batchWaitTimeoutS: 0.01 }),
      );
    }

    /** sum(A @ B): one 256x256 float64 matmul, a plain triple loop in i-k-j order. */
    matmulSum() {
      const { n, a, b } = this;
      const c = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        const ci = i * n;
        for (let k = 0; k < n; k++) {
          const aik = a[ci + k];
          const bk = k * n;
          for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
        }
      }
      let sum = 0;
      for (let x = 0; x < n * n; x++) sum += c[x];
      return sum;
    }

    async fetch(_request) {
      const run = await this.run;
      return Response.json({ sum: await run(1) });
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
