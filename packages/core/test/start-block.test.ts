// `ray-ts start --block` under a launcher (srun, a container's PID 1, systemd): the node stops
// with the foreground process, gracefully on SIGTERM and SIGINT, and on its own when the
// foreground process is SIGKILLed; no node is left serving as an orphan.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { processAlive, waitFor } from '@ray-ts/core/testing';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'cli.js');
const started: { launcher: ChildProcess; nodePid?: number; dir: string }[] = [];

/** Starts a head in the foreground; resolves once the node serves, with the node's pid. */
async function startBlocking(): Promise<{ launcher: ChildProcess; nodePid: number; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-block-'));
  const launcher = spawn(
    process.execPath,
    [cli, 'start', '--head', '--block', '--port', '0', '--dashboard-port', '0', '--num-cpus', '1'],
    { env: { ...process.env, RAY_TS_SESSION_DIR: dir, RAY_TS_ADDRESS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const entry: { launcher: ChildProcess; nodePid?: number; dir: string } = { launcher, dir };
  started.push(entry);
  let out = '';
  launcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  launcher.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const info = (await waitFor(
    () => {
      const line = out.split('\n').find((l) => l.startsWith('RAY_TS_NODE_READY '));
      if (launcher.exitCode !== null) throw new Error(`ray-ts start --block exited: ${out}`);
      return line ? (JSON.parse(line.slice('RAY_TS_NODE_READY '.length)) as { pid: number }) : undefined;
    },
    { timeoutMs: 30_000, what: 'the node to start' },
  ))!;
  entry.nodePid = info.pid;
  expect(info.pid).not.toBe(launcher.pid);
  expect(fs.existsSync(path.join(dir, 'nodes', `${info.pid}.json`))).toBe(true);
  return { launcher, nodePid: info.pid, dir };
}

const exitOf = (p: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve({ code: p.exitCode, signal: p.signalCode });
    else p.once('exit', (code, signal) => resolve({ code, signal }));
  });

afterEach(() => {
  for (const s of started.splice(0)) {
    if (s.launcher.exitCode === null) s.launcher.kill('SIGKILL');
    if (s.nodePid && processAlive(s.nodePid)) process.kill(s.nodePid, 'SIGKILL');
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

it.each(['SIGTERM', 'SIGINT'] as const)('stops the node gracefully when the launcher gets %s', async (signal) => {
  const { launcher, nodePid, dir } = await startBlocking();
  launcher.kill(signal);
  expect(await exitOf(launcher)).toEqual({ code: 0, signal: null });
  expect(processAlive(nodePid)).toBe(false); // the launcher exits only after its node did
  expect(fs.existsSync(path.join(dir, 'nodes', `${nodePid}.json`))).toBe(false); // a graceful stop removes its record
});

it('stops the node when the launcher is SIGKILLed', async () => {
  const { launcher, nodePid } = await startBlocking();
  launcher.kill('SIGKILL');
  await exitOf(launcher);
  await waitFor(() => !processAlive(nodePid), { timeoutMs: 15_000, what: `node ${nodePid} to stop with its launcher` });
});
