import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectStore } from './object-store.js';
import type { StoredValue } from '../runtime/serialization.js';

const raw = (n: number, fill: number): StoredValue => ({
  t: 'raw',
  ctor: 'Uint8Array',
  b: new Uint8Array(n).fill(fill),
});

function store(capacity: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  return { s: new ObjectStore(capacity, 10, dir), dir };
}

describe('object store', () => {
  it('frees an object when its last holder and pin go', () => {
    const { s } = store(1000);
    s.put('a', raw(5, 1));
    s.addHolder('a');
    s.pin('a');
    s.removeHolder('a');
    expect(s.has('a')).toBe(true);
    s.unpin('a');
    expect(s.has('a')).toBe(false);
  });
  it('keeps pending objects until they arrive, then frees unheld ones', () => {
    const { s } = store(1000);
    s.createPending('p');
    let ready = false;
    s.onReady('p', () => (ready = true));
    expect(s.isReady('p')).toBe(false);
    s.put('p', raw(5, 1));
    expect(ready).toBe(true);
    expect(s.has('p')).toBe(false);
  });
  it('keeps nested refs alive while the containing object lives', () => {
    const { s } = store(1000);
    s.put('inner', raw(5, 1));
    s.addHolder('inner');
    s.put('outer', { t: 'v8', b: new Uint8Array(3), refs: ['inner'] });
    s.addHolder('outer');
    s.removeHolder('inner');
    expect(s.has('inner')).toBe(true);
    s.removeHolder('outer');
    expect(s.has('inner')).toBe(false);
  });
  it('spills least recently used large objects and restores them', () => {
    const { s, dir } = store(100);
    for (const id of ['obj_a', 'obj_b', 'obj_c']) {
      s.put(id, raw(40, id.charCodeAt(4)));
      s.addHolder(id);
    }
    expect(s.stats().usedBytes).toBeLessThanOrEqual(100);
    expect(s.stats().spilledObjects).toBe(1);
    expect(fs.readdirSync(path.join(dir))).toEqual(['obj_a']);
    const a = s.get('obj_a')!;
    expect(a.t === 'raw' && a.b[0]).toBe('a'.charCodeAt(0));
    expect(s.stats().usedBytes).toBeLessThanOrEqual(100);
    s.removeHolder('obj_a');
    s.clear();
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('ids for tests', () => {
  it('can be made deterministic', async () => {
    const { SequentialIdGenerator, setIdGenerator } = await import('../testing.js');
    const { ids, RandomIdGenerator } = await import('../ids.js');
    setIdGenerator(new SequentialIdGenerator());
    expect([ids().next('task'), ids().next('obj')]).toEqual(['task_1', 'obj_2']);
    setIdGenerator(new RandomIdGenerator());
    expect(ids().next('task')).toMatch(/^task_[0-9a-f]{12}0$/);
  });
});
