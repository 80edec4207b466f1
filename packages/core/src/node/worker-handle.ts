/**
 * The node's side of one worker: a worker thread (default) or a child process, with a batching
 * channel (all messages sent in one turn of the event loop travel in one post).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { withHugePages } from '../runtime/huge-pages.js';
import { envKeyOf } from '../options.js';
import type { FromWorker, ToWorker } from '../protocol/worker-messages.js';

export interface WorkerBoot {
  workerId: string;
  /** Thread workers: slot 0 holds the sequence number of the task running now (read if it dies). */
  status?: Int32Array;
  nodeId: string;
  jobId: string;
  namespace: string;
  inlineObjectMaxBytes: number;
  /** Free shared buffers the worker may keep for reuse. */
  bufferPoolBytes: number;
  /** The most its arena may map for stored values (runtime/arena.ts; thread workers only). */
  arenaBytes?: number;
  /** The runtime environment's variables this worker was started with (its work's `runtimeEnv.envVars`). */
  envVars?: Readonly<Record<string, string>>;
  /** Where the node unpacks shipped folders (config `runtimeResourcesDirectory`). */
  packagesDir: string;
  /** How often the worker sends its user metrics (config `metricsReportIntervalMs`). */
  metricsReportIntervalMs?: number;
}

export interface WorkerStartOptions {
  boot: WorkerBoot;
  kind: 'thread' | 'process';
  /** For process workers: `CUDA_VISIBLE_DEVICES` (ids joined by commas), or undefined to leave it unset. */
  cudaVisibleDevices: string | undefined;
  heapMb: number;
  logToDriver: boolean;
}

/**
 * The worker's entry: next to this module's chunk in the bundle (dist/bundle/worker/main.js), or in
 * dist/worker/ when this module runs unbundled from dist/node/.
 */
const mainUrl =
  ['./worker/main.js', '../worker/main.js']
    .map((rel) => new URL(rel, import.meta.url))
    .find((u) => existsSync(fileURLToPath(u))) ?? new URL('./worker/main.js', import.meta.url);

/** Copies SharedArrayBuffer-backed bytes, which cannot cross into another process. */
function unshare(v: unknown, depth = 0): unknown {
  if (typeof v !== 'object' || v === null || depth > 12) return v;
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof SharedArrayBuffer) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
    return v;
  }
  if (Array.isArray(v)) return v.map((e) => unshare(e, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v)) out[k] = unshare(e, depth + 1);
  return out;
}

export class WorkerHandle {
  readonly id: string;
  readonly kind: 'thread' | 'process';
  /** Its process: the node's own for a thread. */
  readonly pid: number;
  readonly cudaVisibleDevices: string | undefined;
  /** Its runtime environment's key ('' for none): see envKeyOf. */
  readonly envKey: string;
  /** Ids of functions this worker was sent the code of. */
  readonly knownFns = new Set<string>();
  /** Objects this worker holds refs to (released if it dies). */
  readonly heldRefs = new Set<string>();
  private readonly thread: Worker | undefined;
  private readonly proc: ChildProcess | undefined;
  private outbox: ToWorker[] = [];
  /** 'answering': its modules are loaded, its answer to the work sent before that is still to come. */
  private readiness: 'booting' | 'answering' | 'ready' = 'booting';
  private readonly readyCallbacks: (() => void)[] = [];
  /** Whether anything was sent to it yet. */
  private posted = false;
  private flushScheduled = false;
  dead = false;
  /** Sequence number of the last task sent; see WorkerBoot.status. */
  lastSeq = 0;
  readonly status: Int32Array | undefined;
  /** Set when the worker died: an out-of-memory exit, a crash, or a termination we asked for. */
  exitReason: 'oom' | 'crash' | 'terminated' | undefined;
  exitDetail = '';

  constructor(
    opts: WorkerStartOptions,
    private readonly onMessage: (w: WorkerHandle, msg: FromWorker) => void,
    private readonly onExit: (w: WorkerHandle) => void,
  ) {
    this.id = opts.boot.workerId;
    this.kind = opts.kind;
    this.cudaVisibleDevices = opts.cudaVisibleDevices;
    this.envKey = envKeyOf(opts.boot.envVars);
    const receive = (batch: FromWorker[]) => {
      for (const m of batch) {
        if (m.k === 'ready') this.readiness = this.posted ? 'answering' : 'ready';
        else this.onMessage(this, m);
      }
      if (this.readiness === 'answering' && batch[batch.length - 1]?.k !== 'ready') this.readiness = 'ready';
      if (this.readiness === 'ready' && this.readyCallbacks.length) {
        for (const cb of this.readyCallbacks.splice(0)) cb();
      }
    };
    if (opts.kind === 'thread') {
      this.status = new Int32Array(new SharedArrayBuffer(4));
      const w = new Worker(mainUrl, {
        workerData: { ...opts.boot, status: this.status },
        // Each thread has its own copy of process.env: the runtime environment's variables go there.
        ...(opts.boot.envVars ? { env: { ...process.env, ...opts.boot.envVars } } : {}),
        stdout: true,
        stderr: true,
        ...(opts.heapMb > 0 ? { resourceLimits: { maxOldGenerationSizeMb: opts.heapMb } } : {}),
      });
      this.thread = w;
      this.pid = process.pid;
      w.on('message', receive);
      w.on('error', (err: Error & { code?: string }) => {
        this.exitReason = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crash';
        this.exitDetail = err.message;
      });
      w.on('exit', (code) => this.exited(code));
      this.pipe(w.stdout, process.stdout, opts.logToDriver);
      this.pipe(w.stderr, process.stderr, opts.logToDriver);
      w.unref();
    } else {
      this.status = undefined;
      const env = withHugePages({
        ...process.env,
        ...(opts.boot.envVars ?? {}),
        RAY_TS_WORKER_BOOT: JSON.stringify(opts.boot),
      });
      if (opts.cudaVisibleDevices !== undefined) env.CUDA_VISIBLE_DEVICES = opts.cudaVisibleDevices;
      // Loaded on first use: most programs never start a process worker.
      const { fork } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
      const p = fork(fileURLToPath(mainUrl), [], {
        env,
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        execArgv: [
          ...process.execArgv.filter((a) => !a.startsWith('--inspect') && !a.startsWith('--max-old-space-size')),
          ...(opts.heapMb > 0 ? [`--max-old-space-size=${opts.heapMb}`] : []),
        ],
      });
      this.proc = p;
      this.pid = p.pid ?? 0;
      p.on('message', receive as (m: unknown) => void);
      p.on('exit', (code, signal) => {
        if (!this.exitReason) {
          this.exitReason = 'crash';
          this.exitDetail = signal ? `killed by ${signal}` : `exit code ${code}`;
        }
        this.exited(code ?? 1);
      });
      p.on('error', (err) => {
        this.exitReason ??= 'crash';
        this.exitDetail = err.message;
      });
      if (p.stdout) this.pipe(p.stdout, process.stdout, opts.logToDriver);
      if (p.stderr) this.pipe(p.stderr, process.stderr, opts.logToDriver);
      p.unref();
      (p as unknown as { channel?: { unref(): void } }).channel?.unref();
    }
  }

  private pipe(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, enabled: boolean): void {
    if (enabled) from.on('data', (chunk: Buffer) => to.write(chunk));
    else from.resume();
  }

  private exited(code: number): void {
    if (this.dead) return;
    this.dead = true;
    if (!this.exitReason) {
      this.exitReason = code === 0 ? 'terminated' : 'crash';
      if (code !== 0) this.exitDetail = `exit code ${code}`;
    }
    this.onExit(this);
  }

  /** Queues a message; all messages queued in this turn are posted together. */
  send(msg: ToWorker): void {
    if (this.dead) return;
    this.outbox.push(msg);
    // Long bursts go out in chunks, so the worker starts on the first while the rest are made.
    if (this.outbox.length >= 256) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.dead || this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.posted = true;
    if (this.thread) this.thread.postMessage(batch);
    else this.proc?.send(unshare(batch) as object);
  }

  /**
   * Calls `cb` once the worker has loaded its modules and, if work was sent to it meanwhile, has
   * answered it (a result, a request, output): at once if it has.
   */
  onReady(cb: () => void): void {
    if (this.readiness === 'ready') cb();
    else this.readyCallbacks.push(cb);
  }

  /** Stops the worker now (a force-cancel, a kill, or shutdown). */
  terminate(reason: 'terminated' | 'crash' = 'terminated', detail = ''): void {
    if (this.dead) return;
    this.exitReason = reason;
    this.exitDetail = detail;
    if (this.thread) void this.thread.terminate();
    else this.proc?.kill('SIGKILL');
  }
}
