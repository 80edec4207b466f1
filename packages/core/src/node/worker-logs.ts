/**
 * Where the console output of workers goes (Ray's log_to_driver). A node prints its workers'
 * lines on its own stdout and stderr, prefixed with their origin, `(task pid=... worker=...)`: for
 * the embedded cluster that is the driver's output; for a node process, its log. A line of a job
 * whose driver runs elsewhere also goes to the driver's node through the cluster (`LogLink`),
 * which prints it there as Ray does, `(task pid=..., ip=<node address>)`, so that the driver's
 * output (and a submitted job's log) holds what its work wrote on every node. On a node with a
 * log directory, every line also goes to its worker's log file (worker-log-files.ts).
 */
import type { RuntimeConfig } from '../config.js';
import type { LogLink, WorkerLogLine } from './ports.js';
import type { WorkerLogFiles } from './worker-log-files.js';

/** A console call of a worker, as it reaches its node. */
export interface WorkerConsoleLine {
  readonly jobId: string;
  readonly name: string;
  readonly err: boolean;
  readonly text: string;
  readonly taskId?: string;
  readonly actorId?: string;
}

/** Where printed lines go: the process's stdout and stderr (a seam for tests). */
export interface LogOutput {
  write(err: boolean, text: string): void;
}

export const processOutput: LogOutput = {
  write(err, text) {
    (err ? process.stderr : process.stdout).write(text);
  },
};

/** `text` with `prefix` before each of its lines, ending with a newline. */
export function prefixed(prefix: string, text: string): string {
  return prefix + text.replaceAll('\n', '\n' + prefix) + '\n';
}

/** The node as its workers' output sees it. */
export interface LogNode {
  /** The job whose driver runs in this process ('' for a node process without one). */
  readonly jobId: string;
  readonly config: Pick<RuntimeConfig, 'logToDriver'>;
  readonly cluster: { readonly logs: LogLink } | undefined;
}

/** A worker, as its lines name it. */
export interface LogOrigin {
  readonly id: string;
  readonly kind: 'thread' | 'process';
  readonly pid: number;
}

export class WorkerLogs {
  /** Text printed this turn, in runs of one stream, written together at the end of the turn. */
  private runs: { err: boolean; text: string }[] = [];
  private flushQueued = false;

  constructor(
    private readonly node: LogNode,
    private readonly out: LogOutput = processOutput,
    /** The node's workers' log files, when it has a log directory. */
    readonly files?: WorkerLogFiles,
  ) {}

  /** What a console call of one of this node's workers wrote (for the driver of its job, and its log file). */
  fromWorker(w: LogOrigin, line: WorkerConsoleLine): void {
    const { jobId, name, err, text } = line;
    this.files?.write({ workerId: w.id, pid: w.pid, jobId, taskId: line.taskId, actorId: line.actorId }, err, text);
    if (this.node.config.logToDriver) {
      const tag = w.kind === 'thread' ? ` worker=${w.id.slice(-6)}` : '';
      this.print(err, prefixed(`(${name} pid=${w.pid}${tag}) `, text));
    }
    const cluster = this.node.cluster;
    if (cluster && jobId && jobId !== this.node.jobId) cluster.logs.forwardLog(jobId, { name, pid: w.pid, err, text });
  }

  /**
   * Lines of workers on the node at `origin` (its address) for `jobId`, whose driver runs here;
   * `dropped` lines of it were dropped there.
   */
  fromPeer(jobId: string, origin: string, lines: readonly WorkerLogLine[], dropped: number): void {
    if (!this.node.config.logToDriver || jobId !== this.node.jobId) return;
    if (dropped > 0) {
      this.print(
        true,
        `(ray-ts, ip=${origin}) ${dropped} line${dropped === 1 ? '' : 's'} of worker output dropped: they were ` +
          `written faster than they could be sent (RAY_TS_LOG_QUEUE_MAX_BYTES sets how much may wait).\n`,
      );
    }
    for (const l of lines) this.print(l.err, prefixed(`(${l.name} pid=${l.pid}, ip=${origin}) `, l.text));
    // At once: they arrive with the results of the tasks that wrote them, and come out before
    // what the driver's code prints once it has those results.
    this.flush();
  }

  private print(err: boolean, text: string): void {
    const last = this.runs[this.runs.length - 1];
    if (last && last.err === err) last.text += text;
    else this.runs.push({ err, text });
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Writes what was printed this turn. */
  flush(): void {
    this.flushQueued = false;
    const runs = this.runs;
    this.runs = [];
    for (const r of runs) this.out.write(r.err, r.text);
  }
}
