/**
 * A node's workers: starts worker threads and processes, keeps idle ones for reuse (processes by
 * their `CUDA_VISIBLE_DEVICES`), retires extras that stay idle, and stops them all at shutdown.
 */
import type { RuntimeConfig } from '../config.js';
import { ids } from '../ids.js';
import type { FromWorker } from '../protocol/worker-messages.js';
import { envKeyOf, type EnvVars } from '../options.js';
import { packagesDirUnder } from '../runtime/code-packages.js';
import { WorkerHandle, type WorkerBoot } from './worker-handle.js';
import { arenaLimitFor } from '../runtime/arena.js';

export interface WorkerPoolOptions {
  /** Everything of a worker's boot data but its id. */
  boot: Omit<WorkerBoot, 'workerId'>;
  heapMb: number;
  logToDriver: boolean;
  idleTimeoutMs: number;
  /** Idle threads kept however long they idle (usually the node's CPU count). */
  keepThreads: number;
}

/** Where a pool's workers' messages and exits go: its node (see {@link WorkerPool.bind}). */
export interface WorkerEvents {
  onMessage: (w: WorkerHandle, msg: FromWorker) => void;
  onExit: (w: WorkerHandle) => void;
}

/** What a node's pool is made of: the node's identity and settings. */
export interface NodePoolSpec {
  nodeId: string;
  jobId: string;
  namespace: string;
  config: RuntimeConfig;
  objectStoreBytes: number;
  /** The node's CPUs (undefined: none given): idle threads kept (1 if none given), at most that many prestarted. */
  cpus: number | undefined;
}

/**
 * The pool of a node (one place for the node and for `init()`, which starts the embedded node's
 * pool before it loads the node's modules, so that the first thread boots meanwhile). With
 * `prestart`, its prestarted threads start now.
 */
export function nodeWorkerPool(spec: NodePoolSpec, prestart: boolean): WorkerPool {
  const { config } = spec;
  const pool = new WorkerPool({
    boot: {
      nodeId: spec.nodeId,
      jobId: spec.jobId,
      namespace: spec.namespace,
      inlineObjectMaxBytes: config.inlineObjectMaxBytes,
      bufferPoolBytes: Math.min(1024 ** 3, Math.floor(spec.objectStoreBytes / 8)),
      arenaBytes: arenaLimitFor(spec.objectStoreBytes),
      packagesDir: packagesDirUnder(config.runtimeResourcesDirectory),
      metricsReportIntervalMs: config.metricsReportIntervalMs,
    },
    heapMb: config.workerHeapMb,
    logToDriver: config.logToDriver,
    idleTimeoutMs: config.workerIdleTimeoutMs,
    keepThreads: Math.ceil(spec.cpus ?? 1),
  });
  if (prestart) pool.prestart(Math.min(config.prestartWorkers, Math.ceil(spec.cpus ?? 0)));
  return pool;
}

export class WorkerPool {
  private readonly all = new Set<WorkerHandle>();
  private readonly idleThreads: WorkerHandle[] = [];
  private readonly idleProcs: WorkerHandle[] = [];
  private readonly idleSince = new Map<WorkerHandle, number>();
  private readonly reaper: NodeJS.Timeout;
  private stopped = false;
  private events: WorkerEvents | undefined;
  /** What workers said before the pool had its node (bind() hands it over). */
  private early: (() => void)[] = [];

  constructor(private readonly opts: WorkerPoolOptions) {
    this.reaper = setInterval(() => this.reapIdle(), Math.max(1000, opts.idleTimeoutMs / 2));
    this.reaper.unref();
  }

  /** Sends workers' messages and exits to `events` from now on, those that came before first. */
  bind(events: WorkerEvents): void {
    this.events = events;
    const early = this.early;
    this.early = [];
    for (const deliver of early) deliver();
  }

  get size(): number {
    return this.all.size;
  }

  get idleThreadCount(): number {
    return this.idleThreads.length;
  }

  /** Starts a new worker (not put in the idle lists: the caller uses it). */
  spawn(kind: 'thread' | 'process', cuda: string | undefined, envVars?: EnvVars): WorkerHandle {
    const w = new WorkerHandle(
      {
        boot: { ...this.opts.boot, workerId: ids().next('worker'), ...(envVars ? { envVars } : {}) },
        kind,
        cudaVisibleDevices: cuda,
        heapMb: this.opts.heapMb,
        logToDriver: this.opts.logToDriver,
      },
      (worker, msg) => {
        if (this.events) this.events.onMessage(worker, msg);
        else this.early.push(() => this.events!.onMessage(worker, msg));
      },
      (worker) => {
        this.forget(worker);
        if (this.events) this.events.onExit(worker);
        else this.early.push(() => this.events!.onExit(worker));
      },
    );
    this.all.add(w);
    return w;
  }

  /**
   * Starts `n` idle threads: the first at once, the others once it has loaded its modules, on the
   * next turn (so after the first task's result when that came with it). Booting together, they
   * slow each other down on a small machine, and the first task waits for the first worker.
   * Threads that work needed meanwhile (started on demand by `take`) count towards `n`.
   */
  prestart(n: number): void {
    if (n <= 0) return;
    const one = () => {
      const w = this.spawn('thread', undefined);
      this.release(w);
      return w;
    };
    one().onReady(() =>
      setImmediate(() => {
        if (this.stopped) return;
        for (let i = this.threadCount(); i < n; i++) one();
      }),
    );
  }

  private threadCount(): number {
    let n = 0;
    for (const w of this.all) if (w.kind === 'thread' && !w.dead) n++;
    return n;
  }

  /** An idle worker of this kind, GPU set and runtime environment, or a new one. */
  take(kind: 'thread' | 'process', cuda: string | undefined, envVars?: EnvVars): WorkerHandle {
    const list = kind === 'thread' ? this.idleThreads : this.idleProcs;
    const envKey = envKeyOf(envVars);
    for (let i = list.length - 1; i >= 0; i--) {
      const w = list[i];
      if (w.cudaVisibleDevices === cuda && w.envKey === envKey) {
        list.splice(i, 1);
        this.idleSince.delete(w);
        return w;
      }
    }
    return this.spawn(kind, cuda, envVars);
  }

  /** Puts a worker back for reuse. */
  release(w: WorkerHandle): void {
    if (w.dead || this.stopped) return;
    (w.kind === 'thread' ? this.idleThreads : this.idleProcs).push(w);
    this.idleSince.set(w, Date.now());
  }

  private forget(w: WorkerHandle): void {
    this.all.delete(w);
    for (const list of [this.idleThreads, this.idleProcs]) {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
    }
    this.idleSince.delete(w);
  }

  private reapIdle(): void {
    const now = Date.now();
    let threadsKept = 0;
    for (const w of [...this.idleThreads].reverse()) {
      // Threads of a runtime environment are not kept beyond their idle time.
      if (threadsKept < this.opts.keepThreads && w.envKey === '') {
        threadsKept++;
        continue;
      }
      if (now - (this.idleSince.get(w) ?? now) >= this.opts.idleTimeoutMs) this.retire(w);
    }
    for (const w of [...this.idleProcs]) {
      if (now - (this.idleSince.get(w) ?? now) >= this.opts.idleTimeoutMs) this.retire(w);
    }
  }

  private retire(w: WorkerHandle): void {
    this.forget(w);
    w.send({ k: 'exit' });
    w.terminate();
  }

  /** Stops every worker (waiting up to 2 s for each to exit). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reaper);
    await Promise.all(
      [...this.all].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.dead) return resolve();
            const t = setTimeout(resolve, 2000);
            const check = setInterval(() => {
              if (w.dead) {
                clearInterval(check);
                clearTimeout(t);
                resolve();
              }
            }, 5);
            w.terminate();
          }),
      ),
    );
    this.all.clear();
  }
}
