/** The iteration bar of `ray-ts rllib train` (cli.ts), apart so that it is tested without the algorithms. */
import { ProgressBar, type ProgressStream } from '@ray-ts/core';
import type { TrainResult } from './algorithm-results.js';

const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));

/** What the bar shows after its count: the latest return and env steps. */
export function barPostfix(r: TrainResult): string {
  return `return ${fmt(r.episodeReturnMean)}, steps ${r.numEnvStepsSampledLifetime}`;
}

/**
 * The iteration bar of `train` on a terminal: out of `stop.trainingIteration` when the stop
 * criteria give it, with ETA (RAY_TS_PROGRESS_BARS=0 turns it off; not drawn on a pipe).
 */
export function iterationBar(algo: string, stop: Record<string, unknown>, stream: ProgressStream): ProgressBar {
  const total = stop.trainingIteration;
  return new ProgressBar({
    desc: algo,
    total: typeof total === 'number' && total > 0 ? total : undefined,
    unit: 'iter',
    stream,
  });
}
