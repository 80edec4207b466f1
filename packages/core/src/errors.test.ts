import { describe, expect, it } from 'vitest';
import { ActorDiedError, RayError, TaskError, errorFromWire, errorToWire } from './errors.js';

describe('errors across boundaries', () => {
  it('keeps class, ids, message, stack and cause', () => {
    const cause = Object.assign(new RangeError('inner'), { code: 42 });
    const e = new TaskError('f', cause, cause.stack!, { taskId: 'task_1' });
    const back = errorFromWire(structuredClone(errorToWire(e))) as TaskError;
    expect(back).toBeInstanceOf(TaskError);
    expect(back).toBeInstanceOf(RayError);
    expect(back.name).toBe('TaskError');
    expect(back.taskId).toBe('task_1');
    expect(back.functionName).toBe('f');
    expect(back.message).toBe(e.message);
    expect(back.cause).toBeInstanceOf(RangeError);
    expect((back.cause as RangeError & { code: number }).code).toBe(42);
    expect(back.stack).toBe(e.stack);
  });
  it('keeps custom error names and non-error throws', () => {
    class MyError extends Error {
      override name = 'MyError';
    }
    const back = errorFromWire(errorToWire(new MyError('x')));
    expect(back.name).toBe('MyError');
    expect(back.message).toBe('x');
    const s = errorFromWire(errorToWire('just a string'));
    expect(s.message).toBe('just a string');
    const o = errorFromWire(errorToWire({ code: 1 }));
    expect(o.message).toContain('{"code":1}');
    expect(o.cause).toEqual({ code: 1 });
  });
  it('gives each class its name and ids', () => {
    const e = new ActorDiedError('gone', { actorId: 'actor_1' });
    expect(e.name).toBe('ActorDiedError');
    expect(e.actorId).toBe('actor_1');
    expect(Object.keys(e)).not.toContain('taskId');
  });
});
