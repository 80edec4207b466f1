/**
 * The experiment's folder under `storagePath/name`: `experiment_state.json` (trials, searcher and
 * scheduler state; written atomically and flushed to disk, at most every `stateWriteIntervalS` and
 * at every trial's end), and one folder per trial with `params.json`, `result.json` (JSON lines),
 * `progress.csv` and `checkpoint_NNNNNN/` folders. Tools that read Ray Tune's folders can read these.
 */
import fs from 'node:fs';
import path from 'node:path';
import { removeDir, writeFileAtomic, writeFileAtomicAsync } from './atomic-files.js';
import {
  csvHeader,
  csvHeaderLine,
  csvRow,
  PARAMS_FILE,
  PROGRESS_FILE,
  RESULT_FILE,
  resultLine,
} from './result-files.js';
import type { Config, TrialResult, TrialStatus } from './types.js';

/** A trial as written in experiment_state.json. */
export interface TrialRecord {
  trialId: string;
  trialName: string;
  config: Config;
  status: TrialStatus;
  numFailures: number;
  /** The latest checkpoint's folder (absolute). */
  checkpoint: string | undefined;
  /** The iteration the latest checkpoint was taken at. */
  checkpointIteration: number;
  lastResult: TrialResult | undefined;
  error: { name: string; message: string; stack: string } | undefined;
  /** Seconds run in earlier runs of the trial (before a restart). */
  timeOffsetS: number;
  /** Checkpoints kept on disk, oldest first (for numToKeep and Result.bestCheckpoints). */
  checkpoints?: { dir: string; iteration: number; score: number | undefined }[];
}

/** experiment_state.json. */
export interface ExperimentState {
  version: 1;
  name: string;
  metric: string | undefined;
  mode: 'min' | 'max' | undefined;
  trials: TrialRecord[];
  searcher: unknown;
  scheduler: unknown;
  /** Trials the searcher was asked for so far. */
  suggested: number;
  finishedSearch: boolean;
  startedAt: number;
}

export const STATE_FILE = 'experiment_state.json';

/** Writes an experiment's files. */
export class ExperimentStorage {
  /** Checkpoint folders dropped since the last state write began (it may name one to resume from). */
  private toRemove = new Set<string>();
  /** Those the state write under way no longer names: deleted once it is on disk. */
  private removing: Set<string> | undefined;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  trialDir(trialName: string): string {
    return path.join(this.dir, trialName);
  }

  writeParams(trialName: string, config: Config): void {
    const d = this.trialDir(trialName);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, PARAMS_FILE), JSON.stringify(config, null, 2));
  }

  /**
   * Replaces a trial's result.json and progress.csv with `results` (a restart drops what it runs
   * again), each file atomically: a crash leaves the old history or the new one.
   */
  rewriteResults(trialName: string, results: readonly TrialResult[]): void {
    const d = this.trialDir(trialName);
    if (results.length === 0) {
      fs.rmSync(path.join(d, RESULT_FILE), { force: true });
      fs.rmSync(path.join(d, PROGRESS_FILE), { force: true });
      return;
    }
    writeFileAtomic(path.join(d, RESULT_FILE), results.map(resultLine).join(''));
    const header = csvHeader(results[0]);
    writeFileAtomic(
      path.join(d, PROGRESS_FILE),
      csvHeaderLine(header) + results.map((r) => csvRow(header, r)).join(''),
    );
  }

  checkpointDir(trialName: string, iteration: number): string {
    return path.join(this.trialDir(trialName), `checkpoint_${String(iteration).padStart(6, '0')}`);
  }

  /**
   * Writes experiment_state.json atomically (a unique temp file, flushed, renamed over the old one,
   * the folder flushed): `state` with `trials`, each given as its JSON already (the runner keeps
   * those of ended trials). Once it is on disk, deletes the checkpoint folders dropped before it
   * began: it no longer names them. One write at a time ({@link ExperimentStateWriter} queues them).
   */
  async writeState(state: Omit<ExperimentState, 'trials'>, trialsJson: readonly string[]): Promise<void> {
    const head = JSON.stringify(state);
    const removable = (this.removing = this.toRemove);
    this.toRemove = new Set();
    try {
      await writeFileAtomicAsync(
        path.join(this.dir, STATE_FILE),
        `${head.slice(0, -1)},"trials":[${trialsJson.join(',')}]}`,
      );
    } catch (err) {
      for (const d of removable) this.toRemove.add(d);
      throw err;
    } finally {
      this.removing = undefined;
    }
    for (const d of removable) removeDir(d);
  }

  /**
   * Deletes checkpoint folders pruned from a trial's list after the next state write: until then,
   * experiment_state.json on disk may name one of them as the checkpoint a restore resumes from.
   */
  removeAfterStateWrite(dirs: readonly string[]): void {
    for (const d of dirs) this.toRemove.add(d);
  }

  /** A checkpoint folder written again (a rerun): it stays, even if it was pruned before. */
  keepDir(dir: string): void {
    this.toRemove.delete(dir);
    this.removing?.delete(dir);
  }

  static readState(dir: string): ExperimentState | undefined {
    const f = path.join(dir, STATE_FILE);
    if (!fs.existsSync(f)) return undefined;
    return JSON.parse(fs.readFileSync(f, 'utf8')) as ExperimentState;
  }

  /** Results a trial wrote (result.json), for restored trials' histories. */
  static readResults(trialDir: string): TrialResult[] {
    const f = path.join(trialDir, RESULT_FILE);
    if (!fs.existsSync(f)) return [];
    const out: TrialResult[] = [];
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as TrialResult);
      } catch {
        // A line cut short by a crash mid-write: the trial reruns that iteration.
      }
    }
    return out;
  }
}
