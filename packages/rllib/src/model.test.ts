import { SeededRng } from '@ray-ts/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ClippedAdam, glorotMlpParams, mlpForward, tfMlp, type Activation } from './model.js';

/** tfjs's own dense layers over the same parameters (autograd's gradients). */
function reference(params: tf.Tensor[], x: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  let h = x;
  for (let l = 0; l < params.length / 2; l++) {
    h = tf.add(tf.matMul(h, params[2 * l] as tf.Tensor2D), params[2 * l + 1]);
    if (l + 1 < params.length / 2) h = activation === 'tanh' ? tf.tanh(h) : activation === 'relu' ? tf.relu(h) : h;
  }
  return h;
}

describe('tfMlp', () => {
  for (const activation of ['relu', 'tanh'] as const) {
    it(`matches autograd's outputs and gradients, and mlpForward's outputs (${activation})`, () => {
      const sizes = [3, 8, 5, 2];
      const vars = glorotMlpParams(sizes, new SeededRng(4)).map((p) => tf.variable(tf.tensor(p.data, p.shape)));
      const x = tf.randomNormal([6, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
      const loss = (f: typeof tfMlp) => () => tf.sum(tf.square(f(tf, vars, x, activation))) as tf.Scalar;
      const ours = tf.variableGrads(loss(tfMlp), vars);
      const theirs = tf.variableGrads(
        loss((_, p, xi, a) => reference(p as tf.Tensor[], xi, a)),
        vars,
      );
      expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0], 4);
      for (const v of vars) {
        const [a, b] = [ours.grads[v.name].dataSync(), theirs.grads[v.name].dataSync()];
        a.forEach((g, i) => expect(g).toBeCloseTo(b[i], 4));
      }
      // The runners' plain-JavaScript forward pass reads the same flat layout.
      const flat = Float32Array.from(vars.flatMap((v) => Array.from(v.dataSync())));
      const js = mlpForward({ sizes, activation }, flat, 0, x.dataSync() as Float32Array, 6);
      Array.from(tfMlp(tf, vars, x, activation).dataSync()).forEach((v, i) => expect(js[i]).toBeCloseTo(v, 5));
    });
  }
});

describe('ClippedAdam', () => {
  it('takes the same steps as tfjs Adam over several variables, and restores its state', async () => {
    const init = [
      tf.tensor2d([
        [1, -2],
        [3, 0.5],
      ]),
      tf.tensor1d([0.1, -0.3]),
    ];
    const make = () => init.map((t) => tf.variable(t.clone()));
    const loss = (vs: tf.Variable[]) => () =>
      tf.add(tf.sum(tf.square(tf.sub(vs[0], 2))), tf.sum(tf.mul(vs[1], vs[1]))) as tf.Scalar;
    const a = make();
    const b = make();
    const flat = new ClippedAdam(tf, a, 0.05, undefined, 0.9, 0.999, 1e-8);
    const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
    for (let i = 0; i < 20; i++) {
      flat.apply(tf.variableGrads(loss(a), a).grads);
      ref.applyGradients(tf.variableGrads(loss(b), b).grads as never);
    }
    a.forEach((v, i) => Array.from(v.dataSync()).forEach((x, j) => expect(x).toBeCloseTo(b[i].dataSync()[j], 3)));
    // A copy restored from the state continues identically.
    const c = a.map((v) => tf.variable(v.clone()));
    const copy = new ClippedAdam(tf, c, 0.05, undefined, 0.9, 0.999, 1e-8);
    const state = await flat.getState();
    expect(state.step).toBe(20);
    await copy.setState(structuredClone(state));
    flat.apply(tf.variableGrads(loss(a), a).grads);
    copy.apply(tf.variableGrads(loss(c), c).grads);
    // (tfjs recomputes beta^t on restore where it had multiplied: equal to float rounding.)
    a.forEach((v, i) => Array.from(c[i].dataSync()).forEach((x, j) => expect(x).toBeCloseTo(v.dataSync()[j], 6)));
    await expect(new ClippedAdam(tf, [c[1]], 0.1).setState(state)).rejects.toThrow(/does not fit/);
  });

  it("runs tfjs's Adam for large networks, with the same state format", async () => {
    const big = () => [tf.variable(tf.randomNormal([200, 200], 0, 1, 'float32', 7))];
    const [a, b] = [big(), big()];
    const loss = (vs: tf.Variable[]) => () => tf.sum(tf.square(vs[0])) as tf.Scalar;
    const opt = new ClippedAdam(tf, a, 0.01);
    const ref = tf.train.adam(0.01);
    for (let i = 0; i < 3; i++) {
      opt.apply(tf.variableGrads(loss(a), a).grads);
      ref.applyGradients(tf.variableGrads(loss(b), b).grads as never);
    }
    expect(Array.from(a[0].dataSync())).toEqual(Array.from(b[0].dataSync()));
    const state = await opt.getState();
    expect(state.step).toBe(3);
    expect(state.m.length).toBe(40_000);
    const c = [tf.variable(a[0].clone())];
    const copy = new ClippedAdam(tf, c, 0.01);
    await copy.setState(structuredClone(state));
    opt.apply(tf.variableGrads(loss(a), a).grads);
    copy.apply(tf.variableGrads(loss(c), c).grads);
    Array.from(c[0].dataSync()).forEach((x, j) => expect(x).toBeCloseTo(a[0].dataSync()[j], 6));
  });

  it('clips gradients by their global norm', () => {
    // Clipped at 5, a gradient of norm 500 steps as the same gradient scaled to norm 5 does unclipped.
    const [u, v] = [tf.variable(tf.tensor1d([0, 0])), tf.variable(tf.tensor1d([0, 0]))];
    const clipped = new ClippedAdam(tf, [u], 0.1, 5);
    const plain = new ClippedAdam(tf, [v], 0.1);
    for (let i = 0; i < 3; i++) {
      clipped.apply({ [u.name]: tf.tensor1d([300, 400 - i]) });
      plain.apply({ [v.name]: tf.mul(tf.tensor1d([300, 400 - i]), 5 / Math.hypot(300, 400 - i)) as tf.Tensor1D });
    }
    Array.from(u.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(v.dataSync()[i], 5));
  });
});
