/**
 * Where code runs and what the cluster has: `getRuntimeContext`, `getGpuIds`, `clusterResources`,
 * `availableResources` and `nodes`.
 */
import { runtimeEnvOf, type RuntimeEnv } from '../options.js';
import type { NodeInfo } from '../protocol/specs.js';
import { threadState } from '../runtime/thread-state.js';
import { executionContext } from '../worker/client.js';
import { requireClient } from './remote.js';

/** What {@link getRuntimeContext} returns. */
export interface RuntimeContext {
  readonly jobId: string;
  readonly nodeId: string;
  readonly namespace: string;
  /** The running task or actor call; undefined on the driver. */
  readonly taskId: string | undefined;
  /** The current actor; undefined outside actors. */
  readonly actorId: string | undefined;
  /** Resources held by the current task or actor. */
  readonly assignedResources: Readonly<Record<string, number>>;
  /** Aborted when the current task is cancelled (a signal that never aborts on the driver). */
  readonly cancelSignal: AbortSignal;
  /** True inside a task or actor. */
  readonly isWorker: boolean;
  /**
   * The placement group this work's children go into (it was scheduled with
   * `placementGroupCaptureChildTasks: true`, or inherited it); undefined otherwise.
   */
  readonly placementGroupId: string | undefined;
  /** The runtime environment this code runs in (its worker's, or the driver's `init({ runtimeEnv })`). */
  readonly runtimeEnv: RuntimeEnv;
}

const neverAborts = new AbortController().signal;

/** Information about where this code runs: job, node, task, actor and assigned resources. */
export function getRuntimeContext(): RuntimeContext {
  const client = requireClient('getRuntimeContext()');
  const exec = executionContext.getStore();
  return Object.freeze({
    jobId: exec?.data.jobId ?? client.jobId,
    nodeId: client.nodeId,
    namespace: client.namespace,
    taskId: exec?.data.taskId,
    actorId: exec?.data.actorId,
    assignedResources: exec?.data.assignedResources ?? {},
    cancelSignal: exec?.signal ?? neverAborts,
    isWorker: threadState().isWorker,
    placementGroupId: exec?.data.placementGroupId,
    runtimeEnv: Object.freeze(runtimeEnvOf(threadState().envVars)),
  });
}

/** The GPU ids assigned to the current task or actor (also in its `CUDA_VISIBLE_DEVICES`). */
export function getGpuIds(): number[] {
  return [...(executionContext.getStore()?.data.gpuIds ?? [])];
}

/** Total resources of the cluster, e.g. `{ CPU: 8, GPU: 1 }`. */
export async function clusterResources(): Promise<Record<string, number>> {
  return (await requireClient('clusterResources()').clusterInfo()).total;
}

/** Resources not held by running tasks and actors right now. */
export async function availableResources(): Promise<Record<string, number>> {
  return (await requireClient('availableResources()').clusterInfo()).available;
}

/** The nodes of the cluster, with their resources and liveness. */
export async function nodes(): Promise<NodeInfo[]> {
  return (await requireClient('nodes()').clusterInfo()).nodes;
}
