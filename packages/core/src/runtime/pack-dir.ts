/**
 * Packs a folder as Ray packs a `working_dir` or a `py_modules` entry: a zip of its files,
 * named by a hash of their paths and contents (`_ray_pkg_<hash>.zip`), so the same folder is
 * uploaded and unpacked once however often it is used. `node_modules` and `.git` are left out
 * (a node resolves `@ray-ts/*` and the packages installed beside them from its own installation),
 * and so is whatever matches `excludes` or a `.gitignore` in the folder (gitignore patterns, as
 * Ray's `excludes`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import ignoreModule from 'ignore';
import { InvalidArgumentError } from '../errors.js';

/** Ray's limit on a packed working directory. */
export const MAX_PACKAGE_BYTES = 500 * 1024 * 1024;

/** A packed folder. */
export interface PackedDir {
  /** `_ray_pkg_<hash>.zip`. */
  readonly name: string;
  /** `gcs://<name>`, the URI a runtime environment names it by. */
  readonly uri: string;
  readonly zip: Buffer;
  /** Files packed. */
  readonly files: number;
}

export interface PackOptions {
  /** gitignore-style patterns of files to leave out, relative to the folder. */
  readonly excludes?: readonly string[];
  /** Largest zip accepted, in bytes (default {@link MAX_PACKAGE_BYTES}). */
  readonly maxBytes?: number;
  /** What is being packed, for errors (default "working directory"). */
  readonly what?: string;
}

// The package is CommonJS with `default` set on its export: typed as the namespace under NodeNext.
const ignore = ignoreModule.default;

const ALWAYS_LEFT_OUT = ['node_modules/', '.git/', '/.ray-ts-unpacked'];

/**
 * Packs `dir`. Throws {@link InvalidArgumentError} when it is not a folder, or when the packed
 * size passes the limit (naming the largest files, so the user knows what to exclude).
 */
export function packDirectory(dir: string, opts: PackOptions = {}): PackedDir {
  const what = opts.what ?? 'working directory';
  const root = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new InvalidArgumentError(`The ${what} '${dir}' does not exist (resolved to ${root}).`);
  }
  if (!stat.isDirectory()) throw new InvalidArgumentError(`The ${what} '${dir}' is not a folder (${root}).`);
  const excludes = opts.excludes ?? [];
  if (!Array.isArray(excludes) || excludes.some((e) => typeof e !== 'string'))
    throw new InvalidArgumentError(`excludes of the ${what} must be a list of patterns, like ['*.log', 'data/'].`);
  const rules = ignore().add(ALWAYS_LEFT_OUT).add(excludes);
  const gitignore = path.join(root, '.gitignore');
  if (fs.existsSync(gitignore)) rules.add(fs.readFileSync(gitignore, 'utf8'));

  const maxBytes = opts.maxBytes ?? MAX_PACKAGE_BYTES;
  const entries: Array<{ rel: string; bytes: Uint8Array }> = [];
  let total = 0;
  const walk = (abs: string, rel: string): void => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const childAbs = path.join(abs, d.name);
      let isDir = d.isDirectory();
      if (d.isSymbolicLink()) {
        // A link is packed as what it points to (Ray follows links too); a broken one is skipped.
        try {
          isDir = fs.statSync(childAbs).isDirectory();
        } catch {
          continue;
        }
      } else if (!isDir && !d.isFile()) continue;
      if (rules.ignores(isDir ? `${childRel}/` : childRel)) continue;
      if (isDir) walk(childAbs, childRel);
      else {
        const bytes = fs.readFileSync(childAbs);
        total += bytes.length;
        if (total > maxBytes) tooLarge(what, root, maxBytes, entries, { rel: childRel, bytes });
        entries.push({ rel: childRel, bytes });
      }
    }
  };
  walk(root, '');

  const hash = createHash('sha1');
  const tree: Zippable = {};
  for (const e of entries) {
    hash.update(e.rel).update('\0').update(String(e.bytes.length)).update('\0').update(e.bytes);
    // Fixed dates: the same files give the same zip.
    tree[e.rel] = [e.bytes, { mtime: new Date(1980, 0, 1), level: e.bytes.length > 1024 ? 6 : 0 }];
  }
  const zip = Buffer.from(zipSync(tree));
  if (zip.length > maxBytes) tooLarge(what, root, maxBytes, entries);
  const name = `_ray_pkg_${hash.digest('hex').slice(0, 16)}.zip`;
  return { name, uri: `gcs://${name}`, zip, files: entries.length };
}

function tooLarge(
  what: string,
  root: string,
  maxBytes: number,
  entries: Array<{ rel: string; bytes: Uint8Array }>,
  last?: { rel: string; bytes: Uint8Array },
): never {
  const biggest = [...entries, ...(last ? [last] : [])]
    .sort((a, b) => b.bytes.length - a.bytes.length)
    .slice(0, 3)
    .map((e) => `${e.rel} (${(e.bytes.length / 1048576).toFixed(1)} MiB)`)
    .join(', ');
  throw new InvalidArgumentError(
    `The ${what} ${root} is over the ${Math.round(maxBytes / 1048576)} MiB limit of a package (largest files: ${biggest}). ` +
      `Leave files out with excludes: ['pattern', ...] (gitignore patterns) or a .gitignore, and keep data in storage every node reads.`,
  );
}

/** The file that marks a package folder as whole (written last, before the folder is renamed into place). */
export const UNPACKED_MARK = '.ray-ts-unpacked';

/** A package's entry that would land outside its folder (a zip made to attack). */
export class PackageEntryError extends InvalidArgumentError {
  override readonly name = 'PackageEntryError';
}

/**
 * Unpacks `zip` into `dir` (made whole or not at all: written to a temporary folder that is then
 * renamed, so a crash or a second process unpacking the same package at once leaves no half
 * folder). Gives `dir` a `node_modules` link to `nodeModules` when it has none, so its imports of
 * `@ray-ts/*` and of the packages installed beside them (ESM too, which ignores NODE_PATH)
 * resolve to this installation. Returns `dir`'s real path.
 */
export function unpackPackage(zip: Uint8Array, dir: string, nodeModules: string | undefined): string {
  if (fs.existsSync(path.join(dir, UNPACKED_MARK))) return fs.realpathSync(dir);
  const files = unzipSync(zip);
  const tmp = `${dir}.tmp-${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const [entry, bytes] of Object.entries(files)) {
      const target = path.resolve(tmp, entry);
      if (!target.startsWith(tmp + path.sep))
        throw new PackageEntryError(`package ${path.basename(dir)} has an entry outside its folder: ${entry}`);
      if (entry.endsWith('/')) fs.mkdirSync(target, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, bytes);
      }
    }
    fs.mkdirSync(tmp, { recursive: true });
    if (nodeModules && !fs.existsSync(path.join(tmp, 'node_modules')))
      fs.symlinkSync(nodeModules, path.join(tmp, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(tmp, UNPACKED_MARK), '');
    try {
      fs.renameSync(tmp, dir);
    } catch {
      // Another process or thread unpacked it first (theirs is as good), or a broken folder is in the way.
      if (!fs.existsSync(path.join(dir, UNPACKED_MARK))) {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(tmp, dir);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return fs.realpathSync(dir);
}

/** The `node_modules` folder this installation of @ray-ts/core is in (undefined: none found). */
export function installationNodeModules(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules');
    if (fs.existsSync(path.join(candidate, '@ray-ts', 'core'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}
