/**
 * Packages of Ray's job protocol: a client uploads a job's working directory as a zip named by
 * its content hash (`gcs://_ray_pkg_<hash>.zip`) with `PUT /api/packages/gcs/<name>`, once; a job
 * whose `runtime_env.working_dir` names it runs in its unpacked copy on the head. Zips are kept
 * in the GCS's key-value store (so in Redis when the GCS is), unpacked once each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { HttpError } from '../errors.js';

/** Ray's limit on an uploaded working directory. */
export const MAX_PACKAGE_BYTES = 500 * 1024 * 1024;

/** Where the zips are kept (the GCS KV namespace `packages` on a head). */
export interface PackageTable {
  put(name: string, zip: Buffer): void;
  get(name: string): Buffer | undefined;
}

const NAME = /^_ray_pkg_[0-9a-f]+\.zip$/;

/** `gcs://<name>` of a package URI, checked (undefined: not a package URI). */
export function packageName(uri: string): string | undefined {
  const m = /^gcs:\/\/(.+)$/.exec(uri);
  if (!m) return undefined;
  if (!NAME.test(m[1]))
    throw new HttpError(400, `'${uri}' is not a package of this cluster: expected gcs://_ray_pkg_<hash>.zip`);
  return m[1];
}

export class JobPackages {
  constructor(
    private readonly table: PackageTable,
    /** Where packages are unpacked (one folder each). */
    private readonly dir: string,
    /**
     * The head's `node_modules` (where @ray-ts/* are installed): a package without one of its own
     * gets a link to it, so its imports of @ray-ts/* (ESM too, which ignores NODE_PATH) resolve there.
     */
    private readonly nodeModules?: string,
  ) {}

  has(name: string): boolean {
    return this.table.get(name) !== undefined;
  }

  put(name: string, zip: Buffer): void {
    if (!NAME.test(name)) throw new HttpError(400, `a package name looks like _ray_pkg_<hash>.zip, not '${name}'`);
    if (zip.length > MAX_PACKAGE_BYTES)
      throw new HttpError(
        413,
        `package ${name} is ${zip.length} bytes, over the ${MAX_PACKAGE_BYTES} limit: exclude large files (excludes) or keep data outside the working directory`,
      );
    try {
      unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength), { filter: () => false }); // a zip at all?
    } catch (err) {
      throw new HttpError(400, `package ${name} is not a zip file (${(err as Error).message})`);
    }
    this.table.put(name, zip);
  }

  /** The folder of an uploaded package, unpacked on first use. */
  unpacked(name: string): string {
    const zip = this.table.get(name);
    if (!zip) throw new HttpError(400, `package ${name} was not uploaded: PUT /api/packages/gcs/${name} first`);
    const out = path.join(this.dir, name.replace(/\.zip$/, ''));
    if (fs.existsSync(path.join(out, '.unpacked'))) return out;
    const files = unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength));
    const tmp = `${out}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const [entry, bytes] of Object.entries(files)) {
      const target = path.resolve(tmp, entry);
      if (!target.startsWith(tmp + path.sep))
        throw new HttpError(400, `package ${name} has an entry outside its folder: ${entry}`);
      if (entry.endsWith('/')) fs.mkdirSync(target, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, bytes);
      }
    }
    fs.mkdirSync(tmp, { recursive: true });
    if (this.nodeModules && !fs.existsSync(path.join(tmp, 'node_modules')))
      fs.symlinkSync(this.nodeModules, path.join(tmp, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(tmp, '.unpacked'), '');
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(tmp, out); // whole or not at all
    return out;
  }
}

/** The `node_modules` folder this installation of @ray-ts/core is in (undefined: none found). */
export function installationNodeModules(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules');
    if (fs.existsSync(path.join(candidate, '@ray-ts', 'core'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}
