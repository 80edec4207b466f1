/**
 * Packages of Ray's job protocol: a client uploads a job's working directory as a zip named by
 * its content hash (`gcs://_ray_pkg_<hash>.zip`) with `PUT /api/packages/gcs/<name>`, once; a job
 * whose `runtime_env.working_dir` names it runs in its unpacked copy on the head. Zips are kept
 * in the GCS's key-value store (so in Redis when the GCS is), unpacked once each.
 */
import path from 'node:path';
import { unzipSync } from 'fflate';
import { HttpError } from '../errors.js';
import type { Landing } from './gcs-writes.js';
import { MAX_PACKAGE_BYTES, PackageEntryError, unpackPackage } from '../runtime/pack-dir.js';

export { MAX_PACKAGE_BYTES };

/** Where the zips are kept (the GCS KV namespace `packages` on a head). */
export interface PackageTable {
  /** Keeps a zip: see {@link Landing} (throws GcsUnavailableError when the GCS cannot take it). */
  put(name: string, zip: Buffer): Landing;
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

  /** Checks and keeps an uploaded zip; the upload is answered once it landed (see {@link Landing}). */
  put(name: string, zip: Buffer): Landing {
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
    return this.table.put(name, zip);
  }

  /** The folder of an uploaded package, unpacked on first use. */
  unpacked(name: string): string {
    const zip = this.table.get(name);
    if (!zip) throw new HttpError(400, `package ${name} was not uploaded: PUT /api/packages/gcs/${name} first`);
    try {
      return unpackPackage(
        new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength),
        path.join(this.dir, name.replace(/\.zip$/, '')),
        this.nodeModules,
      );
    } catch (err) {
      if (err instanceof PackageEntryError) throw new HttpError(400, err.message);
      throw err;
    }
  }
}
