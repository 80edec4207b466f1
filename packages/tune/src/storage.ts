/**
 * The experiment's folder under `storagePath/name`: `experiment_state.json` (trials, searcher and
 * scheduler state; written atomically, at most every `stateWriteIntervalMs` and at every trial's
 * end), and one folder per trial with `params.json`, `result.json` (JSON lines), `progress.csv`
 * and `checkpoint_NNNNNN/` folders. Tools that read Ray Tune's folders can read these.
 */
import fs from 'node:fs';
import path from 'node:path';
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
  private readonly csvHeaders = new Map<string, string[]>();

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  trialDir(trialName: string): string {
    return path.join(this.dir, trialName);
  }

  writeParams(trialName: string, config: Config): void {
    const d = this.trialDir(trialName);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'params.json'), JSON.stringify(config, null, 2));
  }

  appendResult(trialName: string, result: TrialResult): void {
    const d = this.trialDir(trialName);
    fs.appendFileSync(path.join(d, 'result.json'), JSON.stringify(result) + '\n');
    const scalars = Object.entries(result).filter(
      ([, v]) => v === null || ['number', 'string', 'boolean'].includes(typeof v),
    );
    let header = this.csvHeaders.get(trialName);
    const file = path.join(d, 'progress.csv');
    if (!header) {
      header = scalars.map(([k]) => k);
      this.csvHeaders.set(trialName, header);
      if (!fs.existsSync(file)) fs.writeFileSync(file, header.map(csvCell).join(',') + '\n');
      else header = fs.readFileSync(file, 'utf8').split('\n')[0].split(',');
      this.csvHeaders.set(trialName, header);
    }
    const row = header.map((k) => csvCell((result as Record<string, unknown>)[k]));
    fs.appendFileSync(file, row.join(',') + '\n');
  }

  /** Replaces a trial's result.json and progress.csv with `results` (a restart drops what it runs again). */
  rewriteResults(trialName: string, results: readonly TrialResult[]): void {
    const d = this.trialDir(trialName);
    fs.rmSync(path.join(d, 'result.json'), { force: true });
    fs.rmSync(path.join(d, 'progress.csv'), { force: true });
    this.csvHeaders.delete(trialName);
    for (const r of results) this.appendResult(trialName, r);
  }

  checkpointDir(trialName: string, iteration: number): string {
    return path.join(this.trialDir(trialName), `checkpoint_${String(iteration).padStart(6, '0')}`);
  }

  /**
   * Writes experiment_state.json atomically (temp file, then rename): `state` with `trials`, each
   * given as its JSON already (the runner keeps those of ended trials).
   */
  writeState(state: Omit<ExperimentState, 'trials'>, trialsJson: readonly string[]): void {
    const tmp = path.join(this.dir, `.${STATE_FILE}.tmp`);
    const head = JSON.stringify(state);
    fs.writeFileSync(tmp, `${head.slice(0, -1)},"trials":[${trialsJson.join(',')}]}`);
    fs.renameSync(tmp, path.join(this.dir, STATE_FILE));
  }

  static readState(dir: string): ExperimentState | undefined {
    const f = path.join(dir, STATE_FILE);
    if (!fs.existsSync(f)) return undefined;
    return JSON.parse(fs.readFileSync(f, 'utf8')) as ExperimentState;
  }

  /** Results a trial wrote (result.json), for restored trials' histories. */
  static readResults(trialDir: string): TrialResult[] {
    const f = path.join(trialDir, 'result.json');
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

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
