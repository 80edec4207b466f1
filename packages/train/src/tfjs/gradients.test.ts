import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TrainInvalidArgumentError } from '../errors.js';
import {
  applyAveragedGradients,
  averageGradients,
  flattenTensors,
  unflatten,
  type AllreduceFn,
  type TensorLayout,
} from './gradients.js';

/** Tensors disposed when the test ends. */
function track<T extends tf.TensorContainer>(t: T): T {
  onTestFinished(() => tf.dispose(t));
  return t;
}

describe('flattenTensors / unflatten', () => {
  it('round-trips an array of tensors of various shapes, in order', () => {
    const ts = track([
      tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      tf.scalar(7),
      tf.tensor1d([8, 9]),
      tf.tensor3d([[[10], [11]]]),
      tf.zeros([0, 3]),
    ]);
    const { buffer, layout } = flattenTensors(ts);
    expect(Array.from(buffer)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(layout.kind).toBe('array');
    expect(layout.totalSize).toBe(11);
    expect(layout.entries.map((e) => [e.offset, e.size])).toEqual([
      [0, 6],
      [6, 1],
      [7, 2],
      [9, 2],
      [11, 0],
    ]);

    const back = track(unflatten(buffer, layout));
    expect(back).toHaveLength(ts.length);
    back.forEach((t, i) => {
      expect(t.shape).toEqual(ts[i].shape);
      expect(t.dtype).toBe('float32');
      expect(t.dataSync()).toEqual(ts[i].dataSync());
    });
  });

  it('round-trips a NamedTensorMap exactly, in the sorted order of its names', () => {
    const grads: tf.NamedTensorMap = track({
      'dense_2/kernel': tf.randomNormal([16, 3], 0, 1, 'float32', 1),
      'dense_1/bias': tf.tensor1d([0.1, -1e-30, 3.4e38, Number.MIN_VALUE]),
      'dense_1/kernel': tf.randomNormal([5, 16], 0, 1, 'float32', 2),
    });
    const { buffer, layout } = flattenTensors(grads);
    expect(layout.kind).toBe('map');
    expect(layout.entries.map((e) => e.name)).toEqual(['dense_1/bias', 'dense_1/kernel', 'dense_2/kernel']);
    expect(buffer.length).toBe(4 + 80 + 48);
    // A map built in another order packs the same way (workers must agree on the layout).
    const reordered = flattenTensors({
      'dense_1/kernel': grads['dense_1/kernel'],
      'dense_2/kernel': grads['dense_2/kernel'],
      'dense_1/bias': grads['dense_1/bias'],
    });
    expect(reordered.buffer).toEqual(buffer);
    expect(reordered.layout).toEqual(layout);

    const back = track(unflatten(buffer, layout));
    expect(Object.keys(back).sort()).toEqual(Object.keys(grads).sort());
    for (const k of Object.keys(grads)) {
      expect(back[k].shape).toEqual(grads[k].shape);
      expect(back[k].dataSync()).toEqual(grads[k].dataSync());
    }
  });

  it('leaves the inputs alive, and gives tensors that do not alias the buffer', () => {
    const ts = track([tf.tensor1d([1, 2])]);
    const { buffer, layout } = flattenTensors(ts);
    expect(ts[0].isDisposed).toBe(false);
    const [t] = track(unflatten(buffer, layout));
    buffer[0] = 42;
    expect(Array.from(t.dataSync())).toEqual([1, 2]);
  });

  it('keeps the layout plain data, usable after a structured clone (as between threads)', () => {
    const { buffer, layout } = flattenTensors(track({ a: tf.ones([2, 2]) }));
    const cloned = structuredClone({ buffer, layout });
    const back = track(unflatten(cloned.buffer, cloned.layout as TensorLayout<'map'>));
    expect(back.a.shape).toEqual([2, 2]);
  });

  it('rejects non-float32, disposed or non-tensors, and a buffer that does not match its layout', () => {
    expect(() => flattenTensors(track([tf.tensor1d([1, 2], 'int32')]))).toThrow(/dtype int32.*tf\.cast/);
    const gone = tf.ones([2]);
    gone.dispose();
    expect(() => flattenTensors([gone])).toThrow(/already disposed/);
    expect(() => flattenTensors({ w: [1, 2] as never })).toThrow(TrainInvalidArgumentError);
    expect(() => flattenTensors(null as never)).toThrow(TrainInvalidArgumentError);
    const { layout } = flattenTensors(track([tf.ones([3])]));
    expect(() => unflatten(new Float32Array(2), layout)).toThrow(/2 elements but the layout describes 3/);
    expect(() => unflatten(new Float64Array(3) as never, layout)).toThrow(/Float32Array, got Float64Array/);
  });
});

/** A fake allreduce for a group of `n` workers whose other members hold `others`. */
function fakeMean(others: Float32Array[]): {
  fn: AllreduceFn;
  calls: { groupName: string; op: string; length: number }[];
} {
  const calls: { groupName: string; op: string; length: number }[] = [];
  const fn: AllreduceFn = async (a, opts) => {
    calls.push({ groupName: opts.groupName, op: opts.op, length: a.length });
    for (let i = 0; i < a.length; i++) a[i] = (a[i] + others.reduce((s, o) => s + o[i], 0)) / (others.length + 1);
    return a;
  };
  return { fn, calls };
}

describe('averageGradients', () => {
  it('allreduces one packed buffer with op mean in the group and unpacks the average', async () => {
    const grads = track({
      b: tf.tensor1d([1, 2]),
      w: tf.tensor2d([
        [2, 4],
        [6, 8],
      ]),
    });
    // The other worker's gradients, packed in the same (sorted) order: b then w.
    const { fn, calls } = fakeMean([new Float32Array([3, 4, 0, 0, 2, 0])]);
    const avg = track(await averageGradients(grads, 'train-grads', { allreduce: fn }));
    expect(calls).toEqual([{ groupName: 'train-grads', op: 'mean', length: 6 }]);
    expect(Array.from(avg.b.dataSync())).toEqual([2, 3]);
    expect(avg.w.shape).toEqual([2, 2]);
    expect(Array.from(avg.w.dataSync())).toEqual([1, 2, 4, 4]);
    expect(grads.w.isDisposed).toBe(false);
  });

  it('disposes the inputs with disposeInput, and leaves no other tensor behind', async () => {
    const grads = { w: tf.ones([3, 3]), b: tf.ones([3]) };
    const before = tf.memory().numTensors;
    const avg = await averageGradients(grads, 'g', { allreduce: fakeMean([]).fn, disposeInput: true });
    expect(grads.w.isDisposed && grads.b.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before); // two inputs disposed, two averages made
    tf.dispose(avg);
  });

  it('needs a group name and a NamedTensorMap', async () => {
    await expect(averageGradients(track({ w: tf.ones([1]) }), '')).rejects.toThrow(/group's name/);
    await expect(averageGradients([tf.ones([1])] as never, 'g')).rejects.toThrow(/NamedTensorMap/);
  });

  it('calls collective.allreduce by default, which fails outside an actor', async () => {
    await expect(averageGradients(track({ w: tf.ones([1]) }), 'g')).rejects.toThrow(
      /collective\.allreduce\(\) runs inside an actor/,
    );
  });
});

describe('applyAveragedGradients', () => {
  it('applies the averaged gradients with the optimizer and disposes what it made and the inputs', async () => {
    const v = track(tf.variable(tf.tensor1d([10, 10]), true, 'apply_avg_v'));
    const opt = tf.train.sgd(1);
    onTestFinished(() => opt.dispose());
    const grads = { apply_avg_v: tf.tensor1d([1, 3]) };
    const before = tf.memory().numTensors;
    await applyAveragedGradients(opt, grads, 'g', { allreduce: fakeMean([new Float32Array([3, 1])]).fn });
    expect(Array.from(v.dataSync())).toEqual([8, 8]);
    expect(grads.apply_avg_v.isDisposed).toBe(true);
    // The input gradient is gone; sgd may have made its learning-rate scalar on first use.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });
});
