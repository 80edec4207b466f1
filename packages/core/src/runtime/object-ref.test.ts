import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectRef, RefTracker } from './object-ref.js';
import { deserialize, serialize } from './serialization.js';
import { threadState } from './thread-state.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const reviver = { revive: () => undefined };

/** Lets finalizers run after a GC (WeakRef targets read in this turn live until it ends). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 0));
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

function withTracker(): { added: string[]; removed: string[]; tracker: RefTracker } {
  const added: string[] = [];
  const removed: string[] = [];
  const tracker = new RefTracker({ addRefs: (a) => added.push(...a), removeRefs: (r) => removed.push(...r) }, false);
  threadState().refTracker = tracker;
  return { added, removed, tracker };
}

describe('ObjectRef counting', () => {
  afterEach(() => {
    threadState().refTracker = undefined;
  });

  it('hands out the live instance again when the same refs are read again, and counts it once', () => {
    const { added, tracker } = withTracker();
    const stored = serialize({ refs: [new ObjectRef('obj_a'), new ObjectRef('obj_b')] }, 'x', 1 << 20);
    added.length = 0;
    const first = deserialize(stored, reviver) as { refs: ObjectRef[] };
    const again = deserialize(stored, reviver) as { refs: ObjectRef[] };
    expect(again.refs[0]).toBe(first.refs[0]);
    expect(again.refs[1]).toBe(first.refs[1]);
    expect(first.refs[0].id).toBe('obj_a');
    expect(tracker.count('obj_a')).toBe(2); // the ref made for serialize() above, and the interned one
    expect(added).toEqual([]);
  });

  it('makes a new instance once the interned one is gone, and tells the node exactly once per id', async () => {
    const { added, removed, tracker } = withTracker();
    const stored = serialize([new ObjectRef('obj_c')], 'x', 1 << 20);
    await collect();
    expect(removed).toEqual(['obj_c']);
    let read: ObjectRef[] | undefined = deserialize(stored, reviver) as ObjectRef[];
    expect(tracker.count('obj_c')).toBe(1);
    read = undefined;
    void read;
    await collect();
    expect(tracker.count('obj_c')).toBe(0);
    const fresh = deserialize(stored, reviver) as ObjectRef[];
    expect(fresh[0].id).toBe('obj_c');
    expect(tracker.count('obj_c')).toBe(1);
    expect(added).toEqual(['obj_c', 'obj_c', 'obj_c']);
    expect(removed).toEqual(['obj_c', 'obj_c']);
  });
});
