// The embedded cluster of init() writes its workers' log files when given a log directory
// (RAY_TS_LOG_DIRECTORY, or config.logDirectory), under Ray's names, with no file otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { get, init, shutdown } from '@ray-ts/core';
import { waitFor } from '@ray-ts/core/testing';
import { sayInTask } from './fixtures/logs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-logs-test-'));

afterAll(async () => {
  await shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("writes the embedded node's workers' lines to worker-<id>-<job>-<pid>.out in <logDirectory>/<node id>/", async () => {
  const info = await init({ numCpus: 1, logToDriver: false, config: { logDirectory: dir } });
  await get(sayInTask.remote('E'));
  const nodeDir = path.join(dir, info.nodeId);
  const outFile = () => fs.readdirSync(nodeDir).find((f) => /^worker-.+-.+-\d+\.out$/.test(f));
  await waitFor(() => outFile() && fs.readFileSync(path.join(nodeDir, outFile()!), 'utf8').includes('task E line 2'), {
    what: "the task's lines in its worker's file",
  });
  expect(fs.readFileSync(path.join(nodeDir, outFile()!), 'utf8')).toBe('task E line 1\ntask E line 2\n');
  expect(outFile()).toContain(info.jobId.replace(/[^\w.]/g, '_'));
});
