import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogNotFoundError, LogPathError } from '../errors.js';
import { WorkerLogFiles } from '../node/worker-log-files.js';
import { lastLines, NodeLogReader } from './node-logs.js';
import { waitFor } from '../testing.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setUp(readMaxBytes = 1 << 20) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'node-logs-test-'));
  dirs.push(root);
  const dir = path.join(root, 'node_1');
  const jobs = path.join(root, 'jobs');
  fs.mkdirSync(dir);
  fs.mkdirSync(jobs);
  const files = new WorkerLogFiles(dir, { maxBytes: 1 << 20, backupCount: 2 });
  const reader = new NodeLogReader({
    nodeId: 'node_1',
    dirs: [dir, jobs],
    files: () => files,
    readMaxBytes,
    pollMs: 5,
  });
  return { root, dir, jobs, files, reader };
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let s = '';
  for await (const c of chunks) s += c;
  return s;
}
const signal = () => new AbortController().signal;

describe('NodeLogReader', () => {
  it('lists the files of its directories by category, filtered by a glob', async () => {
    const { dir, jobs, reader } = setUp();
    fs.writeFileSync(path.join(dir, 'raylet.out'), 'x');
    fs.writeFileSync(path.join(dir, 'worker-w-j-1.out'), 'xy');
    fs.writeFileSync(path.join(dir, 'worker-w-j-1.err.1'), '');
    fs.writeFileSync(path.join(jobs, 'job-abc.log'), '');
    fs.mkdirSync(path.join(jobs, 'packages'));
    const all = await reader.list();
    expect(all.map((f) => [f.name, f.category])).toEqual([
      ['job-abc.log', 'driver'],
      ['raylet.out', 'raylet'],
      ['worker-w-j-1.err.1', 'worker_err'],
      ['worker-w-j-1.out', 'worker_out'],
    ]);
    expect(all.find((f) => f.name === 'worker-w-j-1.out')!.sizeBytes).toBe(2);
    expect((await reader.list('worker-*.out')).map((f) => f.name)).toEqual(['worker-w-j-1.out']);
  });

  it('refuses names that are paths, and symbolic links, with LogPathError', async () => {
    const { root, dir, reader } = setUp();
    fs.writeFileSync(path.join(root, 'secret'), 'no');
    fs.symlinkSync(path.join(root, 'secret'), path.join(dir, 'link.out'));
    for (const filename of ['../secret', '..', '/etc/passwd', 'a/../../secret', '.hidden'])
      await expect(reader.open({ filename }, signal())).rejects.toBeInstanceOf(LogPathError);
    await expect(reader.open({ filename: 'link.out' }, signal())).rejects.toBeInstanceOf(LogNotFoundError);
    await expect(reader.open({ filename: 'missing.out' }, signal())).rejects.toThrow(
      /No log file 'missing.out' on node node_1/,
    );
  });

  it('reads the last lines of a file, bounded by readMaxBytes', async () => {
    const { dir, reader } = setUp(20);
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'raylet.out'), lines);
    expect(await text((await reader.open({ filename: 'raylet.out', lines: 2 }, signal())).chunks)).toBe(
      'line 8\nline 9\n',
    );
    // at most 20 bytes: the last ones
    expect(await text((await reader.open({ filename: 'raylet.out', lines: 0 }, signal())).chunks)).toBe(
      lines.slice(-20),
    );
    expect(lastLines('a\nb\nc', 2)).toBe('b\nc');
    // From a byte offset instead: at most readMaxBytes (20) from there.
    expect(await text((await reader.open({ filename: 'raylet.out', offset: 7 }, signal())).chunks)).toBe(
      lines.slice(7, 27),
    );
    expect(await text((await reader.open({ filename: 'raylet.out', offset: 1000 }, signal())).chunks)).toBe('');
  });

  it('follows a file across a rotation until aborted', async () => {
    const { dir, reader } = setUp();
    const file = path.join(dir, 'raylet.out');
    fs.writeFileSync(file, 'before\n');
    const ac = new AbortController();
    const opened = await reader.open({ filename: 'raylet.out', follow: true, lines: 10 }, ac.signal);
    let seen = '';
    const done = (async () => {
      for await (const c of opened.chunks) seen += c;
    })();
    await waitFor(() => seen === 'before\n');
    fs.appendFileSync(file, 'more\n');
    await waitFor(() => seen.endsWith('more\n'));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, 'after rotation\n');
    await waitFor(() => seen.endsWith('after rotation\n'), { what: 'the line written after the rotation' });
    ac.abort();
    await done;
    expect(seen).toBe('before\nmore\nafter rotation\n');
  });

  it("reads a task's lines and an actor's file; says when there are none", async () => {
    const { files, reader } = setUp();
    const w = { workerId: 'w1', pid: 4, jobId: 'j' };
    files.write({ ...w, taskId: 't1' }, false, 'mine');
    files.write({ ...w, taskId: 't2' }, false, 'not mine');
    files.write({ ...w, taskId: 'c1', actorId: 'a1' }, false, 'actor line');
    await files.flush();
    expect(await text((await reader.open({ taskId: 't1' }, signal())).chunks)).toBe('mine\n');
    expect(await text((await reader.open({ actorId: 'a1' }, signal())).chunks)).toBe('mine\nnot mine\nactor line\n');
    expect(await text((await reader.open({ pid: 4 }, signal())).chunks)).toContain('actor line');
    await expect(reader.open({ taskId: 'none' }, signal())).rejects.toThrow(
      /Task none wrote no log lines on node node_1/,
    );
    await expect(reader.open({ actorId: 'a1', err: true }, signal())).rejects.toBeInstanceOf(LogNotFoundError);
  });
});
