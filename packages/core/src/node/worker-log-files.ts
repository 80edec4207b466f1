/**
 * The log files of a node's workers (Ray's `worker-<worker id>-<job id>-<pid>.out` and `.err`, in
 * the node's log directory): a worker's console output of one job goes to its `.out` (log, info,
 * debug) or `.err` (warn, error), one line per console call, as it printed it.
 *
 * An actor's log is its worker's files (as in Ray). A task's log is the lines it wrote: each
 * console call made while a task ran is recorded as a range of its worker's file (in the file's
 * history, so rotation does not lose the place), kept in memory for the last
 * {@link TASK_RANGES_KEPT} tasks. Its limits, said in docs/observability.md: a line printed by
 * code a task started but did not await (a timer that fires after it returned) is the worker's,
 * not the task's; the ranges are lost when the node stops; and a range rotated out of the kept
 * files is gone (counted when read).
 */
import path from 'node:path';
import type { RuntimeConfig } from '../config.js';
import { makeLogDir, piecesOf, RotatingFile, type FilePiece, type RotationPolicy } from './log-files.js';

/** Tasks whose ranges are kept (the oldest are forgotten first). */
export const TASK_RANGES_KEPT = 10_000;
/** Actors whose files are known (dead ones included, so their logs stay readable; the oldest are forgotten first). */
export const ACTORS_KEPT = 100_000;

/** The worker a line came from, and what it ran. */
export interface LineOrigin {
  readonly workerId: string;
  readonly pid: number;
  readonly jobId: string;
  readonly taskId?: string;
  readonly actorId?: string;
}

/** Where (a part of) a log lies now: a file of the node's log directory and a byte range of it. */
export interface LogPiece {
  readonly filename: string;
  readonly from: number;
  readonly to: number;
}

interface Range {
  readonly file: RotatingFile;
  readonly name: string;
  start: number;
  end: number;
}

/** The file name of a worker's log of one job. */
export function workerLogName(workerId: string, jobId: string, pid: number, err: boolean): string {
  const safe = (s: string) => s.replace(/[^\w.]/g, '_') || 'nil';
  return `worker-${safe(workerId)}-${safe(jobId)}-${pid}.${err ? 'err' : 'out'}`;
}

export class WorkerLogFiles {
  private readonly files = new Map<string, RotatingFile>();
  /** Task id -> its ranges in its worker's `.out` and `.err` (insertion order: oldest first). */
  private readonly tasks = new Map<string, { out: Range[]; err: Range[] }>();
  /** Actor id -> the names of its worker's files (without the `.out`/`.err`). */
  private readonly actors = new Map<string, string>();

  constructor(
    readonly dir: string,
    private readonly policy: RotationPolicy,
  ) {}

  /** Writes a console call's text as a line of its worker's file, and records it for its task. */
  write(o: LineOrigin, err: boolean, text: string): void {
    const name = workerLogName(o.workerId, o.jobId, o.pid, err);
    let file = this.files.get(name);
    if (!file) {
      file = new RotatingFile(path.join(this.dir, name), this.policy);
      this.files.set(name, file);
    }
    const { start, end } = file.append(text.endsWith('\n') ? text : text + '\n');
    if (o.actorId && !this.actors.has(o.actorId)) {
      this.actors.set(o.actorId, name.slice(0, -4));
      if (this.actors.size > ACTORS_KEPT) this.actors.delete(this.actors.keys().next().value!);
    }
    if (!o.taskId || end === start) return;
    let t = this.tasks.get(o.taskId);
    if (!t) {
      t = { out: [], err: [] };
      this.tasks.set(o.taskId, t);
      if (this.tasks.size > TASK_RANGES_KEPT) this.tasks.delete(this.tasks.keys().next().value!);
    }
    const ranges = err ? t.err : t.out;
    const last = ranges[ranges.length - 1];
    if (last && last.file === file && last.end === start) last.end = end;
    else ranges.push({ file, name, start, end });
  }

  /** Where the lines `taskId` wrote lie now (undefined: none recorded here); `lostBytes` of them rotated away. */
  taskLog(taskId: string, err: boolean): { pieces: LogPiece[]; lostBytes: number } | undefined {
    const t = this.tasks.get(taskId);
    const ranges = t && (err ? t.err : t.out);
    if (!t || (ranges!.length === 0 && (err ? t.out : t.err).length === 0)) return undefined;
    const pieces: LogPiece[] = [];
    let lostBytes = 0;
    for (const r of ranges!) {
      const found = piecesOf(r.file.starts, r.start, r.end);
      lostBytes += found.lostBytes;
      for (const p of found.pieces) pieces.push({ filename: suffixed(r.name, p), from: p.from, to: p.to });
    }
    return { pieces, lostBytes };
  }

  /** The file name of `actorId`'s worker's `.out` or `.err` (undefined: it wrote nothing here). */
  actorLog(actorId: string, err: boolean): string | undefined {
    const base = this.actors.get(actorId);
    return base && `${base}.${err ? 'err' : 'out'}`;
  }

  /** Forgets the files of a worker that exited (once what it wrote is on disk). */
  workerExited(workerId: string): void {
    const prefix = `worker-${workerId.replace(/[^\w.]/g, '_')}-`;
    for (const [name, file] of this.files)
      if (name.startsWith(prefix))
        void file.flush().then(() => this.files.get(name) === file && this.files.delete(name));
  }

  /** Resolves once every line written so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.flush()));
  }
}

function suffixed(name: string, p: FilePiece): string {
  return p.suffix === 0 ? name : `${name}.${p.suffix}`;
}

/** The log files of a node whose log directory is `dir` (undefined: none, or it cannot be made). */
export function logFilesIn(
  dir: string | undefined,
  config: Pick<RuntimeConfig, 'logRotationMaxBytes' | 'logRotationBackupCount'>,
): WorkerLogFiles | undefined {
  if (!dir || !makeLogDir(dir)) return undefined;
  return new WorkerLogFiles(dir, { maxBytes: config.logRotationMaxBytes, backupCount: config.logRotationBackupCount });
}
