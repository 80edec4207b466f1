/**
 * Tune experiments and Train runs for the dashboard, read from the files they write: under the
 * storage folders the head knows (`~/ray_ts_results` and `dashboardRunsPaths`), and at the paths
 * drivers registered in the cluster's KV (namespace `runs`) when their runs started. A Tune
 * experiment is a folder with `experiment_state.json` and a folder per trial (`result.json`: one
 * JSON result per line); a Train run is a folder with its own `result.json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HttpError } from '../errors.js';
import { ignored } from '../log.js';
import type { RunDetail, RunSummary, TrialDetail } from './dashboard-types.js';

export type { RunDetail, RunSummary, TrialDetail };

/** What a driver registers in the KV (namespace `runs`, key: the run's folder). */
export interface RunRegistration {
  kind: 'tune' | 'train';
  name: string;
  path: string;
  startTime: number;
}

const STATE_FILE = 'experiment_state.json';
const RESULT_FILE = 'result.json';
/** The most result lines read of one trial (its last ones): a plot needs no more. */
const MAX_RESULTS = 10_000;
/** A Train run whose result.json changed this recently, and that has not said done, is running. */
const RUNNING_WITHIN_MS = 60_000;
/** Metrics Tune adds to every result, left out of the plots (they are the x axis, or bookkeeping). */
const BOOKKEEPING = new Set(['trainingIteration', 'timestamp', 'timeThisIterS', 'done', 'trialId']);

interface StateTrial {
  trialId: string;
  trialName: string;
  config: Record<string, unknown>;
  status: string;
  lastResult: Record<string, unknown> | undefined;
  error: { message: string } | undefined;
}

interface ExperimentState {
  name: string;
  metric: string | undefined;
  mode: 'min' | 'max' | undefined;
  trials: StateTrial[];
  startedAt: number;
  finishedSearch?: boolean;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    ignored(`reading ${file} for the dashboard (missing, or mid-write)`)(err);
    return undefined;
  }
}

/** The results of a trial's result.json (its last MAX_RESULTS), skipping a line cut short by a write under way. */
export function readResults(dir: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, RESULT_FILE), 'utf8');
  } catch (err) {
    ignored(`reading ${dir}/${RESULT_FILE} for the dashboard`)(err);
    return [];
  }
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n').slice(-MAX_RESULTS - 1)) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch (err) {
      ignored('a result line still being written')(err);
    }
  }
  return out.slice(-MAX_RESULTS);
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const better = (mode: 'min' | 'max', a: number, b: number) => (mode === 'min' ? a < b : a > b);

function tuneSummary(dir: string, state: ExperimentState): RunSummary {
  const statuses = state.trials.map((t) => t.status);
  const status = statuses.some((s) => s === 'RUNNING' || s === 'PENDING' || s === 'PAUSED')
    ? 'RUNNING'
    : statuses.some((s) => s === 'ERROR')
      ? 'ERROR'
      : 'TERMINATED';
  const out: RunSummary = {
    kind: 'tune',
    name: state.name || path.basename(dir),
    path: dir,
    status,
    trials: state.trials.length,
    startTime: state.startedAt,
  };
  if (state.metric && state.mode) {
    for (const t of state.trials) {
      const v = t.lastResult?.[state.metric];
      if (typeof v === 'number' && (!out.bestTrial || better(state.mode, v, out.bestTrial.value)))
        out.bestTrial = { trialId: t.trialId, metric: state.metric, value: v };
    }
  }
  return out;
}

function trainSummary(dir: string, now: number): RunSummary {
  const results = readResults(dir);
  const last = results.at(-1);
  const mtime = fs.statSync(path.join(dir, RESULT_FILE)).mtimeMs;
  const status = last?.done === true ? 'TERMINATED' : now - mtime < RUNNING_WITHIN_MS ? 'RUNNING' : 'ENDED';
  const first = results[0]?.timestamp;
  return {
    kind: 'train',
    name: path.basename(dir),
    path: dir,
    status,
    trials: 1,
    startTime: typeof first === 'number' ? first : fs.statSync(dir).birthtimeMs,
  };
}

/** The run in folder `dir` (undefined: no run there). */
export function runAt(dir: string, now = Date.now()): RunSummary | undefined {
  const state = fs.existsSync(path.join(dir, STATE_FILE))
    ? readJson<ExperimentState>(path.join(dir, STATE_FILE))
    : undefined;
  if (state && Array.isArray(state.trials)) return tuneSummary(dir, state);
  if (fs.existsSync(path.join(dir, RESULT_FILE))) return trainSummary(dir, now);
  return undefined;
}

/**
 * The runs in the storage folders `roots` (each a folder of runs) and at the registered folders
 * `registered`, newest first; a folder counted once.
 */
export function discoverRuns(roots: readonly string[], registered: readonly string[], now = Date.now()): RunSummary[] {
  const dirs = new Set<string>();
  for (const root of roots) {
    let names: string[];
    try {
      names = fs.readdirSync(root);
    } catch (err) {
      ignored(`listing the runs in ${root} (none there yet)`)(err);
      continue;
    }
    for (const n of names) if (isDir(path.join(root, n))) dirs.add(path.resolve(root, n));
  }
  for (const r of registered) dirs.add(path.resolve(r));
  const out: RunSummary[] = [];
  for (const d of dirs) {
    const run = runAt(d, now);
    if (run) out.push(run);
  }
  return out.sort((a, b) => b.startTime - a.startTime);
}

/** Each numeric metric of `results` as [iteration, value] pairs. */
export function metricCurves(results: readonly Record<string, unknown>[]): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  results.forEach((r, i) => {
    const it = typeof r.trainingIteration === 'number' ? r.trainingIteration : i + 1;
    for (const [k, v] of Object.entries(r)) {
      if (BOOKKEEPING.has(k) || typeof v !== 'number' || !Number.isFinite(v)) continue;
      (out[k] ??= []).push([it, v]);
    }
  });
  return out;
}

/** The trials of the run in `dir`, with their metric curves (404 when no run is there). */
export function runDetail(dir: string): RunDetail {
  const run = runAt(dir);
  if (!run) throw new HttpError(404, `no Tune or Train run in ${dir} (no experiment_state.json or result.json)`);
  if (run.kind === 'train') {
    const results = readResults(dir);
    return {
      kind: 'train',
      name: run.name,
      path: dir,
      trials: [
        {
          trialId: run.name,
          status: run.status,
          config: readJson<Record<string, unknown>>(path.join(dir, 'params.json')) ?? {},
          lastResult: results.at(-1) ?? null,
          metrics: metricCurves(results),
        },
      ],
      best: null,
    };
  }
  const state = readJson<ExperimentState>(path.join(dir, STATE_FILE))!;
  return {
    kind: 'tune',
    name: run.name,
    path: dir,
    trials: state.trials.map((t) => {
      const results = readResults(path.join(dir, t.trialName));
      return {
        trialId: t.trialId,
        status: t.status,
        config: t.config,
        lastResult: t.lastResult ?? results.at(-1) ?? null,
        ...(t.error ? { error: t.error.message } : {}),
        metrics: metricCurves(results),
      };
    }),
    best:
      run.bestTrial && state.mode
        ? { trialId: run.bestTrial.trialId, metric: run.bestTrial.metric, mode: state.mode }
        : null,
  };
}
