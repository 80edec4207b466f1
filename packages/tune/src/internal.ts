/**
 * @internal For other ray-ts libraries (Train writes its runs in Tune's per-trial layout and keeps
 * its checkpoints as Tune does; Train and RLlib write checkpoints crash-safe with Tune's helpers):
 * not part of the public API.
 */
export { ExperimentStorage } from './storage.js';
export { writeDirAtomic, makeTempDir, recoverDir, removeDir, removeLeftovers } from './atomic-files.js';
export { keepCheckpoint, type KeptCheckpoint, type KeepPolicy } from './kept-checkpoints.js';
export { CallbackList } from './callbacks.js';
export { withDefaultLoggers } from './loggers/index.js';
export { registerRun } from './run-registry.js';
