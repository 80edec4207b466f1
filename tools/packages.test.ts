// What `npm pack` puts in each package's tarball: the license and a README, the built code and
// sources, no tests or build state (issue: "publishable packages").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const packages = fs
  .readdirSync(path.join(root, 'packages'))
  .filter((p) => fs.existsSync(path.join(root, 'packages', p, 'package.json')));

describe('package tarballs', () => {
  for (const name of packages) {
    it(`@ray-ts/${name} packs its license, README and code, without tests`, () => {
      const dir = path.join(root, 'packages', name);
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(pkg.license).toBe('Apache-2.0');
      const [packed] = JSON.parse(
        execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      ) as { files: { path: string }[] }[];
      const files = packed.files.map((f) => f.path);
      expect(files).toContain('LICENSE');
      expect(files).toContain('README.md');
      expect(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toBe(
        fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'),
      );
      const main = String(pkg.main).replace(/^\.\//, '');
      expect(files).toContain(main);
      expect(files.filter((f) => /\.test\.|\.tsbuildinfo$/.test(f))).toEqual([]);
    });
  }
});
