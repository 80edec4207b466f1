/**
 * The Serve controller's Prometheus metrics, under Ray Serve's names and labels (through core's
 * user metrics, from the controller's thread to its node's `/metrics`):
 * `ray_serve_deployment_replica_healthy{deployment,replica,application}` (1 while a replica runs
 * and passes its health checks; 0 once one failed, or the replica stopped) and
 * `ray_serve_deployment_replica_starts{deployment,replica,application}` (replicas that started).
 * The deployment state reports replica events through {@link ReplicaRuntime.replicaHealth}.
 */
import { Counter, Gauge } from '@ray-ts/core';
import type { ReplicaHealthEvent } from './deployment-state.js';

const tagKeys = ['deployment', 'replica', 'application'];

export class ControllerMetrics {
  private readonly healthy = new Gauge('serve_deployment_replica_healthy', {
    description: 'Tracks whether this deployment replica is healthy. 1 means healthy, 0 means unhealthy.',
    tagKeys,
  });
  private readonly starts = new Counter('serve_deployment_replica_starts', {
    description: 'The number of times this replica has been started.',
    tagKeys,
  });

  /** Records one replica event of the deployment state. */
  record(e: ReplicaHealthEvent): void {
    const tags = { deployment: e.deployment, replica: e.replicaId, application: e.app };
    if (e.kind === 'started') this.starts.inc(1, tags);
    this.healthy.set(e.kind === 'started' || (e.kind === 'checked' && e.healthy) ? 1 : 0, tags);
  }
}
