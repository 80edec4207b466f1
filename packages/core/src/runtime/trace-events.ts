/**
 * Task runs as events of the Chrome trace format (what `timeline()`, `ray-ts timeline` and the
 * dashboard's `/api/timeline` give): one row per worker, grouped by node.
 */
import type { TaskRun } from '../protocol/specs.js';

/** An event of the Chrome trace format (`ph: 'X'`: a complete event with a duration). */
export interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X';
  /** Start, in microseconds since the epoch. */
  ts: number;
  /** Duration in microseconds. */
  dur: number;
  /** The row group: the node. */
  pid: string;
  /** The row: the worker. */
  tid: string;
  args: { taskId: string; state: string; jobId: string; actorId?: string };
}

/** Task runs as trace events, in time order. Runs still going last until `nowMs`. */
export function traceEvents(runs: readonly TaskRun[], nowMs = Date.now()): TraceEvent[] {
  return runs
    .filter((r) => r.runStartMs > 0)
    .map((r): TraceEvent => ({
      name: r.name,
      cat: r.actorId ? 'actor_task' : 'task',
      ph: 'X',
      ts: Math.round(r.runStartMs * 1000),
      dur: Math.max(1, Math.round(((r.endMs || nowMs) - r.runStartMs) * 1000)),
      pid: `node ${r.nodeId}`,
      tid: `worker ${r.workerId || '?'}`,
      args: { taskId: r.taskId, state: r.state, jobId: r.jobId, ...(r.actorId ? { actorId: r.actorId } : {}) },
    }))
    .sort((a, b) => a.ts - b.ts);
}
