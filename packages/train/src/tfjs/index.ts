/**
 * TensorFlow.js for @ray-ts/train workers (`@ray-ts/train/tfjs`, apart from the main entry so that
 * loops without tfjs never load it): backend set-up (tfjs-node or tfjs-node-gpu when installed,
 * else WebAssembly), gradient averaging across the group, and model save/load to folders (for
 * checkpoints) without tfjs-node.
 * @example
 * import { setupBackend, applyAveragedGradients, saveModelTo } from '@ray-ts/train/tfjs';
 * await setupBackend();
 * const { grads } = optimizer.computeGradients(() => loss(model, batch));
 * await applyAveragedGradients(optimizer, grads, getContext().collectiveGroup);
 */
export { setupBackend } from './backend.js';
export type { TfjsBackendName } from './backend.js';
export { flattenTensors, unflatten, averageGradients, applyAveragedGradients } from './gradients.js';
export type {
  TensorLayout,
  TensorLayoutEntry,
  FlatTensors,
  AverageGradientsOptions,
  AllreduceFn,
} from './gradients.js';
export { fileSystemIO, saveModelTo, loadModelFrom, MODEL_JSON_FILE, WEIGHTS_BIN_FILE } from './io.js';
export type { ModelDir } from './io.js';
