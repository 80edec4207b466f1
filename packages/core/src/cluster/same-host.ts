/**
 * Object bytes between two nodes on the same host, through shared memory instead of the network.
 *
 * A pull over gRPC copies each chunk several times on each side (protobuf, HTTP/2 framing, the
 * loopback socket). When the puller runs on the same host as the node with the bytes (same boot,
 * same network namespace, same user: nodes in separate network namespaces stand for separate
 * hosts in the tests, and keep using the network), the server writes the object into a file in
 * the host's shared-memory file system (`/dev/shm`, tmpfs: memory, never disk) and sends its name
 * in the pull's header; the puller reads it straight into its store's memory and removes it. Two
 * copies, both by the kernel. The name is checked before it is opened: a plain name in this
 * user's private directory there, of exactly the size announced.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Objects smaller than this go in chunks (a file costs a few syscalls). */
export const SHM_ABOVE = 1024 * 1024;
/** A file its puller never took is removed after this long. */
const ORPHAN_MS = 60_000;
const SAFE_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

let key: string | null | undefined;
let dir: string | undefined;

/**
 * This host's identity for same-host transfers (boot id, network namespace, user), or undefined
 * where there is no shared-memory file system (not Linux) or `RAY_TS_SAME_HOST_TRANSFER=0`.
 */
export function hostKey(): string | undefined {
  if (key === undefined) {
    key = null;
    try {
      if (process.platform === 'linux' && process.env.RAY_TS_SAME_HOST_TRANSFER !== '0') {
        const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
        const netns = fs.statSync('/proc/self/ns/net').ino;
        if (fs.statSync('/dev/shm').isDirectory()) key = `${boot}/${netns}/${os.userInfo().uid}`;
      }
    } catch {
      key = null;
    }
  }
  return key ?? undefined;
}

/** This user's directory for the files (made 0700 once). */
function shmDir(): string {
  if (!dir) {
    const d = path.join('/dev/shm', `ray-ts-${os.userInfo().uid}`);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(d);
    if (!st.isDirectory() || st.uid !== os.userInfo().uid || (st.mode & 0o077) !== 0)
      throw new Error(`${d} is not a private directory of this user`);
    dir = d;
  }
  return dir;
}

/**
 * Writes `bytes` of object `id` into a new file for a puller on this host; returns its path, or
 * undefined when that failed (no room in /dev/shm...): send chunks then.
 */
export function writeShared(id: string, bytes: Uint8Array): string | undefined {
  let file: string | undefined;
  try {
    file = path.join(shmDir(), `${id}-${crypto.randomBytes(6).toString('hex')}`);
    const fd = fs.openSync(file, 'wx', 0o600);
    try {
      for (let off = 0; off < bytes.byteLength;)
        off += fs.writeSync(fd, bytes, off, Math.min(bytes.byteLength - off, 1 << 30));
    } finally {
      fs.closeSync(fd);
    }
    const f = file;
    setTimeout(() => fs.rm(f, { force: true }, () => {}), ORPHAN_MS).unref();
    return file;
  } catch {
    if (file) fs.rmSync(file, { force: true });
    return undefined;
  }
}

/**
 * Reads the `size` bytes a same-host peer wrote to `file` into `into`, then removes the file.
 * Returns why it could not (a name outside the directory, another size, a read error).
 */
export function readShared(file: string, size: number, into: Uint8Array): string | undefined {
  let d: string;
  try {
    d = shmDir();
  } catch (err) {
    return (err as Error).message;
  }
  if (path.dirname(file) !== d || !SAFE_NAME.test(path.basename(file)))
    return `it named a shared-memory file outside ${d}: ${JSON.stringify(file.slice(0, 200))}`;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    return `its shared-memory file ${file} could not be opened: ${(err as Error).message}`;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size !== size)
      return `its shared-memory file ${file} holds ${st.size} bytes, not the ${size} it announced`;
    for (let off = 0; off < size;) {
      const n = fs.readSync(fd, into, off, Math.min(size - off, 1 << 30), off);
      if (n === 0) return `its shared-memory file ${file} ended after ${off} of ${size} bytes`;
      off += n;
    }
    return undefined;
  } catch (err) {
    return `its shared-memory file ${file} could not be read: ${(err as Error).message}`;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}
