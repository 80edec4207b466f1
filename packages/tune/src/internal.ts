/**
 * @internal For other ray-ts libraries (Train writes its runs in Tune's per-trial layout):
 * not part of the public API.
 */
export { ExperimentStorage } from './storage.js';
