/**
 * Worker output on its way to the drivers of its jobs (Ray's log_to_driver, without Ray's log
 * files, log monitor and GCS pub/sub): a node queues the console lines of its workers per job and
 * sends them on the peer stream to the node of the job's driver, which prints them.
 * - `JobDrivers`: where each job's driver is, from the GCS's job events and the view (a driver is
 *   a node of the view, with its job).
 * - `LogRouter`: the queues, bounded. A job's lines go in batches of at most `logBatchMaxLines`
 *   lines and `logBatchMaxBytes`, one batch per job every `logFlushMs` at most (the first at the
 *   end of the turn, in the same peer batch as the results of the tasks that wrote them). Up to
 *   `logQueueMaxBytes` of a job wait; beyond, lines are dropped and counted, and the next batch
 *   says how many. Lines of a finished job are dropped; those of a job whose driver is not known
 *   yet (its job event or view may come after its first tasks) wait `logUnknownJobGraceMs`.
 */
import { systemClock, type Clock } from '../clock.js';
import type { RuntimeConfig } from '../config.js';
import type { WorkerLogLine } from '../node/ports.js';
import { Deque } from '../runtime/deque.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import { workerLogsToWire } from './wire.js';

/** Where a job's driver is, as this node knows. */
export type DriverPlace = { kind: 'node'; nodeId: string } | { kind: 'finished' } | { kind: 'unknown' };

/** Finished jobs remembered (older ones read as unknown: their lines wait the grace, then go). */
const FINISHED_KEPT = 1024;

export class JobDrivers {
  private readonly drivers = new Map<string, string>();
  /** In the order they finished. */
  private readonly finished = new Set<string>();

  constructor(private readonly view: { nodes(): Iterable<NodeInfo__Output> }) {}

  /** A job event of the GCS (RUNNING with its driver's node, or one that ended). */
  jobEvent(jobId: string, state: string, driverNodeId: string): void {
    if (state === 'RUNNING') {
      if (driverNodeId && !this.finished.has(jobId)) this.drivers.set(jobId, driverNodeId);
    } else if (state !== 'PENDING') this.ended(jobId);
  }

  /** A node left the view: a driver's job is over. */
  nodeLost(info: Pick<NodeInfo__Output, 'isDriver' | 'jobId'>): void {
    if (info.isDriver && info.jobId) this.ended(info.jobId);
  }

  private ended(jobId: string): void {
    this.drivers.delete(jobId);
    this.finished.add(jobId);
    if (this.finished.size > FINISHED_KEPT) this.finished.delete(this.finished.values().next().value!);
  }

  where(jobId: string): DriverPlace {
    const nodeId = this.drivers.get(jobId);
    if (nodeId) return { kind: 'node', nodeId };
    if (this.finished.has(jobId)) return { kind: 'finished' };
    for (const n of this.view.nodes()) {
      if (n.isDriver && n.jobId === jobId && n.state === 'ALIVE') {
        this.drivers.set(jobId, n.nodeId);
        return { kind: 'node', nodeId: n.nodeId };
      }
    }
    return { kind: 'unknown' };
  }
}

export type LogRouterConfig = Pick<
  RuntimeConfig,
  'logFlushMs' | 'logBatchMaxLines' | 'logBatchMaxBytes' | 'logQueueMaxBytes' | 'logUnknownJobGraceMs'
>;

interface JobQueue {
  readonly lines: Deque<WorkerLogLine>;
  bytes: number;
  /** Lines dropped since the last batch (the queue was full). */
  dropped: number;
  /** When the queue was made: a job whose driver stays unknown this long loses its lines. */
  readonly since: number;
}

/** About what a line costs on the wire (its text's bytes, and a little for the rest). */
function lineBytes(l: WorkerLogLine): number {
  return Buffer.byteLength(l.text) + l.name.length + 16;
}

export class LogRouter {
  private readonly queues = new Map<string, JobQueue>();
  private flushPending = false;
  private cancelTimer: (() => void) | undefined;
  private lastFlushAt = -Infinity;
  private stopped = false;

  constructor(
    private readonly drivers: Pick<JobDrivers, 'where'>,
    private readonly send: (nodeId: string, msg: PeerMessage) => void,
    private readonly config: LogRouterConfig,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Queues a line for the driver of `jobId`. */
  forward(jobId: string, line: WorkerLogLine): void {
    if (this.stopped) return;
    let q = this.queues.get(jobId);
    if (!q) {
      if (this.drivers.where(jobId).kind === 'finished') return;
      q = { lines: new Deque(), bytes: 0, dropped: 0, since: this.clock.now() };
      this.queues.set(jobId, q);
    }
    const max = this.config.logBatchMaxBytes;
    let size = lineBytes(line);
    if (size > max) {
      line = { ...line, text: truncated(line.text, max - line.name.length - 80) };
      size = lineBytes(line);
    }
    if (q.bytes + size > this.config.logQueueMaxBytes) q.dropped++;
    else {
      q.lines.push(line);
      q.bytes += size;
    }
    this.schedule();
  }

  /** Lines waiting, all jobs together (for tests and diagnostics). */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.lines.length;
    return n;
  }

  /** Flushes at the end of this turn, or when `logFlushMs` have passed since the last flush. */
  private schedule(): void {
    if (this.flushPending || this.stopped) return;
    this.flushPending = true;
    const wait = this.lastFlushAt + this.config.logFlushMs - this.clock.now();
    if (wait <= 0) queueMicrotask(() => this.flush());
    else this.cancelTimer = this.clock.after(wait, () => this.flush());
  }

  /** Sends one batch of each job whose driver is known; drops what is due to go. */
  flush(): void {
    this.flushPending = false;
    this.cancelTimer = undefined;
    const now = this.clock.now();
    this.lastFlushAt = now;
    const { logUnknownJobGraceMs } = this.config;
    for (const [jobId, q] of this.queues) {
      const where = this.drivers.where(jobId);
      if (where.kind !== 'node') {
        if (where.kind === 'finished' || now - q.since >= logUnknownJobGraceMs) this.queues.delete(jobId);
        continue;
      }
      this.sendBatch(jobId, q, where.nodeId);
    }
    if (this.queues.size > 0) this.schedule();
  }

  /**
   * Sends now, whatever the last flush, the lines of the jobs whose driver is at `nodeId`: called
   * before a task's results go there, so that what a task printed reaches its driver before its
   * result does (a driver that exits on the result would otherwise lose the lines held back by
   * `logFlushMs`). They go in the same peer batch as the result.
   */
  flushTo(nodeId: string): void {
    if (this.stopped) return;
    for (const [jobId, q] of this.queues) {
      const where = this.drivers.where(jobId);
      if (where.kind === 'node' && where.nodeId === nodeId) {
        while (q.lines.length > 0) this.sendBatch(jobId, q, nodeId);
      }
    }
  }

  /** Sends one batch of `q`'s lines (and its count of dropped ones) to the driver's node. */
  private sendBatch(jobId: string, q: JobQueue, nodeId: string): void {
    const { logBatchMaxLines, logBatchMaxBytes } = this.config;
    const lines: WorkerLogLine[] = [];
    let bytes = 0;
    for (let l = q.lines.peek(); l && lines.length < logBatchMaxLines; l = q.lines.peek()) {
      const b = lineBytes(l);
      if (lines.length > 0 && bytes + b > logBatchMaxBytes) break;
      q.lines.shift();
      lines.push(l);
      bytes += b;
    }
    q.bytes -= bytes;
    this.send(nodeId, { workerLogs: workerLogsToWire(jobId, lines, q.dropped) });
    q.dropped = 0;
    if (q.lines.length === 0) this.queues.delete(jobId);
  }

  /** Sends what can go now, then stops (the node leaves the cluster). */
  stop(): void {
    if (this.stopped) return;
    this.cancelTimer?.();
    this.flush();
    this.stopped = true;
    this.queues.clear();
  }
}

/** The start of `text`, within about `maxBytes`, saying how much was cut. */
function truncated(text: string, maxBytes: number): string {
  const b = Buffer.from(text);
  let end = Math.max(0, maxBytes);
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // not inside a character
  return `${b.subarray(0, end).toString()}... (${b.length - end} more bytes not sent)`;
}
