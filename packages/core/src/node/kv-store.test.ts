import { describe, expect, it } from 'vitest';
import { LocalKv } from './kv-store.js';

const bytes = (...b: number[]) => new Uint8Array(b);

function put(kv: LocalKv, namespace: string, key: string, value: Uint8Array, overwrite = false): unknown {
  return kv.apply({ k: 'put', namespace, key, value, overwrite });
}

const get = (kv: LocalKv, namespace: string, key: string) => kv.apply({ k: 'get', namespace, key });
const del = (kv: LocalKv, namespace: string, key: string) => kv.apply({ k: 'del', namespace, key });
const keys = (kv: LocalKv, namespace: string, prefix: string) => kv.apply({ k: 'keys', namespace, prefix });

describe('local key-value store', () => {
  it('puts a value, keeping the first unless told to overwrite; says whether the key is new', () => {
    const kv = new LocalKv();
    expect(put(kv, 'ns', 'k', bytes(1))).toBe(true);
    expect(put(kv, 'ns', 'k', bytes(2))).toBe(false);
    expect(get(kv, 'ns', 'k')).toEqual(bytes(1));
    expect(put(kv, 'ns', 'k', bytes(3), true)).toBe(false);
    expect(get(kv, 'ns', 'k')).toEqual(bytes(3));
    expect(get(kv, 'ns', 'missing')).toBeUndefined();
  });

  it('keeps namespaces apart', () => {
    const kv = new LocalKv();
    put(kv, 'a', 'k', bytes(1));
    put(kv, 'b', 'k', bytes(2));
    expect(get(kv, 'a', 'k')).toEqual(bytes(1));
    expect(get(kv, 'b', 'k')).toEqual(bytes(2));
    expect(del(kv, 'a', 'k')).toBe(1);
    expect(get(kv, 'a', 'k')).toBeUndefined();
    expect(get(kv, 'b', 'k')).toEqual(bytes(2));
  });

  it('deletes a key, counting what it deleted', () => {
    const kv = new LocalKv();
    put(kv, 'ns', 'k', bytes(1));
    expect(del(kv, 'ns', 'k')).toBe(1);
    expect(del(kv, 'ns', 'k')).toBe(0);
    expect(put(kv, 'ns', 'k', bytes(2))).toBe(true);
  });

  it("lists a namespace's keys that start with a prefix", () => {
    const kv = new LocalKv();
    for (const k of ['job:1', 'job:2', 'actor:1']) put(kv, 'ns', k, bytes(0));
    put(kv, 'ns2', 'job:3', bytes(0));
    put(kv, 'n', 'job:4', bytes(0)); // a namespace that is a prefix of another
    expect(keys(kv, 'ns', 'job:')).toEqual(['job:1', 'job:2']);
    expect(keys(kv, 'ns', '')).toEqual(['job:1', 'job:2', 'actor:1']);
    expect(keys(kv, 'n', '')).toEqual(['job:4']);
    expect(keys(kv, 'other', '')).toEqual([]);
  });

  it('copies values in and out', () => {
    const kv = new LocalKv();
    const value = bytes(1, 2, 3);
    put(kv, 'ns', 'k', value);
    value[0] = 9;
    const out = get(kv, 'ns', 'k') as Uint8Array;
    expect(out).toEqual(bytes(1, 2, 3));
    out[1] = 9;
    expect(get(kv, 'ns', 'k')).toEqual(bytes(1, 2, 3));
  });
});
