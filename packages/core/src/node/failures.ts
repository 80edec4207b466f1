/**
 * The errors a node stores in place of results: each says what happened and what to do, as a
 * stored value (every return of the failed work holds it).
 */
import {
  OutOfMemoryError,
  TaskCancelledError,
  UnschedulableError,
  WorkerCrashedError,
  errorToWire,
  type RayError,
  type WireError,
} from '../errors.js';
import type { ResourceSet } from '../options.js';
import { storedError, type StoredValue } from '../runtime/serialization.js';
import { fmtResources } from './placement.js';
import type { Missing } from './ports.js';
import type { WorkerHandle } from './worker-handle.js';

/** A thrown or made error as a stored value. */
export function errorValue(err: unknown): StoredValue {
  return storedError(errorToWire(err));
}

/** The wire error inside an error value. */
export function wireErrorOf(v: StoredValue): WireError {
  return (v as { e: WireError }).e;
}

/** What a request lacks, e.g. "it needs 4 CPU and the largest node has 2 CPU". */
export function describeMissing(missing: Missing): string {
  if (missing.together)
    return `each resource is on some node, but no node has all of them together (${missing.requested} ${missing.name} with the rest)`;
  const have = missing.total ? `${missing.total} ${missing.name}` : `no ${missing.name}`;
  return `it needs ${missing.requested} ${missing.name} and the largest node has ${have}`;
}

/** No node can ever run the work: which resource is missing, and how to fix it. */
export function unschedulable(
  nodeId: string,
  what: string,
  req: ResourceSet,
  missing: Missing,
  taskId?: string,
  actorId?: string,
): StoredValue {
  const fix = missing.together
    ? 'Ask for less, or start a node that has all of it'
    : missing.name === 'CPU'
      ? 'Lower numCpus or give the cluster more CPUs (init({ numCpus }))'
      : missing.name === 'GPU'
        ? 'Lower numGpus or start the cluster with GPUs (init({ numGpus }))'
        : `Lower it, or declare the resource on a node (init({ resources: { ${missing.name}: ${missing.requested} } }))`;
  return errorValue(
    new UnschedulableError(
      `${what} asks for ${fmtResources(req)}, but no node can ever satisfy it: ${describeMissing(missing)}. ${fix}.`,
      req,
      { taskId, actorId, nodeId },
    ),
  );
}

export function cancelledValue(taskId: string): StoredValue {
  return errorValue(new TaskCancelledError(`Task ${taskId} was cancelled.`, { taskId }));
}

/** A task's worker died while it ran and no retries were left: out of memory, or crashed. */
export function workerDeathError(nodeId: string, w: WorkerHandle, what: string, taskId: string): RayError {
  if (w.exitReason === 'oom') {
    return new OutOfMemoryError(
      `${what} ran out of memory: its worker exceeded its heap limit (${w.exitDetail}). ` +
        `Process less data per task, or raise the limit with RAY_TS_WORKER_HEAP_MB.`,
      { taskId, workerId: w.id, nodeId },
    );
  }
  return new WorkerCrashedError(
    `${what} failed: its worker ${w.kind} died while running it (${w.exitDetail || 'exited'}), and no retries were left. ` +
      `Raise maxRetries to retry it.`,
    { taskId, workerId: w.id, nodeId },
  );
}
