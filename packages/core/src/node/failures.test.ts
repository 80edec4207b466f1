import { describe, expect, it } from 'vitest';
import {
  OutOfMemoryError,
  TaskCancelledError,
  UnschedulableError,
  WorkerCrashedError,
  errorFromWire,
} from '../errors.js';
import type { StoredValue } from '../runtime/serialization.js';
import {
  cancelledValue,
  describeMissing,
  errorValue,
  unschedulable,
  wireErrorOf,
  workerDeathError,
} from './failures.js';
import { fmtResources } from './placement.js';
import { FakeWorker } from './testing-node.js';

function errorOf(v: StoredValue): Error {
  expect(v.t).toBe('err');
  return errorFromWire(wireErrorOf(v));
}

describe('failures: describeMissing', () => {
  it('names the resource no node has enough of, and the most a node has', () => {
    expect(describeMissing({ name: 'CPU', requested: 4, total: 2 })).toBe(
      'it needs 4 CPU and the largest node has 2 CPU',
    );
    expect(describeMissing({ name: 'GPU', requested: 1, total: 0 })).toBe(
      'it needs 1 GPU and the largest node has no GPU',
    );
  });

  it('says when each resource is somewhere but no node has all of them together', () => {
    expect(describeMissing({ name: 'GPU', requested: 2, total: 4, together: true })).toBe(
      'each resource is on some node, but no node has all of them together (2 GPU with the rest)',
    );
  });
});

describe('failures: unschedulable', () => {
  const cases: [string, Record<string, number>, Parameters<typeof describeMissing>[0], string][] = [
    [
      'CPU',
      { CPU: 8 },
      { name: 'CPU', requested: 8, total: 4 },
      'it needs 8 CPU and the largest node has 4 CPU. Lower numCpus or give the cluster more CPUs (init({ numCpus })).',
    ],
    [
      'GPU',
      { CPU: 1, GPU: 1 },
      { name: 'GPU', requested: 1, total: 0 },
      'it needs 1 GPU and the largest node has no GPU. Lower numGpus or start the cluster with GPUs (init({ numGpus })).',
    ],
    [
      'a custom resource',
      { CPU: 1, TPU: 2 },
      { name: 'TPU', requested: 2, total: 0 },
      'it needs 2 TPU and the largest node has no TPU. Lower it, or declare the resource on a node (init({ resources: { TPU: 2 } })).',
    ],
    [
      'resources together',
      { CPU: 1, GPU: 1 },
      { name: 'GPU', requested: 1, total: 1, together: true },
      'each resource is on some node, but no node has all of them together (1 GPU with the rest). Ask for less, or start a node that has all of it.',
    ],
  ];
  for (const [what, req, missing, why] of cases) {
    it(`says what is missing and what to do, for ${what}`, () => {
      const err = errorOf(unschedulable('node-a', "Task 'f' (t1)", req, missing, 't1'));
      expect(err).toBeInstanceOf(UnschedulableError);
      expect(err.message).toBe(`Task 'f' (t1) asks for ${fmtResources(req)}, but no node can ever satisfy it: ${why}`);
      expect(err).toMatchObject({ requested: req, taskId: 't1', nodeId: 'node-a' });
    });
  }

  it('names the actor of an actor creation', () => {
    const err = errorOf(
      unschedulable('node-a', "Actor 'A'", { GPU: 2 }, { name: 'GPU', requested: 2, total: 1 }, undefined, 'a1'),
    );
    expect(err).toMatchObject({ actorId: 'a1', nodeId: 'node-a' });
    expect(err).not.toHaveProperty('taskId');
  });
});

describe('failures: other error values', () => {
  it('stores any thrown value as an error value and reads it back', () => {
    const v = errorValue(new TaskCancelledError('x', { taskId: 't1' }));
    expect(wireErrorOf(v)).toMatchObject({ name: 'TaskCancelledError', message: 'x', props: { taskId: 't1' } });
    expect(errorOf(errorValue('plain string')).message).toBe('plain string');
  });

  it('says a task was cancelled', () => {
    const err = errorOf(cancelledValue('t1'));
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect(err.message).toBe('Task t1 was cancelled.');
    expect(err).toMatchObject({ taskId: 't1' });
  });

  it("says a task's worker ran out of memory, and how to raise the limit", () => {
    const w = new FakeWorker('worker-3', 'thread', undefined, undefined);
    w.exitReason = 'oom';
    w.exitDetail = 'heap limit 512 MiB';
    const err = workerDeathError('node-a', w.handle, "Task 'f' (t1)", 't1');
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err.message).toBe(
      "Task 'f' (t1) ran out of memory: its worker exceeded its heap limit (heap limit 512 MiB). " +
        'Process less data per task, or raise the limit with RAY_TS_WORKER_HEAP_MB.',
    );
    expect(err).toMatchObject({ taskId: 't1', workerId: 'worker-3', nodeId: 'node-a' });
  });

  it("says a task's worker crashed, and to raise maxRetries", () => {
    const w = new FakeWorker('worker-4', 'process', undefined, undefined);
    w.exitReason = 'crash';
    w.exitDetail = 'signal SIGKILL';
    const err = workerDeathError('node-a', w.handle, "Task 'f' (t1)", 't1');
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.message).toBe(
      "Task 'f' (t1) failed: its worker process died while running it (signal SIGKILL), and no retries were left. " +
        'Raise maxRetries to retry it.',
    );
    w.exitDetail = '';
    expect(workerDeathError('node-a', w.handle, 'x', 't1').message).toContain('died while running it (exited)');
  });
});
