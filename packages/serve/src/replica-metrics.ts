/**
 * A replica's Prometheus metrics, under Ray Serve's names and labels (through core's user
 * metrics, from the replica's worker thread to its node's `/metrics`):
 * `ray_serve_deployment_request_counter`, `ray_serve_deployment_error_counter` and
 * `ray_serve_deployment_processing_latency_ms` (`deployment`, `replica`, `route`, `application`),
 * and `ray_serve_replica_processing_queries` (`deployment`, `replica`, `application`).
 */
import { Counter, Gauge, Histogram } from '@ray-ts/core';
import { LATENCY_BUCKETS_MS } from './proxy-metrics.js';

const requestTags = ['deployment', 'replica', 'route', 'application'];

export class ReplicaMetrics {
  private readonly requests = new Counter('serve_deployment_request_counter', {
    description: 'The number of requests this replica has processed.',
    tagKeys: requestTags,
  });
  private readonly errors = new Counter('serve_deployment_error_counter', {
    description: 'The number of requests this replica answered with an exception.',
    tagKeys: requestTags,
  });
  private readonly latency = new Histogram('serve_deployment_processing_latency_ms', {
    description: 'The time this replica took to process a request.',
    boundaries: LATENCY_BUCKETS_MS,
    tagKeys: requestTags,
  });
  private readonly processing = new Gauge('serve_replica_processing_queries', {
    description: 'The number of requests this replica is processing now.',
    tagKeys: ['deployment', 'replica', 'application'],
  });

  constructor(private readonly replica: { deployment: string; replica: string; application: string }) {
    this.processing.set(0, replica);
  }

  /** A request started (`ongoing`: now running here); the returned function records its end. */
  started(route: string, ongoing: number): (failed: boolean, ongoingAfter: number) => void {
    const start = performance.now();
    this.processing.set(ongoing, this.replica);
    return (failed, ongoingAfter) => {
      const tags = { ...this.replica, route };
      this.requests.inc(1, tags);
      if (failed) this.errors.inc(1, tags);
      this.latency.observe(performance.now() - start, tags);
      this.processing.set(ongoingAfter, this.replica);
    };
  }
}
