import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { get, init, shutdown, remote, RemoteCodeError } from '@ray-ts/core';
import * as cjs from './fixtures/cjs-pkg/tasks.js';

const run = promisify(execFile);
const scripts = path.join(import.meta.dirname, 'fixtures', 'scripts');
const repoRoot = path.resolve(import.meta.dirname, '../../..');

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

suite('code travels to workers', () => {
  it('sends entry-script functions and classes by value (.js)', async () => {
    const { stdout } = await run(process.execPath, [path.join(scripts, 'entry.mjs')], { cwd: repoRoot });
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ squares: [1, 4, 9], sum: 3, accSum: 11 });
    // Worker output reaches the driver, prefixed with its origin.
    expect(stdout).toMatch(/^\(say pid=\d+ worker=\w+\) hello from a worker$/m);
  });

  it('can turn worker output off', async () => {
    const { stdout } = await run(process.execPath, [path.join(scripts, 'entry.mjs'), 'quiet'], { cwd: repoRoot });
    expect(stdout).not.toContain('hello from a worker');
  });

  it('runs TypeScript entry scripts and modules through tsx', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(scripts, 'entry.ts')], {
      cwd: repoRoot,
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ norm: 25, byRef: 81, nested: 10, greet: 'Hi, ts' });
  });

  it('refuses a by-value function that captures an outer variable, saying what to do', async () => {
    const { stdout } = await run(process.execPath, [path.join(scripts, 'capture.mjs')], { cwd: repoRoot });
    expect(stdout).toContain("RemoteCodeError: Function '<anonymous>' is defined in capture.mjs");
    expect(stdout).toContain("It refers to 'factor', defined outside it");
    expect(stdout).toMatch(/pass it as arguments/);
  });

  it('refuses the same in test files, which are sent by value too', () => {
    const outer = 2;
    expect(() => remote((x: number) => x * outer)).toThrow(RemoteCodeError);
    expect(() => remote((x: number) => x * 2)).not.toThrow();
  });

  it('loads TypeScript modules of CommonJS packages', async () => {
    expect(await get(cjs.triple.remote(5))).toBe(15);
    const box = cjs.RemoteBox.remote(7);
    expect(await get(box.get.remote())).toBe(7);
  });
});
