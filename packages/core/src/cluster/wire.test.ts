import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { DeserializationError, errorFromWire } from '../errors.js';
import { deserialize } from '../runtime/serialization.js';
import type { Value__Output } from './generated/raytscore/Value.js';
import { valueFromWire } from './wire.js';

/** V8 bytes of arrays nested `depth` deep ([[[...null...]]]), written by hand: V8's writer overflows first. */
function nestedArrays(depth: number): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0x0f]),
    Buffer.alloc(depth * 2, Buffer.from([0x41, 0x01])), // a dense array of length 1
    Buffer.from([0x30]), // null
    Buffer.alloc(depth * 3, Buffer.from([0x24, 0x00, 0x01])), // its end: 0 properties, length 1
  ]);
}

const noReviver = { revive: () => undefined };

const wire = (t: string, data: Buffer): Value__Output =>
  ({ t, data, refs: [], special: false, ctor: '', location: '', size: 0 }) as Value__Output;

describe('wire: values from the network that do not decode', () => {
  const hostile: [string, Buffer][] = [
    ['garbage', Buffer.from('not v8 at all')],
    ['truncated', v8.serialize({ a: [1, 2, 3], s: 'x'.repeat(100) }).subarray(0, 20)],
    ['empty', Buffer.alloc(0)],
    ['nested a million deep', nestedArrays(1_000_000)],
  ];

  it.each(hostile)("turns a %s 'js' or 'err' value into a stored DeserializationError", (_, bytes) => {
    for (const t of ['js', 'err']) {
      const v = valueFromWire(wire(t, bytes), 1 << 20);
      expect(v.t).toBe('err');
      const err = errorFromWire((v as { e: Parameters<typeof errorFromWire>[0] }).e);
      expect(err).toBeInstanceOf(DeserializationError);
      expect(err.message).toMatch(
        new RegExp(`Could not decode a '${t}' value from another node \\(${bytes.length} bytes\\)`),
      );
    }
  });

  it.each(hostile)("fails the get of a %s 'v8' value with DeserializationError", (_, bytes) => {
    const v = valueFromWire(wire('v8', bytes), 1 << 20);
    expect(() => deserialize(v, noReviver)).toThrow(DeserializationError);
  });

  it('still decodes nesting V8 can read back', () => {
    const v = valueFromWire(wire('v8', nestedArrays(1000)), 1 << 20);
    let x = deserialize(v, noReviver) as unknown[];
    let depth = 0;
    while (Array.isArray(x)) [x, depth] = [x[0] as unknown[], depth + 1];
    expect(depth).toBe(1000);
  });
});
