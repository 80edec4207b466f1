/**
 * Serve's status for the dashboard: the controller publishes it, in Ray Serve's REST shape
 * (`GET /api/serve/applications/`), in the cluster's KV (namespace `serve`, key `status`), when it
 * changed and at most every `minIntervalMs`; the head's dashboard reads it from there. Removed at
 * shutdown, so a cluster without Serve shows no applications.
 */
import { actorIdOf, internalKv, type ActorHandle } from '@ray-ts/core';
import type { ServeStatus } from './controller-api.js';
import type { Replica } from './deployment-state.js';

/** The KV namespace and key the head's dashboard reads. */
export const STATUS_KV = { namespace: 'serve', key: 'status' } as const;

/** A deployment's replicas, as the controller knows them (by app, then deployment name). */
export type ReplicasByDeployment = Record<string, Record<string, readonly Replica[]>>;

function actorIdOrEmpty(handle: unknown): string {
  try {
    return actorIdOf(handle as ActorHandle<unknown>);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return ''; // a unit test's fake replica has no actor
  }
}

/** `status` (and each deployment's replicas) in Ray Serve's REST shape, as far as ray-ts has it. */
export function restStatus(status: ServeStatus, replicas: ReplicasByDeployment): unknown {
  const applications: Record<string, unknown> = {};
  for (const [app, a] of Object.entries(status.applications)) {
    const deployments: Record<string, unknown> = {};
    for (const [name, d] of Object.entries(a.deployments)) {
      deployments[name] = {
        name,
        status: d.status,
        message: d.message,
        target_num_replicas: d.targetReplicas,
        replica_states: d.replicaStates,
        ongoing_requests: d.ongoingRequests,
        queued_requests: d.queuedRequests,
        replicas: (replicas[app]?.[name] ?? []).map((r) => ({
          replica_id: r.id,
          state: r.state,
          node_id: r.nodeId || null,
          actor_id: actorIdOrEmpty(r.handle.routed) || null,
          start_time_s: r.startedAt / 1000,
          ongoing_requests: r.ongoing,
        })),
      };
    }
    applications[app] = { name: app, route_prefix: a.routePrefix, status: a.status, message: a.message, deployments };
  }
  const proxies: Record<string, unknown> = {};
  for (const [nodeId, p] of Object.entries(status.proxies))
    proxies[nodeId] = {
      node_id: nodeId,
      status: p.status,
      http_port: p.httpPort ?? null,
      grpc_port: p.grpcPort ?? null,
    };
  return { applications, proxies };
}

/** Writes the status to the KV when it changed, at most every `minIntervalMs` (best effort: never fails Serve). */
export class StatusPublisher {
  private last = '';
  private lastAt = -Infinity;
  private writing = false;

  constructor(
    private readonly minIntervalMs = 1_000,
    private readonly kv: Pick<typeof internalKv, 'put' | 'del'> = internalKv,
  ) {}

  /** Publishes `build()` if `minIntervalMs` passed since the last write and it changed. */
  maybePublish(now: number, build: () => unknown): void {
    // Looked at most every minIntervalMs (the status is built then only), written when it changed.
    if (this.writing || now - this.lastAt < this.minIntervalMs) return;
    this.lastAt = now;
    const text = JSON.stringify(build());
    if (text === this.last) return;
    this.writing = true;
    this.kv
      .put(STATUS_KV.key, text, { namespace: STATUS_KV.namespace })
      .then(
        () => (this.last = text),
        (err: unknown) => console.error(`serve: could not publish its status for the dashboard: ${String(err)}`),
      )
      .finally(() => (this.writing = false));
  }

  /** Removes the published status (Serve shut down). */
  async clear(): Promise<void> {
    this.last = '';
    await this.kv.del(STATUS_KV.key, { namespace: STATUS_KV.namespace }).catch((err: unknown) => {
      console.error(`serve: could not remove its status for the dashboard: ${String(err)}`);
    });
  }
}
