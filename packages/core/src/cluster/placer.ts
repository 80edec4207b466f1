/**
 * Placement of work across the cluster, over this node's view of it. A node's room is estimated
 * from its last report (available resources less its queued load), less what this node sent it
 * since (tasks until done, actors for a while), so that a burst spreads instead of piling onto
 * the node that looked free. No I/O: it reads a view and a clock, and answers.
 */
import { systemClock, type Clock } from '../clock.js';
import type { ResourceSet, SchedulingStrategySpec } from '../options.js';
import { isGroupResource } from '../node/placement.js';
import type { GroupState, Missing, Placement, Placer } from '../node/ports.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { View } from './membership.js';

const EPS = 1e-9;

/** True if `have` holds `req` (placement group resources aside: bundles are placed by the GCS). */
export function fits(req: ResourceSet, have: Readonly<Record<string, number>>): boolean {
  for (const k in req) if (!isGroupResource(k) && (have[k] ?? 0) + EPS < req[k]) return false;
  return true;
}

export interface PlacerSelf {
  readonly nodeId: string;
  /** False for a driver's node: it runs nothing. */
  readonly executes: boolean;
}

export class ClusterPlacer implements Placer {
  /** The node a driver prefers for its work (the node at the address it connected to). */
  preferredNode: string | undefined;
  private spreadNext = 0;
  /** Resources this node sent to each node, not yet reported done. */
  private readonly outstanding = new Map<string, Record<string, number>>();
  /** Resources sent to each node since the last view (a view may not show them yet). */
  private readonly sinceView = new Map<string, Record<string, number>>();
  /** Resources of each task sent to another node, by task id. */
  private readonly charged = new Map<string, ResourceSet>();
  /**
   * Actors this node sent to each node: they count as taken there until that node reports a change
   * (or `actorChargeMs` pass), since a view published in between may not show them yet.
   */
  private readonly actorCharges = new Map<string, { resources: ResourceSet; at: number }[]>();

  constructor(
    private readonly self: PlacerSelf,
    private readonly view: View,
    private readonly groupOf: (id: string) => GroupState | undefined,
    private readonly actorChargeMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Live nodes that run work (drivers do not). */
  executors(): NodeInfo__Output[] {
    return [...this.view.nodes()].filter((n) => n.state === 'ALIVE' && !n.isDriver);
  }

  isAlive(nodeId: string): boolean {
    return this.view.get(nodeId)?.state === 'ALIVE';
  }

  private estimate(n: NodeInfo__Output): Record<string, number> {
    const est = { ...n.resourcesAvailable };
    for (const d of n.load) for (const k in d.shape) est[k] = (est[k] ?? 0) - d.shape[k] * d.count;
    const since = this.sinceView.get(n.nodeId);
    if (since) for (const k in since) est[k] = (est[k] ?? 0) - since[k];
    const sent = this.actorCharges.get(n.nodeId);
    if (sent) {
      const now = this.clock.now();
      for (const c of sent)
        if (now - c.at < this.actorChargeMs) for (const k in c.resources) est[k] = (est[k] ?? 0) - c.resources[k];
    }
    return est;
  }

  /** The share of its CPUs this node keeps busy on `n`. */
  private load(n: NodeInfo__Output): number {
    return (this.outstanding.get(n.nodeId)?.CPU ?? 0) / Math.max(1, n.resourcesTotal.CPU ?? 1);
  }

  infeasible(resources: ResourceSet): Missing | undefined {
    const nodes = this.executors();
    if (nodes.some((n) => fits(resources, n.resourcesTotal))) return undefined;
    if (this.view.potential.some((t) => fits(resources, t))) return undefined; // the autoscaler can add one
    for (const [name, amount] of Object.entries(resources)) {
      if (isGroupResource(name)) continue;
      const best = Math.max(0, ...nodes.map((n) => n.resourcesTotal[name] ?? 0));
      if (amount > best + EPS) return { name, requested: amount, total: best };
    }
    // Each resource fits on some node, but no node holds them all at once.
    const name = Object.keys(resources).find((k) => !isGroupResource(k)) ?? 'CPU';
    return { name, requested: resources[name] ?? 0, total: 0, together: true };
  }

  private at(nodeId: string): Placement {
    return nodeId === this.self.nodeId ? { kind: 'here' } : { kind: 'node', nodeId };
  }

  place(resources: ResourceSet, strategy: SchedulingStrategySpec | undefined, localFits: boolean): Placement {
    const me = this.self.nodeId;
    if (strategy?.type === 'PLACEMENT_GROUP') {
      const g = this.groupOf(strategy.placementGroupId);
      if (!g || g.state !== 'CREATED')
        return { kind: 'infeasible', reason: `placement group ${strategy.placementGroupId} is not created` };
      if (strategy.bundleIndex >= 0) return this.at(g.bundleNodes[strategy.bundleIndex]);
      if (g.bundleNodes.includes(me) && localFits) return { kind: 'here' };
      const withRoom = g.bundleNodes.find((id) => this.roomOn(id, resources));
      return this.at(withRoom ?? g.bundleNodes[this.spreadNext++ % g.bundleNodes.length]);
    }
    const nodes = this.executors().filter((n) => fits(resources, n.resourcesTotal));
    if (strategy?.type === 'NODE_AFFINITY') {
      const n = this.view.get(strategy.nodeId);
      if (n && n.state === 'ALIVE' && !n.isDriver && fits(resources, n.resourcesTotal)) return this.at(n.nodeId);
      if (!strategy.soft) {
        const what = !n
          ? 'not in the cluster'
          : n.state !== 'ALIVE'
            ? 'dead'
            : n.isDriver
              ? 'a driver, not a node'
              : `too small for ${JSON.stringify(resources)}`;
        return {
          kind: 'infeasible',
          reason: `Hard node affinity to node ${strategy.nodeId}, which is ${what}. Use soft: true to run it elsewhere.`,
        };
      }
    }
    if (!nodes.length) {
      if (this.view.potential.some((t) => fits(resources, t)))
        return { kind: 'wait', reason: 'for a node the autoscaler may start' };
      return { kind: 'infeasible', reason: `No live node can run work needing ${JSON.stringify(resources)}.` };
    }
    const withRoom = (n: NodeInfo__Output) => (n.nodeId === me ? localFits : fits(resources, this.estimate(n)));
    const local = this.self.executes;
    let pick: NodeInfo__Output | undefined;
    if (strategy?.type === 'SPREAD') {
      const sorted = nodes.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
      for (let i = 0; i < sorted.length && !pick; i++) {
        const n = sorted[(this.spreadNext + i) % sorted.length];
        if (withRoom(n)) pick = n;
      }
      pick ??= sorted[this.spreadNext % sorted.length];
      this.spreadNext++;
    } else {
      if (local && localFits) return { kind: 'here' };
      const pref = this.preferredNode ? nodes.find((n) => n.nodeId === this.preferredNode) : undefined;
      if (pref && withRoom(pref)) pick = pref;
      pick ??= nodes.filter((n) => n.nodeId !== me && withRoom(n)).sort((a, b) => this.load(a) - this.load(b))[0];
      if (!pick && local && nodes.some((n) => n.nodeId === me)) return { kind: 'here' };
      pick ??= nodes.sort((a, b) => this.load(a) - this.load(b))[0];
    }
    return this.at(pick.nodeId);
  }

  spillTarget(resources: ResourceSet, except: string): string | undefined {
    const pick = this.executors()
      .filter((n) => n.nodeId !== this.self.nodeId && n.nodeId !== except && fits(resources, this.estimate(n)))
      .sort((a, b) => this.load(a) - this.load(b))[0];
    if (!pick) return undefined;
    // Counts as taken there until the next view, so one free CPU draws one task, not the queue.
    this.add(this.sinceView, pick.nodeId, resources, 1);
    return pick.nodeId;
  }

  /** True if the node has room for `resources` now, by this node's estimate. */
  roomOn(nodeId: string, resources: ResourceSet): boolean {
    const n = this.view.get(nodeId);
    return !!n && fits(resources, this.estimate(n));
  }

  /** True if some node other than this one has room for `resources` now. */
  roomElsewhere(resources: ResourceSet): boolean {
    return this.executors().some((n) => n.nodeId !== this.self.nodeId && fits(resources, this.estimate(n)));
  }

  /** A node that could run `resources` and has work queued (where an actor waits its turn among tasks). */
  busyNodeFor(resources: ResourceSet): string | undefined {
    return this.executors().find((n) => fits(resources, n.resourcesTotal) && n.load.some((l) => l.count > 0))?.nodeId;
  }

  /** True once some live node could ever run `resources`. */
  someNodeFits(resources: ResourceSet): boolean {
    return this.executors().some((n) => fits(resources, n.resourcesTotal));
  }

  private add(map: Map<string, Record<string, number>>, nodeId: string, resources: ResourceSet, sign: number): void {
    let r = map.get(nodeId);
    if (!r) map.set(nodeId, (r = {}));
    for (const k in resources) r[k] = (r[k] ?? 0) + sign * resources[k];
  }

  /** A task was sent to `nodeId`: its resources count as taken there until it is done. */
  taskSent(nodeId: string, taskId: string, resources: ResourceSet): void {
    this.charged.set(taskId, resources);
    this.add(this.outstanding, nodeId, resources, 1);
    this.add(this.sinceView, nodeId, resources, 1);
  }

  /** A task sent to `nodeId` is done there (or came back). */
  taskEnded(nodeId: string, taskId: string): void {
    const r = this.charged.get(taskId);
    if (!r) return;
    this.charged.delete(taskId);
    this.add(this.outstanding, nodeId, r, -1);
  }

  /** An actor was sent to `nodeId`: its resources count as taken there for a while. */
  actorSent(nodeId: string, resources: ResourceSet): void {
    const now = this.clock.now();
    const sent = (this.actorCharges.get(nodeId) ?? []).filter((c) => now - c.at < this.actorChargeMs);
    this.actorCharges.set(nodeId, [...sent, { resources, at: now }]);
  }

  /** A new view: nodes that reported a change show what they took; recent sends are in it. */
  viewChanged(changed: readonly string[]): void {
    for (const id of changed) this.actorCharges.delete(id);
    this.sinceView.clear();
  }

  /** A node left: nothing sent there is outstanding any more. */
  nodeGone(nodeId: string): void {
    this.outstanding.delete(nodeId);
  }
}
