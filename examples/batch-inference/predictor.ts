// The model server of the batch-inference example: an actor-pool class that loads an ONNX model
// once per actor (in its constructor) and predicts batches with onnxruntime-node.
//
// It is wrapped with remote() at the top level of its own module, so workers import this module
// (and its onnxruntime-node import) rather than receiving the class as source text.
import { remote } from '@ray-ts/core';
import type { Table } from 'apache-arrow';
import * as ort from 'onnxruntime-node';

/** Features f0..f63 of a batch as one row-major Float32Array [rows, 64] (what the model takes). */
function rowMajor(batch: Table, inDim: number): Float32Array {
  const rows = batch.numRows;
  const x = new Float32Array(rows * inDim);
  for (let j = 0; j < inDim; j++) {
    const col = batch.getChild(`f${j}`)!.toArray() as Float32Array;
    for (let i = 0; i < rows; i++) x[i * inDim + j] = col[i];
  }
  return x;
}

export const Predictor = remote(
  class Predictor {
    private readonly session: Promise<ort.InferenceSession>;
    constructor(modelPath: string) {
      // One thread per session: the pool's actors already use the CPUs side by side.
      this.session = ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    }
    async call(batch: Table): Promise<Record<string, ArrayLike<unknown>>> {
      const session = await this.session;
      const rows = batch.numRows;
      const x = rowMajor(batch, 64);
      const { y } = await session.run({ x: new ort.Tensor('float32', x, [rows, 64]) });
      const scores = y.data as Float32Array;
      const outDim = scores.length / rows;
      const label = new Int32Array(rows);
      const score = new Float32Array(rows);
      for (let i = 0; i < rows; i++) {
        let best = 0;
        for (let k = 1; k < outDim; k++) if (scores[i * outDim + k] > scores[i * outDim + best]) best = k;
        label[i] = best;
        score[i] = scores[i * outDim + best];
      }
      const id = batch.getChild('id');
      return { ...(id ? { id: id.toArray() as ArrayLike<unknown> } : {}), label, score };
    }
  },
);
