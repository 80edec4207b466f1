// `ray-ts logs` on a real cluster (a head and a node, real processes on 127.0.0.1, the real CLI
// spawned): an actor on the non-head node prints lines that `ray-ts logs actor --name` prints,
// and `--follow` shows a line printed after it started; a task's own lines; a submitted job's
// log; listing a node's files (and the HTTP shape the dashboard reads); rotation by size on the
// node; and a file name that is a path is refused.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { get, getLog, init, listLogs, shutdown } from '@ray-ts/core';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';
import { LogsActorClass, sayInTask, spam } from './fixtures/logs.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'logs-test-'));
const logDir = path.join(tmp, 'logs');
const savedToken = process.env.RAY_TS_AUTH_TOKEN;
process.env.RAY_TS_AUTH_TOKEN = crypto.randomBytes(16).toString('hex');
const actorName = `logs-actor-${process.pid}`;

let cluster: Cluster;
let api: string;
const env = () => ({ ...process.env, RAY_TS_ADDRESS: '' });
// The address goes before any `--` (a job's entrypoint).
const ray = (cmd: string[], ...rest: string[]) =>
  run(process.execPath, [cli, ...cmd, '--address', cluster.address, ...rest], { timeout: 60_000, env: env() });
const worker = () => cluster.nodes[1];

beforeAll(async () => {
  cluster = await Cluster.start({
    head: { numCpus: 1 },
    nodes: [
      {
        numCpus: 2,
        resources: { logsNode: 10 },
        env: { RAY_TS_LOG_ROTATION_MAX_BYTES: '4096', RAY_TS_LOG_ROTATION_BACKUP_COUNT: '2' },
      },
    ],
    logDir,
  });
  api = cluster.nodes[0].jobApiAddress!;
  // The workers' lines are read from their files here, not printed in this test's output too.
  await init({ address: cluster.address, logToDriver: false });
});

afterAll(async () => {
  await shutdown();
  await cluster?.shutdown();
  if (savedToken === undefined) delete process.env.RAY_TS_AUTH_TOKEN;
  else process.env.RAY_TS_AUTH_TOKEN = savedToken;
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Each test spawns the CLI several times (about a second each on a loaded machine).
describe('ray-ts logs', { timeout: 120_000 }, () => {
  it("prints an actor's lines written on another node, by name, and follows them", async () => {
    const actor = LogsActorClass.options({ name: actorName, resources: { logsNode: 1 } }).remote();
    expect(await get(actor.say.remote('hello from the actor'))).toBe('hello from the actor');
    // The file is on the node that ran it, under Ray's name.
    const nodeDir = path.join(logDir, worker().nodeId);
    await waitFor(() =>
      fs
        .readdirSync(nodeDir)
        .some(
          (f) =>
            /^worker-.+-\d+\.out$/.test(f) &&
            fs.readFileSync(path.join(nodeDir, f), 'utf8').includes('hello from the actor'),
        ),
    );
    const printed = await ray(['logs', 'actor', '--name', actorName]);
    expect(printed.stdout).toContain('hello from the actor\n');
    expect(printed.stdout).not.toContain('err hello');
    expect((await ray(['logs', 'actor', '--name', actorName, '--err'])).stdout).toContain('err hello from the actor\n');

    const follower = spawn(
      process.execPath,
      [cli, 'logs', 'actor', '--name', actorName, '--follow', '--address', cluster.address],
      { env: env() },
    );
    onTestFinished(() => void follower.kill('SIGKILL'));
    let seen = '';
    follower.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    await waitFor(() => seen.includes('hello from the actor'), {
      what: 'the follower to print what was there',
      timeoutMs: 30_000,
    });
    await get(actor.say.remote('printed after the follower started'));
    await waitFor(() => seen.includes('printed after the follower started\n'), {
      what: 'the followed line',
      timeoutMs: 30_000,
    });
    const exited = new Promise((resolve) => follower.on('exit', resolve));
    follower.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it("prints a task's own lines, not its worker's other tasks'", async () => {
    const [a, b] = await get([
      sayInTask.options({ resources: { logsNode: 1 } }).remote('A'),
      sayInTask.options({ resources: { logsNode: 1 } }).remote('B'),
    ]);
    // The node writes the lines after its turn: the first read may come before.
    let out = '';
    await waitFor(async () => (out = (await ray(['logs', 'task', '--id', a])).stdout).includes('task A line 2'), {
      what: "the task's lines",
      timeoutMs: 30_000,
    });
    expect(out).toBe('task A line 1\ntask A line 2\n');
    expect((await ray(['logs', 'task', '--id', b])).stdout).toBe('task B line 1\ntask B line 2\n');
    // The public API reads the same.
    let text = '';
    for await (const chunk of getLog({ taskId: a, address: cluster.address })) text += chunk;
    expect(text).toBe('task A line 1\ntask A line 2\n');
    // Worker threads share their node's pid: its most recently written worker file.
    const byPid = await ray(['logs', 'worker', '--pid', String(worker().pid), '--node-id', worker().nodeId]);
    expect(byPid.stdout).toMatch(/task [AB] line 2\n/);
    await expect(ray(['logs', 'worker', '--pid', '1'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/No worker with pid 1 wrote a log \(looked on 2 nodes\)/),
    });
    await expect(ray(['logs', 'task', '--id', 'task_nope'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Task task_nope wrote no log lines \(looked on 2 nodes\)/),
    });
  });

  it("prints a submitted job's log", async () => {
    const id = `logs-job-${process.pid}`;
    await ray(
      ['job', 'submit', '--no-wait', '--submission-id', id],
      '--',
      process.execPath,
      '-e',
      `'console.log("job says hi")'`, // a shell runs the entrypoint,
    );
    await waitFor(async () => (await ray(['logs', 'job', '--id', id])).stdout.includes('job says hi'), {
      what: "the job's log",
      timeoutMs: 30_000,
    });
    await expect(ray(['logs', 'job', '--id', 'no-such-job'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/No job 'no-such-job' has a log on this head/),
    });
  });

  it("lists a node's files by category, over the CLI, the HTTP API and listLogs", async () => {
    await get(sayInTask.options({ resources: { logsNode: 1 } }).remote('L'));
    const listed = (await ray(['logs', '--node-id', worker().nodeId])).stdout;
    expect(listed).toContain(`Node ${worker().nodeId}`);
    expect(listed).toMatch(/worker_out\/\n {2}worker-\S+\.out/);
    expect(listed).toContain('raylet.out');
    expect((await ray(['logs', 'cluster'])).stdout).toContain(`Node ${cluster.nodes[0].nodeId}`);

    const res = await fetch(`${api}/api/v0/logs?node_id=${worker().nodeId}`, { headers: clusterAuthHeaders() });
    const body = (await res.json()) as { result: boolean; msg: string; data: { result: Record<string, string[]> } };
    expect(body.result).toBe(true);
    expect(body.data.result.worker_out.length).toBeGreaterThan(0);
    expect(body.data.result.raylet).toEqual(expect.arrayContaining(['raylet.out', 'raylet.err']));
    expect((await fetch(`${api}/api/v0/logs`)).status).toBe(401);
    // A file from a byte offset (the dashboard pages through files so).
    const page = await fetch(`${api}/api/v0/logs/file?node_id=${worker().nodeId}&filename=raylet.out&offset=7`, {
      headers: clusterAuthHeaders(),
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-ray-ts-node-id')).toBe(worker().nodeId);
    expect(await page.text()).toMatch(/^node node_\w+ \(pid \d+\) serves at/);

    const byApi = await listLogs({ address: cluster.address, nodeId: worker().nodeId, glob: 'worker-*.out' });
    expect(Object.keys(byApi)).toEqual(['worker_out']);
  });

  it('rotates log files by size on the node, keeping RAY_TS_LOG_ROTATION_BACKUP_COUNT of them', async () => {
    await get(spam.options({ resources: { logsNode: 1 } }).remote(200, 60));
    const files = async () => (await listLogs({ address: cluster.address, nodeId: worker().nodeId })).worker_out ?? [];
    await waitFor(async () => (await files()).some((f) => f.endsWith('.out.2')), { what: 'two rotated files' });
    const names = await files();
    const rotated = names.find((f) => f.endsWith('.out.1'))!;
    expect(names.some((f) => f.endsWith('.out.3'))).toBe(false);
    for (const f of names) expect(fs.statSync(path.join(logDir, worker().nodeId, f)).size).toBeLessThanOrEqual(4096);
    const older = (await ray(['logs', rotated, '--node-id', worker().nodeId, '--tail', '-1'])).stdout;
    expect(older).toMatch(/^spam \d{4} x+\n/);
    expect(older.length).toBeGreaterThan(3000);
  });

  it('refuses a file name that is a path, and says what is not there', async () => {
    const q = (filename: string) =>
      fetch(`${api}/api/v0/logs/file?node_id=${worker().nodeId}&filename=${encodeURIComponent(filename)}`, {
        headers: clusterAuthHeaders(),
      });
    const traversal = await q('../jobs-x/job-a.log');
    expect(traversal.status).toBe(400);
    expect(((await traversal.json()) as { error: string }).error).toMatch(/is not the name of a log file/);
    expect((await q('/etc/passwd')).status).toBe(400);
    const missing = await q('nothing.out');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/No log file 'nothing.out' on node/);
    await expect(ray(['logs', 'actor', '--id', 'actor_nope'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Actor actor_nope is not known to this cluster/),
    });
  });
});
