// `ray-ts up` over SSH, for real: three hosts (network namespaces on a bridge, each with its own
// address and its own OpenSSH server on port 22, with keys this test makes), and this test process
// as the user's machine. `up` starts the head on the first host; a job submitted there needs
// resources only worker nodes have, so the head's autoscaler starts nodes on the other two hosts
// over SSH, stops them once idle, and `down` leaves nothing running.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHosts, waitFor } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const coreDist = path.join(here, '..', 'dist', 'bundle');
const cli = path.join(coreDist, 'cli.js');
const SSHD = '/usr/sbin/sshd';
const hasTools = fs.existsSync(SSHD) && ['/usr/bin/rsync', '/usr/bin/ssh'].every((f) => fs.existsSync(f));
const canRun = process.getuid?.() === 0 && hasTools;

let tmp: string;
let hosts: TestHosts;
const sshds: ChildProcess[] = [];
let configFile: string;
const clusterName = `ssh-test-${process.pid}`;

function write(file: string, text: string, mode = 0o644): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
  return file;
}

/** `ray-ts ARGS` from the user's machine (this process's host, its own session directory). */
async function ray(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, RAY_TS_SESSION_DIR: path.join(tmp, 'laptop'), RAY_TS_ADDRESS: '' },
      timeout: 120_000,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const canConnect = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** Node processes (ray-ts's node-main) whose session directory is one of this test's hosts'. */
function nodeProcesses(): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes('node-main')) continue;
      if (fs.readFileSync(`/proc/${p}/environ`, 'utf8').includes(`RAY_TS_SESSION_DIR=${tmp}/`)) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

// Skip reason: needs root (network namespaces) and OpenSSH's server and rsync; CI runs as root and installs them.
describe.skipIf(!canRun && !process.env.CI)('ray-ts up with an ssh provider', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-ssh-'));
    fs.chmodSync(tmp, 0o755);
    hosts = TestHosts.create(3);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'id')]);
    fs.copyFileSync(path.join(tmp, 'id.pub'), path.join(tmp, 'authorized_keys'));
    // `ray-ts` on the hosts' PATH: this checkout's CLI.
    write(path.join(tmp, 'bin', 'ray-ts'), `#!/bin/sh\nexec ${process.execPath} ${cli} "$@"\n`, 0o755);
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    for (const [i, h] of hosts.hosts.entries()) {
      const dir = path.join(tmp, `h${i}`);
      fs.mkdirSync(dir, { recursive: true });
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'hostkey')]);
      const cfg = write(
        path.join(dir, 'sshd_config'),
        [
          `ListenAddress ${h.address}`,
          'Port 22',
          `HostKey ${dir}/hostkey`,
          `PidFile ${dir}/sshd.pid`,
          `AuthorizedKeysFile ${tmp}/authorized_keys`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          // Each host its own session directory (they share this machine's file system).
          `SetEnv PATH=${tmp}/bin:/usr/local/bin:/usr/bin:/bin RAY_TS_SESSION_DIR=${dir}/session`,
          '',
        ].join('\n'),
      );
      const p = spawn('ip', ['netns', 'exec', h.netns!, SSHD, '-D', '-e', '-f', cfg], { stdio: 'ignore' });
      sshds.push(p);
    }
    for (const h of hosts.hosts)
      await waitFor(() => canConnect(h.address, 22), { what: `sshd on ${h.address}`, timeoutMs: 10_000 });
    write(path.join(tmp, 'local-app', 'data.txt'), 'mounted\n');
    const [head, w1, w2] = hosts.hosts.map((h) => h.address);
    configFile = write(
      path.join(tmp, 'cluster.yaml'),
      `cluster_name: ${clusterName}
max_workers: 2
idle_timeout_minutes: 0.05
provider:
  type: ssh
  head_ip: ${head}
  worker_ips: [${w1}, ${w2}]
auth:
  ssh_user: root
  ssh_private_key: ${tmp}/id
available_node_types:
  head: { resources: { CPU: 1 } }
  box:
    resources: { CPU: 1, box: 1 }
    min_workers: 0
    max_workers: 2
head_node_type: head
file_mounts:
  ${tmp}/remote-app: ${tmp}/local-app
setup_commands:
  - echo "setup on $(hostname -I | cut -d' ' -f1) head $RAY_HEAD_IP" >> ${tmp}/setup.log
worker_setup_commands:
  - echo "worker setup on $(hostname -I | cut -d' ' -f1)" >> ${tmp}/setup.log
`,
    );
  }, 60_000);

  afterAll(async () => {
    if (configFile) await ray('down', configFile);
    for (const p of sshds) p.kill('SIGTERM');
    for (const pid of nodeProcesses()) process.kill(pid, 'SIGKILL');
    hosts?.destroy();
    fs.rmSync(path.join(os.homedir(), '.ray-ts', 'bootstrap', clusterName), { recursive: true, force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 120_000);

  it('brings a cluster up on three hosts, scales workers by demand, and down leaves nothing running', async () => {
    const [head, w1, w2] = hosts.hosts.map((h) => h.address);
    const up = await ray('up', configFile);
    expect(up.out).toContain(`is up: its head is at ${head}:6380`);
    expect(up.code).toBe(0);
    // The config and key were left on the head, private.
    const boot = path.join(os.homedir(), '.ray-ts', 'bootstrap', clusterName);
    expect(fs.statSync(boot).mode & 0o077).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(boot, 'config.json'), 'utf8')).auth.sshPrivateKey).toBe(
      path.join(boot, 'ssh-key'),
    );
    expect(fs.readFileSync(path.join(tmp, 'remote-app', 'data.txt'), 'utf8')).toBe('mounted\n');

    // A job on the head whose tasks need `box`: only worker nodes have it.
    const job = write(
      path.join(tmp, 'job.mjs'),
      `const ray = await import(${JSON.stringify(path.join(coreDist, 'index.js'))});
await ray.init();
const where = ray.remote(async () => {
  await new Promise((r) => setTimeout(r, 1500));
  const os = await import('node:os');
  const fs = await import('node:fs');
  const ips = Object.values(os.networkInterfaces()).flat().filter((a) => a.family === 'IPv4' && !a.internal);
  return { ip: ips[0].address, mount: fs.readFileSync(${JSON.stringify(path.join(tmp, 'remote-app', 'data.txt'))}, 'utf8') };
}, { resources: { box: 1 } });
const out = await ray.get([where.remote(), where.remote(), where.remote(), where.remote()]);
console.log('RESULT ' + JSON.stringify(out));
await ray.shutdown();
`,
    );
    const sub = await ray('submit', configFile, job);
    expect(sub.code, sub.out).toBe(0);
    const result = JSON.parse(/RESULT (.*)/.exec(sub.out)![1]) as { ip: string; mount: string }[];
    expect(new Set(result.map((r) => r.ip))).toEqual(new Set([w1, w2]));
    expect(result.every((r) => r.mount === 'mounted\n')).toBe(true);
    const setup = fs.readFileSync(path.join(tmp, 'setup.log'), 'utf8');
    for (const ip of [head, w1, w2]) expect(setup).toContain(`setup on ${ip} head ${head}`);
    expect(setup).toContain(`worker setup on ${w1}`);
    expect(setup).not.toContain(`worker setup on ${head}`);

    // Idle for 3 s: the autoscaler stops both workers (over SSH); the head stays.
    await waitFor(
      async () => {
        const st = await ray('exec', configFile, 'ray-ts list nodes --format json');
        const nodes = JSON.parse(st.out.slice(st.out.indexOf('['))) as { state: string; nodeIp: string }[];
        return nodes.filter((n) => n.state === 'ALIVE').length === 1;
      },
      { what: 'the idle workers to stop', timeoutMs: 60_000, intervalMs: 1_000 },
    );
    // exec passes the command's exit code on.
    expect((await ray('exec', configFile, 'exit 3')).code).toBe(3);

    const down = await ray('down', configFile);
    expect(down.code, down.out).toBe(0);
    await waitFor(() => nodeProcesses().length === 0, { what: 'no node process left', timeoutMs: 20_000 });
  }, 240_000);

  it('says which host and what to check when ssh cannot log in', async () => {
    // The test process's own address: no sshd listens there.
    const bad = write(
      path.join(tmp, 'bad.yaml'),
      fs.readFileSync(configFile, 'utf8').replace(/head_ip: .*/, `head_ip: ${hosts.local.address}`),
    );
    const r = await ray('exec', bad, 'true');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`ssh could not reach the head ${hosts.local.address}`);
    const u = await ray('up', bad);
    expect(u.code).toBe(1);
    expect(u.out).toMatch(/ssh could not run it on root@.* \(port 22\): check that the host is up/);
  });
});
