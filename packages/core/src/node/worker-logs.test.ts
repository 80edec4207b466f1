import { describe, expect, it } from 'vitest';
import { settle } from '../testing-clock.js';
import type { WorkerLogLine } from './ports.js';
import { WorkerLogs, prefixed, type LogNode } from './worker-logs.js';

/** Logs of a node whose driver's job is `jobId` ('' for a node process), over a recorded output. */
function setup(opts: { jobId?: string; cluster?: boolean; logToDriver?: boolean } = {}) {
  const written: [stream: 'out' | 'err', text: string][] = [];
  const forwarded: [jobId: string, line: WorkerLogLine][] = [];
  const node: LogNode = {
    jobId: opts.jobId ?? '',
    config: { logToDriver: opts.logToDriver ?? true },
    cluster: opts.cluster ? { logs: { forwardLog: (jobId, line) => forwarded.push([jobId, line]) } } : undefined,
  };
  const logs = new WorkerLogs(node, { write: (err, text) => written.push([err ? 'err' : 'out', text]) });
  return { logs, written, forwarded };
}

const thread = { id: 'worker_abc123456', kind: 'thread' as const, pid: 100 };
const proc = { id: 'worker_p', kind: 'process' as const, pid: 200 };

describe('worker logs', () => {
  it('prefixes each line with its origin', () => {
    expect(prefixed('(f) ', 'a\nb')).toBe('(f) a\n(f) b\n');
  });

  it('prints the lines of an embedded cluster as before: one write per stream and turn', async () => {
    const { logs, written, forwarded } = setup({ jobId: 'job-1' });
    logs.fromWorker(thread, { jobId: 'job-1', name: 'square', err: false, text: 'one\ntwo' });
    logs.fromWorker(proc, { jobId: 'job-1', name: 'gpu', err: false, text: 'three' });
    logs.fromWorker(thread, { jobId: 'job-1', name: 'square', err: true, text: 'bad' });
    expect(written).toEqual([]);
    await settle();
    expect(written).toEqual([
      ['out', '(square pid=100 worker=123456) one\n(square pid=100 worker=123456) two\n(gpu pid=200) three\n'],
      ['err', '(square pid=100 worker=123456) bad\n'],
    ]);
    expect(forwarded).toEqual([]);
  });

  it("keeps a node process's lines in its own output and sends them to their job's driver", async () => {
    const { logs, written, forwarded } = setup({ cluster: true });
    logs.fromWorker(proc, { jobId: 'job-7', name: 'f', err: true, text: 'oops' });
    // Output written outside any job's work (no job known) stays here.
    logs.fromWorker(thread, { jobId: '', name: 'worker', err: false, text: 'loading' });
    await settle();
    expect(written).toEqual([
      ['err', '(f pid=200) oops\n'],
      ['out', '(worker pid=100 worker=123456) loading\n'],
    ]);
    expect(forwarded).toEqual([['job-7', { name: 'f', pid: 200, err: true, text: 'oops' }]]);
  });

  it("prints the lines of its own job's workers on other nodes with their address, at once", () => {
    const { logs, written } = setup({ jobId: 'job-1', cluster: true });
    const lines: WorkerLogLine[] = [
      { name: 'f', pid: 300, err: false, text: 'hi\nthere' },
      { name: 'A.m', pid: 301, err: true, text: 'warned' },
    ];
    logs.fromPeer('job-1', '10.0.0.2:7000', lines, 0);
    expect(written).toEqual([
      ['out', '(f pid=300, ip=10.0.0.2:7000) hi\n(f pid=300, ip=10.0.0.2:7000) there\n'],
      ['err', '(A.m pid=301, ip=10.0.0.2:7000) warned\n'],
    ]);
    // Another job's lines (a driver that was here before) are not this driver's to print.
    logs.fromPeer('job-2', '10.0.0.2:7000', lines, 0);
    expect(written).toHaveLength(2);
  });

  it('says how many lines the sender dropped', () => {
    const { logs, written } = setup({ jobId: 'job-1', cluster: true });
    logs.fromPeer('job-1', '10.0.0.2:7000', [{ name: 'f', pid: 1, err: false, text: 'x' }], 42);
    expect(written[0]).toEqual([
      'err',
      expect.stringMatching(/^\(ray-ts, ip=10\.0\.0\.2:7000\) 42 lines of worker output dropped/),
    ]);
    expect(written[1]).toEqual(['out', '(f pid=1, ip=10.0.0.2:7000) x\n']);
  });

  it('prints nothing with logToDriver off, and still sends lines to drivers elsewhere (theirs decides)', async () => {
    const off = setup({ jobId: 'job-1', logToDriver: false });
    off.logs.fromWorker(thread, { jobId: 'job-1', name: 'f', err: false, text: 'quiet' });
    off.logs.fromPeer('job-1', 'x:1', [{ name: 'f', pid: 1, err: false, text: 'quiet' }], 3);
    await settle();
    expect(off.written).toEqual([]);
    const node = setup({ cluster: true, logToDriver: false });
    node.logs.fromWorker(thread, { jobId: 'job-2', name: 'f', err: false, text: 'far' });
    await settle();
    expect([node.written, node.forwarded.length]).toEqual([[], 1]);
  });
});
