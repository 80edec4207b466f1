import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskSpec } from '../protocol/specs.js';
import { TaskRecords } from './task-records.js';
import { taskSpec } from './testing-node.js';
import { newWork, type TaskWork, type WorkState } from './work.js';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The work of task `taskId`, made at T0, in state `state`. */
function work(taskId: string, state: WorkState, over: Partial<TaskSpec> = {}): TaskWork {
  const spec = taskSpec(taskId, over);
  const w = newWork(taskId, { kind: 'task', task: spec }, spec.args, { CPU: 1 }, 'thread') as TaskWork;
  w.state = state;
  return w;
}

const records = () => new TaskRecords({ nodeId: 'node-a', jobId: 'job-1' });

describe('task records: finished tasks', () => {
  it('records a task that ran here: FINISHED, FAILED (error result) or CANCELLED', () => {
    const r = records();
    const w = work('t1', 'done');
    w.runStartMs = T0 + 5;
    w.ranOn = 'worker-3';
    vi.setSystemTime(T0 + 40);
    r.taskFinished(w, { t: 'js', v: 1 });
    expect(r.finished).toEqual([
      {
        taskId: 't1',
        name: 't1',
        state: 'FINISHED',
        nodeId: 'node-a',
        owner: 'node-a',
        jobId: 'job-1',
        startMs: T0,
        endMs: T0 + 40,
        resources: { CPU: 1 },
        runStartMs: T0 + 5,
        workerId: 'worker-3',
        isRetry: false,
      },
    ]);

    r.taskFinished(work('t2', 'done'), { t: 'err', e: { name: 'Error', message: 'boom', stack: '', props: {} } });
    const cancelled = work('t3', 'done');
    cancelled.cancelled = true;
    r.taskFinished(cancelled, { t: 'err', e: { name: 'TaskCancelledError', message: '', stack: '', props: {} } });
    r.taskFinished(work('t4', 'done'), undefined);
    expect(r.finished.map((x) => [x.taskId, x.state])).toEqual([
      ['t1', 'FINISHED'],
      ['t2', 'FAILED'],
      ['t3', 'CANCELLED'],
      ['t4', 'FINISHED'],
    ]);
  });

  it('records a task run for another owner, or forwarded to another node, with their ids', () => {
    const r = records();
    const forOwner = work('t1', 'done', { jobId: 'job-7' });
    forOwner.origin = 'node-o';
    r.taskFinished(forOwner, { t: 'js', v: 1 });
    const forwarded = work('t2', 'done');
    forwarded.remote = 'node-r';
    forwarded.runStartMs = T0 + 1; // stale: it ran there, not here
    forwarded.ranOn = 'worker-1';
    r.taskFinished(forwarded, { t: 'js', v: 1 });
    expect(r.finished[0]).toMatchObject({ owner: 'node-o', nodeId: 'node-a', jobId: 'job-7' });
    expect(r.finished[1]).toMatchObject({ owner: 'node-a', nodeId: 'node-r', runStartMs: 0, workerId: '' });
  });

  it('records an actor call with its run time and actor', () => {
    const r = records();
    vi.setSystemTime(T0 + 100);
    const spec = { taskId: 'c1', actorId: 'a1', method: 'incr', name: 'Counter.incr', args: [], returnIds: ['c1.0'] };
    r.callFinished(spec, undefined, 'worker-2', 30, true);
    r.callFinished({ ...spec, taskId: 'c2' }, 'job-9', 'worker-2', undefined, false);
    expect(r.finished).toEqual([
      {
        taskId: 'c1',
        name: 'Counter.incr',
        state: 'FINISHED',
        nodeId: 'node-a',
        owner: 'node-a',
        jobId: 'job-1',
        startMs: T0 + 70,
        endMs: T0 + 100,
        resources: {},
        runStartMs: T0 + 70,
        workerId: 'worker-2',
        actorId: 'a1',
        isRetry: false,
      },
      expect.objectContaining({ taskId: 'c2', state: 'FAILED', jobId: 'job-9', startMs: T0 + 100 }),
    ]);
  });

  it('counts ended and live tasks by state for ray_tasks, retries apart (IsRetry)', () => {
    const r = records();
    const first = work('t1', 'done');
    first.attempts = 1;
    r.taskFinished(first, { t: 'js', v: 1 });
    const retried = work('t1', 'done');
    retried.attempts = 2; // ran a second time here: its worker died, or it threw with retryExceptions
    r.taskFinished(retried, { t: 'js', v: 1 });
    const failedRetry = work('t1', 'done');
    failedRetry.attempts = 3;
    r.taskFinished(failedRetry, { t: 'err', e: { name: 'Error', message: 'boom', stack: '', props: {} } });
    const waitingRetry = work('t1', 'queued');
    waitingRetry.attempts = 1; // queued again after its first attempt
    const running = work('t1', 'running');
    running.attempts = 1;
    const elsewhere = work('t1', 'running');
    elsewhere.remote = 'node-r';
    const { tasks, retries } = r.countsByState([waitingRetry, running, elsewhere].map((w) => r.live(w)));
    expect(Object.fromEntries(tasks)).toEqual({ 'FINISHED\0t1': 1, 'RUNNING\0t1': 1 });
    expect(Object.fromEntries(retries)).toEqual({
      'FINISHED\0t1': 1,
      'FAILED\0t1': 1,
      'PENDING_NODE_ASSIGNMENT\0t1': 1,
    });
  });

  it('keeps the last 5,000 once it holds more than 10,000', () => {
    const r = records();
    const spec = { taskId: '', actorId: 'a1', method: 'm', name: 'A.m', args: [], returnIds: [] };
    for (let i = 0; i < 10_000; i++) r.callFinished({ ...spec, taskId: `c${i}` }, undefined, 'w', 1, true);
    expect(r.finished).toHaveLength(10_000);
    expect(r.finished[0].taskId).toBe('c0');
    r.callFinished({ ...spec, taskId: 'c10000' }, undefined, 'w', 1, true);
    expect(r.finished).toHaveLength(5_000);
    expect(r.finished[0].taskId).toBe('c5001');
    expect(r.finished.at(-1)!.taskId).toBe('c10000');
    r.taskFinished(work('t', 'done'), undefined);
    expect(r.finished).toHaveLength(5_001);
  });
});

describe('task records: live tasks', () => {
  it('describes a task the node knows in its current state, not ended', () => {
    const r = records();
    expect(r.live(work('w', 'waiting'))).toMatchObject({ taskId: 'w', state: 'PENDING_ARGS', endMs: 0 });
    expect(r.live(work('q', 'queued')).state).toBe('PENDING_NODE');
    const running = work('r', 'running');
    running.runStartMs = T0 + 3;
    running.ranOn = 'worker-1';
    expect(r.live(running)).toMatchObject({ state: 'RUNNING', runStartMs: T0 + 3, workerId: 'worker-1' });
    expect(r.finished).toEqual([]);
  });
});
