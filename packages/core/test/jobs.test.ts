import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'bundle', 'cli.js');
let cluster: Cluster;
let api: string;
const ray = (...args: string[]) =>
  run(process.execPath, [cli, ...args], { timeout: 60_000, env: { ...process.env, RAY_TS_ADDRESS: '' } });

beforeAll(async () => {
  cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }] });
  api = cluster.nodes[0].jobApiAddress!;
});

afterAll(async () => {
  await cluster.shutdown();
});

it('submits a job with the CLI, follows its logs to the end, and keeps them', async () => {
  const { stdout, stderr } = await ray(
    'job',
    'submit',
    '--address',
    cluster.address,
    '--submission-id',
    'job-ok',
    '--working-dir',
    path.join(here, 'fixtures', 'job-dir'),
    '--env-vars',
    '{"GREETING": "hello"}',
    '--',
    process.execPath,
    'job-script.mjs',
  );
  expect(stdout).toContain(`hello from job job-ok: 1,4,9 on ${cluster.address}`);
  expect(stderr).toMatch(/Job 'job-ok' SUCCEEDED/);
  expect((await ray('job', 'status', 'job-ok', '--address', cluster.address)).stdout).toContain('SUCCEEDED');
  expect((await ray('job', 'logs', 'job-ok', '--address', api)).stdout).toContain('hello from job job-ok');
  expect((await ray('job', 'list', '--address', cluster.address)).stdout).toMatch(/job-ok\s+SUCCEEDED/);
  // The GCS job table has it too (ray-ts list jobs).
  expect((await ray('list', 'jobs', '--address', cluster.address, '--filter', 'jobId=job-ok')).stdout).toContain(
    'SUCCEEDED',
  );
});

it('reports a failing job, and stops a running one', async () => {
  await expect(
    ray('job', 'submit', '--address', cluster.address, '--', 'sh', '-c', '"echo bad; exit 3"'),
  ).rejects.toMatchObject({
    stderr: expect.stringMatching(/FAILED: the driver exited with code 3/),
  });
  const { stdout } = await ray(
    'job',
    'submit',
    '--address',
    cluster.address,
    '--no-wait',
    '--',
    process.execPath,
    '-e',
    '"setInterval(() => console.log(\'tick\'), 50)"',
  );
  const id = stdout.trim();
  await waitFor(async () => (await ray('job', 'logs', id, '--address', cluster.address)).stdout.includes('tick'), {
    what: 'the job printing',
  });
  const following = ray('job', 'logs', id, '--follow', '--address', cluster.address); // ends when the job does
  expect((await ray('job', 'stop', id, '--address', cluster.address)).stdout).toContain('stopping');
  expect((await following).stdout).toContain('tick');
  await waitFor(async () => (await ray('job', 'status', id, '--address', cluster.address)).stdout.includes('STOPPED'), {
    what: 'the job stopped',
  });
  await expect(ray('job', 'status', 'no-such-job', '--address', cluster.address)).rejects.toMatchObject({
    stderr: expect.stringMatching(/no job 'no-such-job'/),
  });
  // Following a job that is not there is an HTTP error at once (404 to the websocket's upgrade).
  await expect(ray('job', 'logs', '--follow', 'no-such-job', '--address', api)).rejects.toMatchObject({
    stderr: expect.stringMatching(/cannot follow the logs of job no-such-job: no job 'no-such-job'/),
  });
});

it('uploads the working directory once, and runs the job in its copy on the head', async () => {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-job-app-'));
  onTestFinished(() => fs.rmSync(app, { recursive: true, force: true }));
  fs.writeFileSync(path.join(app, 'note.txt'), `a note from ${path.basename(app)}\n`);
  fs.writeFileSync(path.join(app, 'debug.log'), 'left out\n');
  fs.writeFileSync(
    path.join(app, 'show.mjs'),
    "import fs from 'node:fs';\n" +
      'console.log(`cwd=${process.cwd()}`);\n' +
      "console.log(fs.readFileSync('note.txt', 'utf8').trim(), '| debug.log', fs.existsSync('debug.log') ? 'there' : 'left out');\n",
  );
  const submit = () =>
    ray(
      'job',
      'submit',
      '--address',
      api,
      '--working-dir',
      app,
      '--excludes',
      '*.log',
      '--',
      process.execPath,
      'show.mjs',
    );
  const first = await submit();
  expect(first.stdout).toContain(`a note from ${path.basename(app)} | debug.log left out`);
  const cwd = /cwd=(.*)/.exec(first.stdout)![1];
  expect(cwd).not.toBe(fs.realpathSync(app)); // the head's unpacked copy, not this folder
  expect(path.basename(cwd)).toMatch(/^_ray_pkg_[0-9a-f]+$/);
  const uri = /Uploading package (gcs:\/\/_ray_pkg_[0-9a-f]+\.zip)/.exec(first.stderr)?.[1];
  expect(uri, first.stderr).toBeDefined();
  const headers = clusterAuthHeaders();
  expect((await fetch(`${api}/api/packages/gcs/${uri!.slice('gcs://'.length)}`, { headers })).status).toBe(200);
  // The same folder again: the head has it, so it is not uploaded a second time.
  const second = await submit();
  expect(second.stderr).toContain(`Package ${uri} already exists, skipping upload.`);
  expect(second.stderr).not.toContain('Uploading');
  expect(second.stdout).toContain(`cwd=${cwd}`);
  await expect(
    ray('job', 'submit', '--address', api, '--working-dir', path.join(app, 'nope'), '--', 'true'),
  ).rejects.toMatchObject({
    stderr: expect.stringMatching(/--working-dir: The working directory .*nope' does not exist/),
  });
});

it("serves the HTTP job API at Ray's paths", async () => {
  const headers = clusterAuthHeaders();
  const json = { ...headers, 'content-type': 'application/json' };
  const res = await fetch(`${api}/api/jobs/`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ entrypoint: 'echo from-http', submission_id: 'http-job' }),
  });
  expect(await res.json()).toMatchObject({ submission_id: 'http-job' });
  const get = (p: string) => fetch(`${api}${p}`, { headers });
  await waitFor(
    async () => ((await (await get('/api/jobs/http-job')).json()) as { status: string }).status === 'SUCCEEDED',
    { what: 'the job done' },
  );
  expect(((await (await get('/api/jobs/http-job/logs')).json()) as { logs: string }).logs).toBe('from-http\n');
  // A plain GET of the tail path (no websocket, as curl) streams the same log to the job's end.
  expect(await (await get('/api/jobs/http-job/logs/tail')).text()).toBe('from-http\n');
  const bad = await fetch(`${api}/api/jobs/`, { method: 'POST', headers: json, body: '{"runtime_env": {}}' });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toMatch(/needs an entrypoint/);
  const dup = await fetch(`${api}/api/jobs/`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ entrypoint: 'true', submission_id: 'http-job' }),
  });
  expect(dup.status).toBe(409);
});
