import { describe, expect, it } from 'vitest';
import type { ResourceSet } from '../options.js';
import type { ActorRecord } from './actors.js';
import { ResourcePool } from './resources.js';
import { TaskQueue } from './task-queue.js';
import { taskSpec } from './testing-node.js';
import { newWork, type Work } from './work.js';

function task(id: string, resources: ResourceSet = { CPU: 1 }): Work {
  const spec = taskSpec(id, { resources });
  return newWork(id, { kind: 'task', task: spec }, [], resources, 'thread');
}

function creation(actorId: string, resources: ResourceSet): Work {
  const actor = { spec: { actorId, options: {} } } as unknown as ActorRecord;
  return newWork(`create:${actorId}:0`, { kind: 'create', actor }, [], resources, 'thread');
}

/** A queue holding `works`, each added and queued. */
function queueOf(...works: Work[]): TaskQueue {
  const q = new TaskQueue();
  for (const w of works) {
    q.add(w);
    q.enqueue(w);
  }
  return q;
}

/** Ids visited in one pass, stopping at the ids in `stopAt`. */
function pass(q: TaskQueue, stopAt: string[] = []): string[] {
  const seen: string[] = [];
  q.visit((w) => {
    seen.push(w.id);
    return stopAt.includes(w.id) ? 'stop' : 'next';
  });
  return seen;
}

describe('task queue', () => {
  it('knows work by id until it is deleted', () => {
    const q = new TaskQueue();
    const a = task('a');
    q.add(a);
    expect(q.size).toBe(1);
    expect(q.get('a')).toBe(a);
    expect(q.has('a')).toBe(true);
    expect([...q.values()]).toEqual([a]);
    q.delete('a');
    expect(q.size).toBe(0);
    expect(q.has('a')).toBe(false);
    expect(q.get('a')).toBeUndefined();
  });

  it('queues only waiting work (moving it to queued)', () => {
    const q = new TaskQueue();
    const a = task('a');
    q.enqueue(a);
    expect(a.state).toBe('queued');
    const b = task('b');
    b.state = 'running';
    expect(() => q.enqueue(b)).toThrow(/cannot go from running to queued/);
  });

  it('visits shape by shape, oldest first, and visited entries leave their queue', () => {
    const q = queueOf(task('a1'), task('b1', { CPU: 2 }), task('a2'), task('b2', { CPU: 2 }));
    expect(pass(q)).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(pass(q)).toEqual([]);
    expect(q.describe()).toEqual([]);
  });

  it('stop leaves that entry and the rest of its shape queued, and goes on with other shapes', () => {
    const q = queueOf(task('a1'), task('a2'), task('a3'), task('b1', { CPU: 2 }), task('b2', { CPU: 2 }));
    expect(pass(q, ['a2'])).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(q.describe()).toEqual([{ shape: 'thread|CPU=1', works: ['a2:queued', 'a3:queued'] }]);
    // The next pass starts again at the entry that stopped.
    expect(pass(q, ['a2'])).toEqual(['a2']);
    expect(pass(q)).toEqual(['a2', 'a3']);
    expect(pass(q)).toEqual([]);
  });

  it('stopping at the first entry keeps the whole shape', () => {
    const q = queueOf(task('a1'), task('a2'));
    expect(pass(q, ['a1'])).toEqual(['a1']);
    expect(pass(q)).toEqual(['a1', 'a2']);
  });

  it('visits done and cancelled entries too (the step skips them)', () => {
    const a1 = task('a1');
    const a2 = task('a2');
    const q = queueOf(a1, a2);
    a1.state = 'done';
    q.delete('a1');
    a2.cancelled = true;
    expect(pass(q)).toEqual(['a1', 'a2']);
  });

  it('appends work queued again behind its shape', () => {
    const a1 = task('a1');
    const q = queueOf(a1, task('a2'));
    expect(pass(q, ['a1'])).toEqual(['a1']);
    const a3 = task('a3');
    q.add(a3);
    q.enqueue(a3);
    expect(pass(q)).toEqual(['a1', 'a2', 'a3']);
  });

  it('reports its load: queued work by shape, without running, waiting or done entries', () => {
    const a1 = task('a1');
    const a2 = task('a2');
    const a3 = task('a3');
    const b1 = task('b1', { CPU: 1, GPU: 1 });
    const q = queueOf(a1, a2, a3, b1);
    expect(q.load()).toEqual([
      { shape: { CPU: 1 }, count: 3 },
      { shape: { CPU: 1, GPU: 1 }, count: 1 },
    ]);
    a1.state = 'running';
    a2.state = 'waiting';
    b1.state = 'done';
    expect(q.load()).toEqual([{ shape: { CPU: 1 }, count: 1 }]);
    expect(new TaskQueue().load()).toEqual([]);
  });

  it('fits resources beside the actor creations queued or waiting here', () => {
    const pool = new ResourcePool({ CPU: 4 });
    const fits = (r: ResourceSet) => pool.fits(r);
    const c1 = creation('a1', { CPU: 2 });
    const c2 = creation('a2', { CPU: 1 });
    const q = queueOf(c1, c2, task('t1', { CPU: 4 }));
    // Tasks queued do not count; the two creations take 3 of 4 CPUs.
    expect(q.fitsBesideQueuedActors({ CPU: 1 }, fits)).toBe(true);
    expect(q.fitsBesideQueuedActors({ CPU: 2 }, fits)).toBe(false);
    c2.state = 'waiting';
    expect(q.fitsBesideQueuedActors({ CPU: 2 }, fits)).toBe(false);
    c2.cancelled = true;
    expect(q.fitsBesideQueuedActors({ CPU: 2 }, fits)).toBe(true);
    c1.state = 'running';
    expect(q.fitsBesideQueuedActors({ CPU: 4 }, fits)).toBe(true);
    expect(q.fitsBesideQueuedActors({ CPU: 5 }, fits)).toBe(false);
  });

  it('adds creations resource by resource', () => {
    const pool = new ResourcePool({ CPU: 4, GPU: 1 });
    const q = queueOf(creation('a1', { GPU: 1 }));
    const asked: ResourceSet[] = [];
    const fits = (r: ResourceSet) => {
      asked.push(r);
      return pool.fits(r);
    };
    expect(q.fitsBesideQueuedActors({ CPU: 1 }, fits)).toBe(true);
    expect(q.fitsBesideQueuedActors({ CPU: 1, GPU: 1 }, fits)).toBe(false);
    expect(asked).toEqual([
      { CPU: 1, GPU: 1 },
      { CPU: 1, GPU: 2 },
    ]);
  });
});
