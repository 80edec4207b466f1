// The training loop of examples/train-mlp (a module of its own: workers import it). Each worker
// trains a TensorFlow.js MLP on its share of the rows; gradients are averaged across the group
// every step, so every replica holds the same weights.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collective, remote } from '@ray-ts/core';
import { Checkpoint, getCheckpoint, getContext, getDatasetShard, report } from '@ray-ts/train';
import { applyAveragedGradients, flattenTensors, loadModelFrom, saveModelTo, setupBackend } from '@ray-ts/train/tfjs';

export const FEATURES = 8;
export const CLASSES = 3;

export interface LoopConfig {
  [k: string]: unknown;
  epochs: number;
  batchSize: number;
  lr: number;
}

export const trainLoop = remote(async (config: LoopConfig) => {
  const tf = await import('@tensorflow/tfjs');
  const backend = await setupBackend();
  const { worldRank, worldSize, collectiveGroup } = getContext();
  const resumed = getCheckpoint();
  let model: import('@tensorflow/tfjs').LayersModel;
  let firstEpoch = 1;
  if (resumed) {
    model = await loadModelFrom(resumed.path!);
    firstEpoch = JSON.parse(fs.readFileSync(path.join(resumed.path!, 'epoch.json'), 'utf8')).epoch + 1;
  } else {
    model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [FEATURES], units: 32, activation: 'relu' }),
        tf.layers.dense({ units: CLASSES, activation: 'softmax' }),
      ],
    });
    // Every replica starts from rank 0's weights.
    const { buffer } = flattenTensors(model.getWeights());
    await collective.broadcast(buffer, 0, { groupName: collectiveGroup });
    let at = 0;
    model.setWeights(
      model.getWeights().map((w) => {
        const t = tf.tensor(buffer.subarray(at, at + w.size), w.shape);
        at += w.size;
        return t;
      }),
    );
  }
  const optimizer = tf.train.momentum(config.lr, 0.9);
  const shard = getDatasetShard('train');
  for (let epoch = firstEpoch; epoch <= config.epochs; epoch++) {
    let lossSum = 0;
    let correct = 0;
    let rows = 0;
    // Each worker takes batchSize / worldSize rows per step: the global batch is batchSize.
    for await (const b of shard.iterBatches({ batchSize: config.batchSize / worldSize, dropLast: true })) {
      const n = (b.label as ArrayLike<number>).length;
      const xs = new Float32Array(n * FEATURES);
      for (let j = 0; j < FEATURES; j++) {
        const col = b[`f${j}`] as ArrayLike<number>;
        for (let i = 0; i < n; i++) xs[i * FEATURES + j] = col[i];
      }
      const x = tf.tensor2d(xs, [n, FEATURES]);
      const y = tf.oneHot(tf.tensor1d(Array.from(b.label as ArrayLike<number>), 'int32'), CLASSES);
      const { value, grads } = optimizer.computeGradients(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            model.apply(x) as import('@tensorflow/tfjs').Tensor,
          ) as import('@tensorflow/tfjs').Scalar,
      );
      lossSum += (await value.data())[0] * n;
      await applyAveragedGradients(optimizer, grads, collectiveGroup);
      const pred = (model.predict(x) as import('@tensorflow/tfjs').Tensor).argMax(-1);
      const labels = y.argMax(-1);
      correct += (await pred.equal(labels).sum().data())[0];
      rows += n;
      tf.dispose([x, y, value, pred, labels]);
    }
    // Every replica holds the same weights: their sums agree to the bit.
    const sum = Float64Array.from([flattenTensors(model.getWeights()).buffer.reduce((s, v) => s + v, 0)]);
    const sums = await collective.allgather(sum, { groupName: collectiveGroup });
    const replicasAgree = sums.every((s) => s[0] === sums[0][0]);
    let checkpoint: Checkpoint | undefined;
    if (worldRank === 0) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-mlp-'));
      await saveModelTo(model, dir);
      fs.writeFileSync(path.join(dir, 'epoch.json'), JSON.stringify({ epoch }));
      checkpoint = Checkpoint.fromDirectory(dir);
    }
    await report(
      { epoch, loss: lossSum / rows, accuracy: correct / rows, replicasAgree, backend, worldSize },
      { checkpoint },
    );
  }
});
