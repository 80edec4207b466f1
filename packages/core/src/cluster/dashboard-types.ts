/**
 * The shapes of the dashboard's run routes (`/api/dashboard/runs`, dashboard-runs.ts), shared with
 * the page (`dashboard/types.ts`): types only, no imports, so the browser bundle can read them.
 */

/** A run as `GET /api/dashboard/runs` lists it. */
export interface RunSummary {
  kind: 'tune' | 'train';
  name: string;
  /** Its folder (absolute). */
  path: string;
  status: string;
  trials: number;
  /** ms since the epoch (the folder's, when the files do not say). */
  startTime: number;
  bestTrial?: { trialId: string; metric: string; value: number };
}

/** A trial as `GET /api/dashboard/runs/<name>?path=` returns it. */
export interface TrialDetail {
  trialId: string;
  status: string;
  config: Record<string, unknown>;
  lastResult: Record<string, unknown> | null;
  error?: string;
  /** Each numeric metric's values: [iteration, value] pairs in order. */
  metrics: Record<string, [number, number][]>;
}

/** A run's trials, and which is best by its metric (null: no metric set). */
export interface RunDetail {
  kind: 'tune' | 'train';
  name: string;
  path: string;
  trials: TrialDetail[];
  best: { trialId: string; metric: string; mode: 'min' | 'max' } | null;
}
