/**
 * The timeline (Ray's `ray.timeline()`): every task's run as an event of the Chrome trace format,
 * one row per worker, grouped by node. Load the file in https://ui.perfetto.dev or
 * chrome://tracing to see what ran where, and when.
 */
import fs from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { checkKnownKeys } from '../options.js';
import type { TaskRun } from '../protocol/specs.js';
import { embeddedTaskRuns, stateClient } from '../runtime/driver.js';
import { stateAddress } from './state.js';

export type { TaskRun } from '../protocol/specs.js';
export { traceEvents, type TraceEvent } from '../runtime/trace-events.js';
import { traceEvents, type TraceEvent } from '../runtime/trace-events.js';

/** Options of {@link timeline}. */
export interface TimelineOptions {
  /** Also write the events to this file, as a JSON array. */
  filename?: string;
  /** HOST:PORT of a cluster (default: the one this driver is connected to, else `RAY_TS_ADDRESS`). */
  address?: string;
}

/**
 * The recent task runs of the cluster (the embedded one, or the cluster this driver is connected
 * to) as Chrome trace events; with `filename`, also writes them there. Nodes keep the last
 * 5,000-10,000 finished tasks each. Actor method calls are in it once they finish (`cat:
 * 'actor_task'`), tasks from when they start.
 * @example await timeline({ filename: 'timeline.json' }); // then load it in https://ui.perfetto.dev
 */
export async function timeline(options: TimelineOptions = {}): Promise<TraceEvent[]> {
  checkKnownKeys('timeline()', options, ['filename', 'address']);
  if (options.filename !== undefined && (typeof options.filename !== 'string' || !options.filename)) {
    throw new InvalidArgumentError('timeline({ filename }) takes a file path.');
  }
  let runs: TaskRun[] | undefined = options.address === undefined ? embeddedTaskRuns() : undefined;
  if (!runs) {
    const address = stateAddress(options);
    if (!address) {
      throw new InvalidArgumentError(
        'timeline() needs a cluster: call init() first, or pass { address: "HOST:PORT" } (or set RAY_TS_ADDRESS).',
      );
    }
    const { taskRunsOf } = await stateClient();
    runs = await taskRunsOf(address);
  }
  const events = traceEvents(runs);
  if (options.filename) await fs.promises.writeFile(options.filename, JSON.stringify(events));
  return events;
}
