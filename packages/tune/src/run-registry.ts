/**
 * Where the dashboard finds runs outside the head's storage folders: a Tune experiment (and a
 * Train run, through @ray-ts/tune/internal) registers its folder in the cluster's KV (namespace
 * `runs`, key: the folder) when it starts. Best effort: a run never fails for it.
 */
import { internalKv } from '@ray-ts/core';

/** The KV namespace the head's dashboard lists runs from. */
export const RUNS_KV_NAMESPACE = 'runs';

/** Registers the run in folder `dir` (absolute) for the dashboard; resolves once tried, never rejects. */
export async function registerRun(kind: 'tune' | 'train', name: string, dir: string): Promise<void> {
  const value = JSON.stringify({ kind, name, path: dir, startTime: Date.now() });
  // Not connected, or the KV refused: the dashboard then finds the run only under its storage folders.
  await internalKv.put(dir, value, { namespace: RUNS_KV_NAMESPACE }).catch(() => undefined);
}
