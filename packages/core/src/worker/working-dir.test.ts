// enterWorkingDir changes this process's fs and child_process (a worker thread's, in use); vitest
// runs each test file in a process of its own, so nothing else sees it.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import fs, { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { enterWorkingDir } from './working-dir.js';

describe('a worker thread working directory', () => {
  it('resolves relative paths against it in fs, fs/promises, path and child processes', async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-wd-')));
    const other = fs.realpathSync(os.tmpdir());
    try {
      fs.mkdirSync(path.join(dir, 'data'));
      fs.writeFileSync(path.join(dir, 'data', 'a.txt'), 'inside');
      enterWorkingDir(dir);
      expect(process.cwd()).toBe(dir);
      expect(path.resolve('data/a.txt')).toBe(path.join(dir, 'data', 'a.txt'));
      expect(fs.readFileSync('data/a.txt', 'utf8')).toBe('inside');
      expect(readFileSync('data/a.txt', 'utf8')).toBe('inside'); // an ESM named import sees it too
      expect(await readFile('data/a.txt', 'utf8')).toBe('inside');
      fs.writeFileSync('data/b.txt', 'written');
      fs.renameSync('data/b.txt', 'data/c.txt');
      expect(fs.readdirSync('data').sort()).toEqual(['a.txt', 'c.txt']);
      expect(fs.existsSync(path.join(dir, 'data', 'c.txt'))).toBe(true);
      expect(fs.realpathSync.native('data')).toBe(path.join(dir, 'data'));
      const text = await new Promise<string>((resolve, reject) => {
        let s = '';
        fs.createReadStream('data/a.txt', 'utf8')
          .on('data', (d) => (s += String(d)))
          .on('end', () => resolve(s))
          .on('error', reject);
      });
      expect(text).toBe('inside');
      // Child processes start there, in every form of the call, unless given a cwd.
      expect(execFileSync('pwd', { encoding: 'utf8' }).trim()).toBe(dir);
      expect(execFileSync('pwd', [], { encoding: 'utf8' }).trim()).toBe(dir);
      expect(String(execFileSync('pwd')).trim()).toBe(dir);
      expect(execSync('pwd', { encoding: 'utf8' }).trim()).toBe(dir);
      expect(String(spawnSync('pwd').stdout).trim()).toBe(dir);
      expect(String(spawnSync('pwd', undefined, { cwd: other }).stdout).trim()).toBe(other);
      expect(execFileSync('pwd', { encoding: 'utf8', cwd: other }).trim()).toBe(other);
      // Absolute paths and file descriptors are left alone.
      expect(fs.readFileSync(path.join(dir, 'data', 'a.txt'), 'utf8')).toBe('inside');
      const fd = fs.openSync('data/a.txt', 'r');
      expect(fs.readFileSync(fd, 'utf8')).toBe('inside');
      fs.closeSync(fd);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
