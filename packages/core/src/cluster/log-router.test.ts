import { describe, expect, it } from 'vitest';
import type { WorkerLogLine } from '../node/ports.js';
import { FakeClock, settle } from '../testing-clock.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import { JobDrivers, LogRouter, type LogRouterConfig } from './log-router.js';

const config: LogRouterConfig = {
  logFlushMs: 20,
  logBatchMaxLines: 3,
  logBatchMaxBytes: 1_000,
  logQueueMaxBytes: 2_000,
  logUnknownJobGraceMs: 1_000,
};

/** A router over job drivers that follow a view the test edits, and a record of what it sent. */
function setup(cfg: Partial<LogRouterConfig> = {}) {
  const clock = new FakeClock();
  const view: NodeInfo__Output[] = [];
  const drivers = new JobDrivers({ nodes: () => view });
  const sent: { node: string; msg: PeerMessage }[] = [];
  const router = new LogRouter(drivers, (node, msg) => sent.push({ node, msg }), { ...config, ...cfg }, clock);
  /** What went where, as [node, job, texts, dropped]. */
  const batches = () =>
    sent.map(({ node, msg }) => [
      node,
      msg.workerLogs!.jobId,
      msg.workerLogs!.lines!.map((l) => l.text),
      msg.workerLogs!.dropped,
    ]);
  return { clock, view, drivers, router, sent, batches };
}

const line = (text: string, err = false): WorkerLogLine => ({ name: 'f', pid: 7, err, text });
const driverNode = (nodeId: string, jobId: string, state = 'ALIVE') =>
  ({ nodeId, jobId, isDriver: true, state }) as NodeInfo__Output;

describe('job drivers', () => {
  it('knows a driver from job events, or from the view (a node that joined after the job began)', () => {
    const { drivers, view } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    view.push(driverNode('driver-2', 'job-2'), driverNode('driver-3', 'job-3', 'DEAD'));
    expect([drivers.where('job-1'), drivers.where('job-2'), drivers.where('job-3')]).toEqual([
      { kind: 'node', nodeId: 'driver-1' },
      { kind: 'node', nodeId: 'driver-2' },
      { kind: 'unknown' },
    ]);
  });

  it('knows a job finished from its event or its driver leaving the view, for good', () => {
    const { drivers, view } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    drivers.jobEvent('job-1', 'FINISHED', 'driver-1');
    view.push(driverNode('driver-2', 'job-2'));
    expect(drivers.where('job-2').kind).toBe('node');
    drivers.nodeLost(driverNode('driver-2', 'job-2'));
    // A late RUNNING event (reordered) does not bring a finished job back.
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    expect([drivers.where('job-1').kind, drivers.where('job-2').kind]).toEqual(['finished', 'finished']);
  });
});

describe('log router', () => {
  it("sends a job's lines to its driver's node at the end of the turn, together", async () => {
    const { drivers, router, batches, sent } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    router.forward('job-1', line('a'));
    router.forward('job-1', line('b', true));
    expect(sent).toEqual([]);
    await settle();
    expect(batches()).toEqual([['driver-1', 'job-1', ['a', 'b'], 0]]);
    expect(sent[0].msg.workerLogs!.lines![1]).toEqual({ taskName: 'f', pid: 7, stderr: true, text: 'b' });
  });

  it('sends at most one batch per job every logFlushMs, within the batch caps', async () => {
    const { clock, drivers, router, batches } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    drivers.jobEvent('job-2', 'RUNNING', 'driver-2');
    for (const t of ['1', '2', '3', '4', '5']) router.forward('job-1', line(t));
    router.forward('job-2', line('x'));
    await settle();
    // Three lines at most per batch; each job gets its own.
    expect(batches()).toEqual([
      ['driver-1', 'job-1', ['1', '2', '3'], 0],
      ['driver-2', 'job-2', ['x'], 0],
    ]);
    router.forward('job-1', line('6'));
    await settle();
    expect(batches()).toHaveLength(2);
    clock.advance(19);
    expect(batches()).toHaveLength(2);
    clock.advance(1);
    expect(batches().slice(2)).toEqual([['driver-1', 'job-1', ['4', '5', '6'], 0]]);
    // Bytes cap a batch too (one line always goes, however long).
    router.forward('job-1', line('y'.repeat(600)));
    router.forward('job-1', line('z'.repeat(600)));
    clock.advance(20);
    clock.advance(20);
    expect(
      batches()
        .slice(3)
        .map((b) => (b[2] as string[]).map((t) => t[0])),
    ).toEqual([['y'], ['z']]);
    expect(router.queued).toBe(0);
  });

  it("sends a job's held lines at once before a result goes to its driver's node (flushTo)", async () => {
    const { clock, drivers, router, batches } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    drivers.jobEvent('job-2', 'RUNNING', 'driver-2');
    router.forward('job-1', line('first'));
    await settle();
    // Within logFlushMs of the last batch: these wait for the timer...
    for (const t of ['1', '2', '3', '4']) router.forward('job-1', line(t));
    router.forward('job-2', line('other'));
    await settle();
    expect(batches()).toHaveLength(1);
    // ...unless a result is about to go to driver-1: then all of job-1's go first, in batches.
    router.flushTo('driver-1');
    expect(batches().slice(1)).toEqual([
      ['driver-1', 'job-1', ['1', '2', '3'], 0],
      ['driver-1', 'job-1', ['4'], 0],
    ]);
    clock.advance(20);
    expect(batches().slice(3)).toEqual([['driver-2', 'job-2', ['other'], 0]]);
  });

  it('drops lines beyond the queue cap, counts them, and says so in the next batch', async () => {
    const { clock, drivers, router, batches } = setup({ logBatchMaxLines: 100 });
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    // Each line costs its text plus 17 bytes: 10 fit in 2,000, the other 5 go.
    for (let i = 0; i < 15; i++) router.forward('job-1', line(String(i).padStart(3, '0') + 'x'.repeat(180)));
    expect(router.queued).toBe(10);
    await settle();
    expect(batches().map((b) => [(b[2] as string[]).length, b[3]])).toEqual([[5, 5]]);
    clock.advance(20);
    expect(batches().map((b) => [(b[2] as string[]).length, b[3]])).toEqual([
      [5, 5],
      [5, 0],
    ]);
  });

  it('cuts a line longer than a batch may be, saying how much', async () => {
    const { drivers, router, sent } = setup({ logBatchMaxBytes: 200 });
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    router.forward('job-1', line('é'.repeat(300)));
    await settle();
    const text = sent[0].msg.workerLogs!.lines![0].text!;
    expect(text).toMatch(/^é+\.\.\. \(\d+ more bytes not sent\)$/);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(200);
  });

  it('holds the lines of a job whose driver is not known yet, for the grace period', async () => {
    const { clock, view, router, batches } = setup();
    router.forward('job-1', line('early'));
    router.forward('job-2', line('lost'));
    await settle();
    expect(batches()).toEqual([]);
    clock.advance(500);
    view.push(driverNode('driver-1', 'job-1'));
    clock.advance(20);
    expect(batches()).toEqual([['driver-1', 'job-1', ['early'], 0]]);
    // job-2's driver never shows up: its lines go quietly after the grace, and nothing is left to do.
    clock.advance(1_000);
    expect([batches().length, router.queued]).toEqual([1, 0]);
    expect(clock.pending).toBe(0);
  });

  it('drops the lines of a finished job, queued or new', async () => {
    const { clock, drivers, router, batches } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    router.forward('job-1', line('a'));
    await settle();
    router.forward('job-1', line('b'));
    drivers.jobEvent('job-1', 'FINISHED', 'driver-1');
    router.forward('job-1', line('c'));
    clock.advance(20);
    expect(batches()).toEqual([['driver-1', 'job-1', ['a'], 0]]);
    expect(router.queued).toBe(0);
  });

  it('sends what it can when stopped, and nothing after', async () => {
    const { clock, drivers, router, batches } = setup();
    drivers.jobEvent('job-1', 'RUNNING', 'driver-1');
    router.forward('job-1', line('a'));
    await settle();
    router.forward('job-1', line('b'));
    router.stop();
    router.forward('job-1', line('c'));
    clock.advance(100);
    await settle();
    expect(batches()).toEqual([
      ['driver-1', 'job-1', ['a'], 0],
      ['driver-1', 'job-1', ['b'], 0],
    ]);
  });
});
