/**
 * Starting a node process's pieces: the gRPC server (GCS on the head, the node service on every
 * node and driver), the node manager, and its membership in the cluster.
 */
import * as grpc from '@grpc/grpc-js';
import { loadConfig, type RuntimeConfig } from '../config.js';
import { AuthenticationError, InvalidArgumentError, RayError } from '../errors.js';
import { ids } from '../ids.js';
import { NodeManager } from '../node/node-manager.js';
import { ClusterNode } from './cluster-node.js';
import { Gcs } from './gcs.js';
import { RedisStorage, type GcsStorage } from './gcs-storage.js';
import { allLanded } from './gcs-writes.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { JobPackages } from './job-packages.js';
import { installationNodeModules } from '../runtime/pack-dir.js';
import { JobManager, serveJobApi, type JobRecord, type JobTable } from './jobs.js';
import { logRoutes } from './log-api.js';
import { jobsDirOf, nodeLogs } from './log-wiring.js';
import { logHandlers } from './log-service.js';
import { Autoscaler, LocalNodeProvider, type NodeProvider } from './autoscaler.js';
import type { ClusterConfig } from './cluster-config.js';
import { sessionDir as sessionDirOf } from '../runtime/session-dir.js';
import { knownHostsFile, SshNodeProvider, type SshClusterConfig } from './provider-ssh.js';
import { SlurmNodeProvider, type SlurmClusterConfig } from './provider-slurm.js';
import { KubernetesNodeProvider, type KubernetesClusterConfig } from './provider-kubernetes.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { nodeAddresses } from './node-address.js';
import { bindServer, gcsClient, newServer, protos, unary, VERSION } from './proto.js';
import { limitService } from './message-limits.js';
import { authErrorOf } from './auth.js';
import { tlsErrorOf } from './tls-grpc.js';
import { SESSION_NAME_KEY, startDiscovery, startNodeMetrics, type NodeMetrics } from './metrics-node.js';
import { getLogger, ignored } from '../log.js';
import { GrpcServerStats, grpcStatsInterceptor } from './grpc-stats.js';
import { authEnv, clientAuth, headAuth, isLoopback, openPortWarning, type ClusterAuth } from './auth-token.js';
import { startDashboard, type HeadDashboard } from './dashboard-head.js';
import { newIdentity, serverIdentityInterceptor, type MemberDirectory } from './identity.js';

const log = getLogger('ray-ts.core');

export interface StartNodeOptions {
  head: boolean;
  /** GCS address (HOST:PORT) of the cluster to join; the head's own when `head`. */
  gcsAddress?: string;
  /** The interface to listen on (`0.0.0.0`: every one); default: the advertised address. */
  host?: string;
  /**
   * The address other processes reach this node by (Ray's `--node-ip-address`); default: the
   * host's when one is given, else, joining a cluster, the local address of the interface that
   * routes to the head, and for a head, 127.0.0.1.
   */
  nodeIpAddress?: string;
  /** Port of this node's gRPC server (0: a free one). */
  port?: number;
  /** Port of its Prometheus endpoint (`--metrics-export-port`; default: config's `metricsExportPort`, 0: a free one). */
  metricsExportPort?: number;
  resources: Record<string, number>;
  gpuIds?: number[];
  objectStoreBytes?: number;
  /** A driver: owns objects, runs nothing. */
  driver?: { jobId: string; namespace: string; preferredNode?: string };
  config?: Partial<RuntimeConfig>;
  /** Head: a node missing heartbeats this long is dead (default 5 s). */
  nodeTimeoutMs?: number;
  /** Head: keep the GCS tables in Redis (redis://HOST:PORT), to survive a restart of the head. */
  redisAddress?: string;
  /** Head: port of the HTTP job API (default 8265, Ray's dashboard port; 0: a free one). */
  jobApiPort?: number;
  /** Head: where job logs are kept. */
  logDir?: string;
  /** Head: run an autoscaler with this cluster config (`ray-ts up`). */
  autoscaler?: ClusterConfig;
  /** Where `ray-ts start` records nodes (the autoscaler's nodes go there too). */
  sessionDir?: string;
  /** Labels of this node (the autoscaler marks its node type). */
  labels?: Record<string, string>;
  /** Head: the token file to use when `RAY_TS_AUTH_TOKEN` is not set (`--auth-token-file`). */
  authTokenFile?: string;
  /**
   * The token this process requires and presents; default: found as auth-token.ts says (a head
   * with `headAuth`, making the session directory's token if missing; others with `clientAuth`).
   */
  auth?: ClusterAuth;
}

export interface StartedNode {
  node: NodeManager;
  cluster: ClusterNode;
  gcs: Gcs | undefined;
  address: string;
  gcsAddress: string;
  /** Head: http://HOST:PORT of the job API. */
  jobApiAddress: string | undefined;
  /** HOST:PORT of its Prometheus endpoint (/metrics); undefined when metrics are off. */
  metricsAddress: string | undefined;
  stop(): Promise<void>;
}

/** Parses and checks HOST:PORT. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw new InvalidArgumentError(
      `Invalid cluster address '${address}': expected HOST:PORT, e.g. 127.0.0.1:6380 (what 'ray-ts start --head' printed).`,
    );
  }
  return { host: m[1], port };
}

export async function startNode(opts: StartNodeOptions): Promise<StartedNode> {
  const config = loadConfig(opts.config ?? {});
  const logDir = opts.logDir ?? (config.logDirectory || undefined);
  if (!opts.head) {
    if (!opts.gcsAddress)
      throw new InvalidArgumentError(
        'A node that is not the head needs the address of the head (--address HOST:PORT).',
      );
    parseAddress(opts.gcsAddress);
  }
  const auth =
    opts.auth ??
    (opts.head
      ? headAuth({ mode: config.authMode, tokenFile: opts.authTokenFile, sessionDir: opts.sessionDir })
      : clientAuth({ mode: config.authMode }));
  // A cluster that is not there, or that refuses this token, fails here, before anything starts.
  if (!opts.head) await pingGcs(opts.gcsAddress!, auth, 10_000);
  const { bind: host, advertise } = await nodeAddresses({
    host: opts.host,
    nodeIpAddress: opts.nodeIpAddress,
    gcsAddress: opts.head ? undefined : opts.gcsAddress,
  });
  const nodeId = ids().next('node');
  const identity = newIdentity(nodeId);
  // Members are checked against the GCS's table on the head, against the cluster view elsewhere.
  let members: MemberDirectory | undefined;
  // Ray's gRPC server metrics (grpc-stats.ts), counted only while metrics are on.
  const grpcStats = config.metricsEnabled ? new GrpcServerStats() : undefined;
  const server = newServer(auth, config, [
    serverIdentityInterceptor(() => members, config.memberWaitMs),
    ...(grpcStats ? [grpcStatsInterceptor(grpcStats)] : []),
  ]);
  const node = new NodeManager({
    nodeId,
    jobId: opts.driver?.jobId ?? '',
    namespace: opts.driver?.namespace ?? 'default',
    resources: opts.resources,
    gpuIds: opts.gpuIds,
    objectStoreBytes: opts.objectStoreBytes ?? config.objectStoreBytes,
    config,
    executes: !opts.driver,
    logDir: logDir && !opts.driver ? path.join(logDir, nodeId) : undefined,
  });
  let gcs: Gcs | undefined;
  if (opts.head) {
    let storage: GcsStorage | undefined;
    try {
      storage = opts.redisAddress ? await RedisStorage.connect(opts.redisAddress, config) : undefined;
    } catch (err) {
      await node.stop();
      throw err;
    }
    gcs = await Gcs.create({
      clusterId: ids().next('job').replace('job_', 'cluster_'),
      nodeTimeoutMs: opts.nodeTimeoutMs ?? 5_000,
      storage,
      auth,
      identity,
    });
    members = gcs.members;
    server.addService(limitService(protos().gcs.Gcs.service, 'Gcs', config), gcs.handlers());
    gcs.localNode = {
      nodeId,
      reserve: (groupId, indexes, bundles) => node.reserveBundles(groupId, indexes, bundles),
      release: (groupId, indexes) => node.returnBundles(groupId, indexes),
    };
  }
  let stopping: Promise<void> | undefined;
  let onStopRequested: () => void = () => {};
  // The cluster node is made after binding (it needs its own address): calls reach its handlers,
  // built once, through this holder.
  const holder: { handlers?: Record<string, (...a: unknown[]) => void> } = {};
  server.addService(
    limitService(protos().node.Node.service, 'Node', config),
    new Proxy(
      {},
      {
        get:
          (_t, key: string) =>
          (...args: unknown[]) =>
            holder.handlers![key](...args),
      },
    ) as never,
  );
  let port: number;
  try {
    port = await bindServer(server, host, opts.port ?? 0, auth);
  } catch (err) {
    await node.stop();
    const msg = (err as Error).message;
    throw new RayError(
      /address already in use|EADDRINUSE|No address added/i.test(msg)
        ? `Port ${opts.port} on ${host} is in use: another ray-ts head or program listens there. Pick another with --port, or stop it ('ray-ts stop').`
        : `Could not listen on ${host}:${opts.port ?? 0}: ${msg}`,
    );
  }
  const address = `${advertise}:${port}`;
  let metrics: NodeMetrics | undefined;
  try {
    metrics = await startNodeMetrics({
      config,
      host,
      advertise,
      port: opts.metricsExportPort,
      auth,
      node,
      sessionName: gcs?.clusterId,
      grpc: grpcStats,
    });
  } catch (err) {
    server.forceShutdown();
    await node.stop();
    throw err;
  }
  if (!isLoopback(host)) {
    const warning = openPortWarning(
      auth,
      `this ${opts.head ? 'head' : opts.driver ? 'driver' : 'node'} listens on ${host}`,
    );
    if (warning) log.warn(warning);
  }
  const gcsAddress = opts.head ? address : opts.gcsAddress!;
  const cluster = new ClusterNode({
    node,
    gcsAddress,
    address,
    isHead: opts.head,
    isDriver: !!opts.driver,
    preferredNode: opts.driver?.preferredNode,
    labels: opts.labels,
    auth,
    identity,
    metricsAddress: metrics?.address,
  });
  members ??= cluster.members;
  const logs = nodeLogs(node, config, logDir, gcs);
  holder.handlers = { ...cluster.handlers(() => onStopRequested()), ...logHandlers(logs.reader) } as unknown as Record<
    string,
    (...a: unknown[]) => void
  >;
  node.attachCluster(cluster.ports);
  cluster.onJobFinished = (jobId) => node.killJobActors(jobId);
  cluster.onFenced = () => {
    log.error(
      `${opts.driver ? 'this driver' : `node ${nodeId}`} was declared dead by the cluster at ${gcsAddress} ` +
        `(it missed its heartbeats: a network partition, or a pause): its work was retried elsewhere, so it stops ` +
        `rather than rejoin with stale tasks and actors.${opts.driver ? '' : ' Start it again to join as a new node.'}`,
    );
    void stop().then(() => process.emit('ray-ts:fenced' as never));
  };
  let jobs: { manager: JobManager; stopApi: () => void } | undefined;
  let dashboard: HeadDashboard | undefined;
  let autoscaler: Autoscaler | undefined;
  const discovery = gcs ? startDiscovery(gcs, opts.sessionDir, config.metricsDiscoveryIntervalMs) : undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await autoscaler?.stop();
      discovery?.stop();
      await metrics?.stop();
      jobs?.manager.stopAll();
      jobs?.stopApi();
      dashboard?.stop();
      logs.stop();
      await cluster.stop();
      await gcs?.stop(); // the writes still queued land first (the jobs stopped just now among them)
      server.forceShutdown();
      await node.stop();
    })();
    return stopping;
  };
  onStopRequested = () => void stop().then(() => process.emit('ray-ts:stopped' as never));
  try {
    await cluster.start();
  } catch (err) {
    await stop();
    throw err;
  }
  metrics?.learnSessionName(cluster.gcsClient());
  let jobApiAddress: string | undefined;
  if (gcs) {
    const kv = gcs.kvLocal('jobs');
    const table: JobTable = {
      put: (id, rec, internal) => {
        // Only the first write may be refused (queue full): the GCS's job table follows the record.
        const record = kv.put(id, Buffer.from(JSON.stringify(rec)), internal);
        const info = {
          jobId: id,
          state: rec.status,
          entrypoint: rec.entrypoint,
          startTimeMs: rec.start_time,
          endTimeMs: rec.end_time ?? 0,
          driverPid: rec.driver_pid ?? 0,
          driverNodeId: nodeId,
          namespace: 'submission',
        };
        return allLanded(record, gcs.recordJob(info, true));
      },
      get: (id) => {
        const b = kv.get(id);
        return b ? (JSON.parse(b.toString()) as JobRecord) : undefined;
      },
      all: () => kv.keys().map((id) => JSON.parse(kv.get(id)!.toString()) as JobRecord),
      del: (id) => kv.del(id),
    };
    const jobsDir = jobsDirOf(logDir, gcs.clusterId);
    const pkgs = gcs.kvLocal('packages');
    const manager = new JobManager(table, {
      logDir: jobsDir,
      clusterAddress: gcsAddress,
      packages: new JobPackages(
        { put: (n, zip) => pkgs.put(n, zip), get: (n) => pkgs.get(n) },
        path.join(jobsDir, 'packages'),
        installationNodeModules(path.dirname(fileURLToPath(import.meta.url))),
      ),
      tailPollMs: config.jobLogTailMs,
      logsMaxBytes: config.jobLogsMaxBytes,
      // A job's driver presents the head's token (it may have come from --auth-token-file).
      driverEnv: authEnv(auth),
    });
    dashboard = startDashboard(gcs, { address: gcsAddress, auth, config, hosts: [advertise, host] });
    try {
      const bound = await serveJobApi(manager, table, {
        host,
        port: opts.jobApiPort ?? 8265,
        version: VERSION,
        auth,
        maxBodyBytes: config.jobApiMaxBodyBytes,
        prometheusTargets: discovery?.targets,
        ...dashboard.options,
        routes: [...(dashboard.options.routes ?? []), logRoutes(logs.api(gcs, auth, identity))],
      });
      jobs = { manager, stopApi: bound.stop };
      jobApiAddress = `http://${advertise}:${bound.port}`;
      if (auth.tls && !isLoopback(host))
        log.warn(
          `TLS is on for gRPC, but the job API at ${jobApiAddress} is plain HTTP: requests to it, ` +
            `the cluster token among them, cross the network in clear text. Call it from this machine, through an SSH ` +
            `tunnel or through a TLS proxy (see docs/security.md).`,
        );
      await gcs.kvLocal('cluster').put('job_api_address', Buffer.from(jobApiAddress), true);
      await gcs.kvLocal('cluster').put(SESSION_NAME_KEY, Buffer.from(gcs.clusterId), true);
    } catch (err) {
      await stop();
      throw new RayError(
        /EADDRINUSE/.test((err as Error).message)
          ? `The job API's port ${opts.jobApiPort ?? 8265} on ${host} is in use (another head, or Ray's dashboard). Pick another with --dashboard-port.`
          : `Could not start the job API: ${(err as Error).message}`,
      );
    }
  }
  if (gcs && opts.autoscaler) {
    const g = gcs;
    const providerType = opts.autoscaler.provider?.type ?? 'local';
    const session = opts.sessionDir ?? sessionDirOf();
    const provider: NodeProvider =
      providerType === 'ssh'
        ? new SshNodeProvider(opts.autoscaler as SshClusterConfig, {
            gcsAddress,
            authEnv: authEnv(auth),
            knownHostsFile: knownHostsFile(session, opts.autoscaler.clusterName),
          })
        : providerType === 'slurm'
          ? new SlurmNodeProvider(opts.autoscaler as SlurmClusterConfig, {
              gcsAddress,
              authEnv: authEnv(auth),
              logDir: path.join(session, 'logs', 'slurm'),
            })
          : providerType === 'kubernetes'
            ? new KubernetesNodeProvider(opts.autoscaler as KubernetesClusterConfig)
            : new LocalNodeProvider(gcsAddress, opts.sessionDir, authEnv(auth));
    autoscaler = new Autoscaler(
      opts.autoscaler,
      provider,
      () => ({ nodes: g.nodeTable() as NodeInfo__Output[], pendingBundles: g.pendingBundles() }),
      // One key rewritten: it waits in the queue at most once, whatever the queue holds.
      (status) => void g.kvLocal('autoscaler').put('status', Buffer.from(JSON.stringify(status)), true),
    );
    gcs.setPotentialNodes(autoscaler.potentialNodes());
    autoscaler.start();
  }
  return { node, cluster, gcs, address, gcsAddress, jobApiAddress, metricsAddress: metrics?.address, stop };
}

/**
 * Checks that a GCS answers at `address` and takes `auth`'s token, for a clear error before
 * anything starts: AuthenticationError when it refuses the token, and when it requires none while
 * this process requires one of its own callers (the cluster's members would be refused here);
 * TlsError when one side uses TLS and the other not, or one refuses the other's certificate.
 */
export async function pingGcs(address: string, auth: ClusterAuth = clientAuth(), timeoutMs = 3_000): Promise<void> {
  parseAddress(address);
  const c = gcsClient(address, auth);
  try {
    await unary(c, 'GetClusterView', {}, timeoutMs);
    if (auth.kind === 'token' && (await answersWithoutToken(address, auth, timeoutMs)))
      throw new AuthenticationError(
        `The ray-ts cluster at ${address} runs without authentication (RAY_TS_AUTH_MODE=disabled on its head), ` +
          `and this process would require a token of the cluster's calls to it: set RAY_TS_AUTH_MODE=disabled here too, ` +
          `or start the head without it.`,
      );
  } catch (err) {
    if (err instanceof AuthenticationError) throw err;
    const refused = authErrorOf(err, address) ?? (await tlsErrorOf(err, address, auth.tls));
    if (refused) throw refused;
    throw new RayError(
      `No ray-ts cluster answers at ${address} (${(err as grpc.ServiceError).details || (err as Error).message}). ` +
        `Start one with 'ray-ts start --head', or check the address.`,
    );
  } finally {
    c.close();
  }
}

/** Whether the GCS at `address` answers a call that carries no token (its head runs with authentication disabled). */
async function answersWithoutToken(address: string, auth: ClusterAuth, timeoutMs: number): Promise<boolean> {
  const bare = gcsClient(address, { kind: 'disabled', ...(auth.tls ? { tls: auth.tls } : {}) });
  try {
    await unary(bare, 'GetClusterView', {}, timeoutMs);
    return true;
  } catch (err) {
    ignored('a call without the token was refused, as it should be: the cluster requires one')(err);
    return false;
  } finally {
    bare.close();
  }
}
