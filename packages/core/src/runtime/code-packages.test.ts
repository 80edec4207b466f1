import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { compileRuntimeEnv, runtimeEnvOf } from '../options.js';
import { packageOf, packRuntimeEnv, shipPackages } from './code-packages.js';
import type { CoreClient } from './client.js';
import { shipRef, type FnRef } from './functions.js';
import { threadState } from './thread-state.js';

const dirs: string[] = [];
afterEach(() => {
  threadState().packageRoots.clear();
  threadState().packagesDir = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-env-')));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** A client whose key-value store is a map (the cluster's, in a real one). */
function kvClient(): { client: CoreClient; kv: Map<string, Uint8Array>; puts: string[] } {
  const kv = new Map<string, Uint8Array>();
  const puts: string[] = [];
  const client = {
    kv: (op: { k: string; key?: string; prefix?: string; value?: Uint8Array }) => {
      if (op.k === 'keys') return Promise.resolve([...kv.keys()].filter((k) => k.startsWith(op.prefix!)));
      if (op.k === 'put') {
        puts.push(op.key!);
        kv.set(op.key!, op.value!);
        return Promise.resolve(true);
      }
      return Promise.resolve(kv.get(op.key!));
    },
  } as unknown as CoreClient;
  return { client, kv, puts };
}

describe('runtime environments with packages', () => {
  it('compile to reserved variables and back, taking package URIs only', () => {
    const uri = 'gcs://_ray_pkg_0123456789abcdef.zip';
    const vars = compileRuntimeEnv('t', { envVars: { A: '1' }, workingDir: uri, modules: [uri, uri] });
    expect(vars).toEqual({ A: '1', RAY_TS_WORKING_DIR: uri, RAY_TS_MODULES: `${uri},${uri}` });
    expect(runtimeEnvOf(vars)).toEqual({ envVars: { A: '1' }, workingDir: uri, modules: [uri, uri] });
    expect(() => compileRuntimeEnv('t', { workingDir: './app' })).toThrow(/local folder '\.\/app'.*init/);
    expect(() => compileRuntimeEnv('t', { modules: 'lib' as never })).toThrow(/list of folder paths/);
    expect(() => compileRuntimeEnv('t', { excludes: [3] as never })).toThrow(/list of patterns/);
  });

  it('packs the local folders init() names, uploads each once, and maps their folders to packages', async () => {
    const app = folder({ 'main.js': 'x', 'lib/helpers.js': 'y', 'logs/a.log': 'z' });
    const lib = folder({ 'util.js': 'u' });
    const cwd = process.cwd();
    process.chdir(app);
    let packed;
    try {
      packed = await packRuntimeEnv({ workingDir: '.', modules: [lib], excludes: ['*.log'], envVars: { B: '2' } });
    } finally {
      process.chdir(cwd);
    }
    const env = packed.env!;
    expect(env.workingDir).toMatch(/^gcs:\/\/_ray_pkg_[0-9a-f]{16}\.zip$/);
    expect(env.modules![0]).toMatch(/^gcs:\/\/_ray_pkg_/);
    expect(env.envVars).toEqual({ B: '2' });
    const { client, puts } = kvClient();
    await shipPackages(packed, client);
    await shipPackages(packed, client); // a second driver of the same folders uploads nothing
    expect(puts).toHaveLength(2);
    expect(packageOf(path.join(app, 'lib', 'helpers.js'))).toEqual({ uri: env.workingDir, path: 'lib/helpers.js' });
    expect(packageOf(path.join(lib, 'util.js'))).toEqual({ uri: env.modules![0], path: 'util.js' });
    expect(packageOf('/elsewhere/x.js')).toBeUndefined();
  });

  it("finds the package of a module in the node's unpacked copies", () => {
    threadState().packagesDir = '/var/rr';
    expect(packageOf('/var/rr/_ray_pkg_00ff/lib/a.js')).toEqual({ uri: 'gcs://_ray_pkg_00ff.zip', path: 'lib/a.js' });
    expect(packageOf('/var/rr/other/a.js')).toBeUndefined();
  });

  it('sends a function described before init() as a module of the package its folder was shipped in', () => {
    const app = folder({ 'lib/helpers.js': '' });
    const url = pathToFileURL(path.join(app, 'lib', 'helpers.js')).href;
    const ref: FnRef = { id: 'fn_x', desc: { kind: 'module', url, key: `${url}#2`, name: 'square', isClass: false } };
    expect(shipRef(ref)).toBe(ref); // nothing shipped
    threadState().packageRoots.set(app, 'gcs://_ray_pkg_ab.zip');
    const shipped = shipRef(ref);
    expect(shipped.desc).toMatchObject({ pkg: { uri: 'gcs://_ray_pkg_ab.zip', path: 'lib/helpers.js' } });
    expect(shipRef(ref)).toBe(shipped);
    // Its id names the package and place, not where the folder lies on this host.
    const elsewhere = `file:///other/place/lib/helpers.js`;
    threadState().packageRoots.set('/other/place', 'gcs://_ray_pkg_ab.zip');
    const twin = shipRef({ id: 'fn_y', desc: { ...ref.desc!, url: elsewhere, key: `${elsewhere}#2` } as never });
    expect(twin.id).toBe(shipped.id);
  });
});
