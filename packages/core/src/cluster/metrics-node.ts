/**
 * What a node process starts for metrics (server.ts calls these): its Prometheus endpoint
 * (metrics-exporter.ts) with Ray's common labels, and on the head the service discovery of every
 * node's endpoint (metrics-sd.ts).
 */
import path from 'node:path';
import type { RuntimeConfig } from '../config.js';
import type { NodeManager } from '../node/node-manager.js';
import type { ClusterAuth } from './auth-token.js';
import type { GrpcServerStats } from './grpc-stats.js';
import type { Gcs } from './gcs.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { KvGetReply__Output } from './generated/raytscore/KvGetReply.js';
import { startMetricsExporter, type MetricsExporter } from './metrics-exporter.js';
import { SD_FILE_NAME, targetGroups, writeDiscoveryFile, type TargetGroup } from './metrics-sd.js';
import { unary } from './proto.js';
import { ignored } from '../log.js';

export interface NodeMetrics {
  /** host:port of the endpoint, as other hosts reach it. */
  readonly address: string;
  readonly exporter: MetricsExporter;
  /** Learns the cluster's session name (Ray's `SessionName` label) from the GCS, once. */
  learnSessionName(gcs: GcsClient): void;
  stop(): Promise<void>;
}

/** The GCS KV key (namespace `cluster`) where the head records the session name. */
export const SESSION_NAME_KEY = 'session_name';

/** Starts the node's endpoint, or nothing when `metricsEnabled` is off. */
export async function startNodeMetrics(o: {
  config: RuntimeConfig;
  /** The interface to listen on, and the address others reach this host by. */
  host: string;
  advertise: string;
  port?: number;
  auth: ClusterAuth;
  node: NodeManager;
  /** The head knows it at once (its cluster id). */
  sessionName?: string;
  /** What the node's gRPC server handled (`ray_grpc_server_*`). */
  grpc?: GrpcServerStats;
}): Promise<NodeMetrics | undefined> {
  if (!o.config.metricsEnabled) return undefined;
  let sessionName = o.sessionName ?? '';
  const exporter = await startMetricsExporter({
    host: o.host,
    port: o.port ?? o.config.metricsExportPort,
    auth: o.config.metricsAuthMode === 'disabled' ? { kind: 'disabled' } : o.auth,
    node: o.node,
    hasGpus: (o.node.pool.total.GPU ?? 0) > 0,
    grpc: o.grpc,
    labels: () => ({ SessionName: sessionName, NodeAddress: o.advertise }),
  });
  return {
    address: `${o.advertise}:${exporter.port}`,
    exporter,
    learnSessionName(gcs) {
      if (sessionName) return;
      unary(gcs, 'KvGet', { namespace: 'cluster', key: SESSION_NAME_KEY }, 5_000).then((reply) => {
        const r = reply as KvGetReply__Output;
        if (r.found) sessionName = Buffer.from(r.value).toString();
      }, ignored('reading the session name for the SessionName label (rows carry it empty)'));
    },
    stop: () => exporter.stop(),
  };
}

/** Head: the discovery file in `sessionDir` (when given) and the HTTP SD's target groups. */
export function startDiscovery(
  gcs: Gcs,
  sessionDir: string | undefined,
  intervalMs: number,
): { targets(): TargetGroup[]; stop(): void } {
  const targets = () =>
    targetGroups(gcs.nodeTable().map((n) => ({ state: n.state ?? '', metricsAddress: n.metricsAddress ?? '' })));
  const file = sessionDir ? writeDiscoveryFile(path.join(sessionDir, SD_FILE_NAME), targets, intervalMs) : undefined;
  return { targets, stop: () => file?.stop() };
}
