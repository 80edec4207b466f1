// Worker output on any node reaches its driver (Ray's log_to_driver), and a submitted job's log.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, clusterAuthHeaders, waitFor } from '@ray-ts/core/testing';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const driver = path.join(here, 'fixtures', 'log-driver.mjs');
const lastDriver = path.join(here, 'fixtures', 'log-last-driver.mjs');

describe("workers' console output on a cluster", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ head: { numCpus: 1 }, nodes: [{ numCpus: 1 }] });
  });

  afterAll(async () => {
    await cluster.shutdown();
  });

  it("comes out of the driver's stdout and stderr, prefixed with the task, its pid and its node", async () => {
    const [head, other] = cluster.nodes;
    const marker = `log-${process.pid}-${Date.now()}`;
    const { stdout, stderr } = await run(process.execPath, [driver, other.nodeId, head.nodeId, marker], {
      env: { ...process.env, RAY_TS_ADDRESS: cluster.address },
      timeout: 60_000,
    });
    const [, , pid, nestedPid] = /LOG_DRIVER (\S+) (\d+) (\d+)/.exec(stdout)!;
    expect(stdout).toContain(`(shout pid=${pid}, ip=${other.address}) ${marker} out\n`);
    expect(stderr).toContain(`(shout pid=${pid}, ip=${other.address}) ${marker} err\n`);
    expect(stdout).not.toContain(`${marker} err`);
    // Work submitted by work on another node belongs to the driver's job too.
    expect(stdout).toContain(`(shout pid=${nestedPid}, ip=${other.address}) ${marker}-nested out\n`);
    // The node where it ran keeps its own copy in its log, with its local prefix.
    expect(other.output()).toMatch(new RegExp(`\\(shout pid=${pid} worker=\\w+\\) ${marker} out`));
  });

  it('has come out, every line, when the driver exits on its last result', async () => {
    const other = cluster.nodes[1];
    const marker = `last-${process.pid}-${Date.now()}`;
    const { stdout, stderr } = await run(process.execPath, [lastDriver, other.nodeId, marker], {
      env: { ...process.env, RAY_TS_ADDRESS: cluster.address },
      timeout: 60_000,
    });
    // Lines printed within logFlushMs of the previous batch used to wait for its timer, after the
    // result: the last task's lines were lost when the driver exited on that result.
    for (let i = 1; i <= 4; i++) {
      expect(stdout).toContain(`${marker}-${i} out\n`);
      expect(stderr).toContain(`${marker}-${i} err\n`);
    }
  });

  it('is in the logs of a job submitted through the job API, whose tasks ran on another node', async () => {
    const [head, other] = cluster.nodes;
    const api = head.jobApiAddress!;
    const marker = `job-log-${process.pid}-${Date.now()}`;
    const id = `logs-${process.pid}-${Date.now()}`;
    const headers = clusterAuthHeaders();
    const res = await fetch(`${api}/api/jobs/`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        entrypoint: `${process.execPath} ${driver} ${other.nodeId} ${head.nodeId} ${marker}`,
        submission_id: id,
      }),
    });
    expect(res.status).toBe(200);
    const status = await waitFor(
      async () => {
        const s = ((await (await fetch(`${api}/api/jobs/${id}`, { headers })).json()) as { status: string }).status;
        return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(s) && s;
      },
      { what: `job ${id} done`, timeoutMs: 60_000, intervalMs: 100 },
    );
    const { logs } = (await (await fetch(`${api}/api/jobs/${id}/logs`, { headers })).json()) as { logs: string };
    expect(status, logs).toBe('SUCCEEDED');
    expect(logs).toMatch(
      new RegExp(`\\(shout pid=\\d+, ip=${other.address.replaceAll('.', '\\.')}\\) ${marker} out\n`),
    );
    expect(logs).toContain(`, ip=${other.address}) ${marker} err\n`);
    expect(logs).toContain(`, ip=${other.address}) ${marker}-nested out\n`);
  });
});
