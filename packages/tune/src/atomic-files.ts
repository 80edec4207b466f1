/**
 * Crash-safe writes for checkpoints and state files. A new version is written beside the target
 * under a unique hidden name (`.<name>.tmp-<pid>-<random>`), flushed to disk (fsync) and renamed
 * into place, then the parent folder is flushed: a crash at any moment leaves the previous version
 * or the new one, whole, never a mix. A folder that already exists (a checkpoint taken again at the
 * same iteration) is moved aside (`.<name>.old-...`) only once its replacement is whole, and removed
 * after the swap; {@link recoverDir} puts it back if a crash came between the two renames. A folder
 * is deleted by renaming it to a hidden name first ({@link removeDir}), so that a crash midway
 * never leaves half a checkpoint under its real name. Leftovers of a crash are hidden names that
 * readers never look at; {@link removeLeftovers} deletes them when a run restores.
 */
import { randomBytes } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * What a write or a removal in progress (or cut short) leaves: `.<base>.tmp-<id>` (a new version
 * being written), `.<base>.old-<id>` (the previous version, whole, moved aside for the swap),
 * `.<base>.del-<id>` (a folder being deleted).
 */
const LEFTOVER = /^\.(.+)\.(tmp|old|del)-\d+-[0-9a-f]+$/;

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

function sibling(target: string, kind: 'tmp' | 'old' | 'del', suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${suffix}`);
}

/**
 * Whether `err`, from opening or flushing a folder, says the filesystem cannot do it (Windows, some
 * network mounts): those still get the atomic rename, without the flush.
 */
function cannotFlushFolders(err: unknown): boolean {
  return ['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'].includes(
    (err as NodeJS.ErrnoException).code ?? '',
  );
}

/** Flushes a folder's entries (names created, renamed or removed in it) to disk. */
function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (err) {
    if (cannotFlushFolders(err)) return;
    throw err;
  }
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    if (!cannotFlushFolders(err)) throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link fsyncDir}, off the event loop. */
async function fsyncDirAsync(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fsp.open(dir, 'r');
  } catch (err) {
    if (cannotFlushFolders(err)) return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    if (!cannotFlushFolders(err)) throw err;
  } finally {
    await fh.close();
  }
}

/** Flushes every file and folder under `dir` (symbolic links are left as they are). */
function fsyncTree(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else if (e.isFile()) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

/**
 * Writes `data` to `file` so that a crash leaves the old file or the new one, never half of
 * either: a unique temporary file beside it, written and flushed, renamed over `file`, and the
 * folder flushed. The temporary file is removed if the write fails.
 *
 * @example writeFileAtomic(path.join(dir, 'experiment_state.json'), JSON.stringify(state));
 */
export function writeFileAtomic(file: string, data: string | NodeJS.ArrayBufferView): void {
  const tmp = sibling(file, 'tmp', uniqueSuffix());
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/**
 * {@link writeFileAtomic} off the event loop: the writes and flushes run in libuv's thread pool
 * (a flush can take milliseconds). The same guarantee; resolves once the file is on disk.
 */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = sibling(file, 'tmp', uniqueSuffix());
  try {
    const fh = await fsp.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDirAsync(path.dirname(file));
}

/**
 * Writes folder `dir` whole or not at all: `fill(tmp)` writes the files into a new, empty,
 * uniquely named folder beside `dir`; everything is flushed and the folder renamed to `dir`. If
 * `dir` exists (a checkpoint taken again at the same iteration), it stays until the new one is
 * whole, is then moved aside, and removed after the swap. If `fill` or a flush throws, the
 * temporary folder goes and `dir` is as it was.
 *
 * @returns `dir`, resolved.
 * @example writeDirAtomic('ckpt/checkpoint_000004', (tmp) => fs.writeFileSync(path.join(tmp, 'w.bin'), bytes));
 */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): string {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const suffix = uniqueSuffix();
  const tmp = sibling(target, 'tmp', suffix);
  let old: string | undefined;
  try {
    fs.mkdirSync(tmp);
    fill(tmp);
    fsyncTree(tmp);
    if (fs.existsSync(target)) {
      old = sibling(target, 'old', suffix);
      fs.renameSync(target, old);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Moved aside but not replaced: put the previous version back.
    if (old && !fs.existsSync(target) && fs.existsSync(old)) fs.renameSync(old, target);
    throw err;
  }
  fsyncDir(parent);
  if (old) removeDir(old);
  return target;
}

/**
 * Deletes folder `dir` (if there) so that a crash midway leaves no half of it under its name: it is
 * renamed to a hidden leftover name first, then removed.
 */
export function removeDir(dir: string): void {
  const target = path.resolve(dir);
  const doomed = sibling(target, 'del', uniqueSuffix());
  try {
    fs.renameSync(target, doomed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  fs.rmSync(doomed, { recursive: true, force: true });
}

/**
 * Makes a new empty scratch folder beside `target`, named as a leftover (`.<name>.tmp-...`), so
 * that one a crash leaves behind is ignored and later removed by {@link removeLeftovers}.
 */
export function makeTempDir(target: string): string {
  const tmp = sibling(path.resolve(target), 'tmp', uniqueSuffix());
  fs.mkdirSync(tmp);
  return tmp;
}

/**
 * Makes sure folder `dir` is there if a whole version of it is: when a crash came between moving
 * the previous version aside and renaming the new one into place, the previous one is put back.
 * Returns whether `dir` exists.
 */
export function recoverDir(dir: string): boolean {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) return true;
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return false;
  const prefix = `.${path.basename(target)}.old-`;
  const old = fs.readdirSync(parent).find((n) => n.startsWith(prefix) && LEFTOVER.test(n));
  if (!old) return false;
  fs.renameSync(path.join(parent, old), target);
  fsyncDir(parent);
  return true;
}

/**
 * Cleans what crashed writes left in `dir`: a moved-aside previous version whose target is
 * missing is put back ({@link recoverDir}); other leftovers (temporary files and folders, which
 * never count, and superseded old versions) are deleted. Call it when no write into `dir` is under
 * way (a restore, the start of a run). Returns the names it deleted.
 */
export function removeLeftovers(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  const names = fs.readdirSync(dir).filter((n) => LEFTOVER.test(n));
  for (const n of names.filter((x) => LEFTOVER.exec(x)![2] === 'old')) recoverDir(path.join(dir, LEFTOVER.exec(n)![1]));
  for (const n of names) {
    const p = path.join(dir, n);
    if (!fs.existsSync(p)) continue; // put back in place above
    fs.rmSync(p, { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}
