/**
 * `CSVLoggerCallback` (Ray's): each trial's results as `progress.csv`, one row per result.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CallbackTrial } from '../callbacks.js';
import { csvHeader, csvHeaderLine, csvRow, PROGRESS_FILE } from '../result-files.js';
import type { TrialResult } from '../types.js';
import { LoggerCallback } from './logger-callback.js';

/**
 * Appends each result to `progress.csv` in the trial's folder (Ray's `CSVLoggerCallback`). The
 * columns are the first result's scalar fields (numbers, strings, booleans); fields that appear
 * only later, and nested values, are only in result.json. Tune and Train add one unless
 * `runConfig.callbacks` has one already.
 */
export class CSVLoggerCallback extends LoggerCallback {
  private readonly headers = new Map<string, string[]>();

  override logTrialStart(trial: CallbackTrial): void {
    // A restart rewrites the file (without the iterations run again): read its header anew.
    this.headers.delete(trial.path);
  }

  override logTrialResult(_iteration: number, trial: CallbackTrial, result: TrialResult): void {
    const file = path.join(trial.path, PROGRESS_FILE);
    let header = this.headers.get(trial.path);
    if (!header) {
      if (fs.existsSync(file)) {
        header = fs.readFileSync(file, 'utf8').split('\n')[0].split(',');
      } else {
        header = csvHeader(result);
        fs.mkdirSync(trial.path, { recursive: true });
        fs.writeFileSync(file, csvHeaderLine(header));
      }
      this.headers.set(trial.path, header);
    }
    fs.appendFileSync(file, csvRow(header, result));
  }

  override logTrialEnd(trial: CallbackTrial): void {
    this.headers.delete(trial.path);
  }
}
