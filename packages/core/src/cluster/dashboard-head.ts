/**
 * What the head starts for the dashboard (server.ts calls it with its GCS): the sampler of the
 * nodes' use, the data routes and the page, as options of the job API's server.
 */
import os from 'node:os';
import path from 'node:path';
import type { RuntimeConfig } from '../config.js';
import { authHeaders, type ClusterAuth } from './auth-token.js';
import { dashboardRoutes } from './dashboard-api.js';
import { HistorySampler } from './dashboard-history.js';
import { dashboardDir, serveStatic } from './dashboard-static.js';
import type { Gcs } from './gcs.js';
import type { JobApiOptions } from './jobs.js';

/** The dashboard of a head: options for serveJobApi, and `stop()` for its sampler. */
export interface HeadDashboard {
  readonly options: Pick<JobApiOptions, 'routes' | 'page' | 'hostNames'>;
  stop(): void;
}

/** Starts the head's dashboard: `address` is its GCS's, `hosts` the names it listens and is reached at. */
export function startDashboard(
  gcs: Gcs,
  o: { address: string; auth: ClusterAuth; config: RuntimeConfig; hosts: readonly string[] },
): HeadDashboard {
  const headers = authHeaders(o.auth);
  const history = new HistorySampler(
    {
      nodes: () =>
        gcs
          .nodeTable()
          .filter((n) => n.state === 'ALIVE' && !n.isDriver)
          .map((n) => ({
            nodeId: n.nodeId ?? '',
            metricsAddress: n.metricsAddress ?? '',
            objectStoreUsed: Number(n.objectStoreUsed ?? 0),
          })),
      scrape: async (address) => {
        const res = await fetch(`http://${address}/metrics`, {
          headers,
          signal: AbortSignal.timeout(Math.max(500, o.config.dashboardSampleMs)),
        });
        if (!res.ok) throw new Error(`${address}/metrics answered ${res.status}`);
        return res.text();
      },
    },
    o.config.dashboardSampleMs,
    o.config.dashboardHistoryMs,
  );
  const dir = dashboardDir(o.config.dashboardDir);
  const runRoots = [
    path.join(os.homedir(), 'ray_ts_results'),
    ...o.config.dashboardRunsPaths.split(':').filter(Boolean),
  ];
  return {
    options: {
      routes: dashboardRoutes({
        address: o.address,
        auth: o.auth,
        kv: (ns) => gcs.kvLocal(ns),
        history,
        runRoots,
      }),
      page: (req, res, url) => serveStatic(dir, req, res, url),
      hostNames: [...new Set([...o.hosts, os.hostname()])],
    },
    stop: () => history.stop(),
  };
}
