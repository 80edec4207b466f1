import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { packDirectory, PackageEntryError, unpackPackage, UNPACKED_MARK } from './pack-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-pack-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const entries = (zip: Buffer) => Object.keys(unzipSync(new Uint8Array(zip))).sort();

describe('packing a folder', () => {
  it('leaves out node_modules, .git, .gitignore matches and excludes', () => {
    const dir = tree({
      'main.js': 'a',
      'lib/helpers.js': 'b',
      'node_modules/x/index.js': 'c',
      '.git/HEAD': 'd',
      'out/big.bin': 'e',
      'notes.log': 'f',
      'data/keep.csv': 'g',
      'data/skip.tmp': 'h',
      '.gitignore': 'out/\n',
    });
    const p = packDirectory(dir, { excludes: ['*.log', 'data/*.tmp'] });
    expect(entries(p.zip)).toEqual(['.gitignore', 'data/keep.csv', 'lib/helpers.js', 'main.js']);
    expect(p.files).toBe(4);
    expect(p.name).toMatch(/^_ray_pkg_[0-9a-f]{16}\.zip$/);
    expect(p.uri).toBe(`gcs://${p.name}`);
  });

  it('names a package by its contents: the same files give the same name, a change a new one', () => {
    const a = tree({ 'main.js': 'x', 'lib/a.js': 'y' });
    const b = tree({ 'lib/a.js': 'y', 'main.js': 'x' });
    expect(packDirectory(a).name).toBe(packDirectory(b).name);
    expect(packDirectory(a).zip.equals(packDirectory(b).zip)).toBe(true);
    fs.writeFileSync(path.join(b, 'main.js'), 'z');
    expect(packDirectory(b).name).not.toBe(packDirectory(a).name);
  });

  it('refuses a missing folder, a file, and a folder over the limit naming its largest files', () => {
    expect(() => packDirectory('/no/such/folder')).toThrow(/does not exist/);
    const dir = tree({ 'a.txt': 'x'.repeat(3000), 'b.txt': 'y' });
    expect(() => packDirectory(path.join(dir, 'a.txt'))).toThrow(/is not a folder/);
    let err: unknown;
    try {
      packDirectory(dir, { maxBytes: 1000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/over the .* limit .*a\.txt.*excludes/);
  });

  it('unpacks whole, once, with a node_modules link, and packs back to the same name', () => {
    const src = tree({ 'main.js': 'x', 'lib/a.js': 'y' });
    const packed = packDirectory(src);
    const into = tree({});
    const nm = tree({ '@ray-ts/core/package.json': '{}' });
    const dir = unpackPackage(packed.zip, path.join(into, 'pkg'), nm);
    expect(fs.readFileSync(path.join(dir, 'lib/a.js'), 'utf8')).toBe('y');
    expect(fs.existsSync(path.join(dir, UNPACKED_MARK))).toBe(true);
    expect(fs.realpathSync(path.join(dir, 'node_modules'))).toBe(fs.realpathSync(nm));
    // A second unpack finds it whole and writes nothing.
    fs.writeFileSync(path.join(dir, 'lib/a.js'), 'changed');
    expect(unpackPackage(packed.zip, path.join(into, 'pkg'), nm)).toBe(dir);
    fs.writeFileSync(path.join(dir, 'lib/a.js'), 'y');
    expect(packDirectory(dir).name).toBe(packed.name);
    expect(fs.readdirSync(into)).toEqual(['pkg']); // no temporary folder left behind
  });

  it('refuses an entry that would land outside the folder, leaving nothing behind', () => {
    const into = tree({});
    const evil = zipSync({ '../escape.js': strToU8('x') });
    expect(() => unpackPackage(evil, path.join(into, 'pkg'), undefined)).toThrow(PackageEntryError);
    expect(fs.readdirSync(into)).toEqual([]);
  });
});
