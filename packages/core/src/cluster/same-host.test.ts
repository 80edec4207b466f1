import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostKey, readShared, writeShared } from './same-host.js';

const linux = process.platform === 'linux' && fs.existsSync('/dev/shm');

// Skip reason: /dev/shm (a tmpfs for shared memory) exists on Linux only; elsewhere pulls always go in chunks.
describe.skipIf(!linux)('same-host transfer files', () => {
  const dir = path.join('/dev/shm', `ray-ts-${os.userInfo().uid}`);

  it('knows this host by boot, network namespace and user', () => {
    const key = hostKey()!;
    expect(key.split('/')).toHaveLength(3);
    expect(key).toContain(fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  });

  it('hands bytes over through a private file that the reader removes', () => {
    const bytes = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i % 251);
    const file = writeShared('obj_test', bytes)!;
    expect(path.dirname(file)).toBe(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const into = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
    expect(readShared(file, bytes.byteLength, into)).toBeUndefined();
    expect(Buffer.compare(Buffer.from(into), Buffer.from(bytes))).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses a file outside its directory, an odd name, another size or a link', () => {
    const into = new Uint8Array(16);
    expect(readShared('/etc/passwd', 16, into)).toMatch(/outside/);
    expect(readShared(path.join(dir, '..', 'x'), 16, into)).toMatch(/outside/);
    expect(readShared(path.join(dir, 'a b'), 16, into)).toMatch(/outside/);
    const file = writeShared('obj_size', new Uint8Array(10))!;
    expect(readShared(file, 16, into)).toMatch(/holds 10 bytes, not the 16/);
    const link = path.join(dir, `link-${process.pid}`);
    fs.symlinkSync('/etc/hostname', link);
    try {
      expect(readShared(link, 16, into)).toMatch(/could not be opened/);
    } finally {
      fs.rmSync(link, { force: true });
    }
    expect(readShared(path.join(dir, 'missing-file'), 16, into)).toMatch(/could not be opened/);
  });
});
