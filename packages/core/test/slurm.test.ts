// ray-ts on a real Slurm (Debian's slurmctld, slurmd and munged; one slurmd per host, each host a
// network namespace with its own address): the sbatch template of examples/slurm runs a cluster
// over a 3-node allocation and a driver on it; and `ray-ts up` with a slurm provider starts a head
// here (the login node) whose autoscaler submits worker jobs for pending demand, cancels them once
// idle, and `down` leaves no job or node behind.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHosts, waitFor } from '@ray-ts/core/testing';
import { TestSlurm, freePort, slurmInstalled } from './fixtures/slurm.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const coreDist = path.join(here, '..', 'dist', 'bundle');
const cli = path.join(coreDist, 'cli.js');
const template = path.join(here, '..', '..', '..', 'examples', 'slurm', 'ray-ts.sbatch');

let tmp: string;
let hosts: TestHosts;
let slurm: TestSlurm;
let env: NodeJS.ProcessEnv;

/** Node processes (node-main) started with one of this test's session directories. */
function nodeProcesses(): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (!fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('node-main')) continue;
      if (fs.readFileSync(`/proc/${p}/environ`, 'utf8').includes(`RAY_TS_SESSION_DIR=${tmp}/`)) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** A driver that reports the Slurm node (hostname) of each of `n` tasks needing `resources`. */
function driver(file: string, n: number, opts: string): string {
  fs.writeFileSync(
    file,
    `const ray = await import(${JSON.stringify(path.join(coreDist, 'index.js'))});
await ray.init();
const where = ray.remote(async () => {
  await new Promise((r) => setTimeout(r, 1500));
  return (await import('node:os')).hostname();
}, ${opts});
console.log('RESULT ' + JSON.stringify(await ray.get(Array.from({ length: ${n} }, () => where.remote()))));
await ray.shutdown();
`,
  );
  return file;
}

// Skip reason: needs root (network namespaces) and Slurm with munge; CI runs as root and installs slurm-wlm and munge.
describe.skipIf((process.getuid?.() !== 0 || !slurmInstalled) && !process.env.CI)('ray-ts on Slurm', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-slurm-'));
    fs.chmodSync(tmp, 0o755);
    hosts = TestHosts.create(3);
    slurm = await TestSlurm.start(hosts, path.join(tmp, 'slurm'));
    // `ray-ts` on the PATH of every job: this checkout's CLI.
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.writeFileSync(path.join(tmp, 'bin', 'ray-ts'), `#!/bin/sh\nexec ${process.execPath} ${cli} "$@"\n`, {
      mode: 0o755,
    });
    env = {
      ...process.env,
      ...slurm.env,
      PATH: `${tmp}/bin:${process.env.PATH}`,
      RAY_TS_ADDRESS: '',
    };
  }, 60_000);

  afterAll(() => {
    slurm?.stop();
    for (const pid of nodeProcesses()) process.kill(pid, 'SIGKILL');
    hosts?.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the sbatch template: a head, a worker node per other node, and the driver', async () => {
    const out = path.join(tmp, 'template-%j.out');
    const script = driver(path.join(tmp, 'template-driver.mjs'), 3, "{ schedulingStrategy: 'SPREAD' }");
    const { stdout } = await run(
      'sbatch',
      ['--parsable', '--nodes=3', '--cpus-per-task=1', `--output=${out}`, template, process.execPath, script],
      { env: { ...env, RAY_TS_SESSION_DIR: path.join(tmp, 'template-session') } },
    );
    const jobId = stdout.trim().split(';')[0];
    await waitFor(() => slurm.cmd('squeue', ['--noheader', `--jobs=${jobId}`]).trim() === '', {
      what: `Slurm job ${jobId} to end`,
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    const text = fs.readFileSync(out.replace('%j', jobId), 'utf8');
    expect(text).toContain('3 of 3 nodes up');
    const result = JSON.parse(/RESULT (.*)/.exec(text)?.[1] ?? 'null') as string[] | null;
    expect(result, text).not.toBeNull();
    expect(new Set(result)).toEqual(new Set(slurm.nodeNames));
    // The job's end stopped every node it started.
    await waitFor(() => nodeProcesses().length === 0, { what: 'the nodes to stop with the job', timeoutMs: 20_000 });
  }, 120_000);

  it('autoscales worker nodes as Slurm jobs, and down cancels them', async () => {
    const name = `slurm-test-${process.pid}`;
    const config = path.join(tmp, 'cluster.yaml');
    fs.writeFileSync(
      config,
      `cluster_name: ${name}
max_workers: 2
idle_timeout_minutes: 0.05
provider: { type: slurm, partition: debug, head_ip: ${hosts.local.address} }
available_node_types:
  head: { resources: { CPU: 1 } }
  box: { resources: { CPU: 1, box: 1 }, max_workers: 2 }
head_node_type: head
setup_commands:
  - echo "setup on $(hostname)" >> ${tmp}/slurm-setup.log
`,
    );
    const port = await freePort();
    const session = path.join(tmp, 'head-session');
    const ray = (...args: string[]) =>
      run(process.execPath, [cli, ...args], { env: { ...env, RAY_TS_SESSION_DIR: session }, timeout: 60_000 });
    await ray('up', config, '--port', String(port), '--dashboard-port', '0');
    const jobs = () =>
      slurm
        .cmd('squeue', ['--noheader', '--format=%j|%T|%N'])
        .trim()
        .split('\n')
        .filter((l) => l.startsWith(`ray-ts-${name}-box|`));
    try {
      const script = driver(path.join(tmp, 'provider-driver.mjs'), 2, '{ resources: { box: 1 } }');
      const { stdout } = await run(process.execPath, [script], {
        env: { ...env, RAY_TS_SESSION_DIR: session, RAY_TS_ADDRESS: `${hosts.local.address}:${port}` },
        timeout: 90_000,
      });
      const result = JSON.parse(/RESULT (.*)/.exec(stdout)![1]) as string[];
      // Two box tasks at once: two worker jobs, on two of the Slurm nodes.
      expect(result.every((h) => slurm.nodeNames.includes(h))).toBe(true);
      expect(fs.readFileSync(path.join(tmp, 'slurm-setup.log'), 'utf8')).toMatch(/setup on h\d/);
      expect(jobs().length).toBeGreaterThan(0);
      // Idle for 3 s: the autoscaler cancels the jobs.
      await waitFor(() => jobs().length === 0, {
        what: 'the idle worker jobs to be cancelled',
        timeoutMs: 60_000,
      }).catch(async (err: Error) => {
        // Say why: the autoscaler's account and the head's log.
        const status = await ray('status', '--address', `${hosts.local.address}:${port}`).catch((e: Error) => e);
        const logs = path.join(session, 'logs');
        const errLog = fs.readdirSync(logs, { recursive: true }).find((f) => String(f).endsWith('raylet.err'));
        const tail = errLog ? fs.readFileSync(path.join(logs, String(errLog)), 'utf8').slice(-3000) : '(no log)';
        throw new Error(`${err.message}\njobs: ${jobs().join(', ')}\n${JSON.stringify(status)}\n${tail}`);
      });
    } finally {
      await ray('down', config);
    }
    expect(jobs()).toEqual([]);
    await waitFor(() => nodeProcesses().length === 0, { what: 'no node process left', timeoutMs: 30_000 });
  }, 180_000);
});
