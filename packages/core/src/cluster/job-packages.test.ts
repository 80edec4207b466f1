import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../errors.js';
import { JobPackages, packageName } from './job-packages.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function store(): { packages: JobPackages; table: Map<string, Buffer>; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-pkg-'));
  dirs.push(dir);
  const table = new Map<string, Buffer>();
  const packages = new JobPackages({ put: (n, z) => void table.set(n, z), get: (n) => table.get(n) }, dir);
  return { packages, table, dir };
}

const zip = (files: Record<string, string>) =>
  Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)]))));
const NAME = '_ray_pkg_0123abcd.zip';

describe('job packages', () => {
  it('reads package URIs, refusing names that are not packages of this cluster', () => {
    expect(packageName(`gcs://${NAME}`)).toBe(NAME);
    expect(packageName('/abs/dir')).toBeUndefined();
    expect(() => packageName('gcs://../../etc/passwd')).toThrow(HttpError);
  });

  it('keeps an uploaded zip and unpacks it once, whole', () => {
    const { packages, dir } = store();
    expect(packages.has(NAME)).toBe(false);
    packages.put(NAME, zip({ 'main.js': 'x', 'lib/a.js': 'y' }));
    expect(packages.has(NAME)).toBe(true);
    const out = packages.unpacked(NAME);
    expect(out).toBe(path.join(dir, '_ray_pkg_0123abcd'));
    expect(fs.readFileSync(path.join(out, 'lib/a.js'), 'utf8')).toBe('y');
    fs.writeFileSync(path.join(out, 'main.js'), 'changed by the job');
    expect(packages.unpacked(NAME)).toBe(out); // not unpacked again
    expect(fs.readFileSync(path.join(out, 'main.js'), 'utf8')).toBe('changed by the job');
  });

  it('refuses what is not a zip, a bad name, and a package never uploaded', () => {
    const { packages } = store();
    expect(() => packages.put(NAME, Buffer.from('not a zip'))).toThrow(/not a zip file/);
    expect(() => packages.put('evil.zip', zip({ a: 'b' }))).toThrow(/_ray_pkg_<hash>\.zip/);
    expect(() => packages.unpacked(NAME)).toThrow(/was not uploaded: PUT \/api\/packages\/gcs\//);
  });

  it('refuses entries that would land outside the package folder', () => {
    const { packages, table, dir } = store();
    table.set(NAME, zip({ '../escape.js': 'x' }));
    expect(() => packages.unpacked(NAME)).toThrow(/entry outside its folder/);
    expect(fs.existsSync(path.join(dir, '..', 'escape.js'))).toBe(false);
  });
});
