/**
 * A node's workers: starts worker threads and processes, keeps idle ones for reuse (processes by
 * their `CUDA_VISIBLE_DEVICES`), retires extras that stay idle, and stops them all at shutdown.
 */
import { ids } from '../ids.js';
import type { FromWorker } from '../protocol/worker-messages.js';
import { envKeyOf, type EnvVars } from '../options.js';
import { WorkerHandle, type WorkerBoot } from './worker-handle.js';

export interface WorkerPoolOptions {
  /** Everything of a worker's boot data but its id. */
  boot: Omit<WorkerBoot, 'workerId'>;
  heapMb: number;
  logToDriver: boolean;
  idleTimeoutMs: number;
  /** Idle threads kept however long they idle (usually the node's CPU count). */
  keepThreads: number;
  onMessage: (w: WorkerHandle, msg: FromWorker) => void;
  onExit: (w: WorkerHandle) => void;
}

export class WorkerPool {
  private readonly all = new Set<WorkerHandle>();
  private readonly idleThreads: WorkerHandle[] = [];
  private readonly idleProcs: WorkerHandle[] = [];
  private readonly idleSince = new Map<WorkerHandle, number>();
  private readonly reaper: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.reaper = setInterval(() => this.reapIdle(), Math.max(1000, opts.idleTimeoutMs / 2));
    this.reaper.unref();
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
      this.opts.onMessage,
      (worker) => {
        this.forget(worker);
        this.opts.onExit(worker);
      },
    );
    this.all.add(w);
    return w;
  }

  /** Starts `n` idle threads: the first at once, the others once it is up (booting together, they
   * slow each other down on a small machine, and the first task waits for the first worker). */
  prestart(n: number): void {
    if (n <= 0) return;
    const one = () => {
      const w = this.spawn('thread', undefined);
      this.release(w);
      return w;
    };
    one().onOnline(() => {
      if (this.stopped) return;
      for (let i = this.all.size; i < n; i++) one();
    });
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
