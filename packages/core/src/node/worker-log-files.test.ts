import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { workerLogName, WorkerLogFiles } from './worker-log-files.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setUp(maxBytes = 1 << 20, backupCount = 3) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-log-files-test-'));
  dirs.push(dir);
  return { dir, files: new WorkerLogFiles(dir, { maxBytes, backupCount }) };
}
const bytes = (dir: string, p: { filename: string; from: number; to: number }) =>
  fs.readFileSync(path.join(dir, p.filename)).subarray(p.from, p.to).toString();

it("writes each worker's lines to its .out and .err, by job, with Ray's names", async () => {
  const { dir, files } = setUp();
  files.write({ workerId: 'w1', pid: 7, jobId: 'job_1' }, false, 'hello');
  files.write({ workerId: 'w1', pid: 7, jobId: 'job_1' }, true, 'oops');
  files.write({ workerId: 'w1', pid: 7, jobId: 'job_2' }, false, 'other job');
  await files.flush();
  expect(fs.readFileSync(path.join(dir, 'worker-w1-job_1-7.out'), 'utf8')).toBe('hello\n');
  expect(fs.readFileSync(path.join(dir, 'worker-w1-job_1-7.err'), 'utf8')).toBe('oops\n');
  expect(fs.readFileSync(path.join(dir, 'worker-w1-job_2-7.out'), 'utf8')).toBe('other job\n');
  expect(workerLogName('w/x', '', 3, true)).toBe('worker-w_x-nil-3.err');
});

it("finds a task's lines among other tasks' in its worker's file, across rotations", async () => {
  const { dir, files } = setUp(24, 3);
  const w = { workerId: 'w1', pid: 7, jobId: 'j' };
  files.write({ ...w, taskId: 't1' }, false, 'a1 first');
  files.write({ ...w, taskId: 't2' }, false, 'b1 other');
  files.write({ ...w, taskId: 't1' }, false, 'a2 second');
  files.write({ ...w, taskId: 't1' }, false, 'a3 third');
  await files.flush();
  const t1 = files.taskLog('t1', false)!;
  expect(t1.lostBytes).toBe(0);
  expect(t1.pieces.map((p) => bytes(dir, p)).join('')).toBe('a1 first\na2 second\na3 third\n');
  expect(
    files
      .taskLog('t2', false)!
      .pieces.map((p) => bytes(dir, p))
      .join(''),
  ).toBe('b1 other\n');
  expect(files.taskLog('t2', true)!.pieces).toEqual([]); // ran here, printed nothing on stderr
  expect(files.taskLog('nope', false)).toBeUndefined();
  // Rotated past the backups kept: counted as lost, not misread.
  for (let i = 0; i < 8; i++) files.write({ ...w, taskId: 't3' }, false, `filler ${i} xxxxxxxxxx`);
  await files.flush();
  expect(files.taskLog('t1', false)!.pieces).toEqual([]);
  expect(files.taskLog('t1', false)!.lostBytes).toBe(28);
});

it("names an actor's files by its worker", async () => {
  const { files } = setUp();
  files.write({ workerId: 'w9', pid: 5, jobId: 'j', actorId: 'a1', taskId: 'c1' }, false, 'hi');
  expect(files.actorLog('a1', false)).toBe('worker-w9-j-5.out');
  expect(files.actorLog('a1', true)).toBe('worker-w9-j-5.err');
  expect(files.actorLog('a2', false)).toBeUndefined();
  await files.flush();
});
