/**
 * `JsonLoggerCallback` (Ray's): each trial's `params.json` (its config) and `result.json` (one
 * JSON object per result, one per line). On by default: `Tuner.restore()` reads result.json back.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CallbackTrial } from '../callbacks.js';
import { PARAMS_FILE, RESULT_FILE, resultLine } from '../result-files.js';
import type { TrialResult } from '../types.js';
import { LoggerCallback } from './logger-callback.js';

/**
 * Writes `params.json` when a trial starts and appends each result to `result.json`, in the
 * trial's folder (Ray's `JsonLoggerCallback`). Tune and Train add one unless `runConfig.callbacks`
 * has one already.
 */
export class JsonLoggerCallback extends LoggerCallback {
  override logTrialStart(trial: CallbackTrial): void {
    fs.mkdirSync(trial.path, { recursive: true });
    fs.writeFileSync(path.join(trial.path, PARAMS_FILE), JSON.stringify(trial.config, null, 2));
  }
  override logTrialResult(_iteration: number, trial: CallbackTrial, result: TrialResult): void {
    fs.appendFileSync(path.join(trial.path, RESULT_FILE), resultLine(result));
  }
}
