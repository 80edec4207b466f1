import { describe, expect, it } from 'vitest';
import type { ArgSpec, TaskSpec } from '../protocol/specs.js';
import { Lineage } from './lineage.js';
import { taskSpec } from './testing-node.js';
import { newWork, type TaskWork } from './work.js';

/** The object store as the lineage sees it: which results are here, and on which node their bytes are. */
class FakeStore {
  /** Result id -> the node holding its bytes ('' while pending again). */
  readonly objects = new Map<string, string>();
  readonly reset: string[] = [];

  has(id: string): boolean {
    return this.objects.has(id);
  }

  locationOf(id: string): string | undefined {
    return this.objects.get(id) || undefined;
  }

  resetPending(id: string): void {
    this.reset.push(id);
    this.objects.set(id, '');
  }
}

function setup() {
  const store = new FakeStore();
  const unpinned: ArgSpec[][] = [];
  const lineage = new Lineage(store, (args) => unpinned.push(args));
  return { store, unpinned, lineage };
}

/** The work of a finished task with two returns, its results on `node` (attempts: runs so far). */
function finished(store: FakeStore, taskId: string, node: string, over: Partial<TaskSpec> = {}, attempts = 1) {
  const spec = taskSpec(taskId, { returnIds: [`${taskId}.0`, `${taskId}.1`], args: [{ r: `${taskId}-arg` }], ...over });
  const work = newWork(taskId, { kind: 'task', task: spec }, spec.args, { CPU: 2 }, 'thread') as TaskWork;
  work.attempts = attempts;
  work.strategy = { type: 'SPREAD' };
  for (const id of spec.returnIds) store.objects.set(id, node);
  return work;
}

const notRunning = () => false;
const running = () => true;

describe('lineage: keep', () => {
  it('keeps nothing when every result is here (the caller drops the pins)', () => {
    const { store, unpinned, lineage } = setup();
    const work = finished(store, 't1', 'node-a');
    expect(lineage.keep(work, false)).toBe(false);
    expect(lineage.lostWith('node-a', notRunning)).toEqual([]);
    expect(unpinned).toEqual([]);
  });

  it('keeps nothing when the results elsewhere were freed already', () => {
    const { store, unpinned, lineage } = setup();
    const work = finished(store, 't1', 'node-b');
    store.objects.clear();
    expect(lineage.keep(work, true)).toBe(false);
    expect(unpinned).toEqual([]);
  });

  it('keeps a task whose results are elsewhere, holding its pins until its last result is freed', () => {
    const { store, unpinned, lineage } = setup();
    const work = finished(store, 't1', 'node-b');
    expect(lineage.keep(work, true)).toBe(true);

    store.objects.delete('t1.0');
    lineage.release('t1.0', notRunning);
    expect(unpinned).toEqual([]);
    store.objects.delete('t1.1');
    lineage.release('t1.1', notRunning);
    expect(unpinned).toEqual([[{ r: 't1-arg' }]]);

    // Pins are dropped exactly once: later frees of the same ids, or of unknown ones, do nothing.
    lineage.release('t1.1', notRunning);
    lineage.release('t1.0', notRunning);
    lineage.release('other', notRunning);
    expect(unpinned).toHaveLength(1);
    expect(lineage.lostWith('node-b', notRunning)).toEqual([]);
  });

  it('keeps only the results still alive', () => {
    const { store, lineage } = setup();
    const work = finished(store, 't1', 'node-b', { maxRetries: 1 });
    store.objects.delete('t1.1');
    expect(lineage.keep(work, true)).toBe(true);
    expect(lineage.lostWith('node-b', notRunning).map((r) => r.spec.taskId)).toEqual(['t1']);
    expect(store.reset).toEqual(['t1.0']);
  });
});

describe('lineage: a task running again when its results are freed', () => {
  it('holds the pins while it runs; the caller drops them when the run ends with nothing left', () => {
    const { store, unpinned, lineage } = setup();
    const work = finished(store, 't1', 'node-b', { maxRetries: 3 });
    lineage.keep(work, true);
    store.objects.clear();
    lineage.release('t1.0', running);
    lineage.release('t1.1', running);
    expect(unpinned).toEqual([]);

    // The run ends: nothing of it is alive, so the lineage forgets it and the caller unpins.
    expect(lineage.keep(work, true)).toBe(false);
    expect(unpinned).toEqual([]);
    lineage.release('t1.0', notRunning);
    expect(unpinned).toEqual([]);
    expect(lineage.lostWith('node-b', notRunning)).toEqual([]);
  });

  it('keeps on after a rebuild, with the pins taken the first time and the new attempt count', () => {
    const { store, unpinned, lineage } = setup();
    const work = finished(store, 't1', 'node-b', { maxRetries: 1 });
    lineage.keep(work, true);
    expect(lineage.lostWith('node-b', notRunning)).toHaveLength(1);

    // The rebuild ran on node-c (attempt 2): kept again, no new pins to drop.
    work.attempts = 2;
    store.objects.set('t1.0', 'node-c');
    store.objects.set('t1.1', 'node-c');
    expect(lineage.keep(work, false)).toBe(true);
    expect(unpinned).toEqual([]);

    // Lost again: no retries left (2 attempts > maxRetries 1), so not run again; freed later, unpinned once.
    expect(lineage.lostWith('node-c', notRunning)).toEqual([]);
    store.objects.clear();
    lineage.release('t1.0', notRunning);
    lineage.release('t1.1', notRunning);
    expect(unpinned).toEqual([[{ r: 't1-arg' }]]);
  });
});

describe('lineage: lostWith', () => {
  it('rebuilds the tasks whose results were on the lost node, their lost results pending again', () => {
    const { store, lineage } = setup();
    const t1 = finished(store, 't1', 'node-b', { maxRetries: 2 });
    const t2 = finished(store, 't2', 'node-c', { maxRetries: 2 });
    lineage.keep(t1, true);
    lineage.keep(t2, true);
    store.objects.set('t1.1', 'node-c');

    const rebuilds = lineage.lostWith('node-b', notRunning);
    expect(rebuilds).toEqual([{ spec: t1.task, resources: { CPU: 2 }, strategy: { type: 'SPREAD' }, attempts: 1 }]);
    expect(store.reset).toEqual(['t1.0']);
    expect(store.objects.get('t1.1')).toBe('node-c');
  });

  it('skips tasks running again now, and tasks out of retries (-1: retried forever)', () => {
    const { store, lineage } = setup();
    lineage.keep(finished(store, 'busy', 'node-b', { maxRetries: 5 }), true);
    lineage.keep(finished(store, 'spent', 'node-b', { maxRetries: 0 }), true);
    lineage.keep(finished(store, 'forever', 'node-b', { maxRetries: -1 }, 9), true);
    lineage.keep(finished(store, 'last', 'node-b', { maxRetries: 2 }, 2), true);

    const rebuilds = lineage.lostWith('node-b', (taskId) => taskId === 'busy');
    expect(rebuilds.map((r) => [r.spec.taskId, r.attempts])).toEqual([
      ['forever', 9],
      ['last', 2],
    ]);
    expect(store.reset.sort()).toEqual(['forever.0', 'forever.1', 'last.0', 'last.1']);
  });

  it('finds nothing for a node that held none of the results', () => {
    const { store, lineage } = setup();
    lineage.keep(finished(store, 't1', 'node-b', { maxRetries: 1 }), true);
    expect(lineage.lostWith('node-z', notRunning)).toEqual([]);
    expect(store.reset).toEqual([]);
  });
});
