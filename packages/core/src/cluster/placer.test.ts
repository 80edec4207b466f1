import { describe, expect, it } from 'vitest';
import type { SchedulingStrategySpec } from '../options.js';
import type { GroupState, Placement } from '../node/ports.js';
import { FakeClock } from '../testing-clock.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { View } from './membership.js';
import { ClusterPlacer } from './placer.js';
import { nodeInfo } from './testing-gcs.js';

function node(nodeId: string, total: Record<string, number>, over: Partial<NodeInfo__Output> = {}): NodeInfo__Output {
  return nodeInfo(nodeId, { resourcesTotal: total, resourcesAvailable: { ...total }, ...over });
}

class FakeView implements View {
  private readonly byId = new Map<string, NodeInfo__Output>();
  potential: Record<string, number>[] = [];

  constructor(...nodes: NodeInfo__Output[]) {
    for (const n of nodes) this.byId.set(n.nodeId, n);
  }

  get(nodeId: string): NodeInfo__Output | undefined {
    return this.byId.get(nodeId);
  }

  nodes(): Iterable<NodeInfo__Output> {
    return this.byId.values();
  }
}

const CHARGE_MS = 1_000;

/** A placer on node 'a' (which runs work unless `executes` is false). */
function placerOver(view: FakeView, opts: { executes?: boolean; groups?: GroupState[] } = {}) {
  const clock = new FakeClock();
  const groups = new Map((opts.groups ?? []).map((g) => [g.id, g]));
  const placer = new ClusterPlacer(
    { nodeId: 'a', executes: opts.executes ?? true },
    view,
    (id) => groups.get(id),
    CHARGE_MS,
    clock,
  );
  return { placer, clock };
}

const at = (nodeId: string): Placement => (nodeId === 'a' ? { kind: 'here' } : { kind: 'node', nodeId });
const cpu = { CPU: 1 };

describe('placer: DEFAULT', () => {
  it('runs here when this node has room', () => {
    const { placer } = placerOver(new FakeView(node('a', { CPU: 2 }), node('b', { CPU: 8 })));
    expect(placer.place(cpu, undefined, true)).toEqual(at('a'));
  });

  it('else on the preferred node if it has room', () => {
    const { placer } = placerOver(new FakeView(node('a', { CPU: 2 }), node('b', { CPU: 8 }), node('c', { CPU: 8 })));
    placer.preferredNode = 'c';
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
  });

  it('else on the least loaded other node with room', () => {
    const view = new FakeView(
      node('a', { CPU: 2 }),
      node('b', { CPU: 4 }),
      node('c', { CPU: 4 }),
      node('d', { CPU: 4 }, { resourcesAvailable: { CPU: 0 } }),
    );
    const { placer } = placerOver(view);
    placer.preferredNode = 'd'; // no room there
    placer.taskSent('b', 't1', cpu);
    placer.viewChanged([]);
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
    placer.taskEnded('b', 't1');
    expect(placer.place(cpu, undefined, false)).toEqual(at('b'));
  });

  it('else here, when no other node has room', () => {
    const view = new FakeView(node('a', { CPU: 2 }), node('b', { CPU: 4 }, { resourcesAvailable: { CPU: 0.5 } }));
    const { placer } = placerOver(view);
    expect(placer.place(cpu, undefined, false)).toEqual(at('a'));
  });

  it('else, on a driver node (which runs nothing), the least loaded node', () => {
    const full = { resourcesAvailable: { CPU: 0 } };
    const view = new FakeView(
      node('a', { CPU: 4 }, { isDriver: true }),
      node('b', { CPU: 4 }, full),
      node('c', { CPU: 4 }, full),
    );
    const { placer } = placerOver(view, { executes: false });
    placer.taskSent('b', 't1', cpu);
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
    placer.taskSent('c', 't2', { CPU: 2 });
    expect(placer.place(cpu, undefined, false)).toEqual(at('b'));
  });

  it('uses only live nodes that run work and are big enough', () => {
    const view = new FakeView(
      node('a', { CPU: 1 }, { resourcesAvailable: { CPU: 0 } }),
      node('dead', { CPU: 8 }, { state: 'DEAD' }),
      node('driver', { CPU: 8 }, { isDriver: true }),
      node('small', { CPU: 1 }),
      node('big', { CPU: 4 }, { resourcesAvailable: { CPU: 0 } }),
    );
    const { placer } = placerOver(view);
    expect(placer.executors().map((n) => n.nodeId)).toEqual(['a', 'small', 'big']);
    expect(placer.place({ CPU: 2 }, undefined, false)).toEqual(at('big'));
  });

  it('counts work queued on a node (its reported load) as taken there', () => {
    const view = new FakeView(
      node('a', { CPU: 1 }),
      node('b', { CPU: 4 }, { load: [{ shape: { CPU: 1 }, count: 4, infeasible: false }] }),
      node('c', { CPU: 4 }, { resourcesAvailable: { CPU: 1 } }),
    );
    const { placer } = placerOver(view);
    expect(placer.roomOn('b', cpu)).toBe(false);
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
  });
});

describe('placer: SPREAD', () => {
  const spread: SchedulingStrategySpec = { type: 'SPREAD' };

  it('goes round the nodes in order of their ids', () => {
    const { placer } = placerOver(new FakeView(node('c', { CPU: 4 }), node('a', { CPU: 4 }), node('b', { CPU: 4 })));
    const picks = Array.from({ length: 6 }, () => placer.place(cpu, spread, true));
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c'].map(at));
  });

  it('skips nodes without room while some have it, else takes the next in turn', () => {
    const view = new FakeView(
      node('a', { CPU: 4 }),
      node('b', { CPU: 4 }, { resourcesAvailable: { CPU: 0 } }),
      node('c', { CPU: 4 }),
    );
    const { placer } = placerOver(view);
    expect([0, 1, 2, 3].map(() => placer.place(cpu, spread, true))).toEqual(['a', 'c', 'c', 'a'].map(at));
    const none = { resourcesAvailable: { CPU: 0 } };
    const { placer: full } = placerOver(
      new FakeView(node('c', { CPU: 4 }, none), node('a', { CPU: 4 }, none), node('b', { CPU: 4 }, none)),
    );
    expect([0, 1, 2].map(() => full.place(cpu, spread, false))).toEqual(['a', 'b', 'c'].map(at));
  });
});

describe('placer: NODE_AFFINITY', () => {
  const view = () =>
    new FakeView(
      node('a', { CPU: 4 }),
      node('b', { CPU: 4 }, { resourcesAvailable: { CPU: 0 } }),
      node('dead', { CPU: 4 }, { state: 'DEAD' }),
      node('driver', { CPU: 4 }, { isDriver: true }),
    );
  const to = (nodeId: string, soft = false): SchedulingStrategySpec => ({ type: 'NODE_AFFINITY', nodeId, soft });

  it('goes to its node, room or not', () => {
    const { placer } = placerOver(view());
    expect(placer.place(cpu, to('b'), true)).toEqual(at('b'));
  });

  it.each([
    ['dead', 'dead'],
    ['nowhere', 'not in the cluster'],
    ['driver', 'a driver, not a node'],
  ])('hard: fails when node %s is %s', (target, what) => {
    const { placer } = placerOver(view());
    expect(placer.place(cpu, to(target), true)).toEqual({
      kind: 'infeasible',
      reason: `Hard node affinity to node ${target}, which is ${what}. Use soft: true to run it elsewhere.`,
    });
  });

  it('hard: fails when its node is too small', () => {
    const { placer } = placerOver(view());
    const p = placer.place({ CPU: 8 }, to('b'), false);
    expect(p.kind === 'infeasible' && p.reason).toMatch(/which is too small for \{"CPU":8\}/);
  });

  it('soft: runs elsewhere when its node cannot', () => {
    const { placer } = placerOver(view());
    expect(placer.place(cpu, to('dead', true), true)).toEqual(at('a'));
  });
});

describe('placer: PLACEMENT_GROUP', () => {
  const group = (state: GroupState['state'], bundleNodes: string[]): GroupState => ({
    id: 'pg_1',
    name: '',
    strategy: 'SPREAD',
    bundles: bundleNodes.map(() => ({ CPU: 1 })),
    state,
    bundleNodes,
    reason: '',
  });
  const inGroup = (bundleIndex: number): SchedulingStrategySpec => ({
    type: 'PLACEMENT_GROUP',
    placementGroupId: 'pg_1',
    bundleIndex,
  });
  const view = () =>
    new FakeView(
      node('a', { CPU: 4 }),
      node('b', { CPU: 4 }, { resourcesAvailable: { CPU: 0 } }),
      node('c', { CPU: 4 }),
      node('d', { CPU: 4 }),
    );

  it('goes to the node of its bundle', () => {
    const { placer } = placerOver(view(), { groups: [group('CREATED', ['b', 'c'])] });
    expect(placer.place(cpu, inGroup(0), true)).toEqual(at('b'));
    expect(placer.place(cpu, inGroup(1), true)).toEqual(at('c'));
  });

  it('in any bundle: here if one is here and fits, else a bundle node with room, else in turn', () => {
    const { placer } = placerOver(view(), { groups: [group('CREATED', ['b', 'c', 'a'])] });
    expect(placer.place(cpu, inGroup(-1), true)).toEqual(at('a'));
    expect(placer.place(cpu, inGroup(-1), false)).toEqual(at('c'));
    const { placer: full } = placerOver(view(), { groups: [group('CREATED', ['b', 'b'])] });
    expect(full.place(cpu, inGroup(-1), false)).toEqual(at('b'));
  });

  it('fails when the group is not created', () => {
    for (const groups of [[], [group('PENDING', ['b'])], [group('REMOVED', ['b'])]]) {
      const { placer } = placerOver(view(), { groups });
      expect(placer.place(cpu, inGroup(0), true)).toEqual({
        kind: 'infeasible',
        reason: 'placement group pg_1 is not created',
      });
    }
  });
});

describe('placer: feasibility', () => {
  const view = () =>
    new FakeView(
      node('a', { CPU: 8 }),
      node('b', { CPU: 2, GPU: 1 }),
      node('dead', { CPU: 64, GPU: 8 }, { state: 'DEAD' }),
      node('driver', { CPU: 64 }, { isDriver: true }),
    );

  it('finds work some live node can run feasible', () => {
    const { placer } = placerOver(view());
    expect(placer.infeasible({ CPU: 8 })).toBeUndefined();
    expect(placer.infeasible({ CPU: 1, GPU: 1 })).toBeUndefined();
    expect(placer.infeasible({ CPU: 1, CPU_pg_1_0: 1 })).toBeUndefined(); // group resources: the GCS's business
  });

  it('names the resource missing and the most a node has', () => {
    const { placer } = placerOver(view());
    expect(placer.infeasible({ CPU: 16 })).toEqual({ name: 'CPU', requested: 16, total: 8 });
    expect(placer.infeasible({ GPU: 2 })).toEqual({ name: 'GPU', requested: 2, total: 1 });
    expect(placer.infeasible({ TPU: 1 })).toEqual({ name: 'TPU', requested: 1, total: 0 });
  });

  // Regression (placer.ts, infeasible, found by this suite): when every resource fits on some node but no one node has them all,
  // it returns { name: <first>, requested: 0, total: 0 }, so the user reads "it needs 0 CPU and the
  // largest node has no CPU". It should name a resource and the amount asked for.
  it('names what a request no single node can hold asks for', () => {
    const { placer } = placerOver(view());
    const req = { CPU: 4, GPU: 1 };
    const m = placer.infeasible(req);
    expect(m).toBeDefined();
    expect(m!.requested).toBe(req[m!.name as keyof typeof req]);
  });

  it("says 'wait' for work only a node the autoscaler may start can run", () => {
    const v = view();
    v.potential = [{ CPU: 4, GPU: 8 }];
    const { placer } = placerOver(v);
    expect(placer.infeasible({ GPU: 4 })).toBeUndefined();
    expect(placer.place({ GPU: 4 }, undefined, false)).toEqual({
      kind: 'wait',
      reason: 'for a node the autoscaler may start',
    });
    expect(placer.place({ GPU: 16 }, undefined, false)).toEqual({
      kind: 'infeasible',
      reason: 'No live node can run work needing {"GPU":16}.',
    });
    expect(placer.someNodeFits({ GPU: 4 })).toBe(false);
  });
});

describe('placer: charges', () => {
  const view = () =>
    new FakeView(
      node('a', { CPU: 1 }, { resourcesAvailable: { CPU: 0 } }),
      node('b', { CPU: 4 }, { resourcesAvailable: { CPU: 1 } }),
      node('c', { CPU: 4 }, { resourcesAvailable: { CPU: 1 } }),
    );

  it('counts a task sent to a node as taken there until the next view, and as load until it ends', () => {
    const { placer } = placerOver(view());
    placer.taskSent('b', 't1', cpu);
    expect(placer.roomOn('b', cpu)).toBe(false);
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
    placer.viewChanged([]);
    expect(placer.roomOn('b', cpu)).toBe(true);
    // Still outstanding: c is less loaded.
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
    placer.taskEnded('b', 't1');
    expect(placer.place(cpu, undefined, false)).toEqual(at('b'));
    placer.taskEnded('b', 't1'); // twice: no effect
    expect(placer.place(cpu, undefined, false)).toEqual(at('b'));
    placer.taskSent('b', 't2', cpu);
    placer.taskSent('c', 't3', { CPU: 2 });
    placer.viewChanged([]);
    expect(placer.place(cpu, undefined, false)).toEqual(at('b'));
    placer.nodeGone('c'); // nothing sent there is outstanding any more
    expect(placer.place(cpu, undefined, false)).toEqual(at('c'));
  });

  it('counts an actor sent to a node as taken there for actorChargeMs', () => {
    const { placer, clock } = placerOver(view());
    placer.actorSent('b', cpu);
    placer.viewChanged([]); // a view from before b took it
    expect(placer.roomOn('b', cpu)).toBe(false);
    expect(placer.roomElsewhere(cpu)).toBe(true);
    clock.advance(CHARGE_MS - 1);
    expect(placer.roomOn('b', cpu)).toBe(false);
    clock.advance(1);
    expect(placer.roomOn('b', cpu)).toBe(true);
  });

  it('forgets an actor charge when its node reports a change', () => {
    const { placer } = placerOver(view());
    placer.actorSent('b', cpu);
    placer.actorSent('c', cpu);
    expect(placer.roomElsewhere(cpu)).toBe(false);
    placer.viewChanged(['c']);
    expect(placer.roomOn('b', cpu)).toBe(false);
    expect(placer.roomOn('c', cpu)).toBe(true);
    placer.viewChanged(['b']);
    expect(placer.roomOn('b', cpu)).toBe(true);
  });

  it('counts a spill target as taken there until the next view', () => {
    const { placer } = placerOver(view());
    expect(placer.spillTarget(cpu, 'origin')).toBe('b');
    expect(placer.spillTarget(cpu, 'origin')).toBe('c');
    expect(placer.spillTarget(cpu, 'origin')).toBeUndefined();
    placer.viewChanged([]);
    expect(placer.spillTarget(cpu, 'b')).toBe('c');
    expect(placer.spillTarget({ CPU: 2 }, 'origin')).toBeUndefined();
  });

  it('never names this node as a spill target', () => {
    const { placer } = placerOver(
      new FakeView(node('a', { CPU: 4 }), node('b', { CPU: 4 }, { resourcesAvailable: { CPU: 0 } })),
    );
    expect(placer.spillTarget(cpu, 'origin')).toBeUndefined();
  });
});

describe('placer: view', () => {
  it('tells live nodes, and a busy node that could run work', () => {
    const view = new FakeView(
      node('a', { CPU: 1 }),
      node('b', { CPU: 4 }, { load: [{ shape: cpu, count: 2, infeasible: false }] }),
      node('c', { CPU: 4 }, { state: 'DEAD' }),
    );
    const { placer } = placerOver(view);
    expect(placer.isAlive('b')).toBe(true);
    expect(placer.isAlive('c')).toBe(false);
    expect(placer.isAlive('x')).toBe(false);
    expect(placer.busyNodeFor({ CPU: 2 })).toBe('b');
    expect(placer.busyNodeFor({ CPU: 8 })).toBeUndefined();
    expect(placer.someNodeFits({ CPU: 4 })).toBe(true);
  });
});
