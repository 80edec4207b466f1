/**
 * Experiment loggers, as Ray Tune's `ray.tune.logger`: JSON, CSV and TensorBoard, each a
 * callback, and Prometheus gauges of the results (metrics.ts); the four are added to every
 * experiment (and Train run) unless its `runConfig.callbacks` has one of that class already.
 */
import type { TuneCallback } from '../callbacks.js';
import { CSVLoggerCallback } from './csv.js';
import { JsonLoggerCallback } from './json.js';
import { MetricsLoggerCallback } from './metrics.js';
import { TBXLoggerCallback } from './tensorboard.js';

export { LoggerCallback } from './logger-callback.js';
export { JsonLoggerCallback, CSVLoggerCallback, TBXLoggerCallback, MetricsLoggerCallback };

/**
 * @internal `callbacks` followed by the default loggers they lack (Ray's default callbacks):
 * JSON and CSV always, TensorBoard and Prometheus gauges unless `tensorboard` / `metrics` is false.
 */
export function withDefaultLoggers(
  callbacks: readonly TuneCallback[],
  options: { tensorboard?: boolean; metrics?: boolean } = {},
): TuneCallback[] {
  const out = [...callbacks];
  const defaults: [new () => TuneCallback, boolean][] = [
    [JsonLoggerCallback, true],
    [CSVLoggerCallback, true],
    [TBXLoggerCallback, options.tensorboard !== false],
    [MetricsLoggerCallback, options.metrics !== false],
  ];
  for (const [cls, on] of defaults) if (on && !callbacks.some((c) => c instanceof cls)) out.push(new cls());
  return out;
}
