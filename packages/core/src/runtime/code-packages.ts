/**
 * Shipped folders in a running cluster: which package a module file belongs to, uploading a
 * packed folder, and a node's unpacked copy of a package (fetched on first use). Packing itself is
 * in pack-dir.ts, loaded only when a folder is packed or unpacked (it costs start-up time that
 * workers without packages should not pay).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, RuntimeEnvSetupError } from '../errors.js';
import { MODULES_VAR, WORKING_DIR_VAR, type RuntimeEnv } from '../options.js';
import type { CoreClient } from './client.js';
import type { PackedDir } from './pack-dir.js';
import { threadState } from './thread-state.js';

/** The file that marks a package folder as whole (see pack-dir.ts's unpackPackage). */
const UNPACKED_MARK = '.ray-ts-unpacked';

/** Set by the job API for a job's driver: the runtime environment it was submitted with, as JSON. */
export const JOB_RUNTIME_ENV_VAR = 'RAY_TS_JOB_RUNTIME_ENV';

const PKG_DIR = /^_ray_pkg_[0-9a-f]+$/;

/** The package a module file belongs to (a shipped folder of this thread, or one unpacked here), or undefined. */
export function packageOf(realFile: string): { uri: string; path: string } | undefined {
  const st = threadState();
  for (const [root, uri] of st.packageRoots) {
    if (realFile.startsWith(root + path.sep)) return { uri, path: toPosix(path.relative(root, realFile)) };
  }
  const dir = st.packagesDir;
  if (dir && realFile.startsWith(dir + path.sep)) {
    const [pkg, ...rest] = path.relative(dir, realFile).split(path.sep);
    if (PKG_DIR.test(pkg) && rest.length) return { uri: `gcs://${pkg}.zip`, path: rest.join('/') };
  }
  return undefined;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

/** `_ray_pkg_<hash>.zip` of a package URI, or an error saying what a package URI looks like. */
export function packageNameOf(uri: string, what: string): string {
  const m = /^gcs:\/\/(_ray_pkg_[0-9a-f]+\.zip)$/.exec(uri);
  if (!m)
    throw new InvalidArgumentError(
      `${what}: '${uri}' is not a package URI (gcs://_ray_pkg_<hash>.zip). Give a local folder in init({ runtimeEnv }), ` +
        `which packs and uploads it, or the URI of a package uploaded already.`,
    );
  return m[1];
}

/** Stores a packed folder in the cluster (the GCS's key-value store, namespace `packages`) unless it is there already. */
export async function uploadPackage(client: CoreClient, packed: PackedDir): Promise<void> {
  const have = (await client.kv({ k: 'keys', namespace: 'packages', prefix: packed.name })) as string[];
  if (have.includes(packed.name)) return;
  await client.kv({ k: 'put', namespace: 'packages', key: packed.name, value: packed.zip, overwrite: false });
}

const ensuring = new Map<string, Promise<string>>();

/**
 * The folder of package `uri` on this node: unpacked from the cluster's copy on first use (once
 * per host: nodes on one host share the folder, and a concurrent unpack by another thread or
 * process is harmless). Throws {@link RuntimeEnvSetupError} when the cluster does not have it.
 */
export function ensurePackage(uri: string): Promise<string> {
  let p = ensuring.get(uri);
  if (!p) {
    p = fetchAndUnpack(uri);
    ensuring.set(uri, p);
    p.catch(() => ensuring.delete(uri));
  }
  return p;
}

async function fetchAndUnpack(uri: string): Promise<string> {
  const st = threadState();
  const name = packageNameOf(uri, 'runtimeEnv');
  const root = st.packagesDir;
  if (!root || !st.client)
    throw new RuntimeEnvSetupError(`package ${uri} is needed before this thread joined a cluster`);
  const dir = path.join(root, name.replace(/\.zip$/, ''));
  if (fs.existsSync(path.join(dir, UNPACKED_MARK))) return fs.realpathSync(dir);
  const zip = (await st.client.kv({ k: 'get', namespace: 'packages', key: name })) as Uint8Array | undefined;
  if (!zip)
    throw new RuntimeEnvSetupError(
      `package ${uri} is not in the cluster: it is uploaded by the driver's init({ runtimeEnv: { workingDir } }) ` +
        `(or by 'ray-ts job submit --working-dir'); a head restarted without Redis persistence has lost it. Start the driver again.`,
    );
  fs.mkdirSync(root, { recursive: true });
  const { unpackPackage, installationNodeModules } = await import('./pack-dir.js');
  return unpackPackage(zip, dir, installationNodeModules(coreDir));
}

/** Core's own folder: the installation whose node_modules unpacked packages link to. */
const coreDir = path.dirname(fileURLToPath(import.meta.url));

/**
 * A worker's start: unpacks its environment's packages on this node, then makes the working
 * directory's copy the worker's with `enter` (`process.chdir` in a child process; a worker thread
 * cannot change its process's directory: see worker/working-dir.ts).
 */
export async function setUpRuntimeEnv(
  env: Readonly<Record<string, string>>,
  enter: (dir: string) => void,
): Promise<void> {
  const modules = env[MODULES_VAR]?.split(',').filter(Boolean) ?? [];
  await Promise.all(modules.map((m) => ensurePackage(m)));
  const wd = env[WORKING_DIR_VAR];
  if (!wd) return;
  enter(await ensurePackage(wd));
}

/** A driver's local folders of `init({ runtimeEnv })`, packed; upload with {@link uploadPackage}. */
export interface PackedEnv {
  /** The runtime environment with package URIs in place of local folders. */
  readonly env: RuntimeEnv | undefined;
  /** Each shipped folder here (real path), its URI, and its zip when this driver must upload it. */
  readonly packages: ReadonlyArray<{ readonly root: string; readonly uri: string; readonly packed?: PackedDir }>;
}

/**
 * Packs the local folders `init({ runtimeEnv })` names (`workingDir`, `modules`), relative to the
 * current directory. A job started by the job API with a working directory runs in its unpacked
 * copy: its runtime environment is the job's unless `init()` gives one.
 */
export async function packRuntimeEnv(given: RuntimeEnv | undefined): Promise<PackedEnv> {
  let env = given;
  if (env === undefined && process.env[JOB_RUNTIME_ENV_VAR]) {
    env = JSON.parse(process.env[JOB_RUNTIME_ENV_VAR]) as RuntimeEnv;
    // The job's folder was uploaded by its submitter: this driver runs in the head's unpacked copy.
    if (env.workingDir) return { env, packages: [{ root: fs.realpathSync(process.cwd()), uri: env.workingDir }] };
  }
  if (!env || typeof env !== 'object' || (env.workingDir === undefined && env.modules === undefined))
    return { env, packages: [] };
  const isUri = (v: unknown) => typeof v === 'string' && /^gcs:\/\//.test(v);
  const { packDirectory } = await import('./pack-dir.js');
  const packages: Array<{ root: string; uri: string; packed: PackedDir }> = [];
  const pack = (dir: unknown, what: string): unknown => {
    if (typeof dir !== 'string' || isUri(dir)) return dir; // checked by compileRuntimeEnv
    const packed = packDirectory(dir, { excludes: env.excludes, what });
    packages.push({ root: fs.realpathSync(path.resolve(dir)), uri: packed.uri, packed });
    return packed.uri;
  };
  const workingDir = pack(env.workingDir, 'working directory');
  const modules = Array.isArray(env.modules) ? env.modules.map((m) => pack(m, 'modules folder')) : env.modules;
  const out = { ...env } as Record<string, unknown>;
  if (workingDir !== undefined) out.workingDir = workingDir;
  if (modules !== undefined) out.modules = modules;
  return { env: out as RuntimeEnv, packages };
}

/** Uploads a driver's packed folders (those the cluster lacks) and maps their folders to their packages. */
export async function shipPackages(packed: PackedEnv, client: CoreClient): Promise<void> {
  for (const p of packed.packages) if (p.packed) await uploadPackage(client, p.packed);
  const roots = threadState().packageRoots;
  for (const p of packed.packages) roots.set(p.root, p.uri);
}
