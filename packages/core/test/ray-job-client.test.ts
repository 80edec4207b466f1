// Ray's own JobSubmissionClient (Ray 2.58, from ../shared/tools/ray-baseline.sh's venv) against a
// ray-ts head: the job API speaks Ray's REST protocol. Skipped where that script (the project's
// shared tools) or Ray's wheels are not on the machine; .ci/run installs them first.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const baseline = path.resolve(here, '../../../../shared/tools/ray-baseline.sh');
let rayReady = false;
let cluster: Cluster | undefined;

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
  it('submits jobs (one with an uploaded working directory), follows them to SUCCEEDED, reads logs, lists and deletes', async (ctx) => {
    if (!rayReady) ctx.skip();
    const api = cluster!.nodes[0].jobApiAddress!;
    const { stdout } = await run('bash', [baseline, 'python', path.join(here, 'fixtures/ray-job-client.py'), api], {
      timeout: 120_000,
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
  });
});
