/**
 * Runtime settings: one documented table, units in the names, each overridable with a
 * `RAY_TS_<NAME>` environment variable (e.g. `RAY_TS_INLINE_OBJECT_MAX_BYTES=1024`), which is how
 * tests shorten timeouts and shrink limits.
 */
import os from 'node:os';
import path from 'node:path';

export interface RuntimeConfig {
  /** Values up to this size travel inline with task messages; larger ones live in the object store. */
  readonly inlineObjectMaxBytes: number;
  /** Default object store capacity when `init()` gets no `objectStoreMemory`: 30% of RAM, at most 8 GiB. */
  readonly objectStoreBytes: number;
  /** Directory for objects spilled from a full store (a per-node subdirectory is made in it). */
  readonly spillDirectory: string;
  /**
   * fsync each spill file before using it. Off by default (as in Ray): a spill file lives only as
   * long as its node's process, which the page cache outlives; on, a disk that fails its writes
   * later is caught when spilling (a 64 MiB spill took 75 ms instead of 20 ms here).
   */
  readonly spillFsync: boolean;
  /** Multi-node: the largest object a node accepts from another; a pull announcing more fails (default: the machine's memory). */
  readonly pullMaxObjectBytes: number;
  /** Where shipped working directories and modules are unpacked, one folder per package (shared by a host's nodes: packages are named by content). */
  readonly runtimeResourcesDirectory: string;
  /** Max old-generation heap of each worker thread, in MiB (0: Node's default). Exceeding it fails the task with OutOfMemoryError. */
  readonly workerHeapMb: number;
  /** Default `maxRetries` of tasks (retries on worker death; and on exceptions with `retryExceptions`). */
  readonly taskMaxRetries: number;
  /** Idle task workers beyond `numCpus` exit after this long. */
  readonly workerIdleTimeoutMs: number;
  /** Print workers' console output on the driver, prefixed with where it came from. */
  readonly logToDriver: boolean;
  /**
   * The log lines of core and the libraries (`getLogger`, log.ts): the lowest level printed
   * (`debug`, `info`, `warn`, `error`; an unknown value warns once and means `info`), and their
   * format (`text`, or `json`: one object a line with the node, worker, job, task and actor ids).
   * Read from the environment by each process (`RAY_TS_LOG_LEVEL`, `RAY_TS_LOG_FORMAT`), which
   * its workers inherit.
   */
  readonly logLevel: string;
  readonly logFormat: string;
  /**
   * Progress bars on a terminal (`ProgressBar`: Train's and RLlib's iteration bars; Data's
   * operator bars unless `RAY_TS_DATA_PROGRESS_BARS` says otherwise). Off with
   * `RAY_TS_PROGRESS_BARS=0`; never drawn when stderr is not a terminal.
   */
  readonly progressBars: boolean;
  /**
   * Multi-node: console output of workers whose job's driver is on another node travels there in
   * batches, per job: one batch per job every `logFlushMs`, of at most `logBatchMaxLines` lines and
   * `logBatchMaxBytes`. Up to `logQueueMaxBytes` per job wait to be sent; lines beyond are dropped
   * and counted (the driver prints how many). Lines of a job whose driver is not known yet wait
   * `logUnknownJobGraceMs` for it, then are dropped.
   */
  readonly logFlushMs: number;
  readonly logBatchMaxLines: number;
  readonly logBatchMaxBytes: number;
  readonly logQueueMaxBytes: number;
  readonly logUnknownJobGraceMs: number;
  /**
   * Log files of a node with a log directory (`<logDir>/<nodeId>/`: its workers' `worker-*.out`
   * and `.err`, its own `raylet.out` and `.err`) rotate once a write would take them past
   * `logRotationMaxBytes` (Ray's RAY_ROTATION_MAX_BYTES): `file` becomes `file.1`, `file.1`
   * `file.2`, ..., keeping `logRotationBackupCount` of them (Ray's RAY_ROTATION_BACKUP_COUNT).
   */
  readonly logRotationMaxBytes: number;
  /**
   * Where a node writes its log files when it is given no log directory: `ray-ts start` gives
   * `<session dir>/logs`; set this for the embedded cluster of `init()` (its node writes in
   * `<logDirectory>/<node id>/`) and for nodes started otherwise. '' (the default): none.
   */
  readonly logDirectory: string;
  readonly logRotationBackupCount: number;
  /** The most bytes one read of a log returns (`ray-ts logs`, `GET /api/v0/logs/file`): the last ones, for a tail. */
  readonly logReadMaxBytes: number;
  /** Worker threads started ahead of demand at `init()` (up to numCpus); 0 starts them on first use. */
  readonly prestartWorkers: number;
  /** Default `maxConcurrency` of actors that have async methods (sync-only actors run one call at a time). */
  readonly asyncActorMaxConcurrency: number;
  /** Tasks sent to one busy worker ahead of time when all CPUs are taken (1 turns pipelining off). */
  readonly pipelineDepth: number;
  /** Only functions whose average run time is below this many ms are pipelined. */
  readonly pipelineMaxTaskMs: number;
  /**
   * Multi-node: keep the arguments of tasks whose results live on other nodes while those results
   * are alive, so that a result lost with its node can be made again (lineage). Costs memory (or
   * spill space) for the arguments; off, a lost result reads as ObjectLostError.
   */
  readonly lineagePinning: boolean;
  /** Multi-node: how often a node tells the GCS it is alive (and reports its resources and load). */
  readonly heartbeatMs: number;
  /** Multi-node: how long a node waits before following the GCS's changes again after the stream broke. */
  readonly gcsResubscribeMs: number;
  /**
   * Multi-node: how long a call that presents a member identity this process does not know yet
   * (a node that joined just now, not yet in its view) waits for it before it is refused.
   */
  readonly memberWaitMs: number;
  /** How long a collective message waits for its actor to be placed and started, and how often it looks. */
  readonly collectiveDeliveryTimeoutMs: number;
  readonly collectiveRetryMs: number;
  /**
   * Multi-node: an actor that fits on no node now is kept by its owner and placed again this often;
   * after `actorQueueAfterMs` it queues on a busy node that could run it instead.
   */
  readonly actorParkRetryMs: number;
  readonly actorQueueAfterMs: number;
  /** Multi-node: an actor sent to a node counts as taken there for this long, or until that node reports. */
  readonly actorChargeMs: number;
  /** Multi-node: how long and how often a caller looks an actor up in the GCS (it may be being placed or restarted). */
  readonly actorLookupTimeoutMs: number;
  readonly actorLookupRetryMs: number;
  /** Multi-node: how long a lookup of an actor the GCS has never heard of goes on (it may be registering). */
  readonly actorUnknownTimeoutMs: number;
  /** Head: how often a follower of a job's log (`ray-ts job logs --follow`, Ray's tail_job_logs) looks for new output. */
  readonly jobLogTailMs: number;
  /**
   * `token` (the default): every gRPC service and the job API require the cluster's token
   * (`authorization: Bearer <token>`); a head takes `RAY_TS_AUTH_TOKEN`, else `--auth-token-file`,
   * else the token file of the session directory (made if missing), and every other process
   * `RAY_TS_AUTH_TOKEN`, else that file. The token itself is never a setting of this table (it
   * would travel with the config): see docs/security.md. `disabled` turns authentication off
   * (a warning is printed when a port listens beyond loopback).
   */
  readonly authMode: 'token' | 'disabled';
  /** Head: the largest JSON body the job API reads (a larger one is answered 413). */
  readonly jobApiMaxBodyBytes: number;
  /** Head: `GET /api/jobs/<id>/logs` returns at most the last this many bytes of a log (and says so); `--follow` streams all of it. */
  readonly jobLogsMaxBytes: number;
  /**
   * Head with `--redis-address`: GCS writes wait to land in Redis (the reply to a write waits for
   * it). Up to `gcsWriteQueueMax` writes and `gcsWriteQueueMaxBytes` wait at once; a write asked
   * for beyond that fails at once with GcsUnavailableError (UNAVAILABLE) rather than queue.
   */
  readonly gcsWriteQueueMax: number;
  readonly gcsWriteQueueMaxBytes: number;
  /** Head with Redis: a failed batch of writes is tried again after `gcsWriteRetryMs`, doubling up to `gcsWriteRetryMaxMs`, until it lands. */
  readonly gcsWriteRetryMs: number;
  readonly gcsWriteRetryMaxMs: number;
  /** Head with Redis: a batch of writes Redis has not answered in this long counts as failed (and is tried again). */
  readonly gcsWriteAttemptTimeoutMs: number;
  /** Head with Redis: a reply waits this long for its write, then fails with UNAVAILABLE (the write stays queued). */
  readonly gcsWriteWaitMs: number;
  /** Head with Redis: how long stopping the head waits for queued writes to land. */
  readonly gcsStopFlushMs: number;
  /**
   * Multi-node: every node, and every driver connected to a cluster, serves Prometheus metrics at
   * `/metrics` (Ray's names: docs/observability.md) on `metricsExportPort` (0: a free one, as Ray
   * picks one; `ray-ts start --metrics-export-port`), on its listen host, published in its node
   * info. Off with `RAY_TS_METRICS_ENABLED=0`.
   */
  readonly metricsEnabled: boolean;
  readonly metricsExportPort: number;
  /**
   * `token` (the default): `/metrics` requires the cluster's token like every other port (the
   * service discovery and `ray-ts metrics launch-prometheus` give Prometheus a `credentials_file`);
   * `disabled`: it answers anyone (Ray's endpoint is open), for a Prometheus that cannot send one.
   * Without a cluster token (`authMode: 'disabled'`) it is open either way.
   */
  readonly metricsAuthMode: 'token' | 'disabled';
  /** How often a thread sends its user metrics (Counter, Gauge, Histogram) to its node (Ray's metrics_report_interval_ms). */
  readonly metricsReportIntervalMs: number;
  /** Head: how often it rewrites the Prometheus service discovery file when the nodes changed. */
  readonly metricsDiscoveryIntervalMs: number;
  /**
   * Head: the dashboard samples its nodes' use (their `/metrics`) every `dashboardSampleMs` and
   * keeps `dashboardHistoryMs` of samples for its plots (`/api/dashboard/history`).
   */
  readonly dashboardSampleMs: number;
  readonly dashboardHistoryMs: number;
  /** Head: the dashboard's page (index.html and its assets); '' (the default): core's built `dist/dashboard`. */
  readonly dashboardDir: string;
  /**
   * Head: folders of Tune and Train runs the dashboard lists besides `~/ray_ts_results` (the
   * default storagePath), separated by ':' (runs elsewhere show once their driver, connected to
   * the cluster, registered them).
   */
  readonly dashboardRunsPaths: string;
  /**
   * Multi-node: messages between two nodes go in batches of at most `peerBatchMaxMessages`
   * messages and about `peerBatchMaxBytes` (a larger message goes alone). A node accepts messages
   * up to `peerMessageMaxBytes` (a larger one is not sent, and an error says so: pass large values
   * as ObjectRefs). Messages wait while the stream to a node is full and until that node
   * acknowledges them (within `peerAckDelayMs`: acknowledgements are coalesced); past
   * `peerQueueWarnBytes` waiting for one node a warning is printed (they are kept). A broken stream is opened again after `peerReconnectMs`, doubling up to
   * `peerReconnectMaxMs`, and what it had not acknowledged is sent again.
   */
  readonly peerBatchMaxMessages: number;
  readonly peerBatchMaxBytes: number;
  readonly peerMessageMaxBytes: number;
  readonly peerQueueWarnBytes: number;
  readonly peerReconnectMs: number;
  readonly peerReconnectMaxMs: number;
  readonly peerAckDelayMs: number;
  /**
   * The largest gRPC request each service accepts (a larger one is refused with RESOURCE_EXHAUSTED
   * before it is decoded): the GCS's calls `gcsRequestMaxBytes`, but KV writes (shipped code
   * packages) `gcsKvRequestMaxBytes`; a node's calls other than its Peer stream (pulls, bundles,
   * state) `nodeRequestMaxBytes`; and replies `grpcReplyMaxBytes` (KV reads of packages, state
   * listings). Set the same values on every process of a cluster.
   */
  readonly gcsRequestMaxBytes: number;
  readonly gcsKvRequestMaxBytes: number;
  readonly nodeRequestMaxBytes: number;
  readonly grpcReplyMaxBytes: number;
}

type Parser<T> = (raw: string) => T;
const int: Parser<number> = (raw) => {
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${raw}`);
  return n;
};
const bool: Parser<boolean> = (raw) => raw === '1' || raw.toLowerCase() === 'true';
const str: Parser<string> = (raw) => raw;
const authMode: Parser<'token' | 'disabled'> = (raw) => {
  const v = raw.toLowerCase();
  if (v === 'token' || v === 'disabled') return v;
  throw new Error(
    `RAY_TS_AUTH_MODE (and RAY_TS_METRICS_AUTH_MODE) must be 'token' (the default) or 'disabled'; got '${raw}'`,
  );
};

const defaults: { [K in keyof RuntimeConfig]: [RuntimeConfig[K], Parser<RuntimeConfig[K]>] } = {
  inlineObjectMaxBytes: [100 * 1024, int],
  objectStoreBytes: [Math.min(Math.floor(os.totalmem() * 0.3), 8 * 1024 ** 3), int],
  spillDirectory: [path.join(os.tmpdir(), 'ray-ts-spill'), str],
  spillFsync: [false, bool],
  pullMaxObjectBytes: [os.totalmem(), int],
  runtimeResourcesDirectory: [path.join(os.tmpdir(), 'ray-ts-runtime-resources'), str],
  workerHeapMb: [0, int],
  taskMaxRetries: [3, int],
  workerIdleTimeoutMs: [10_000, int],
  logToDriver: [true, bool],
  logLevel: ['info', str],
  logFormat: ['text', str],
  progressBars: [true, bool],
  logFlushMs: [20, int],
  logBatchMaxLines: [1000, int],
  logBatchMaxBytes: [256 * 1024, int],
  logQueueMaxBytes: [4 * 1024 * 1024, int],
  logUnknownJobGraceMs: [5_000, int],
  logRotationMaxBytes: [512 * 1024 * 1024, int],
  logDirectory: ['', str],
  logRotationBackupCount: [5, int],
  logReadMaxBytes: [16 * 1024 * 1024, int],
  prestartWorkers: [2, int],
  asyncActorMaxConcurrency: [1000, int],
  pipelineDepth: [16, int],
  pipelineMaxTaskMs: [2, int],
  lineagePinning: [true, bool],
  heartbeatMs: [100, int],
  gcsResubscribeMs: [500, int],
  memberWaitMs: [10_000, int],
  collectiveDeliveryTimeoutMs: [60_000, int],
  collectiveRetryMs: [20, int],
  actorParkRetryMs: [50, int],
  actorQueueAfterMs: [1_000, int],
  actorChargeMs: [2_000, int],
  actorLookupTimeoutMs: [10_000, int],
  actorLookupRetryMs: [50, int],
  actorUnknownTimeoutMs: [1_000, int],
  jobLogTailMs: [100, int],
  authMode: ['token', authMode],
  jobApiMaxBodyBytes: [1024 * 1024, int],
  jobLogsMaxBytes: [16 * 1024 * 1024, int],
  gcsWriteQueueMax: [10_000, int],
  gcsWriteQueueMaxBytes: [64 * 1024 * 1024, int],
  gcsWriteRetryMs: [50, int],
  gcsWriteRetryMaxMs: [2_000, int],
  gcsWriteAttemptTimeoutMs: [5_000, int],
  gcsWriteWaitMs: [20_000, int],
  gcsStopFlushMs: [5_000, int],
  metricsEnabled: [true, bool],
  metricsExportPort: [0, int],
  metricsAuthMode: ['token', authMode],
  metricsReportIntervalMs: [500, int],
  metricsDiscoveryIntervalMs: [1_000, int],
  dashboardSampleMs: [2_000, int],
  dashboardHistoryMs: [30 * 60_000, int],
  dashboardDir: ['', str],
  dashboardRunsPaths: ['', str],
  peerBatchMaxMessages: [1_000, int],
  peerBatchMaxBytes: [4 * 1024 * 1024, int],
  peerMessageMaxBytes: [256 * 1024 * 1024, int],
  peerQueueWarnBytes: [256 * 1024 * 1024, int],
  peerReconnectMs: [50, int],
  peerReconnectMaxMs: [2_000, int],
  peerAckDelayMs: [10, int],
  gcsRequestMaxBytes: [8 * 1024 * 1024, int],
  gcsKvRequestMaxBytes: [520 * 1024 * 1024, int],
  nodeRequestMaxBytes: [1024 * 1024, int],
  grpcReplyMaxBytes: [520 * 1024 * 1024, int],
};

function envName(key: string): string {
  return 'RAY_TS_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** One setting as the environment gives it (or its default), without reading the others. */
export function envSetting<K extends keyof RuntimeConfig>(key: K): RuntimeConfig[K] {
  const [def, parse] = defaults[key];
  const raw = process.env[envName(key)];
  return raw === undefined || raw === '' ? def : parse(raw);
}

/** Reads the settings, applying `RAY_TS_*` environment overrides, then `overrides`. */
export function loadConfig(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const out: Record<string, unknown> = {};
  for (const [key, [def, parse]] of Object.entries(defaults) as [string, [unknown, Parser<unknown>]][]) {
    const raw = process.env[envName(key)];
    out[key] = raw === undefined || raw === '' ? def : parse(raw);
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return out as unknown as RuntimeConfig;
}
