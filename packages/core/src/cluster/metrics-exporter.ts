/**
 * A node's Prometheus endpoint: `GET /metrics` over HTTP on `metricsExportPort` (Ray's
 * `--metrics-export-port`), on the node's listen host. It requires the cluster's token
 * (`Authorization: Bearer`, as every other ray-ts port; docs/security.md) unless
 * `metricsAuthMode` is `disabled`. Rows are computed at scrape time (metrics-core.ts).
 */
import http from 'node:http';
import client from 'prom-client';
import { RayError } from '../errors.js';
import { ignored } from '../log.js';
import { checkBearer, refusalMessage, type ClusterAuth } from './auth-token.js';
import { registerCoreMetrics, registerUserMetrics, type CoreMetricsSource } from './metrics-core.js';

export interface MetricsExporterOptions extends CoreMetricsSource {
  /** The interface to listen on (the node's). */
  readonly host: string;
  /** 0: a free one. */
  readonly port: number;
  /** The token a scrape must carry (`{ kind: 'disabled' }`: none). */
  readonly auth: ClusterAuth;
  /** Labels on every row (Ray's `SessionName`, `NodeAddress`...), read at each scrape. */
  readonly labels: () => Record<string, string>;
}

export interface MetricsExporter {
  readonly port: number;
  /** The text Prometheus would scrape now (for tests and `ray-ts metrics`). */
  render(): Promise<string>;
  stop(): Promise<void>;
}

export async function startMetricsExporter(opts: MetricsExporterOptions): Promise<MetricsExporter> {
  const reg = new client.Registry();
  const core = registerCoreMetrics(reg, opts);
  const render = async () => {
    core.beginScrape();
    registerUserMetrics(reg, opts.node.userMetrics);
    reg.setDefaultLabels(opts.labels());
    return reg.metrics();
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const check = checkBearer(opts.auth, req.headers.authorization);
    if (check !== 'ok') {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
      res.end(`401 Unauthorized: ${refusalMessage(check)}\n`);
      return;
    }
    if (url.pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404: this ray-ts node serves its Prometheus metrics at GET /metrics\n');
      return;
    }
    render().then(
      (text) => {
        res.writeHead(200, { 'content-type': reg.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`500: collecting the metrics failed: ${(err as Error).message}\n`);
      },
    );
  });
  server.keepAliveTimeout = 65_000; // Prometheus keeps its connection between scrapes
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  }).catch((err: Error) => {
    throw new RayError(
      /EADDRINUSE/.test(err.message)
        ? `The metrics port ${opts.port} on ${opts.host} is in use: pick another with --metrics-export-port (0: a free one), or turn metrics off with RAY_TS_METRICS_ENABLED=0.`
        : `Could not serve metrics on ${opts.host}:${opts.port}: ${err.message}`,
      { cause: err },
    );
  });
  return {
    port,
    render,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).catch(ignored('closing the metrics server')),
  };
}
