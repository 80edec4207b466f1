/**
 * Saving and loading TensorFlow.js models to and from a directory on disk, in the standard tfjs
 * layout (`model.json` plus `weights.bin`), without `@tensorflow/tfjs-node`: what Train's
 * checkpoints hold for a tfjs model, and what `tf.loadLayersModel('file://...')` on tfjs-node
 * (or this module's {@link loadModelFrom}) reads back.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { TrainInvalidArgumentError } from '../errors.js';

/** The model file's name in a saved model's directory. */
export const MODEL_JSON_FILE = 'model.json';
/** The weights file's name in a directory written by {@link fileSystemIO}. */
export const WEIGHTS_BIN_FILE = 'weights.bin';

/** A directory: a path, or a `file://` URL (as a string or a `URL`). */
export type ModelDir = string | URL;

function toDirPath(dir: ModelDir, what: string): string {
  if (dir instanceof URL) {
    if (dir.protocol !== 'file:')
      throw new TrainInvalidArgumentError(`${what}: only file:// URLs name a directory, got ${dir.href}.`);
    return fileURLToPath(dir);
  }
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new TrainInvalidArgumentError(
      `${what} takes a directory path (a non-empty string or a file:// URL), got ${dir === '' ? "''" : typeof dir}.`,
    );
  }
  return dir.startsWith('file://') ? fileURLToPath(dir) : dir;
}

/** Writes `pieces` to `file` through a temporary file and a rename, so readers never see half a file. */
async function writeAtomically(file: string, pieces: readonly Uint8Array[]): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fsp.open(tmp, 'w');
  try {
    for (const p of pieces) await fh.write(p);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

function weightPieces(data: tf.io.WeightData | undefined): Uint8Array[] {
  if (data === undefined) return [];
  return (Array.isArray(data) ? data : [data]).map((b) => new Uint8Array(b));
}

/**
 * Reads `files` one after the other into one ArrayBuffer. One buffer rather than one per file:
 * tfjs (4.22) misplaces weights when shards other than the last differ in size, and this way
 * each byte is copied once.
 */
async function readConcatenated(files: readonly string[]): Promise<ArrayBuffer> {
  const sizes = await Promise.all(files.map(async (f) => (await fsp.stat(f)).size));
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (let i = 0; i < files.length; i++) {
    const fh = await fsp.open(files[i], 'r');
    try {
      let done = 0;
      while (done < sizes[i]) {
        const { bytesRead } = await fh.read(out, offset + done, sizes[i] - done, done);
        if (bytesRead === 0) throw new Error(`fileSystemIO(): ${files[i]} shrank while it was read.`);
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
    offset += sizes[i];
  }
  return out.buffer;
}

/**
 * A `tf.io.IOHandler` that saves a model into `dir` and loads it from there, in the layout
 * tfjs-node's `file://` handler uses: `dir/model.json` (topology, training config, weights
 * manifest) and `dir/weights.bin` (all weights, little-endian, in manifest order).
 *
 * Saving creates `dir` if needed and replaces both files atomically (each is written to a
 * temporary file, then renamed: `weights.bin` first, so a `model.json` never points at missing
 * weights). Loading also accepts directories written by other tools whose manifest lists several
 * weight shards (`group1-shard1of3.bin`, ...), as long as they are in `dir`.
 *
 * @param dir the directory: a path or a `file://` URL.
 * @throws TrainInvalidArgumentError for a `dir` that is not a path, or (on save) a model whose
 *   topology is binary (graph models); loading rejects with the file system's error when
 *   `model.json` or a weights file is missing.
 * @example
 * await model.save(fileSystemIO('/tmp/ckpt/model'));
 * const same = await tf.loadLayersModel(fileSystemIO('/tmp/ckpt/model'));
 */
export function fileSystemIO(dir: ModelDir): tf.io.IOHandler {
  const root = toDirPath(dir, 'fileSystemIO()');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new TrainInvalidArgumentError(
          'fileSystemIO(): this model has a binary (GraphDef) topology; only models with a JSON topology (tf.LayersModel) can be saved here.',
        );
      }
      await fsp.mkdir(root, { recursive: true });
      const pieces = weightPieces(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN_FILE}`], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        ...(artifacts.trainingConfig !== undefined && { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.signature !== undefined && { signature: artifacts.signature }),
        ...(artifacts.userDefinedMetadata !== undefined && { userDefinedMetadata: artifacts.userDefinedMetadata }),
        ...(artifacts.modelInitializer !== undefined && { modelInitializer: artifacts.modelInitializer }),
        ...(artifacts.initializerSignature !== undefined && { initializerSignature: artifacts.initializerSignature }),
      };
      await writeAtomically(path.join(root, WEIGHTS_BIN_FILE), pieces);
      await writeAtomically(path.join(root, MODEL_JSON_FILE), [Buffer.from(JSON.stringify(modelJson), 'utf8')]);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(root, MODEL_JSON_FILE);
      const modelJson = JSON.parse(await fsp.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      if (modelJson === null || typeof modelJson !== 'object' || modelJson.modelTopology === undefined) {
        throw new TrainInvalidArgumentError(
          `fileSystemIO(): ${jsonPath} is not a tfjs model.json (it has no modelTopology).`,
        );
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const files: string[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const file = path.resolve(root, p);
            const rel = path.relative(root, file);
            if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
              throw new TrainInvalidArgumentError(
                `fileSystemIO(): ${jsonPath} names weights file '${p}' outside its directory.`,
              );
            }
            files.push(file);
          }
        }
        return [specs, await readConcatenated(files)];
      });
    },
  };
}

/**
 * Saves `model` into `dir` (see {@link fileSystemIO} for the layout), creating `dir` if needed.
 * @returns what tfjs reports about the saved artifacts (sizes of topology and weights).
 * @example
 * await saveModelTo(model, path.join(checkpointDir, 'model'));
 */
export async function saveModelTo(model: tf.LayersModel, dir: ModelDir): Promise<tf.io.SaveResult> {
  return model.save(fileSystemIO(dir));
}

/**
 * Loads a `tf.LayersModel` saved in `dir` (by {@link saveModelTo}, or by tfjs-node's
 * `model.save('file://dir')`). Pass `{ strict: false }` to tolerate missing or extra weights.
 * @example
 * const model = await loadModelFrom(path.join(checkpointDir, 'model'));
 */
export async function loadModelFrom(dir: ModelDir, opts?: tf.io.LoadOptions): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemIO(dir), opts);
}
