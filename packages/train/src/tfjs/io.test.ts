import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TrainInvalidArgumentError } from '../errors.js';
import { fileSystemIO, loadModelFrom, MODEL_JSON_FILE, saveModelTo, WEIGHTS_BIN_FILE } from './io.js';

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-tfjs-io-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function mlp(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [5], units: 16, activation: 'relu' }),
      tf.layers.dense({ units: 7, activation: 'tanh' }),
      tf.layers.dense({ units: 3, activation: 'softmax', useBias: false }),
    ],
  });
  onTestFinished(() => void model.dispose());
  return model;
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array).slice();
}

describe('fileSystemIO', () => {
  it('round-trips a Sequential of dense layers exactly: same weights, same predictions', async () => {
    const dir = path.join(tmpDir(), 'nested', 'model');
    const model = mlp();
    const info = await saveModelTo(model, dir);
    expect(info.modelArtifactsInfo.weightDataBytes).toBe(model.countParams() * 4);
    expect(fs.readdirSync(dir).sort()).toEqual([MODEL_JSON_FILE, WEIGHTS_BIN_FILE]);
    expect(fs.statSync(path.join(dir, WEIGHTS_BIN_FILE)).size).toBe(model.countParams() * 4);

    const loaded = await loadModelFrom(dir);
    onTestFinished(() => void loaded.dispose());
    const a = model.getWeights();
    const b = loaded.getWeights();
    expect(b.map((w) => w.shape)).toEqual(a.map((w) => w.shape));
    for (let i = 0; i < a.length; i++) expect(b[i].dataSync()).toEqual(a[i].dataSync());

    const x = tf.randomUniform([11, 5], -2, 2, 'float32', 7);
    onTestFinished(() => x.dispose());
    expect(predict(loaded, x)).toEqual(predict(model, x));
  });

  it('writes the standard tfjs model.json that tf.loadLayersModel reads through the same handler', async () => {
    const dir = tmpDir();
    const model = mlp();
    await model.save(fileSystemIO(pathToFileURL(dir)));
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON_FILE), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual([`./${WEIGHTS_BIN_FILE}`]);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(
      model.weights.map((w) => w.originalName),
    );

    const loaded = await tf.loadLayersModel(fileSystemIO(`file://${dir}`));
    onTestFinished(() => void loaded.dispose());
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dense', 'Dense']);
    const x = tf.ones([2, 5]);
    onTestFinished(() => x.dispose());
    expect(predict(loaded, x)).toEqual(predict(model, x));
  });

  it('keeps the training config and optimizer state with includeOptimizer', async () => {
    const dir = tmpDir();
    const model = mlp();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const xs = tf.randomUniform([8, 5], -1, 1, 'float32', 1);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    onTestFinished(() => tf.dispose([xs, ys]));
    await model.fit(xs, ys, { epochs: 2, verbose: 0 });
    await model.save(fileSystemIO(dir), { includeOptimizer: true });
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON_FILE), 'utf8'));
    expect(json.trainingConfig.loss).toBe('categorical_crossentropy');

    const loaded = await loadModelFrom(dir);
    onTestFinished(() => void loaded.dispose());
    const before = (await loaded.optimizer.getWeights()).map((w) => w.tensor.dataSync().slice());
    const after = (await (model.optimizer as tf.Optimizer).getWeights()).map((w) => w.tensor.dataSync().slice());
    expect(before.length).toBeGreaterThan(1);
    expect(before).toEqual(after);
  });

  it('overwrites an earlier save in place and leaves no temporary files', async () => {
    const dir = tmpDir();
    const first = mlp();
    const second = mlp();
    await saveModelTo(first, dir);
    await saveModelTo(second, dir);
    expect(fs.readdirSync(dir).sort()).toEqual([MODEL_JSON_FILE, WEIGHTS_BIN_FILE]);
    const loaded = await loadModelFrom(dir);
    onTestFinished(() => void loaded.dispose());
    expect(loaded.getWeights()[0].dataSync()).toEqual(second.getWeights()[0].dataSync());
  });

  it('loads weights split over several shards listed in the manifest', async () => {
    const dir = tmpDir();
    const model = mlp();
    await saveModelTo(model, dir);
    const bin = fs.readFileSync(path.join(dir, WEIGHTS_BIN_FILE));
    // Not on tensor boundaries (shards are one byte stream), and of sizes tfjs itself never writes.
    const cut = 100;
    fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), bin.subarray(0, cut));
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), bin.subarray(cut));
    fs.rmSync(path.join(dir, WEIGHTS_BIN_FILE));
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON_FILE), 'utf8'));
    json.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    fs.writeFileSync(path.join(dir, MODEL_JSON_FILE), JSON.stringify(json));

    const loaded = await loadModelFrom(dir);
    onTestFinished(() => void loaded.dispose());
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
    onTestFinished(() => x.dispose());
    expect(predict(loaded, x)).toEqual(predict(model, x));
  });

  it('fails clearly on a missing directory, a non-model JSON, bad paths and weights outside the directory', async () => {
    const dir = tmpDir();
    await expect(loadModelFrom(path.join(dir, 'absent'))).rejects.toThrow(/ENOENT/);
    fs.writeFileSync(path.join(dir, MODEL_JSON_FILE), '{"hello": 1}');
    await expect(loadModelFrom(dir)).rejects.toThrow(/not a tfjs model\.json/);
    expect(() => fileSystemIO('')).toThrow(TrainInvalidArgumentError);
    expect(() => fileSystemIO(new URL('http://example.com/m'))).toThrow(/file:\/\//);

    await saveModelTo(mlp(), dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON_FILE), 'utf8'));
    json.weightsManifest[0].paths = ['../elsewhere.bin'];
    fs.writeFileSync(path.join(dir, MODEL_JSON_FILE), JSON.stringify(json));
    await expect(loadModelFrom(dir)).rejects.toThrow(/outside its directory/);
  });
});
