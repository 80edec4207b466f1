// `ray-ts stop` kills only the processes its node records still name: a record whose pid went to
// another process (its node died, the pid was reused) is skipped and removed, not signalled.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it, onTestFinished } from 'vitest';
import { processAlive } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });

it('stops the node it started, and leaves alone a process that took a dead node’s pid', async () => {
  const session = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-cli-stop-'));
  const env = { ...process.env, RAY_TS_SESSION_DIR: session, RAY_TS_ADDRESS: '' };
  const ray = (...args: string[]) => run(process.execPath, [cli, ...args], { env, timeout: 60_000 });
  onTestFinished(async () => {
    await ray('stop', '--force').catch(() => undefined);
    fs.rmSync(session, { recursive: true, force: true });
  });

  const port = await freePort();
  await ray('start', '--head', '--port', String(port), '--num-cpus', '1', '--dashboard-port', '0');
  const nodes = path.join(session, 'nodes');
  const [headFile] = fs.readdirSync(nodes);
  const head = JSON.parse(fs.readFileSync(path.join(nodes, headFile), 'utf8')) as { pid: number };
  expect(processAlive(head.pid)).toBe(true);

  // Two unrelated processes with records that name them by pid: one a record of this version
  // (another start time and command line), one of an older version (no identity at all).
  const bystanders = [spawn('sleep', ['60']), spawn('sleep', ['60'])];
  onTestFinished(() => bystanders.forEach((p) => p.kill('SIGKILL')));
  const [withIdentity, without] = bystanders.map((p) => p.pid!);
  const record = (pid: number, extra: object) =>
    fs.writeFileSync(
      path.join(nodes, `${pid}.json`),
      JSON.stringify({ pid, nodeId: `dead-${pid}`, address: '127.0.0.1:1', gcsAddress: '127.0.0.1:1', ...extra }),
    );
  record(withIdentity, { identity: { startTime: '1', command: `${process.execPath} node-main.js` } });
  record(without, {});

  const stop = await ray('stop');
  expect(stop.stdout).toContain('Stopped 1 ray-ts node.');
  expect(stop.stdout).toContain(`Skipped the record ${path.join(nodes, `${withIdentity}.json`)}`);
  expect(stop.stdout).toContain(`pid ${without} now runs 'sleep 60', not a ray-ts node`);
  expect(processAlive(head.pid)).toBe(false);
  for (const p of bystanders) expect(p.exitCode === null && p.signalCode === null && processAlive(p.pid!)).toBe(true);
  expect(fs.readdirSync(nodes)).toEqual([]);
});
