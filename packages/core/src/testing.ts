/**
 * Helpers for tests of ray-ts and of libraries built on it: waiting on conditions, and a look
 * at the embedded node's internals (object store and worker counts).
 */
import { commandOn, type TestHost } from './testing-hosts.js';
import { driverNode as embeddedNode } from './runtime/driver.js';
import type { ObjectStoreStats } from './node/object-store.js';
import { threadState } from './runtime/thread-state.js';
import { authHeaders, clientAuth } from './cluster/auth-token.js';

export type { ObjectStoreStats } from './node/object-store.js';
export { setIdGenerator, type IdGenerator, type IdKind } from './ids.js';
import type { IdGenerator, IdKind } from './ids.js';

/** Ids `kind_1`, `kind_2`, ... in order: deterministic ids for unit tests (see `setIdGenerator`). */
export class SequentialIdGenerator implements IdGenerator {
  private n = 0;
  next(kind: IdKind): string {
    return `${kind}_${++this.n}`;
  }
}

/** Polls `cond` until it returns truthy (or a resolved truthy promise), or fails after `timeoutMs`. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  {
    timeoutMs = 10_000,
    intervalMs = 10,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`waitFor(${what}) timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The embedded node's object store counters; throws when no embedded cluster runs. */
export function objectStoreStats(): ObjectStoreStats {
  const node = embeddedNode();
  if (!node) throw new Error('objectStoreStats() needs an embedded cluster: call init() first.');
  return node.store.stats();
}

/** Worker, task and actor counts of the embedded node. */
export function nodeDebugState(): ReturnType<NonNullable<ReturnType<typeof embeddedNode>>['debugState']> {
  const node = embeddedNode();
  if (!node) throw new Error('nodeDebugState() needs an embedded cluster: call init() first.');
  return node.debugState();
}

/** What each busy worker of the embedded node holds and what waits (for diagnosing a stuck job). */
export function nodeDebugDump(): unknown {
  const node = embeddedNode();
  if (!node) throw new Error('nodeDebugDump() needs an embedded cluster: call init() first.');
  return node.debugDump();
}

/** Live ObjectRef instances to `id` in this thread. */
export function localRefCount(id: string): number {
  return threadState().refTracker?.count(id) ?? 0;
}

/**
 * The headers that carry the cluster token this machine's processes present (`RAY_TS_AUTH_TOKEN`,
 * else the session directory's: the one every {@link Cluster} on this machine requires), for tests
 * that call a head's job API themselves: `fetch(url, { headers: clusterAuthHeaders() })`.
 */
export function clusterAuthHeaders(): Record<string, string> {
  return authHeaders(clientAuth());
}

/** Resources and settings of one node started by {@link Cluster}. */
export interface ClusterNodeSpec {
  numCpus?: number;
  numGpus?: number;
  resources?: Record<string, number>;
  objectStoreMemory?: number;
  /** Environment variables of the node process (e.g. RAY_TS_* settings). */
  env?: Record<string, string>;
  /** Runs the node on this host (see {@link TestHosts}) instead of on 127.0.0.1. */
  host?: TestHost;
  /** The port the node listens on (default: a free one). */
  port?: number;
  /**
   * The address the node advertises to the cluster instead of the one it listens on (Ray's
   * `--node-ip-address`): e.g. 127.0.0.2, where a proxy of the test listens on the same port.
   */
  nodeIpAddress?: string;
}

/** Settings of the head started by {@link Cluster}. */
export interface ClusterHeadOptions {
  /** A node missing heartbeats this long is dead (default 5 s). */
  nodeTimeoutMs?: number;
  /** Keep the GCS tables in Redis, so that {@link Cluster.restartHead} finds them. */
  redisAddress?: string;
  spec?: ClusterNodeSpec;
  /**
   * The head's session directory, as `ray-ts start` gives it (it writes the Prometheus discovery
   * file there). Its token stays the machine's: set RAY_TS_AUTH_TOKEN to use another.
   */
  sessionDir?: string;
  /**
   * Every node's log directory (as `ray-ts start` gives `<session>/logs`): each node writes its
   * log files in `<logDir>/<nodeId>/`, and the head its jobs' logs in `<logDir>/jobs-<cluster>/`.
   */
  logDir?: string;
}

/** A node process started by {@link Cluster}. */
export interface ClusterNodeHandle {
  readonly nodeId: string;
  readonly address: string;
  readonly pid: number;
  readonly isHead: boolean;
  /** The head's HTTP job API (http://HOST:PORT). */
  readonly jobApiAddress?: string;
  /** HOST:PORT of its Prometheus endpoint (`/metrics`), unless metrics are off. */
  readonly metricsAddress?: string;
  /** Output of the process so far (stdout and stderr). */
  output(): string;
}

/**
 * A multi-node cluster on this machine for tests (as Ray's `cluster_utils.Cluster`): a head and
 * node processes on 127.0.0.1 with free ports and the given resources. Connect the test with
 * `init({ address: cluster.address })`; `shutdown()` stops every process.
 * @example
 * const cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1, resources: { gpuBox: 1 } }] });
 * await init({ address: cluster.address });
 * ...
 * await shutdown(); await cluster.shutdown();
 */
export class Cluster {
  readonly nodes: ClusterNodeHandle[] = [];
  private readonly procs = new Map<string, import('node:child_process').ChildProcess>();
  private constructor(
    readonly address: string,
    private readonly headOpts: ClusterHeadOptions,
  ) {}

  static async start(
    opts: { head?: ClusterNodeSpec; nodes?: ClusterNodeSpec[] } & ClusterHeadOptions = {},
  ): Promise<Cluster> {
    const headOpts = {
      nodeTimeoutMs: opts.nodeTimeoutMs,
      redisAddress: opts.redisAddress,
      spec: opts.head ?? {},
      sessionDir: opts.sessionDir,
      logDir: opts.logDir,
    };
    const head = await Cluster.spawn(headOpts.spec, undefined, headOpts);
    const c = new Cluster(head.handle.address, headOpts);
    c.nodes.push(head.handle);
    c.procs.set(head.handle.nodeId, head.proc);
    try {
      const started = await Promise.all(
        (opts.nodes ?? []).map((spec) => Cluster.spawn(spec, c.address, undefined, opts.logDir)),
      );
      for (const n of started) {
        c.nodes.push(n.handle); // in the order given
        c.procs.set(n.handle.nodeId, n.proc);
      }
    } catch (err) {
      await c.shutdown();
      throw err;
    }
    return c;
  }

  /** Starts one more node and waits until it has joined. */
  async addNode(spec: ClusterNodeSpec = {}): Promise<ClusterNodeHandle> {
    const n = await Cluster.spawn(spec, this.address, undefined, this.headOpts.logDir);
    this.nodes.push(n.handle);
    this.procs.set(n.handle.nodeId, n.proc);
    return n.handle;
  }

  /** Kills the head process (SIGKILL, as a crash would). Worker nodes keep running. */
  killHead(): void {
    const head = this.nodes.find((n) => n.isHead);
    if (head) this.killNode(head.nodeId);
  }

  /** Starts the head again on the same address (with the same Redis, its tables come back). */
  async restartHead(): Promise<ClusterNodeHandle> {
    const port = Number(this.address.split(':')[1]);
    const h = await Cluster.spawn(this.headOpts.spec ?? {}, undefined, { ...this.headOpts, port });
    this.nodes.push(h.handle);
    this.procs.set(h.handle.nodeId, h.proc);
    return h.handle;
  }

  private static async spawn(
    spec: ClusterNodeSpec,
    gcsAddress: string | undefined,
    head?: ClusterHeadOptions & { port?: number },
    logDir = head?.logDir,
  ): Promise<{ handle: ClusterNodeHandle; proc: import('node:child_process').ChildProcess }> {
    const { spawnNodeProcess } = await import('./cluster/node-process.js');
    const resources: Record<string, number> = { CPU: spec.numCpus ?? 1, ...(spec.resources ?? {}) };
    if (spec.numGpus) resources.GPU = spec.numGpus;
    const opts = {
      head: !gcsAddress,
      gcsAddress,
      host: spec.host?.address ?? '127.0.0.1',
      port: head?.port ?? spec.port ?? 0,
      nodeIpAddress: spec.nodeIpAddress,
      resources,
      objectStoreBytes: spec.objectStoreMemory,
      gpuIds: spec.numGpus ? Array.from({ length: spec.numGpus }, (_, i) => i) : undefined,
      nodeTimeoutMs: head?.nodeTimeoutMs,
      redisAddress: head?.redisAddress,
      jobApiPort: 0,
      sessionDir: head?.sessionDir,
      logDir,
    };
    const {
      proc,
      ready,
      output: out,
    } = spawnNodeProcess(opts, {
      env: { ...(spec.env ?? {}), RAY_TS_ADDRESS: '' },
      ...(spec.host ? { command: (argv: string[]) => commandOn(spec.host, argv) } : {}),
    });
    const info = await ready;
    return {
      handle: {
        nodeId: info.nodeId,
        address: info.address,
        pid: info.pid,
        isHead: !gcsAddress,
        jobApiAddress: info.jobApiAddress,
        metricsAddress: info.metricsAddress,
        output: out,
      },
      proc,
    };
  }

  /** Kills a node's process (SIGKILL by default, as a crash would). */
  killNode(nodeId: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.procs.get(nodeId)?.kill(signal);
    this.procs.delete(nodeId);
  }

  /** Stops every node process (worker nodes first, then the head). */
  async shutdown(): Promise<void> {
    const entries = [...this.procs].reverse();
    this.procs.clear();
    await Promise.all(
      entries.map(
        ([, p]) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) {
              resolve();
              return;
            }
            const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
  }
}

export { metricRows, metricValue } from './metrics/prom-text.js';

/** A `redis-server` (Debian's) started on a free port on 127.0.0.1. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Kills it (SIGKILL: as a crash would) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port; a durable server loads what its append-only file kept. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * Keep what it acknowledged across a SIGKILL: an append-only file, fsynced before each reply,
   * in a folder of its own (default: no persistence at all).
   */
  durable?: boolean;
}

/** Starts a real redis-server for a test (install it with `apt-get install redis-server`). */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const net = await import('node:net');
  const { spawn } = await import('node:child_process');
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-redis-'));
  const persistence = opts.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence];
  let proc: import('node:child_process').ChildProcess | undefined;
  const run = async (): Promise<void> => {
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${out}`)), 10_000);
      p.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run redis-server (${err.message}): install it (apt-get install -y redis-server)`));
      });
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> =>
    new Promise<void>((resolve) => {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  await run();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: run,
    stop: async () => {
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { TestHosts, commandOn, processAlive, type TestHost, type TestHostsOptions } from './testing-hosts.js';
