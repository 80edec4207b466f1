/**
 * A node's spill files: one per spilled object, named by its id in the spill directory. A spill
 * is written to a temporary file and renamed to its name only once every byte is written (and
 * fsynced, when asked), so a file under an object's name is always whole; a failed write leaves
 * nothing behind. Reading back checks the file's length first: a changed file fails, it is never
 * padded. The file system is a seam (`SpillIo`), so unit tests inject failing writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ObjectLostError } from '../errors.js';
import { isObjectId } from '../ids.js';
import { ignored } from '../log.js';

/** The file system calls spilling makes (node:fs by default). */
export type SpillIo = Pick<
  typeof fs,
  | 'openSync'
  | 'writeSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
  | 'readSync'
  | 'fstatSync'
  | 'mkdirSync'
  | 'rmSync'
>;

export interface SpillOptions {
  /** fsync each file before publishing it (config `spillFsync`). */
  fsync?: boolean;
  io?: SpillIo;
}

/** What a spill came to: the file that holds every byte, or why there is none. */
export type SpillWrite = { ok: true; path: string } | { ok: false; reason: string; cause: unknown };

export class SpillFiles {
  private dirMade = false;
  private readonly io: SpillIo;
  private readonly fsync: boolean;

  constructor(
    readonly dir: string,
    opts: SpillOptions = {},
  ) {
    this.io = opts.io ?? fs;
    this.fsync = opts.fsync ?? false;
  }

  /** Writes the bytes of object `id` to its file; nothing is left on disk unless all of them are. */
  write(id: string, b: Uint8Array): SpillWrite {
    // An id names a file only in its exact format: no separators, no `..`, nothing a peer made up.
    if (!isObjectId(id)) return { ok: false, reason: `'${id.slice(0, 80)}' is not an object id`, cause: undefined };
    const io = this.io;
    const final = path.join(this.dir, id);
    const tmp = `${final}.tmp`;
    let fd: number | undefined;
    try {
      if (!this.dirMade) {
        io.mkdirSync(this.dir, { recursive: true });
        this.dirMade = true;
      }
      fd = io.openSync(tmp, 'w');
      let off = 0;
      while (off < b.byteLength) {
        const n = io.writeSync(fd, b, off, b.byteLength - off);
        if (!(n > 0)) throw new Error(`write returned ${n} at byte ${off} of ${b.byteLength}`);
        off += n;
      }
      if (this.fsync) io.fsyncSync(fd);
      const closing = fd;
      fd = undefined;
      io.closeSync(closing); // close reports some write errors (NFS, quotas): the file is not whole then
      io.renameSync(tmp, final);
      return { ok: true, path: final };
    } catch (err) {
      if (fd !== undefined) {
        try {
          io.closeSync(fd);
        } catch (closeErr) {
          ignored(`closing ${tmp} after a failed spill (the write's error is reported)`)(closeErr);
        }
      }
      this.remove(tmp);
      return { ok: false, reason: errorText(err), cause: err };
    }
  }

  /**
   * Reads object `id`'s `size` bytes from `file` into `into`. Throws ObjectLostError (naming the
   * object and the file) if the file is gone, unreadable, or not exactly `size` bytes long.
   */
  read(id: string, file: string, size: number, into: Uint8Array): void {
    const io = this.io;
    let fd: number | undefined;
    try {
      fd = io.openSync(file, 'r');
      const length = io.fstatSync(fd).size;
      if (length !== size) throw new Error(`it has ${length} bytes where ${size} were written`);
      let off = 0;
      while (off < size) {
        const n = io.readSync(fd, into, off, size - off, off);
        if (n === 0) throw new Error(`it ended at byte ${off} of ${size} while being read`);
        off += n;
      }
    } catch (err) {
      throw new ObjectLostError(
        `Object ${id} is lost: its spill file ${file} cannot be read back (${errorText(err)}); ` +
          `it was changed or removed outside ray-ts, or the disk failed. Keep the spill directory ` +
          `(config spillDirectory) to ray-ts alone, on a healthy disk.`,
        { objectId: id, cause: err },
      );
    } finally {
      if (fd !== undefined) {
        try {
          io.closeSync(fd);
        } catch (closeErr) {
          ignored(`closing spill file ${file} after reading it`)(closeErr);
        }
      }
    }
  }

  /** Removes a file now (a freed object's space is free for the next spill at once). */
  remove(file: string): void {
    try {
      this.io.rmSync(file, { force: true });
    } catch (err) {
      ignored(`removal of spill file ${file} (the directory is removed at shutdown)`)(err);
    }
  }

  /** Removes the directory and everything in it (at shutdown). */
  removeAll(): void {
    if (this.dirMade) this.io.rmSync(this.dir, { recursive: true, force: true });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
