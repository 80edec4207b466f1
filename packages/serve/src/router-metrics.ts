/**
 * A router's Prometheus metrics, under Ray Serve's names and labels (through core's user metrics,
 * from the calling thread to its node's `/metrics`): per deployment this thread calls,
 * `ray_serve_num_ongoing_requests_at_replicas` (requests it sent to replicas that have not ended)
 * and `ray_serve_deployment_queued_queries` (requests waiting for a replica), labelled
 * `deployment`, `application`, `handle` (the thread's router) and `actor_id` (the actor it runs
 * in; '' in a driver). Sampled by the router hub's report timer (every 200 ms), set on change.
 * And `ray_serve_num_router_requests` (`deployment`, `route`, `application`, `handle`,
 * `actor_id`): requests the router was given, each counted once (a retry on another replica aside).
 */
import { Counter, Gauge, getRuntimeContext } from '@ray-ts/core';

const tagKeys = ['deployment', 'application', 'handle', 'actor_id'];

export class RouterMetrics {
  private readonly ongoing = new Gauge('serve_num_ongoing_requests_at_replicas', {
    description: 'The current number of requests to this deployment that have been submitted to a replica.',
    tagKeys,
  });
  private readonly queued = new Gauge('serve_deployment_queued_queries', {
    description: 'The current number of queries to this deployment waiting to be assigned to a replica.',
    tagKeys,
  });
  private readonly requests = new Counter('serve_num_router_requests', {
    description: 'The number of requests processed by the router.',
    tagKeys: ['deployment', 'route', 'application', 'handle', 'actor_id'],
  });
  private readonly last = new Map<string, { ongoing: number; queued: number }>();
  private actorId: string | undefined;

  constructor(private readonly handle: string) {}

  /** A request for the deployment `key` (`app#deployment`), on `route` ('' for a handle call). */
  request(key: string, route: string): void {
    this.requests.inc(1, { ...this.tags(key), route });
  }

  /** The figures of the deployment `key` now; recorded when they changed. */
  sample(key: string, ongoing: number, queued: number): void {
    const prev = this.last.get(key);
    if (prev && prev.ongoing === ongoing && prev.queued === queued) return;
    this.last.set(key, { ongoing, queued });
    const tags = this.tags(key);
    if (prev?.ongoing !== ongoing) this.ongoing.set(ongoing, tags);
    if (prev?.queued !== queued) this.queued.set(queued, tags);
  }

  private tags(key: string): { deployment: string; application: string; handle: string; actor_id: string } {
    const i = key.indexOf('#');
    this.actorId ??= getRuntimeContext().actorId ?? '';
    return { deployment: key.slice(i + 1), application: key.slice(0, i), handle: this.handle, actor_id: this.actorId };
  }
}
