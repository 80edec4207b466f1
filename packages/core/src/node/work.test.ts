import { describe, expect, it } from 'vitest';
import type { ActorRecord } from './actors.js';
import { taskSpec } from './testing-node.js';
import { envVarsOf, newWork, shapeKeyOf, transition, type WorkState } from './work.js';

const states: WorkState[] = ['waiting', 'queued', 'running', 'done'];
const allowed: [WorkState, WorkState][] = [
  ['waiting', 'waiting'],
  ['waiting', 'queued'],
  ['waiting', 'done'],
  ['queued', 'waiting'],
  ['queued', 'running'],
  ['queued', 'done'],
  ['running', 'waiting'],
  ['running', 'done'],
];
const isAllowed = (from: WorkState, to: WorkState) => allowed.some(([a, b]) => a === from && b === to);
const refused = states.flatMap((from) =>
  states.filter((to) => !isAllowed(from, to)).map((to) => [from, to] as [WorkState, WorkState]),
);

describe('work state machine', () => {
  it.each(allowed)('moves from %s to %s', (from, to) => {
    const w = { id: 'w1', state: from };
    transition(w, to);
    expect(w.state).toBe(to);
  });

  it.each(refused)('refuses to move from %s to %s', (from, to) => {
    const w = { id: 'w1', state: from };
    expect(() => transition(w, to)).toThrow(`ray-ts internal error: work w1 cannot go from ${from} to ${to}`);
    expect(w.state).toBe(from);
  });

  it('has done as its only final state', () => {
    expect(refused.filter(([from]) => from === 'done').map(([, to]) => to)).toEqual(states);
    expect(refused.length).toBe(8);
  });
});

describe('new work', () => {
  it('starts waiting, with no attempt, worker or placement', () => {
    const spec = taskSpec('t1', { resources: { CPU: 2, GPU: 1 } });
    const w = newWork('t1', { kind: 'task', task: spec }, spec.args, spec.resources, 'thread');
    expect(w).toMatchObject({
      kind: 'task',
      id: 't1',
      state: 'waiting',
      attempts: 0,
      depsLeft: 0,
      worker: undefined,
      alloc: undefined,
      blocked: 0,
      cancelled: false,
      origin: undefined,
      remote: undefined,
      spills: 0,
      spillTo: undefined,
      noSpill: false,
    });
    expect(w.shapeKey).toBe('thread|CPU=2|GPU=1');
  });

  it('shares a shape only with work of the same resources, isolation and environment', () => {
    expect(shapeKeyOf({ GPU: 1, CPU: 2 }, 'thread', '')).toBe(shapeKeyOf({ CPU: 2, GPU: 1 }, 'thread', ''));
    expect(shapeKeyOf({ CPU: 2 }, 'thread', '')).not.toBe(shapeKeyOf({ CPU: 2 }, 'process', ''));
    expect(shapeKeyOf({ CPU: 2 }, 'thread', '')).not.toBe(shapeKeyOf({ CPU: 1 }, 'thread', ''));
    expect(shapeKeyOf({ CPU: 2 }, 'thread', 'k')).toBe('thread|CPU=2|env=k');
    const a = taskSpec('a', { envVars: { X: '1' } });
    const b = taskSpec('b', { envVars: { X: '2' } });
    const wa = newWork('a', { kind: 'task', task: a }, [], a.resources, 'thread');
    const wb = newWork('b', { kind: 'task', task: b }, [], b.resources, 'thread');
    expect(wa.shapeKey).not.toBe(wb.shapeKey);
    expect(envVarsOf(wa)).toEqual({ X: '1' });
  });

  it('takes an actor creation environment from its options', () => {
    const actor = { spec: { actorId: 'a1', options: { envVars: { Y: '2' } } } } as unknown as ActorRecord;
    const w = newWork('create:a1:0', { kind: 'create', actor }, [], { CPU: 1 }, 'process');
    expect(w.kind).toBe('create');
    expect(envVarsOf(w)).toEqual({ Y: '2' });
    expect(w.shapeKey).toBe('process|CPU=1|env=[["Y","2"]]');
  });
});
