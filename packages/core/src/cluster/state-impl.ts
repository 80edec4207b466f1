/**
 * The state API over a cluster's GCS and nodes (see ../state-api.ts for the public functions).
 */
import * as grpc from '@grpc/grpc-js';
import { RayError } from '../errors.js';
import type { TaskRun } from '../protocol/specs.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { StateReply__Output } from './generated/raytscore/StateReply.js';
import { gcsClient, nodeClient, unary } from './proto.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import { authErrorOf } from './auth.js';
import { clientAuth, type ClusterAuth } from './auth-token.js';
import { tlsErrorOf } from './tls-grpc.js';

export type Row = Record<string, unknown>;

/**
 * Calls the GCS at `address`, presenting `auth`: by default the token (and TLS certificate) every
 * client finds (auth-token.ts's clientAuth); the head's dashboard passes its own.
 */
async function withGcs<T>(
  address: string,
  fn: (gcs: GcsClient) => Promise<T>,
  auth: ClusterAuth = clientAuth(),
): Promise<T> {
  const gcs = gcsClient(address, auth);
  try {
    return await fn(gcs);
  } catch (err) {
    const refused = authErrorOf(err, address) ?? (await tlsErrorOf(err, address, auth.tls));
    if (refused) throw refused;
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
      throw new RayError(
        `No ray-ts cluster answers at ${address} (${e.details}). Start one with 'ray-ts start --head', or pass the right --address.`,
      );
    }
    throw err;
  } finally {
    gcs.close();
  }
}

export async function viewOf(address: string, auth?: ClusterAuth): Promise<NodeInfo__Output[]> {
  return withGcs(
    address,
    async (gcs) => (await unary<unknown, { nodes: NodeInfo__Output[] }>(gcs, 'GetClusterView', {}, 5_000)).nodes,
    auth,
  );
}

function round(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = Math.round(r[k] * 1e4) / 1e4;
  return out;
}

export async function nodesOf(address: string, auth?: ClusterAuth): Promise<Row[]> {
  return (await viewOf(address, auth))
    .filter((n) => !n.isDriver)
    .map((n) => ({
      nodeId: n.nodeId,
      state: n.state,
      isHead: n.isHead,
      address: n.address,
      pid: n.pid,
      resourcesTotal: round(n.resourcesTotal),
      resourcesAvailable: round(n.resourcesAvailable),
      load: n.load.map((d) => ({ shape: d.shape, count: d.count })),
      objectStoreUsed: n.objectStoreUsed,
      objectStoreCapacity: n.objectStoreCapacity,
      numObjects: n.numObjects,
      numWorkers: n.numWorkers,
    }));
}

export async function actorsOf(address: string, auth?: ClusterAuth): Promise<Row[]> {
  return withGcs(
    address,
    async (gcs) => {
      const r = await unary<unknown, { actors: Row[] }>(gcs, 'ListActors', {}, 5_000);
      return r.actors.map((a) => ({
        actorId: a.actorId,
        className: a.className,
        name: a.name,
        namespace: a.namespace,
        state: a.state,
        nodeId: a.nodeId,
        jobId: a.jobId,
        detached: a.detached,
        resources: a.resources,
        placementGroupId: a.placementGroupId,
        numRestarts: a.numRestarts ?? 0,
        deathCause: a.deathCause,
      }));
    },
    auth,
  );
}

export async function groupsOf(address: string, auth?: ClusterAuth): Promise<Row[]> {
  return withGcs(
    address,
    async (gcs) => {
      const r = await unary<
        unknown,
        {
          placementGroups: {
            spec: {
              placementGroupId: string;
              name: string;
              strategy: string;
              bundles: { resources: Record<string, number> }[];
            } | null;
            state: string;
            bundleNodes: string[];
            reason: string;
          }[];
        }
      >(gcs, 'ListPlacementGroups', {}, 5_000);
      return r.placementGroups
        .filter((p) => p.spec)
        .map((p) => ({
          placementGroupId: p.spec!.placementGroupId,
          name: p.spec!.name,
          strategy: p.spec!.strategy,
          state: p.state,
          bundles: p.spec!.bundles.map((b) => b.resources),
          bundleNodes: p.bundleNodes,
          reason: p.reason,
        }));
    },
    auth,
  );
}

export async function jobsOf(address: string, auth?: ClusterAuth): Promise<Row[]> {
  return withGcs(
    address,
    async (gcs) => (await unary<unknown, { jobs: Row[] }>(gcs, 'ListJobs', {}, 5_000)).jobs,
    auth,
  );
}

/** Asks every node and driver for its tasks or objects. */
async function fromNodes(
  address: string,
  kind: 'tasks' | 'objects',
  auth: ClusterAuth = clientAuth(),
): Promise<StateReply__Output[]> {
  const view = (await viewOf(address, auth)).filter((n) => n.state === 'ALIVE');
  return Promise.all(
    view.map(async (n) => {
      const c = nodeClient(n.address, auth);
      try {
        return await unary<unknown, StateReply__Output>(c, 'GetState', { kind }, 5_000);
      } catch {
        return { tasks: [], objects: [] };
      } finally {
        c.close();
      }
    }),
  );
}

/** Runs of tasks on every node (the executors' records), for the timeline. */
export async function taskRunsOf(address: string, auth?: ClusterAuth): Promise<TaskRun[]> {
  const out: TaskRun[] = [];
  for (const rep of await fromNodes(address, 'tasks', auth)) {
    for (const t of rep.tasks) {
      if (t.runStartMs > 0) {
        out.push({
          taskId: t.taskId,
          name: t.name,
          state: t.state,
          nodeId: t.nodeId,
          jobId: t.jobId,
          workerId: t.workerId,
          runStartMs: t.runStartMs,
          endMs: t.endMs,
          ...(t.actorId ? { actorId: t.actorId } : {}),
        });
      }
    }
  }
  return out;
}

export async function tasksOf(address: string, auth?: ClusterAuth): Promise<Row[]> {
  const byId = new Map<string, Row>();
  for (const rep of await fromNodes(address, 'tasks', auth)) {
    for (const t of rep.tasks) {
      const prev = byId.get(t.taskId);
      // Whichever record holds the error (the owner's or the executor's), the row shows it.
      const errorMessage = t.error || (prev?.errorMessage as string | undefined);
      // The executor's record wins over the owner's (which says only where it sent it).
      const executorRecord = t.ownerNodeId !== t.nodeId;
      if (!prev || executorRecord || (prev.state === 'RUNNING' && t.state !== 'RUNNING')) {
        byId.set(t.taskId, {
          taskId: t.taskId,
          name: t.name,
          state: t.state,
          nodeId: t.nodeId,
          ownerNodeId: t.ownerNodeId,
          jobId: t.jobId,
          resources: t.resources,
          startTimeMs: t.startMs,
          endTimeMs: t.endMs || undefined,
          durationMs: t.endMs ? Math.round(t.endMs - t.startMs) : undefined,
          type: t.actorId ? 'ACTOR_TASK' : 'NORMAL_TASK',
          ...(t.actorId ? { actorId: t.actorId } : {}),
          ...(errorMessage ? { errorMessage } : {}),
        });
      } else if (t.error && !prev.errorMessage) {
        prev.errorMessage = t.error;
      }
    }
  }
  return [...byId.values()];
}

export async function objectsOf(address: string, auth?: ClusterAuth): Promise<Row[]> {
  const out: Row[] = [];
  for (const rep of await fromNodes(address, 'objects', auth)) {
    for (const o of rep.objects) {
      out.push({
        objectId: o.objectId,
        nodeId: o.nodeId,
        ownerNodeId: o.ownerNodeId,
        size: o.size,
        state: o.state,
        localRefs: o.localRefs,
        pins: o.pins,
        borrowers: o.borrowers,
      });
    }
  }
  return out;
}

/** A value of the cluster's KV, as text (undefined if the key is not there). */
export async function kvGetOf(
  address: string,
  namespace: string,
  key: string,
  auth?: ClusterAuth,
): Promise<string | undefined> {
  return withGcs(
    address,
    async (gcs) => {
      const r = await unary<unknown, { found: boolean; value: Buffer }>(gcs, 'KvGet', { namespace, key }, 5_000);
      return r.found ? r.value.toString() : undefined;
    },
    auth,
  );
}

/** The autoscaler's account (undefined when the head runs none). */
export async function autoscalerStatus(
  address: string,
  auth?: ClusterAuth,
): Promise<import('./autoscaler.js').AutoscalerStatus | undefined> {
  const text = await kvGetOf(address, 'autoscaler', 'status', auth);
  return text === undefined ? undefined : (JSON.parse(text) as import('./autoscaler.js').AutoscalerStatus);
}
