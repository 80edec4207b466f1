import { describe, expect, it, vi } from 'vitest';
import { requestStore } from './context.js';
import { ServeInvalidArgumentError } from './errors.js';
import { multiplexed } from './multiplex.js';

/** A loader of fake models that counts loads and records disposals. */
function models(kind: 'dispose' | 'release' | 'none' = 'dispose') {
  const loads: string[] = [];
  const freed: string[] = [];
  const load = async (id: string) => {
    loads.push(id);
    const m: { id: string; dispose?: () => void; release?: () => void } = { id };
    if (kind === 'dispose') m.dispose = () => void freed.push(id);
    if (kind === 'release') m.release = () => void freed.push(id);
    return m;
  };
  return { loads, freed, load };
}

describe('multiplexed()', () => {
  it('loads a model once, even for concurrent first calls', async () => {
    const m = models();
    const get = multiplexed(m.load, { maxNumModelsPerReplica: 2 });
    const [a, b] = await Promise.all([get('a'), get('a')]);
    expect(a).toBe(b);
    expect(await get('a')).toBe(a);
    expect(m.loads).toEqual(['a']);
  });

  it('evicts the least recently used model past maxNumModelsPerReplica and disposes of it', async () => {
    const m = models();
    const get = multiplexed(m.load, { maxNumModelsPerReplica: 2 });
    await get('a');
    await get('b');
    await get('a'); // a is now more recent than b
    await get('c'); // evicts b
    await vi.waitFor(() => expect(m.freed).toEqual(['b']));
    expect(m.loads).toEqual(['a', 'b', 'c']);
    await get('a');
    await get('c');
    expect(m.loads).toEqual(['a', 'b', 'c']);
    await get('b'); // loads again, evicts a (c was used after a)
    expect(m.loads).toEqual(['a', 'b', 'c', 'b']);
    await vi.waitFor(() => expect(m.freed).toEqual(['b', 'a']));
  });

  it('calls release() when a model has no dispose(), and copes with models that have neither', async () => {
    const r = models('release');
    const get = multiplexed(r.load, { maxNumModelsPerReplica: 1 });
    await get('x');
    await get('y');
    await vi.waitFor(() => expect(r.freed).toEqual(['x']));
    const n = models('none');
    const plain = multiplexed(n.load, { maxNumModelsPerReplica: 1 });
    await plain('x');
    await expect(plain('y')).resolves.toEqual({ id: 'y' });
    expect(n.loads).toEqual(['x', 'y']);
  });

  it('does not cache a failed load: the next call loads again', async () => {
    let fail = true;
    const load = vi.fn(async (id: string) => {
      if (fail) throw new Error(`cannot load ${id}`);
      return { id };
    });
    const get = multiplexed(load, { maxNumModelsPerReplica: 2 });
    await expect(get('a')).rejects.toThrow('cannot load a');
    fail = false;
    await expect(get('a')).resolves.toEqual({ id: 'a' });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it("loads the current request's model when called with no id", async () => {
    const m = models();
    const get = multiplexed(m.load);
    const model = await requestStore.run({ requestId: 'r1', multiplexedModelId: 'm1', route: '/' }, () => get());
    expect(model.id).toBe('m1');
    expect(m.loads).toEqual(['m1']);
  });

  it('fails with a clear error when no model id is given or set by the request', async () => {
    const get = multiplexed(models().load);
    await expect(get()).rejects.toThrow(ServeInvalidArgumentError);
    await expect(get()).rejects.toThrow(/No model id: send the serve_multiplexed_model_id header/);
    await expect(
      requestStore.run({ requestId: 'r2', multiplexedModelId: '', route: '/' }, () => get()),
    ).rejects.toThrow(/No model id/);
  });

  it('rejects a bad maxNumModelsPerReplica', () => {
    const load = async (id: string) => id;
    expect(() => multiplexed(load, { maxNumModelsPerReplica: 0 })).toThrow(ServeInvalidArgumentError);
    expect(() => multiplexed(load, { maxNumModelsPerReplica: 1.5 })).toThrow(
      /Invalid maxNumModelsPerReplica for multiplexed\(\): 1.5/,
    );
  });
});
