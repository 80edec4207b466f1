/**
 * `TBXLoggerCallback` (Ray's): each trial's results as TensorBoard scalars, and its config as
 * hyperparameters in the HParams plugin, in an event file in the trial's folder
 * (event-file.ts). `tensorboard --logdir <storagePath>/<name>` shows every trial as a run.
 */
import fs from 'node:fs';
import type { CallbackTrial } from '../callbacks.js';
import type { TrialResult } from '../types.js';
import { EventFileWriter, type HParamValue } from './event-file.js';
import { LoggerCallback } from './logger-callback.js';

/** Result fields not logged as scalars, as Ray's (the step and clock are the event's own). */
const NOT_SCALARS = new Set(['config', 'pid', 'timestamp', 'timeTotalS', 'trainingIteration']);

/** `{ a: { b: 1 } }` as `[['a/b', 1]]`. */
function flatten(o: Record<string, unknown>, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v))
      flatten(v as Record<string, unknown>, `${prefix}${k}/`, out);
    else out.push([`${prefix}${k}`, v]);
  }
  return out;
}

/** The step of a result: `timestepsTotal` when reported (RL), else `trainingIteration`, as Ray's. */
function stepOf(r: TrialResult): number {
  const t = (r as Record<string, unknown>).timestepsTotal;
  return typeof t === 'number' && Number.isFinite(t) ? t : r.trainingIteration;
}

interface TrialLog {
  writer: EventFileWriter;
  /** The last result's scalars: the metrics of the HParams session. */
  last: Map<string, number>;
  /** Steps written to this trial's event files. */
  wrote: boolean;
}

/**
 * Writes each trial's results to a TensorBoard event file in its folder
 * (`events.out.tfevents.<time>.<host>...`, Ray's `TBXLoggerCallback`): every numeric result field
 * as a scalar tagged `ray/tune/<field>` (nested fields as `ray/tune/a/b`) at step
 * `trainingIteration` (or `timestepsTotal` when reported); when the trial ends, its config's
 * numbers, strings and booleans as hyperparameters with the last result's scalars as metrics
 * (TensorBoard's HPARAMS tab). A trial that restarts from a checkpoint writes a session start, so
 * TensorBoard drops the iterations it runs again. Tune and Train add one unless
 * `runConfig.callbacks` has one already.
 */
export class TBXLoggerCallback extends LoggerCallback {
  private readonly logs = new Map<string, TrialLog>();

  override logTrialStart(trial: CallbackTrial): void {
    let log = this.logs.get(trial.path);
    if (!log) {
      // Event files of an earlier run of this trial (a restored experiment) hold steps it may run again.
      const earlier =
        fs.existsSync(trial.path) && fs.readdirSync(trial.path).some((f) => f.startsWith('events.out.tfevents.'));
      log = { writer: new EventFileWriter(trial.path), last: new Map(), wrote: earlier };
      this.logs.set(trial.path, log);
    }
    if (log.wrote) {
      const kept = trial.results.at(-1);
      log.writer.addSessionStart(kept ? stepOf(kept) + 1 : 0, Date.now() / 1000);
    }
  }

  override logTrialResult(_iteration: number, trial: CallbackTrial, result: TrialResult): void {
    if (!this.logs.has(trial.path)) this.logTrialStart(trial);
    const log = this.logs.get(trial.path)!;
    const scalars: [string, number][] = [];
    for (const [k, v] of flatten(result)) {
      if (NOT_SCALARS.has(k) || typeof v !== 'number' || Number.isNaN(v)) continue;
      scalars.push([`ray/tune/${k}`, v]);
    }
    log.writer.addScalars(stepOf(result), result.timestamp / 1000, scalars);
    log.last = new Map(scalars);
    log.wrote = true;
  }

  override logTrialEnd(trial: CallbackTrial, failed: boolean): void {
    const log = this.logs.get(trial.path);
    if (!log) return;
    const hparams: Record<string, HParamValue> = {};
    for (const [k, v] of flatten(trial.config)) {
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') hparams[k] = v;
    }
    if (Object.keys(hparams).length > 0 && log.last.size > 0)
      log.writer.addHparams(hparams, [...log.last.keys()], failed, Date.now() / 1000);
    log.writer.close();
    this.logs.delete(trial.path);
  }

  /** Closes the files of trials that did not end (paused, or left when the experiment stopped). */
  override onExperimentEnd(): void {
    for (const log of this.logs.values()) log.writer.close();
    this.logs.clear();
  }
}
