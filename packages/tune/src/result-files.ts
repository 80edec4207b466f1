/**
 * The formats of a trial's result files, shared by the loggers that append to them
 * (loggers/json.ts, loggers/csv.ts) and the storage that rewrites them when a trial restarts:
 * `result.json` (one JSON object per line) and `progress.csv` (columns from the first result's
 * scalar fields).
 */
import type { TrialResult } from './types.js';

/** The file names, as Ray's. */
export const RESULT_FILE = 'result.json';
export const PROGRESS_FILE = 'progress.csv';
export const PARAMS_FILE = 'params.json';

/** One line of result.json. */
export function resultLine(result: TrialResult): string {
  return JSON.stringify(result) + '\n';
}

/** progress.csv's columns: the result's scalar fields (numbers, strings, booleans, null). */
export function csvHeader(result: TrialResult): string[] {
  return Object.entries(result)
    .filter(([, v]) => v === null || ['number', 'string', 'boolean'].includes(typeof v))
    .map(([k]) => k);
}

/** The header line of progress.csv. */
export function csvHeaderLine(header: readonly string[]): string {
  return header.map(csvCell).join(',') + '\n';
}

/** One row of progress.csv. */
export function csvRow(header: readonly string[], result: TrialResult): string {
  return header.map((k) => csvCell((result as Record<string, unknown>)[k])).join(',') + '\n';
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
