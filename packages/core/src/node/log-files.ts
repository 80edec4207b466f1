/**
 * A log file written in the background and rotated by size (Ray's RAY_ROTATION_MAX_BYTES and
 * RAY_ROTATION_BACKUP_COUNT): what is appended in one turn is written with one `appendFile`
 * after the turn, never with a write per call; once an append would take the file past
 * `maxBytes`, `file` becomes `file.1` (`file.1` becomes `file.2`, ...; `backupCount` are kept)
 * and the append starts a new `file`. An append is never split across two files.
 *
 * Every byte appended has an offset in the file's whole history (`written`), so that a range of
 * it (the lines a task wrote) can be found again after rotations: {@link RotatingFile.pieces}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ignored } from '../log.js';

/** How a file rotates: see the module's comment. */
export interface RotationPolicy {
  readonly maxBytes: number;
  readonly backupCount: number;
}

/** Bytes of one file waiting for the disk beyond which appends are dropped (and counted in the file). */
export const PENDING_MAX_BYTES = 16 * 1024 * 1024;

/** A range of a file's history in one of its files: `suffix` 0 is `file`, 1 is `file.1`, ... */
export interface FilePiece {
  readonly suffix: number;
  readonly from: number;
  readonly to: number;
}

/**
 * Where the history range [start, end) lies now, given the history offset each kept file starts
 * at (`starts[0]`: the current file's, `starts[1]`: `file.1`'s, ...). A part rotated away is
 * counted in `lostBytes`.
 */
export function piecesOf(
  starts: readonly number[],
  start: number,
  end: number,
): { pieces: FilePiece[]; lostBytes: number } {
  const pieces: FilePiece[] = [];
  let lostBytes = 0;
  let at = start;
  // Oldest file first, so that the pieces come in the order they were written.
  for (let k = starts.length - 1; k >= 0 && at < end; k--) {
    const fileStart = starts[k];
    const fileEnd = k === 0 ? Infinity : starts[k - 1];
    if (at < fileStart) {
      lostBytes += Math.min(end, fileStart) - at;
      at = Math.min(end, fileStart);
    }
    if (at >= fileEnd || at >= end) continue;
    const to = Math.min(end, fileEnd);
    pieces.push({ suffix: k, from: at - fileStart, to: to - fileStart });
    at = to;
  }
  if (at < end) lostBytes += end - at;
  return { pieces, lostBytes };
}

type Op = { k: 'text'; text: string } | { k: 'rotate' };

export class RotatingFile {
  /** Bytes appended over the file's history (what is still waiting for the disk included). */
  written = 0;
  /** History offsets where the kept files start: [current, .1, .2, ...]. */
  readonly starts: number[] = [0];
  private size = 0;
  private ops: Op[] = [];
  private pendingBytes = 0;
  private droppedBytes = 0;
  private draining: Promise<void> | undefined;
  private failed = false;

  constructor(
    readonly file: string,
    private readonly policy: RotationPolicy,
  ) {}

  /** Appends `text` (written after this turn); returns its range in the file's history. */
  append(text: string): { start: number; end: number } {
    const bytes = Buffer.byteLength(text);
    if (this.pendingBytes + bytes > PENDING_MAX_BYTES) {
      this.droppedBytes += bytes;
      return { start: this.written, end: this.written };
    }
    if (this.droppedBytes > 0) {
      const note = `[ray-ts: ${this.droppedBytes} bytes of output were dropped here: written faster than the disk took them]\n`;
      this.droppedBytes = 0;
      this.append(note);
    }
    if (this.size > 0 && this.size + bytes > this.policy.maxBytes) {
      this.ops.push({ k: 'rotate' });
      this.starts.unshift(this.written);
      this.starts.length = Math.min(this.starts.length, this.policy.backupCount + 1);
      this.size = 0;
    }
    const start = this.written;
    const last = this.ops[this.ops.length - 1];
    if (last?.k === 'text') last.text += text;
    else this.ops.push({ k: 'text', text });
    this.size += bytes;
    this.written += bytes;
    this.pendingBytes += bytes;
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    return { start, end: this.written };
  }

  /** Resolves once everything appended so far is on disk (or failed to be written). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.ops.length > 0) {
        const op = this.ops.shift()!;
        if (op.k === 'rotate') await this.rotate();
        else {
          this.pendingBytes -= Buffer.byteLength(op.text);
          await fs.promises.appendFile(this.file, op.text).catch((err: Error) => this.fail(err));
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async rotate(): Promise<void> {
    const { backupCount } = this.policy;
    const name = (k: number) => (k === 0 ? this.file : `${this.file}.${k}`);
    const skip = ignored('a kept file not there yet (fewer rotations so far than the backups kept)');
    if (backupCount === 0) await fs.promises.rm(this.file, { force: true }).catch((err: Error) => this.fail(err));
    else {
      await fs.promises.rm(name(backupCount), { force: true }).catch(skip);
      for (let k = backupCount - 1; k >= 0; k--) await fs.promises.rename(name(k), name(k + 1)).catch(skip);
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true; // said once: a full disk would say it on every write
    process.stderr.write(`ray-ts: cannot write the log file ${this.file}: ${err.message}\n`);
  }
}

/** Makes `dir` (and its parents) for log files; false when it cannot be made (said on stderr). */
export function makeLogDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    return true;
  } catch (err) {
    process.stderr.write(`ray-ts: cannot make the log directory ${path.resolve(dir)}: ${(err as Error).message}\n`);
    return false;
  }
}
