/**
 * The HTTP proxy's Prometheus metrics, under Ray Serve's names and labels (through core's user
 * metrics, so they reach the node's `/metrics` from the proxy's worker thread):
 * `ray_serve_num_http_requests{route,method,application,status_code}`,
 * `ray_serve_num_http_error_requests{route,error_code,method,application}`,
 * `ray_serve_http_request_latency_ms{route,method,application,status_code}` (a histogram in Ray's
 * default latency buckets) and `ray_serve_num_ongoing_http_requests`.
 */
import type http from 'node:http';
import { Counter, Gauge, Histogram } from '@ray-ts/core';

/** Ray Serve's DEFAULT_LATENCY_BUCKET_MS. */
export const LATENCY_BUCKETS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 60000, 120000, 300000, 600000,
];

/** What a request matched, known once its route is looked up ('' before, or when it matched none). */
export interface RequestRoute {
  route: string;
  application: string;
}

export class ProxyMetrics {
  private readonly requests = new Counter('serve_num_http_requests', {
    description: 'The number of HTTP requests processed by the proxy.',
    tagKeys: ['route', 'method', 'application', 'status_code'],
  });
  private readonly errors = new Counter('serve_num_http_error_requests', {
    description: 'The number of HTTP requests that ended with an error status (4xx, 5xx).',
    tagKeys: ['route', 'error_code', 'method', 'application'],
  });
  private readonly latency = new Histogram('serve_http_request_latency_ms', {
    description: 'The end-to-end latency of HTTP requests, measured from the proxy.',
    boundaries: LATENCY_BUCKETS_MS,
    tagKeys: ['route', 'method', 'application', 'status_code'],
  });
  private readonly ongoingGauge = new Gauge('serve_num_ongoing_http_requests', {
    description: 'The number of HTTP requests the proxy is processing.',
  });
  private ongoing = 0;

  /**
   * Counts a request from now until its response is closed: complete (its status), or cut off
   * before it was (499, as nginx counts a client that went away).
   */
  track(req: http.IncomingMessage, res: http.ServerResponse, where: RequestRoute): void {
    const start = performance.now();
    this.ongoingGauge.set(++this.ongoing);
    res.once('close', () => {
      this.ongoingGauge.set(--this.ongoing);
      const status = String(res.writableFinished ? res.statusCode : 499);
      const method = req.method ?? 'GET';
      const tags = { route: where.route, method, application: where.application, status_code: status };
      this.requests.inc(1, tags);
      this.latency.observe(performance.now() - start, tags);
      if (Number(status) >= 400) {
        this.errors.inc(1, { route: where.route, error_code: status, method, application: where.application });
      }
    });
  }
}
