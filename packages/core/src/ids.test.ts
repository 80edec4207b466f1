import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { RandomIdGenerator, checkObjectIds, isObjectId } from './ids.js';
import { SequentialIdGenerator } from './testing.js';

describe('object ids', () => {
  it('accept what the generators make: puts, and task returns by index', () => {
    for (const gen of [new RandomIdGenerator(), new SequentialIdGenerator()]) {
      for (let i = 0; i < 50; i++) {
        expect(isObjectId(gen.next('obj'))).toBe(true);
        expect(isObjectId(`${gen.next('task')}.${i}`)).toBe(true);
      }
    }
    expect(isObjectId(`obj_${'z'.repeat(40)}`)).toBe(true);
    expect(isObjectId('task_3f9a0c121a2b0.99999')).toBe(true);
  });

  it('refuse anything else, and anything that could leave a folder as a file name', () => {
    const bad = [
      '',
      'obj_',
      'obj_A1',
      'obj_a1.0',
      'task_a1',
      'task_a1.',
      'task_a1.123456',
      'task_a1.0.0',
      'actor_a1',
      `obj_${'z'.repeat(41)}`,
      '../obj_a1',
      'obj_a1/..',
      'task_a1/../../etc.0',
      'obj_a1\0',
      'obj_a1\n',
      ' obj_a1',
      'OBJ_a1',
    ];
    expect(bad.filter((id) => isObjectId(id))).toEqual([]);
    expect([undefined, null, 3, {}].some((id) => isObjectId(id))).toBe(false);
  });

  it('are checked with a typed error that quotes the bad id, cut short', () => {
    expect(() => checkObjectIds(['obj_ok', 'task_ok.1'], 'a test')).not.toThrow();
    const long = `../${'x'.repeat(200)}`;
    let err: unknown;
    try {
      checkObjectIds(['obj_ok', long], 'a message from node node_1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toBe(
      `Refused object id ${JSON.stringify(`${long.slice(0, 80)}...`)} in a message from node node_1: not an object id ` +
        `(obj_<name> or task_<name>.<index>, <name> 1-40 lowercase letters and digits). The sender is not a ray-ts ` +
        `node of this version, or is faulty.`,
    );
  });
});
