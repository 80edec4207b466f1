// A parameter server: one actor holds the weights; tasks compute gradients on their shards and push them.
import fs from 'node:fs';
import { get, getRuntimeContext, remote } from '@ray-ts/core';

export class ParameterServer {
  constructor(dim) {
    this.weights = new Float64Array(dim);
    this.updates = 0;
  }
  apply(grad, lr) {
    for (let i = 0; i < grad.length; i++) this.weights[i] -= lr * grad[i];
    this.updates++;
    return this.updates;
  }
  getWeights() {
    return this.weights;
  }
}
export const ParameterServerActor = remote(ParameterServer);

/**
 * Shard `k` of points on the target line, which is read from data/target.json: relative to the
 * working directory, which is the node's copy of the shipped folder.
 */
export const makeShard = remote((k) => {
  const { slope, intercept } = JSON.parse(fs.readFileSync('data/target.json', 'utf8'));
  const d = new Float64Array(200);
  for (let i = 0; i < d.length; i += 2) {
    const x = (i / d.length) * 2 - 1 + k * 0.01;
    d[i] = x;
    d[i + 1] = slope * x + intercept;
  }
  return d;
});

/** Reads the weights, computes a gradient on its shard, pushes it; `steps` times. */
export const fitShard = remote(async (ps, data, steps) => {
  for (let s = 0; s < steps; s++) {
    const [w, b] = await get(ps.getWeights.remote());
    let gw = 0;
    let gb = 0;
    for (let i = 0; i < data.length; i += 2) {
      const err = w * data[i] + b - data[i + 1];
      gw += (2 * err * data[i]) / (data.length / 2);
      gb += (2 * err) / (data.length / 2);
    }
    await get(ps.apply.remote(new Float64Array([gw, gb]), 0.1));
  }
  return getRuntimeContext().nodeId;
});
