import { describe, expect, it } from 'vitest';
import { ObjectRef } from './object-ref.js';
import { MARKER, deserialize, serialize, toMarker, nestedRefs } from './serialization.js';

const reviver = { revive: (m: Record<string, unknown>) => ({ revived: m.type }) };

describe('serialization', () => {
  it('stores typed arrays raw, in shared memory above the threshold, and reads them without copying', () => {
    const small = serialize(new Float32Array([1, 2]), 'x', 1024);
    expect(small.t).toBe('raw');
    const big = serialize(new Float64Array(1000), 'x', 1024);
    expect(big.t === 'raw' && big.b.buffer instanceof SharedArrayBuffer).toBe(true);
    const back = deserialize(big, reviver) as Float64Array;
    expect(back).toBeInstanceOf(Float64Array);
    expect(big.t === 'raw' && back.buffer === big.b.buffer).toBe(true);
  });
  it('replaces nested refs with markers and records their ids', () => {
    const r = new ObjectRef('obj_a');
    const value = { a: [1, r], m: new Map([['k', r]]), s: new Set([r]) };
    const v = serialize(value, 'x', 1 << 20);
    expect(nestedRefs(v)).toEqual(['obj_a', 'obj_a', 'obj_a']);
    const back = deserialize(v, reviver) as typeof value;
    expect(back.a[1]).toBeInstanceOf(ObjectRef);
    expect((back.a[1] as ObjectRef).id).toBe('obj_a');
    expect(back.m.get('k')).toBeInstanceOf(ObjectRef);
    expect([...back.s][0]).toBeInstanceOf(ObjectRef);
    // The caller's value is not changed.
    expect(value.a[1]).toBe(r);
  });
  it("keeps the user's strings and objects that look like ref markers as they are", () => {
    const lookalike = '\u0000\u0001ref:obj_fake';
    const value = {
      r: new ObjectRef('obj_real'),
      s: lookalike,
      list: [lookalike, 'plain'],
      m: new Map([[lookalike, lookalike]]),
      o: { [MARKER]: 'ref', id: 'obj_user' },
    };
    const v = serialize(value, 'x', 1 << 20);
    expect(nestedRefs(v)).toEqual(['obj_real']);
    const back = deserialize(v, reviver) as typeof value;
    expect((back.r as ObjectRef).id).toBe('obj_real');
    expect(back.s).toBe(lookalike);
    expect(back.list).toEqual([lookalike, 'plain']);
    expect(back.m.get(lookalike)).toBe(lookalike);
    expect(back.o).toEqual({ [MARKER]: 'ref', id: 'obj_user' });
    // Refs as Map keys and in a long list (the common case: lists of block refs).
    const many = Array.from({ length: 1000 }, (_, i) => new ObjectRef(`obj_${i}`));
    const keyed = new Map([[many[0], 'first']]);
    const back2 = deserialize(serialize({ many, keyed }, 'x', 1 << 30), reviver) as {
      many: ObjectRef[];
      keyed: Map<ObjectRef, string>;
    };
    expect(back2.many.map((r) => r.id)).toEqual(many.map((r) => r.id));
    expect([...back2.keyed.keys()][0]).toBeInstanceOf(ObjectRef);
  });
  it('does not copy values without refs, and handles cycles', () => {
    const cyc: Record<string, unknown> = { x: 1 };
    cyc.self = cyc;
    const back = deserialize(serialize(cyc, 'x', 1 << 20), reviver) as Record<string, unknown>;
    expect(back.self).toBe(back);
    const withRef: Record<string, unknown> = { r: new ObjectRef('obj_b') };
    withRef.self = withRef;
    const back2 = deserialize(serialize(withRef, 'x', 1 << 20), reviver) as Record<string, unknown>;
    expect(back2.self).toBe(back2);
    expect(back2.r).toBeInstanceOf(ObjectRef);
  });
  it('uses markers for objects that describe themselves', () => {
    const special = { [toMarker]: () => ({ type: 'thing' }) };
    const back = deserialize(serialize({ s: special }, 'x', 1 << 20), reviver) as { s: unknown };
    expect(back.s).toEqual({ revived: 'thing' });
    expect(MARKER).toBe('__rayts__');
  });
  it('throws a SerializationError naming the value', () => {
    expect(() => serialize({ f: () => 1 }, "argument 1 of 'g'", 1024)).toThrow(/Could not serialize argument 1 of 'g'/);
  });
});
