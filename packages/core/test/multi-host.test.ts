// A cluster whose processes each run on a host of their own: network namespaces on a bridge, each
// with its own address (TestHosts). The head and a worker node run in two namespaces; this test
// process is the driver, on a third address (the bridge's). Nothing goes over 127.0.0.1. An app's
// folder (copied to a temporary folder) is hidden from the two namespaces, as on machines that do
// not share it: a second driver runs it from this host, shipping its code with runtimeEnv.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, getActor, init, nodes, put, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { Cluster, TestHosts, commandOn } from '@ray-ts/core/testing';
import {
  CounterActor,
  doublePlusOne,
  napThenWhere,
  pathExists,
  sumOf,
  threes,
  whereAmI,
} from './fixtures/multi-host.js';

let hosts: TestHosts;
let cluster: Cluster;
/** Holds app/ (the driver's folder) and multi-host-lib/ (modules beside it), hidden from the cluster's hosts. */
let appRoot: string;

beforeAll(async () => {
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
  appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-app-'));
  fs.cpSync(path.join(fixtures, 'multi-host-app'), path.join(appRoot, 'app'), { recursive: true });
  fs.cpSync(path.join(fixtures, 'multi-host-lib'), path.join(appRoot, 'multi-host-lib'), { recursive: true });
  // Where the driver's host has ray-ts installed (the app imports @ray-ts/core).
  fs.symlinkSync(path.resolve(fixtures, '../../../../node_modules'), path.join(appRoot, 'node_modules'), 'dir');
  hosts = TestHosts.create(2, { hide: [appRoot] });
  cluster = await Cluster.start({
    // Short, so that the partition below is noticed soon; long enough for a loaded CI machine.
    nodeTimeoutMs: 3_000,
    head: { numCpus: 1, host: hosts.hosts[0] },
    nodes: [{ numCpus: 1, resources: { node2: 4 }, host: hosts.hosts[1] }],
  });
  await init({ address: cluster.address, logToDriver: false });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  hosts?.destroy();
  fs.rmSync(appRoot, { recursive: true, force: true });
});

/** Runs the app's driver (test/fixtures/multi-host-app/main.mjs) on this host; its result and output. */
async function runApp(args: string[]): Promise<{ result: Record<string, unknown>; output: string }> {
  const proc = spawn(process.execPath, ['main.mjs', ...args], {
    cwd: path.join(appRoot, 'app'),
    env: { ...process.env, RAY_TS_ADDRESS: cluster.address, APP_NODE: cluster.nodes[1].nodeId },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const m = /APP_RESULT (.*)/.exec(output);
  if (code !== 0 || !m) throw new Error(`the app's driver exited with ${code}:\n${output}`);
  return { result: JSON.parse(m[1]) as Record<string, unknown>, output };
}

const onNode2 = { resources: { node2: 1 } };

describe('a cluster across hosts', () => {
  it('advertises each process at its own host address, and the driver at the address that routes to the head', async () => {
    expect(cluster.address.startsWith(hosts.hosts[0].address + ':')).toBe(true);
    const listed = await nodes();
    expect(listed.map((n) => n.address.split(':')[0]).sort()).toEqual(
      [hosts.hosts[0].address, hosts.hosts[1].address].sort(),
    );
  });

  it('runs tasks on the other host, nested tasks from there, and actors there', async () => {
    const node2 = cluster.nodes[1].nodeId;
    expect(await get(whereAmI.options(onNode2).remote())).toBe(node2);
    expect(await get(doublePlusOne.options(onNode2).remote(20))).toBe(41);
    const c = CounterActor.options(onNode2).remote();
    expect(await get(c.node.remote())).toBe(node2);
    expect(await get([c.add.remote(1), c.add.remote(2), c.add.remote(3)])).toEqual([1, 3, 6]);
  });

  it('moves objects both ways: a put on the driver read on the other host, a result made there read here', async () => {
    const big = new Float64Array(256 * 1024).map((_, i) => i % 7);
    const ref = put(big);
    expect(await get(sumOf.options(onNode2).remote(ref))).toBe(big.reduce((s, v) => s + v, 0));
    const made = await get(threes.options(onNode2).remote(512 * 1024));
    expect(made.length).toBe(512 * 1024);
    expect(made[made.length - 1]).toBe(3);
  });

  it('refuses at once a node whose advertised address the head cannot reach, saying what to set', async () => {
    const { spawnNodeProcess } = await import('../dist/cluster/node-process.js' as string);
    const unreachable = hosts.hosts[1].address.replace(/\.\d+$/, '.250');
    const { proc, ready } = spawnNodeProcess(
      {
        head: false,
        gcsAddress: cluster.address,
        host: '0.0.0.0',
        nodeIpAddress: unreachable,
        port: 0,
        resources: { CPU: 1 },
      },
      { command: (argv: string[]) => commandOn(hosts.hosts[1], argv), env: { RAY_TS_ADDRESS: '' } },
    );
    await expect(ready).rejects.toThrow(
      new RegExp(`cannot reach this node at ${unreachable.replace(/\./g, '\\.')}:\\d+.*--node-ip-address`),
    );
    proc.kill('SIGKILL');
  });

  it("runs a driver's own modules on hosts that cannot see its folder, shipped with workingDir and modules", async () => {
    const node2 = cluster.nodes[1].nodeId;
    expect(await get(pathExists.options(onNode2).remote(path.join(appRoot, 'app', 'main.mjs')))).toBe(false); // hidden there
    const { result, output } = await runApp([]);
    expect(result.error).toBeUndefined();
    // What a task printed on the other host came to the driver (Ray's log_to_driver), saying where from.
    expect(result.shoutedOn).toBe(node2);
    expect(output).toContain(`(shout pid=${cluster.nodes[1].pid}, ip=${cluster.nodes[1].address}) shout from `);
    const where = result.where as Record<string, string>;
    expect(where.nodeId).toBe(node2);
    // It ran in the node's unpacked copy of the app's folder, and read the app's data file there.
    expect(where.cwd).toMatch(/_ray_pkg_[0-9a-f]+$/);
    expect(where.module).toBe(`file://${where.cwd}/lib/helpers.mjs`);
    expect([where.greeting, where.resolved]).toEqual(['hello from the app folder', 'hello from the app folder']);
    expect(where.childCwd).toBe(where.cwd);
    expect(result.nested).toBe(37);
    expect(result.scaled).toBe(40);
    expect(result.tally).toEqual([101, 103, node2]);
    expect(result.sameActor).toBe(103);
    // A second driver (this test process) finds the detached actor the app made, and calls it.
    const tally = await getActor<{ add(k: number): number }>('app-tally', { namespace: 'app' });
    expect(await get(tally.add.remote(10))).toBe(113);
  });

  it('fails at once, naming the module, the node and the fix, when a driver does not ship its folder', async () => {
    const { result } = await runApp(['--no-ship']);
    const error = result.error as { name: string; message: string };
    expect(error.name).toBe('RemoteCodeError');
    expect(error.message).toMatch(/helpers\.mjs, which defines 'whereAndWhat', is not on node .*workingDir/);
  });

  it('submits a job from a third host with its folder uploaded; its driver ships the folder on', async () => {
    const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'cli.js');
    const proc = spawn(
      process.execPath,
      [
        cli,
        'job',
        'submit',
        '--address',
        cluster.nodes[0].jobApiAddress!,
        '--working-dir',
        path.join(appRoot, 'app'),
        '--env-vars',
        JSON.stringify({ APP_NODE: cluster.nodes[1].nodeId }),
        '--',
        'node',
        'job.mjs',
      ],
      { env: { ...process.env, RAY_TS_ADDRESS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    expect(await new Promise((resolve) => proc.on('exit', resolve)), output).toBe(0);
    expect(output).toMatch(/Uploading package gcs:\/\/_ray_pkg_|already exists, skipping upload/);
    const result = JSON.parse(/JOB_RESULT (.*)/.exec(output)![1]) as { where: Record<string, string> };
    expect(result.where.nodeId).toBe(cluster.nodes[1].nodeId);
    expect(result.where.greeting).toBe('hello from the app folder');
    expect(result.where.module).toBe(`file://${result.where.cwd}/lib/helpers.mjs`);
  });

  // Last: it ends node 2.
  it('retries the work of a partitioned node and restarts its actors elsewhere, and fences the node when its link comes back', async () => {
    const [head, node2] = cluster.nodes;
    const restartable = CounterActor.options({
      schedulingStrategy: { nodeId: node2.nodeId, soft: true },
      maxRestarts: 1,
      maxTaskRetries: 1,
    }).remote();
    expect(await get(restartable.node.remote())).toBe(node2.nodeId);
    const ref = napThenWhere
      .options({ schedulingStrategy: { nodeId: node2.nodeId, soft: true }, maxRetries: 2 })
      .remote(2_000);
    await new Promise((r) => setTimeout(r, 500)); // it runs on node 2 now
    hosts.partition(hosts.hosts[1]); // its link goes down; its process runs on
    // Declared dead after the timeout: the task runs again on the head.
    expect(await get(ref)).toBe(head.nodeId);
    // Its restartable actor is restarted on the head, and answers there.
    expect(await get(restartable.node.remote())).toBe(head.nodeId);
    await waitFor(async () => !(await nodes()).find((n) => n.nodeId === node2.nodeId)?.alive, {
      timeoutMs: 15_000,
      what: 'node 2 declared dead',
    });
    hosts.heal(hosts.hosts[1]);
    // Back on the network it hears it was declared dead, and exits instead of rejoining (no split brain).
    const exited = () => {
      try {
        process.kill(node2.pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitFor(exited, { timeoutMs: 15_000, what: 'node 2 exiting once fenced' });
    expect(node2.output()).toMatch(/was declared dead by the cluster/);
    expect((await nodes()).find((n) => n.nodeId === node2.nodeId)?.alive ?? false).toBe(false);
  });
});
