/**
 * Reading a node's log files (Ray's log agent): list them, and read one (its last lines, then,
 * following, what is written after, across rotations), found by file name or as the log of an
 * actor, a task or a worker's pid. Only plain names of the node's log directories are read (no
 * path, no `..`, no symbolic link): anything else is refused with LogPathError. Reads are bounded
 * (`logReadMaxBytes`, in chunks of {@link CHUNK_BYTES}).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogNotFoundError, LogPathError } from '../errors.js';
import { ignored } from '../log.js';
import type { WorkerLogFiles } from '../node/worker-log-files.js';

/** The most bytes read at a time. */
export const CHUNK_BYTES = 64 * 1024;

/** A log file of a node (Ray's categories where they fit). */
export interface LogFileInfo {
  readonly name: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly category: 'worker_out' | 'worker_err' | 'raylet' | 'driver' | 'internal';
}

/** Which log (exactly one of `filename`, `actorId`, `taskId`, `pid`) and how much of it. */
export interface LogRequest {
  readonly filename?: string;
  readonly actorId?: string;
  readonly taskId?: string;
  readonly pid?: number;
  /** Actor, task, pid: the `.err` file (default: `.out`). */
  readonly err?: boolean;
  /** The last this many lines (<= 0 or absent: all of it, up to `logReadMaxBytes`). */
  readonly lines?: number;
  /** Then what is written after, until `signal` aborts. */
  readonly follow?: boolean;
  /** A file (or an actor's, a pid's): from this byte on, at most `logReadMaxBytes` (unless following), instead of its last lines. */
  readonly offset?: number;
}

/** A log found: its file name, and its text in chunks. */
export interface OpenedLog {
  readonly filename: string;
  readonly chunks: AsyncIterable<string>;
}

/** The logs of one node, here or reached over the network. */
export interface LogSource {
  list(glob?: string): Promise<LogFileInfo[]>;
  /** Finds the log (LogNotFoundError, LogPathError when not) and reads it until done or `signal`. */
  open(req: LogRequest, signal: AbortSignal): Promise<OpenedLog>;
}

export function categoryOf(name: string): LogFileInfo['category'] {
  if (/^worker-.*\.out(\.\d+)?$/.test(name)) return 'worker_out';
  if (/^worker-.*\.err(\.\d+)?$/.test(name)) return 'worker_err';
  if (/^raylet\.(out|err)(\.\d+)?$/.test(name)) return 'raylet';
  if (/^job-.*\.log$/.test(name)) return 'driver';
  return 'internal';
}

/** A glob of file names (`*`, `?`) as a RegExp. */
export function globRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

/** Checks that `name` is a plain file name (LogPathError if not). */
export function checkLogName(name: string): void {
  if (!/^[\w][\w.-]*$/.test(name) || name.includes('..'))
    throw new LogPathError(
      `'${name}' is not the name of a log file: give a file name as 'ray-ts logs' lists them (no directory, no '..').`,
    );
}

export interface NodeLogReaderOptions {
  readonly nodeId: string;
  /** The directories whose files are this node's logs (its own first). */
  readonly dirs: readonly string[];
  readonly files: () => WorkerLogFiles | undefined;
  readonly readMaxBytes: number;
  /** How often a follower looks for new output. */
  readonly pollMs: number;
}

export class NodeLogReader implements LogSource {
  constructor(private readonly o: NodeLogReaderOptions) {}

  async list(glob = ''): Promise<LogFileInfo[]> {
    const match = glob && glob !== '*' ? globRegExp(glob) : undefined;
    const out: LogFileInfo[] = [];
    for (const dir of this.o.dirs) {
      const entries = await fs
        .readdir(dir, { withFileTypes: true })
        .catch(ignored('a log directory not made yet (nothing written there)'));
      for (const e of entries ?? []) {
        if (!e.isFile() || (match && !match.test(e.name))) continue;
        const st = await fs.stat(path.join(dir, e.name)).catch(ignored('a file rotated away while listed'));
        if (st) out.push({ name: e.name, sizeBytes: st.size, mtimeMs: st.mtimeMs, category: categoryOf(e.name) });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async open(req: LogRequest, signal: AbortSignal): Promise<OpenedLog> {
    const lines = req.lines ?? 0;
    const err = req.err ?? false;
    if (req.taskId) {
      const found = this.o.files()?.taskLog(req.taskId, err);
      if (!found)
        throw new LogNotFoundError(`Task ${req.taskId} wrote no log lines on node ${this.o.nodeId}.`, {
          taskId: req.taskId,
        });
      return { filename: found.pieces[0]?.filename ?? '', chunks: this.readTask(found, lines) };
    }
    const filename = await this.filenameOf(req, err);
    const file = await this.pathOf(filename);
    return { filename, chunks: this.readFile(file, { lines, offset: req.offset }, req.follow ?? false, signal) };
  }

  private async filenameOf(req: LogRequest, err: boolean): Promise<string> {
    if (req.filename) return req.filename;
    if (req.actorId) {
      const name = this.o.files()?.actorLog(req.actorId, err);
      if (!name)
        throw new LogNotFoundError(
          `Actor ${req.actorId} wrote no ${err ? 'errors (stderr)' : 'output (stdout)'} on node ${this.o.nodeId}.`,
          { actorId: req.actorId },
        );
      return name;
    }
    if (req.pid) {
      const suffix = `-${req.pid}.${err ? 'err' : 'out'}`;
      const found = (await this.list()).filter((f) => f.name.startsWith('worker-') && f.name.endsWith(suffix));
      // Worker threads share their node's pid: the one written last is the likeliest meant.
      const newest = found.sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
      if (!newest) throw new LogNotFoundError(`No worker with pid ${req.pid} wrote a log on node ${this.o.nodeId}.`);
      return newest.name;
    }
    throw new LogPathError('Say which log: a file name, an actor id, a task id or a worker pid.');
  }

  /** The path of the log file `name` (a plain name, a regular file in one of the log directories). */
  private async pathOf(name: string): Promise<string> {
    checkLogName(name);
    for (const dir of this.o.dirs) {
      const p = path.join(dir, name);
      const st = await fs.lstat(p).catch(ignored('not in this log directory; the next one is looked in'));
      if (st?.isFile()) return p;
    }
    throw new LogNotFoundError(
      `No log file '${name}' on node ${this.o.nodeId}: 'ray-ts logs --node-id ${this.o.nodeId}' lists its files.`,
    );
  }

  private async *readTask(
    found: { pieces: readonly { filename: string; from: number; to: number }[]; lostBytes: number },
    lines: number,
  ): AsyncGenerator<string> {
    const parts: Buffer[] = [];
    let total = 0;
    let lost = found.lostBytes;
    // The last pieces first, up to the bound, then in order.
    for (const p of [...found.pieces].reverse()) {
      const room = this.o.readMaxBytes - total;
      if (room <= 0) break;
      const from = Math.max(p.from, p.to - room);
      const b = await readRange(path.join(this.o.dirs[0], p.filename), from, p.to);
      if (!b) lost += p.to - p.from;
      else {
        parts.unshift(b);
        total += b.length;
      }
    }
    let text = Buffer.concat(parts).toString('utf8');
    if (lines > 0) text = lastLines(text, lines);
    if (lost > 0) yield `[ray-ts: ${lost} bytes of this task's output are in log files rotated away since]\n`;
    for (let i = 0; i < text.length; i += CHUNK_BYTES) yield text.slice(i, i + CHUNK_BYTES);
  }

  private async *readFile(
    file: string,
    from: { lines: number; offset?: number },
    follow: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<string> {
    let fh = await fs.open(file, 'r');
    try {
      let ino = (await fh.stat()).ino;
      let pos = from.offset ?? (await tailStart(fh, from.lines, this.o.readMaxBytes));
      const end = from.offset !== undefined && !follow ? from.offset + this.o.readMaxBytes : Infinity;
      const buf = Buffer.alloc(CHUNK_BYTES);
      let decoder = new StringDecoder('utf8');
      while (!signal.aborted) {
        const n = (await fh.read(buf, 0, Math.min(buf.length, end - pos), pos)).bytesRead;
        if (n > 0) {
          pos += n;
          const text = decoder.write(buf.subarray(0, n));
          if (text) yield text;
          continue;
        }
        if (!follow) break;
        // At its end: rotated (a new file under the name) or truncated, read the new one from its start.
        const now = await fs.stat(file).catch(ignored('rotated: the new file is not made yet'));
        if (now && (now.ino !== ino || now.size < pos)) {
          const next = await fs.open(file, 'r').catch(ignored('rotated again meanwhile; looked for again'));
          if (next) {
            await fh.close();
            fh = next;
            ino = now.ino;
            pos = 0;
            const rest = decoder.end();
            if (rest) yield rest;
            decoder = new StringDecoder('utf8');
            continue;
          }
        }
        await sleep(this.o.pollMs, undefined, { signal }).catch(ignored('the follower went away'));
      }
      const rest = decoder.end();
      if (rest && !signal.aborted) yield rest;
    } finally {
      await fh.close();
    }
  }
}

/** Bytes [from, to) of `file` (undefined: the file is gone). */
async function readRange(file: string, from: number, to: number): Promise<Buffer | undefined> {
  const fh = await fs.open(file, 'r').catch(ignored('a log file rotated away: its bytes are counted as lost'));
  if (!fh) return undefined;
  try {
    const b = Buffer.alloc(to - from);
    const { bytesRead } = await fh.read(b, 0, b.length, from);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The last `n` lines of `text` (a last line without its newline counts). */
export function lastLines(text: string, n: number): string {
  let at = text.endsWith('\n') ? text.length - 1 : text.length;
  for (let i = 0; i < n; i++) {
    at = text.lastIndexOf('\n', at - 1);
    if (at < 0) return text;
  }
  return text.slice(at + 1);
}

/**
 * Where the last `lines` lines of an open file start (0 for all of it), never more than
 * `maxBytes` before its end.
 */
export async function tailStart(fh: fs.FileHandle, lines: number, maxBytes: number): Promise<number> {
  const size = (await fh.stat()).size;
  const floor = Math.max(0, size - maxBytes);
  if (lines <= 0) return floor;
  const buf = Buffer.alloc(CHUNK_BYTES);
  let end = size;
  let seen = 0;
  // A last line without its newline counts as a line; a final newline does not start one.
  let skipFinal = true;
  while (end > floor) {
    const start = Math.max(floor, end - buf.length);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipFinal = false;
        continue;
      }
      if (skipFinal && start + i === size - 1) {
        skipFinal = false;
        continue;
      }
      if (++seen === lines) return start + i + 1;
    }
    end = start;
  }
  return floor;
}
