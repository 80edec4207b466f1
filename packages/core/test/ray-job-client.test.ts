// Ray's own JobSubmissionClient (Ray 2.58, from ../shared/tools/ray-baseline.sh's venv) against a
// ray-ts head: the job API speaks Ray's REST protocol, and takes the cluster's token as Ray's
// client sends it (RAY_AUTH_MODE=token and RAY_AUTH_TOKEN: an 'authorization: Bearer' header). Skipped where that script (the project's
// shared tools) or Ray's wheels are not on the machine; .ci/run installs them first.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Cluster, clusterAuthHeaders } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const baseline = path.resolve(here, '../../../../shared/tools/ray-baseline.sh');
let rayReady = false;
let cluster: Cluster | undefined;
/** How Ray's client and CLI are given the cluster's token. */
const rayAuthEnv = () => ({
  ...process.env,
  RAY_AUTH_MODE: 'token',
  RAY_AUTH_TOKEN: clusterAuthHeaders().authorization.replace(/^Bearer /, ''),
});

beforeAll(async () => {
  if (!fs.existsSync(baseline)) return;
  try {
    await run('bash', [baseline, 'setup'], { timeout: 240_000 });
    rayReady = true;
  } catch {
    rayReady = false; // no wheel store here: nothing to compare against
  }
  if (rayReady) cluster = await Cluster.start({ head: { numCpus: 1 } });
}, 300_000);

afterAll(async () => {
  await cluster?.shutdown();
});

describe("Ray's job client against a ray-ts head", () => {
  it('submits jobs (one with an uploaded working directory), tails one to SUCCEEDED, reads logs, lists and deletes', async (ctx) => {
    if (!rayReady) ctx.skip();
    const api = cluster!.nodes[0].jobApiAddress!;
    const { stdout } = await run('bash', [baseline, 'python', path.join(here, 'fixtures/ray-job-client.py'), api], {
      timeout: 120_000,
      env: rayAuthEnv(),
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, stdout).toBeDefined();
    const r = JSON.parse(line!.slice('RESULT '.length)) as Record<string, unknown>;
    expect(r).toMatchObject({
      status: 'SUCCEEDED',
      type: 'SUBMISSION',
      metadata: { team: 'ray-ts' },
      exit_code: 0,
      listed: true,
      deleted: true,
      listed_after_delete: false,
    });
    expect(r.logs).toContain('hello from 42');
    // Its working directory was uploaded as a package, unpacked on the head, and run there.
    expect(r.wd_status, String(r.wd_logs)).toBe('SUCCEEDED');
    expect((r.wd_runtime_env as { working_dir: string }).working_dir).toMatch(/^gcs:\/\/_ray_pkg_[0-9a-f]+\.zip$/);
    expect(r.wd_logs).toContain('hello ray-ts from the uploaded folder | @ray-ts/core from the head: function');
    // tail_job_logs streamed the log while the job ran (the job went on only once the follower had
    // its first lines), then all of it, and ended when the job did.
    expect(r.wd_tailed).toContain('after the follower saw them: line 3');
    expect(r.wd_tailed).toBe(r.wd_logs);
  });

  it("Ray's CLI uploads a working directory and follows logs (ray job submit, ray job logs --follow)", async (ctx) => {
    if (!rayReady) ctx.skip();
    const api = cluster!.nodes[0].jobApiAddress!;
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-cli-app-'));
    onTestFinished(() => fs.rmSync(app, { recursive: true, force: true }));
    fs.writeFileSync(path.join(app, 'note.txt'), 'a note from the folder\n');
    fs.writeFileSync(
      path.join(app, 'show.cjs'),
      "console.log('cwd', process.cwd(), require('node:fs').readFileSync('note.txt', 'utf8').trim());\n" +
        "setTimeout(() => console.log('the last line, a while later'), 300);\n",
    );
    // Ray's own `ray` command from the script's venv (its documented place), run directly: the
    // script's `python` checks the venv's imports first, seconds a call.
    const venv = process.env.RAY_BASELINE_VENV || path.join(os.homedir(), '.cache', 'ray-baseline', 'venv');
    const rayJob = async (...args: string[]) => {
      const { stdout, stderr } = await run(path.join(venv, 'bin', 'ray'), ['job', ...args], {
        timeout: 120_000,
        env: { ...rayAuthEnv(), RAY_ADDRESS: '' },
      });
      return stdout + stderr;
    };
    // Without --no-wait, Ray's CLI tails the log over the websocket until the job ends.
    const id = `ray-cli-${process.pid}`;
    const submitted = await rayJob(
      'submit',
      '--address',
      api,
      '--submission-id',
      id,
      '--working-dir',
      app,
      '--',
      'node',
      'show.cjs',
    );
    expect(submitted).toMatch(/cwd \S*_ray_pkg_[0-9a-f]+ a note from the folder/);
    expect(submitted).toContain('the last line, a while later');
    expect(submitted).toMatch(new RegExp(`Job '${id}' succeeded`));
    const followed = await rayJob('logs', '--follow', '--address', api, id);
    expect(followed).toContain('a note from the folder');
    expect(followed).toContain('the last line, a while later');
    expect(followed).toMatch(new RegExp(`Job '${id}' succeeded`));
  });
});
