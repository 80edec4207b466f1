/**
 * @ray-ts/train: distributed data-parallel training on ray-ts actors, as Ray Train is for Python.
 * A training loop runs on a group of workers (actors reserved together in a placement group)
 * that keep their models in sync with core's collectives; reports and checkpoints go to the
 * driver; a failed worker restarts the group from the latest checkpoint.
 *
 * @example
 * import { DataParallelTrainer, getContext, report } from '@ray-ts/train';
 * import { collective } from '@ray-ts/core';
 * const trainer = new DataParallelTrainer(async (config: { lr: number }) => {
 *   const { collectiveGroup } = getContext();
 *   for (let step = 0; step < 100; step++) {
 *     const grads = computeGrads();
 *     await collective.allreduce(grads, { groupName: collectiveGroup, op: 'mean' });
 *     applyGrads(grads, config.lr);
 *     await report({ step });
 *   }
 * }, { trainLoopConfig: { lr: 0.1 }, scalingConfig: { numWorkers: 2 } });
 * const result = await trainer.fit();
 *
 * @packageDocumentation
 */
export { DataParallelTrainer } from './trainer.js';
export type { DataParallelTrainerOptions, ScalingConfig, RunConfig, CheckpointConfig } from './trainer-options.js';
export type { Result, TrainFailure } from './train-result.js';
export { getContext, report, getCheckpoint, getDatasetShard } from './session.js';
export type { TrainContext } from './session.js';
export { TrainInvalidArgumentError, TrainingFailedError } from './errors.js';
export {
  Checkpoint,
  Callback,
  LoggerCallback,
  JsonLoggerCallback,
  CSVLoggerCallback,
  TBXLoggerCallback,
  MetricsLoggerCallback,
  TuneCallbackError,
} from '@ray-ts/tune';
export type { TuneCallback, CallbackTrial, CallbackSetupInfo, TrialResult } from '@ray-ts/tune';
export { exportDenseToOnnx, encodeDenseOnnx, encodeOnnxModel } from './onnx-export.js';
export type {
  DenseLayerSpec,
  DenseModelSpec,
  OnnxExportOptions,
  OnnxExportResult,
  OnnxActivation,
} from './onnx-export.js';
import './tune-trainable.js';
