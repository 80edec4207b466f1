import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResourceSet } from '../options.js';
import { settle } from '../testing-clock.js';
import { Bundles, LocalGroups } from './bundles.js';
import type { NodeContext } from './context.js';
import type { PlacementStrategy } from './placement.js';
import type { GroupState } from './ports.js';
import { ResourcePool } from './resources.js';

/** The part of a node bundles use: its pool, and a count of schedule requests. */
function context(resources: Record<string, number>, gpuIds?: number[]) {
  const ctx = {
    nodeId: 'node-a',
    pool: new ResourcePool(resources, gpuIds),
    stopped: false,
    schedules: 0,
    requestSchedule() {
      ctx.schedules++;
    },
  };
  return ctx;
}

function bundlesOn(resources: Record<string, number>, gpuIds?: number[]) {
  const ctx = context(resources, gpuIds);
  return { ctx, pool: ctx.pool, bundles: new Bundles(ctx as unknown as NodeContext) };
}

describe('bundles: reserve and release', () => {
  it('reserves all bundles or none', () => {
    const { ctx, pool, bundles } = bundlesOn({ CPU: 2 });
    expect(bundles.reserve('pg_a', [0, 1], [{ CPU: 1 }, { CPU: 2 }])).toBe(false);
    expect(pool.availableResources()).toEqual({ CPU: 2 });
    expect(pool.total).toEqual({ CPU: 2 });
    expect(ctx.schedules).toBe(0);

    expect(bundles.reserve('pg_a', [0, 1], [{ CPU: 1 }, { CPU: 1 }])).toBe(true);
    expect(pool.availableResources()).toEqual({
      CPU: 0,
      CPU_pg_a_0: 1,
      CPU_pg_a_1: 1,
      CPU_pg_a: 2,
      bundle_pg_a_0: 1000,
      bundle_pg_a_1: 1000,
      bundle_pg_a: 2000,
    });
    expect(ctx.schedules).toBe(1);
  });

  it('names each bundle by its own index', () => {
    const { pool, bundles } = bundlesOn({ CPU: 4 });
    expect(bundles.reserve('pg_b', [3], [{ CPU: 2 }])).toBe(true);
    expect(pool.total).toMatchObject({ CPU_pg_b_3: 2, CPU_pg_b: 2, bundle_pg_b_3: 1000 });
    expect(pool.total).not.toHaveProperty('CPU_pg_b_0');
  });

  it('gives bundles back, removing their renamed resources', () => {
    const { ctx, pool, bundles } = bundlesOn({ CPU: 2 });
    bundles.reserve('pg_a', [0, 1], [{ CPU: 1 }, { CPU: 1 }]);
    bundles.release('pg_a', [1]);
    expect(pool.availableResources()).toEqual({
      CPU: 1,
      CPU_pg_a_0: 1,
      CPU_pg_a: 1,
      bundle_pg_a_0: 1000,
      bundle_pg_a: 1000,
    });
    bundles.release('pg_a', [0, 1, 7]); // 1 and 7 are not reserved: nothing to give back for them
    expect(pool.availableResources()).toEqual({ CPU: 2 });
    expect(pool.total).toEqual({ CPU: 2 });
    expect(ctx.schedules).toBe(3);
  });
});

describe('bundles: withBundleGpus', () => {
  it("gives work in a GPU bundle that bundle's devices", () => {
    const { pool, bundles } = bundlesOn({ CPU: 4, GPU: 4 }, [4, 5, 6, 7]);
    pool.tryAllocate({ GPU: 1 }); // device 4 is taken outside the group
    bundles.reserve('pg_g', [0, 1], [{ GPU: 2 }, { GPU: 1 }]);

    const req = { GPU_pg_g_0: 2 };
    const alloc = pool.tryAllocate(req)!;
    expect(alloc.gpuIds).toEqual([]);
    expect(bundles.withBundleGpus(alloc, req)).toEqual({ amounts: req, gpuIds: [5, 6], gpuShares: [0, 0] });
    expect(bundles.withBundleGpus(alloc, { GPU_pg_g_1: 1 }).gpuIds).toEqual([7]);
    // A fraction of a bundle's GPU still names a device.
    expect(bundles.withBundleGpus(alloc, { GPU_pg_g_0: 0.5 }).gpuIds).toEqual([5]);
  });

  it("gives work in any bundle of the group the first reserved bundle's devices", () => {
    const { bundles } = bundlesOn({ CPU: 4, GPU: 2 });
    bundles.reserve('pg_g', [0, 1], [{ CPU: 1 }, { GPU: 2 }]);
    const alloc = { amounts: {}, gpuIds: [], gpuShares: [] };
    expect(bundles.withBundleGpus(alloc, { GPU_pg_g: 1 }).gpuIds).toEqual([0]);
    expect(bundles.withBundleGpus(alloc, { GPU_pg_g: 2 }).gpuIds).toEqual([0, 1]);
  });

  it('leaves alone work with devices of its own, without GPUs, or in a bundle reserved elsewhere', () => {
    const { bundles } = bundlesOn({ CPU: 4, GPU: 2 });
    bundles.reserve('pg_g', [0], [{ GPU: 1 }]);
    const own = { amounts: { GPU: 1 }, gpuIds: [1], gpuShares: [1] };
    expect(bundles.withBundleGpus(own, { GPU: 1, GPU_pg_g_0: 1 })).toBe(own);
    const none = { amounts: {}, gpuIds: [], gpuShares: [] };
    expect(bundles.withBundleGpus(none, { CPU_pg_g_0: 1 })).toBe(none);
    expect(bundles.withBundleGpus(none, { GPU_pg_g_1: 1 })).toBe(none);
    expect(bundles.withBundleGpus(none, { GPU_pg_other: 1 })).toBe(none);
  });
});

function group(id: string, bundles: ResourceSet[], strategy: PlacementStrategy = 'PACK'): GroupState {
  return { id, name: '', strategy, bundles, state: 'PENDING', bundleNodes: [], reason: '' };
}

function localGroups(resources: Record<string, number>) {
  const ctx = context(resources);
  const bundles = new Bundles(ctx as unknown as NodeContext);
  const changed: string[] = [];
  const groups = new LocalGroups(ctx as unknown as NodeContext, bundles, (id) => changed.push(id));
  return { ctx, pool: ctx.pool, groups, changed };
}

describe('local groups', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates a group that fits at once, reserving its bundles on this node', async () => {
    const { pool, groups, changed } = localGroups({ CPU: 4 });
    const created = groups.createGroup(group('pg_a', [{ CPU: 1 }, { CPU: 2 }]));
    expect(groups.group('pg_a')).toMatchObject({ state: 'CREATED', bundleNodes: ['node-a', 'node-a'] });
    expect(pool.availableResources()).toMatchObject({ CPU: 1, CPU_pg_a_0: 1, CPU_pg_a_1: 2 });
    expect(changed).toEqual([]); // told after the turn, once the caller has the group
    await created;
    await settle();
    expect(changed).toEqual(['pg_a']);
  });

  it('fails a group no node of this cluster can ever hold', async () => {
    const { pool, groups, changed } = localGroups({ CPU: 2 });
    await groups.createGroup(group('pg_big', [{ CPU: 8 }]));
    const g = groups.group('pg_big')!;
    expect(g.state).toBe('INFEASIBLE');
    expect(g.reason).toBe('bundle { CPU: 8 } fits on no node (1 node: { CPU: 2 })');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(g.state).toBe('INFEASIBLE');
    expect(pool.availableResources()).toEqual({ CPU: 2 });
    await settle();
    expect(changed).toEqual(['pg_big']);
  });

  it('keeps a group that does not fit now PENDING, then creates it when room frees', async () => {
    const { pool, groups, changed } = localGroups({ CPU: 2 });
    await groups.createGroup(group('pg_1', [{ CPU: 2 }]));
    await groups.createGroup(group('pg_2', [{ CPU: 1 }, { CPU: 1 }], 'STRICT_PACK'));
    const g2 = groups.group('pg_2')!;
    expect(g2.state).toBe('PENDING');
    expect(g2.reason).toMatch(/^waiting for resources/);
    await vi.advanceTimersByTimeAsync(200);
    expect(g2.state).toBe('PENDING');
    expect(changed).toEqual(['pg_1', 'pg_2']);

    await groups.removeGroup('pg_1');
    expect(changed).toEqual(['pg_1', 'pg_2', 'pg_1']);
    await vi.advanceTimersByTimeAsync(20);
    expect(g2).toMatchObject({ state: 'CREATED', bundleNodes: ['node-a', 'node-a'] });
    expect(changed).toEqual(['pg_1', 'pg_2', 'pg_1', 'pg_2']);
    expect(pool.availableResources()).toMatchObject({ CPU: 0, CPU_pg_2: 2 });
  });

  it('stops trying to create a PENDING group once it is removed', async () => {
    const { pool, groups, changed } = localGroups({ CPU: 1 });
    await groups.createGroup(group('pg_1', [{ CPU: 1 }]));
    await groups.createGroup(group('pg_2', [{ CPU: 1 }]));
    await groups.removeGroup('pg_2');
    await groups.removeGroup('pg_1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(groups.group('pg_2')!.state).toBe('REMOVED');
    expect(pool.availableResources()).toEqual({ CPU: 1 });
    expect(vi.getTimerCount()).toBe(0);
    expect(changed.filter((id) => id === 'pg_2')).toHaveLength(2); // created (pending), removed
  });

  it('stops trying once the node stops', async () => {
    const { ctx, groups } = localGroups({ CPU: 1 });
    await groups.createGroup(group('pg_1', [{ CPU: 1 }]));
    await groups.createGroup(group('pg_2', [{ CPU: 1 }]));
    ctx.stopped = true;
    await vi.advanceTimersByTimeAsync(20);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('removes a group once, giving its bundles back', async () => {
    const { pool, groups, changed } = localGroups({ CPU: 2 });
    await groups.createGroup(group('pg_a', [{ CPU: 1 }, { CPU: 1 }]));
    await settle();
    await groups.removeGroup('pg_a');
    expect(groups.group('pg_a')).toMatchObject({
      state: 'REMOVED',
      reason: 'removed with removePlacementGroup()',
    });
    expect(pool.availableResources()).toEqual({ CPU: 2 });
    expect(pool.total).toEqual({ CPU: 2 });
    await groups.removeGroup('pg_a');
    await groups.removeGroup('pg_unknown');
    expect(changed).toEqual(['pg_a', 'pg_a']);
  });

  it('waits for a PENDING group: answers now for timeoutMs < 0, up to timeoutMs > 0, until it leaves PENDING for 0', async () => {
    const { groups } = localGroups({ CPU: 1 });
    await groups.createGroup(group('pg_1', [{ CPU: 1 }]));
    await groups.createGroup(group('pg_2', [{ CPU: 1 }]));
    expect(await groups.waitGroup('pg_unknown', 0)).toBeUndefined();
    expect(await groups.waitGroup('pg_1', 0)).toMatchObject({ state: 'CREATED' });
    expect(await groups.waitGroup('pg_2', -1)).toMatchObject({ state: 'PENDING' });

    let timedOut: GroupState | undefined;
    void groups.waitGroup('pg_2', 100).then((g) => (timedOut = g));
    await vi.advanceTimersByTimeAsync(95);
    expect(timedOut).toBeUndefined();
    await vi.advanceTimersByTimeAsync(10);
    expect(timedOut).toMatchObject({ id: 'pg_2', state: 'PENDING' });

    let placed: GroupState | undefined;
    void groups.waitGroup('pg_2', 0).then((g) => (placed = g));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(placed).toBeUndefined();
    await groups.removeGroup('pg_1');
    await vi.advanceTimersByTimeAsync(30);
    expect(placed).toMatchObject({ id: 'pg_2', state: 'CREATED' });
  });

  it('lists every group it knows, removed ones included', async () => {
    const { groups } = localGroups({ CPU: 1 });
    await groups.createGroup(group('pg_1', [{ CPU: 1 }]));
    await groups.createGroup(group('pg_2', [{ CPU: 9 }]));
    await groups.createGroup(group('pg_3', [{ CPU: 1 }]));
    await groups.removeGroup('pg_3');
    expect((await groups.listGroups()).map((g) => [g.id, g.state])).toEqual([
      ['pg_1', 'CREATED'],
      ['pg_2', 'INFEASIBLE'],
      ['pg_3', 'REMOVED'],
    ]);
  });
});
