// runtimeEnv.workingDir on one host: an embedded cluster, and a job submitted with an uploaded
// working directory whose driver ships it on (multi-host.test.ts runs the same app across hosts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
let appRoot: string;

beforeAll(() => {
  appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-app-'));
  fs.cpSync(path.join(fixtures, 'multi-host-app'), path.join(appRoot, 'app'), { recursive: true });
  fs.cpSync(path.join(fixtures, 'multi-host-lib'), path.join(appRoot, 'multi-host-lib'), { recursive: true });
  fs.symlinkSync(path.resolve(fixtures, '../../../../node_modules'), path.join(appRoot, 'node_modules'), 'dir');
});

afterAll(() => {
  fs.rmSync(appRoot, { recursive: true, force: true });
});

async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const proc = spawn(process.execPath, args, {
    cwd: path.join(appRoot, 'app'),
    env: { ...process.env, RAY_TS_ADDRESS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}:\n${output}`);
  return output;
}

describe('runtimeEnv.workingDir', () => {
  it('runs work in the unpacked copy of the folder on the embedded cluster, its modules loaded from there', async () => {
    const output = await runNode(['main.mjs'], {});
    const result = JSON.parse(/APP_RESULT (.*)/.exec(output)![1]) as Record<string, unknown>;
    expect(result.error).toBeUndefined();
    const where = result.where as Record<string, string>;
    expect(where.cwd).toMatch(/ray-ts-runtime-resources\/install-[0-9a-f]{8}\/_ray_pkg_[0-9a-f]+$/);
    expect(where.module).toBe(`file://${where.cwd}/lib/helpers.mjs`);
    expect([where.greeting, where.resolved]).toEqual(['hello from the app folder', 'hello from the app folder']);
    expect(where.childCwd).toBe(where.cwd);
    expect([result.nested, result.scaled, (result.tally as unknown[]).slice(0, 2)]).toEqual([37, 40, [101, 103]]);
  });

  it("ships a submitted job's uploaded folder to the nodes that run its work", async () => {
    const cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1, resources: { other: 1 } }] });
    try {
      const api = cluster.nodes[0].jobApiAddress!;
      const { packDirectory } = await import('../dist/runtime/pack-dir.js' as string);
      const packed = packDirectory(path.join(appRoot, 'app')) as { name: string; uri: string; zip: Buffer };
      const headers = clusterAuthHeaders();
      const put = await fetch(`${api}/api/packages/gcs/${packed.name}`, { method: 'PUT', headers, body: packed.zip });
      expect(put.ok).toBe(true);
      const submitted = await fetch(`${api}/api/jobs/`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          entrypoint: `${process.execPath} job.mjs`,
          runtime_env: { working_dir: packed.uri, env_vars: { APP_NODE: cluster.nodes[1].nodeId } },
        }),
      });
      const { submission_id: id } = (await submitted.json()) as { submission_id: string };
      let status = '';
      await waitFor(
        async () => {
          status = ((await (await fetch(`${api}/api/jobs/${id}`, { headers })).json()) as { status: string }).status;
          return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(status);
        },
        { timeoutMs: 60_000, what: 'the job to end' },
      );
      const { logs } = (await (await fetch(`${api}/api/jobs/${id}/logs`, { headers })).json()) as { logs: string };
      expect(status, logs).toBe('SUCCEEDED');
      const result = JSON.parse(/JOB_RESULT (.*)/.exec(logs)![1]) as {
        where: Record<string, string>;
        env: Record<string, unknown>;
        cwd: string;
      };
      // The driver ran in the head's unpacked copy; its task on the other node in that node's copy.
      expect(result.env).toEqual({ workingDir: packed.uri });
      expect(result.where.nodeId).toBe(cluster.nodes[1].nodeId);
      expect(result.where.cwd).toMatch(/ray-ts-runtime-resources\/install-[0-9a-f]{8}\/_ray_pkg_[0-9a-f]+$/);
      expect(result.where.module).toBe(`file://${result.where.cwd}/lib/helpers.mjs`);
      expect(result.cwd).not.toBe(result.where.cwd);
    } finally {
      await cluster.shutdown();
    }
  });
});
