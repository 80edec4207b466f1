/**
 * A working directory for a worker thread. A thread cannot change its process's directory
 * (`process.chdir` is not allowed in worker threads), yet work with `runtimeEnv.workingDir` must
 * find its files by relative paths, as Ray's workers do. So, in this thread only (each worker
 * thread has its own `process` object and its own instances of the built-in modules):
 * `process.cwd()` answers the working directory (so `path.resolve` and libraries that ask it see
 * it), relative paths given to `fs` and `fs/promises` resolve against it, and child processes
 * start in it unless told otherwise. ESM named imports of these modules see the change too
 * (`syncBuiltinESMExports`).
 */
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

/** fs functions whose first argument is a path (and their Sync twins, and fs/promises'). */
const FIRST_PATH = [
  'access',
  'appendFile',
  'chmod',
  'chown',
  'createReadStream',
  'createWriteStream',
  'exists',
  'lchmod',
  'lchown',
  'lstat',
  'lutimes',
  'mkdir',
  'mkdtemp',
  'open',
  'openAsBlob',
  'opendir',
  'readdir',
  'readFile',
  'readlink',
  'realpath',
  'rm',
  'rmdir',
  'stat',
  'statfs',
  'truncate',
  'unlink',
  'utimes',
  'watch',
  'watchFile',
  'unwatchFile',
  'writeFile',
];
/** ...whose first two arguments are paths. */
const TWO_PATHS = ['copyFile', 'cp', 'link', 'rename'];
/** ...whose second argument is a path (a symlink's target stays relative to the link). */
const SECOND_PATH = ['symlink'];

type AnyFn = (...args: unknown[]) => unknown;

function wrap(obj: Record<string, unknown>, name: string, positions: number[], dir: string): void {
  const original = obj[name];
  if (typeof original !== 'function') return;
  const fn = original as AnyFn;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    for (const i of positions) {
      const p = args[i];
      if (typeof p === 'string' && !path.isAbsolute(p)) args[i] = path.resolve(dir, p);
    }
    return fn.apply(this, args);
  };
  // Keep what hangs off the function (realpath.native, promisify's custom form...).
  for (const key of Reflect.ownKeys(fn)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(fn, key)!);
  }
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  // realpath.native and realpathSync.native take paths too.
  if (typeof (fn as unknown as { native?: unknown }).native === 'function')
    wrap(wrapped as unknown as Record<string, unknown>, 'native', positions, dir);
  obj[name] = wrapped;
}

function wrapFs(obj: Record<string, unknown>, dir: string, sync: boolean): void {
  for (const base of FIRST_PATH) {
    wrap(obj, base, [0], dir);
    if (sync) wrap(obj, `${base}Sync`, [0], dir);
  }
  for (const base of TWO_PATHS) {
    wrap(obj, base, [0, 1], dir);
    if (sync) wrap(obj, `${base}Sync`, [0, 1], dir);
  }
  for (const base of SECOND_PATH) {
    wrap(obj, base, [1], dir);
    if (sync) wrap(obj, `${base}Sync`, [1], dir);
  }
}

/** Child processes start in `dir` unless their options name a `cwd`. */
function wrapChildProcess(dir: string): void {
  // Loaded here, not at import: every worker thread loads this module while it boots, and few
  // have a working directory.
  const cp = createRequire(import.meta.url)('node:child_process') as Record<string, AnyFn>;
  // Where each function's options argument is, given whether an args array was passed.
  const withArgs: Record<string, boolean> = {
    spawn: true,
    spawnSync: true,
    execFile: true,
    execFileSync: true,
    fork: true,
    exec: false,
    execSync: false,
  };
  for (const [name, takesArgs] of Object.entries(withArgs)) {
    const fn = cp[name];
    if (typeof fn !== 'function') continue;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      // (file, args, options), (file, options) or (command, options); an undefined args list counts as given.
      const at = takesArgs && (Array.isArray(args[1]) || (args[1] === undefined && args.length > 2)) ? 2 : 1;
      const o = args[at];
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
        if ((o as { cwd?: unknown }).cwd === undefined) args[at] = { ...o, cwd: dir };
      } else if (o === undefined || typeof o === 'function') {
        args.splice(at, o === undefined ? 1 : 0, ...(takesArgs && at === 1 ? [[], { cwd: dir }] : [{ cwd: dir }]));
      }
      return fn.apply(this, args);
    };
    Object.defineProperty(wrapped, 'name', { value: fn.name });
    for (const key of Reflect.ownKeys(fn)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(fn, key)!);
    }
    cp[name] = wrapped;
  }
}

/** Makes `dir` this worker thread's working directory (see the module's comment). */
export function enterWorkingDir(dir: string): void {
  process.cwd = () => dir;
  wrapFs(fs as unknown as Record<string, unknown>, dir, true);
  wrapFs(fs.promises as unknown as Record<string, unknown>, dir, false);
  wrapChildProcess(dir);
  syncBuiltinESMExports();
}
