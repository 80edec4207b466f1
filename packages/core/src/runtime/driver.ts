/**
 * The driver of this process: its node (embedded, or the driver's own node on a multi-node
 * cluster), its client, and what `init()` returned. One record, set by `init()` and cleared by
 * `shutdown()`; the API reads it through the functions below (no setters wired at import time).
 * Workers never have one: their client talks to their node through messages.
 */
import path from 'node:path';
import type { RuntimeConfig } from '../config.js';
import { RayError } from '../errors.js';
import { ids } from '../ids.js';
import { ignored } from '../log.js';
import type { NodeManager, TaskRecord } from '../node/node-manager.js';
import type { EnvVars } from '../options.js';
import { LocalClient } from './local-client.js';
import { setMemoryPressureHook, setSharedGcThreshold, setSharedPoolLimit } from './memory.js';
import { arenaLimitFor, setArenaLimit, setArenaPressureHook } from './arena.js';
import { RefTracker } from './object-ref.js';
import { threadState } from './thread-state.js';
import { packagesDirUnder } from './code-packages.js';
import { ThreadMetrics } from '../metrics/thread-metrics.js';

/** What {@link init} returns. */
export interface RuntimeInfo {
  readonly jobId: string;
  readonly nodeId: string;
  readonly namespace: string;
  readonly address: string;
  readonly resources: Readonly<Record<string, number>>;
}

interface Driver {
  readonly node: NodeManager;
  readonly info: RuntimeInfo;
  stop(): Promise<void>;
}

let driver: Driver | undefined;

/** What init() returned, while this process is a driver. */
export function driverInfo(): RuntimeInfo | undefined {
  return driver?.info;
}

/** The driver's node (placement groups and the testing helpers use it). */
export function driverNode(): NodeManager | undefined {
  return driver?.node;
}

/** The address of the cluster this driver is connected to (undefined when embedded or not a driver). */
export function connectedAddress(): string | undefined {
  return driver && driver.info.address !== 'embedded' ? driver.info.address : undefined;
}

/** The embedded node's task records (undefined unless this driver hosts the embedded cluster). */
export function embeddedTaskRuns(): TaskRecord[] | undefined {
  return driver && driver.info.address === 'embedded' ? driver.node.taskStates() : undefined;
}

/** The state service's client (loaded on first use: drivers of embedded clusters never need it). */
export function stateClient(): Promise<typeof import('../cluster/state-impl.js')> {
  return import('../cluster/state-impl.js');
}

/** The client of the head's log API (`listLogs`, `getLog`), loaded when first used. */
export function logClient(): Promise<typeof import('../cluster/log-client.js')> {
  return import('../cluster/log-client.js');
}

export interface EmbeddedOptions {
  namespace: string;
  resources: Record<string, number>;
  gpuIds: number[] | undefined;
  objectStoreBytes: number;
  config: RuntimeConfig;
  jobEnv: EnvVars | undefined;
}

/** Starts the embedded cluster's node in this thread and makes this thread its driver. */
export async function startEmbedded(o: EmbeddedOptions): Promise<RuntimeInfo> {
  const nodeId = ids().next('node');
  const spec = { ...o, nodeId, jobId: ids().next('job'), cpus: o.resources.CPU };
  // Loaded here, not at import: worker threads import the API too and never run a node. The pool
  // (a small module) comes first and starts the first worker thread, which boots while the
  // node's modules load: the first task waits for that thread, not for both in a row.
  const { nodeWorkerPool } = await import('../node/worker-pool.js');
  const workers = nodeWorkerPool(spec, !driver);
  let node: NodeManager;
  try {
    const { NodeManager } = await import('../node/node-manager.js');
    if (driver) throw new RayError('init() was called twice at once: await the first call before calling it again.');
    node = new NodeManager({
      ...spec,
      workers,
      logDir: o.config.logDirectory ? path.join(o.config.logDirectory, nodeId) : undefined,
    });
  } catch (err) {
    await workers.stop();
    throw err;
  }
  attachDriver(node, o.config, o.objectStoreBytes, o.jobEnv);
  const info: RuntimeInfo = Object.freeze({
    jobId: node.jobId,
    nodeId: node.nodeId,
    namespace: o.namespace,
    address: 'embedded',
    resources: Object.freeze({ ...o.resources }),
  });
  driver = { node, info, stop: () => node.stop() };
  return info;
}

/** Makes this thread the driver of `node`: its client, ref tracking, memory limits and the job's runtime environment. */
function attachDriver(
  node: NodeManager,
  config: RuntimeConfig,
  capacity: number,
  jobEnv: EnvVars | undefined,
): LocalClient {
  setSharedGcThreshold(Math.min(128 * 1024 * 1024, Math.max(16 * 1024 * 1024, Math.floor(capacity / 2))));
  setSharedPoolLimit(Math.min(2 * 1024 ** 3, Math.floor(capacity / 4)));
  setArenaLimit(arenaLimitFor(capacity));
  const client = new LocalClient(node, config);
  const st = threadState();
  st.client = client;
  st.envVars = jobEnv;
  st.packagesDir = packagesDirUnder(config.runtimeResourcesDirectory);
  // The driver's user metrics go to its node's table: the node's /metrics serves them.
  (st.metrics ??= new ThreadMetrics()).attach((batch) => node.userMetrics.apply(batch), config.metricsReportIntervalMs);
  const objects = node.store;
  const tracker = new RefTracker(
    {
      addRefs: (a) => node.addDriverRefs(a),
      removeRefs: (r) => node.removeDriverRefs(r),
      addRef: (id) => objects.addHolder(id),
      removeRef: (id) => objects.removeHolder(id),
    },
    false,
  );
  st.refTracker = tracker;
  setMemoryPressureHook(() => tracker.sweep());
  setArenaPressureHook(() => tracker.sweep());
  st.defaultMaxRetries = config.taskMaxRetries;
  return client;
}

/** init({ address }): this process becomes a driver of a running cluster. */
export async function connectDriver(
  address: string,
  namespace: string,
  config: RuntimeConfig,
  store: number | undefined,
  jobEnv: EnvVars | undefined,
  nodeIpAddress?: string,
): Promise<RuntimeInfo> {
  const { startNode, parseAddress } = await import('../cluster/server.js');
  parseAddress(address);
  const jobId = ids().next('job');
  // A cluster that is not there or refuses this process's token fails at once (AuthenticationError
  // for the token, saying what to set), before the driver's node starts.
  const started = await startNode({
    head: false,
    gcsAddress: address,
    resources: {},
    objectStoreBytes: store ?? config.objectStoreBytes,
    config,
    nodeIpAddress,
    driver: { jobId, namespace },
  });
  const { node, cluster } = started;
  // The driver's local node: the head (whose address it was given) takes its work first.
  cluster.preferredNode = cluster.viewNodes().find((n) => n.address === address && !n.isDriver)?.nodeId;
  const { unary } = await import('../cluster/proto.js');
  await unary(cluster.gcsClient(), 'RegisterJob', {
    jobId,
    driverNodeId: node.nodeId,
    driverPid: process.pid,
    entrypoint: process.argv.slice(1).join(' '),
    namespace,
  });
  attachDriver(node, config, store ?? config.objectStoreBytes, jobEnv);
  const total = cluster.clusterInfo().total;
  const info: RuntimeInfo = Object.freeze({
    jobId,
    nodeId: node.nodeId,
    namespace,
    address,
    resources: Object.freeze(total),
  });
  driver = {
    node,
    info,
    stop: async () => {
      await unary(cluster.gcsClient(), 'FinishJob', { jobId }, 3_000).catch(
        ignored(`FinishJob of ${jobId} (the GCS ends the job when the driver's node leaves)`),
      );
      await started.stop();
    },
  };
  return info;
}

/** Detaches this thread from its cluster and stops its node. Safe to call twice. */
export async function stopDriver(): Promise<void> {
  const d = driver;
  if (!d) return;
  driver = undefined;
  const st = threadState();
  st.client = undefined;
  st.envVars = undefined;
  st.packageRoots.clear();
  st.refTracker?.clear();
  st.refTracker = undefined;
  st.metrics?.flush();
  st.metrics?.detach();
  setSharedPoolLimit(0);
  setMemoryPressureHook(undefined);
  setArenaLimit(0);
  setArenaPressureHook(undefined);
  await d.stop();
}
