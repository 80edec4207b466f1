/**
 * Placement group bundles on a node: the bundles reserved here (both modes), with their renamed
 * resources added to the node's pool, and the whole group table of an embedded cluster, whose
 * only node takes every bundle.
 */
import type { ResourceSet } from '../options.js';
import type { NodeContext } from './context.js';
import { bundleResources, placeBundles } from './placement.js';
import type { GroupDirectory, GroupState } from './ports.js';
import type { Allocation } from './resources.js';

/** How often a pending embedded group tries to reserve its bundles again, and polls for pg.wait(). */
const RETRY_MS = 20;
const POLL_MS = 5;

export class Bundles {
  private readonly reserved = new Map<string, { alloc: Allocation; added: Record<string, number> }>();

  constructor(private readonly ctx: NodeContext) {}

  /** Reserves bundles of a group here, all or none; their renamed resources appear on the node. */
  reserve(groupId: string, indexes: number[], bundles: ResourceSet[]): boolean {
    const pool = this.ctx.pool;
    const taken: Allocation[] = [];
    for (const b of bundles) {
      const a = pool.tryAllocate(b);
      if (!a) {
        for (const t of taken) pool.release(t);
        return false;
      }
      taken.push(a);
    }
    indexes.forEach((idx, i) => {
      const added = bundleResources(bundles[i], groupId, idx);
      pool.addResources(added);
      this.reserved.set(`${groupId}#${idx}`, { alloc: taken[i], added });
    });
    this.ctx.requestSchedule();
    return true;
  }

  /** Gives reserved bundles back. */
  release(groupId: string, indexes: number[]): void {
    for (const idx of indexes) {
      const r = this.reserved.get(`${groupId}#${idx}`);
      if (!r) continue;
      this.reserved.delete(`${groupId}#${idx}`);
      this.ctx.pool.removeResources(r.added);
      this.ctx.pool.release(r.alloc);
    }
    this.ctx.requestSchedule();
  }

  /**
   * Work in a placement group bundle that holds GPUs gets that bundle's GPU ids (the bundle's
   * reservation holds the devices; the work's allocation names them with no share of its own).
   */
  withBundleGpus(alloc: Allocation, resources: ResourceSet): Allocation {
    if (alloc.gpuIds.length) return alloc;
    for (const k in resources) {
      if (!k.startsWith('GPU_') || !(resources[k] > 0)) continue;
      const m = /^GPU_(.+)_(\d+)$/.exec(k);
      let ids: number[] | undefined;
      if (m && this.reserved.has(`${m[1]}#${m[2]}`)) ids = this.reserved.get(`${m[1]}#${m[2]}`)!.alloc.gpuIds;
      else {
        // Any bundle of the group: the first reserved here with GPUs.
        const g = k.slice(4);
        for (const [key, r] of this.reserved)
          if (key.startsWith(`${g}#`) && r.alloc.gpuIds.length) {
            ids = r.alloc.gpuIds;
            break;
          }
      }
      if (ids?.length) {
        const n = Math.min(ids.length, Math.max(1, Math.ceil(resources[k] - 1e-9)));
        return { ...alloc, gpuIds: ids.slice(0, n), gpuShares: ids.slice(0, n).map(() => 0) };
      }
    }
    return alloc;
  }
}

/** The placement groups of an embedded cluster: every bundle on its one node. */
export class LocalGroups implements GroupDirectory {
  private readonly groups = new Map<string, GroupState>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly bundles: Bundles,
    /** A group changed state: work waiting for it goes on. */
    private readonly changed: (id: string) => void,
  ) {}

  group(id: string): GroupState | undefined {
    return this.groups.get(id);
  }

  async createGroup(g: GroupState): Promise<void> {
    this.groups.set(g.id, g);
    const pool = this.ctx.pool;
    const all = g.bundles.map((_, i) => i);
    const r = placeBundles(g.strategy, g.bundles, [
      { nodeId: this.ctx.nodeId, total: pool.total, available: pool.availableResources() },
    ]);
    if (r.ok && this.bundles.reserve(g.id, all, g.bundles)) {
      g.state = 'CREATED';
      g.bundleNodes = r.nodes;
    } else if (!r.ok && r.infeasible) {
      g.state = 'INFEASIBLE';
      g.reason = r.reason;
    } else {
      g.reason = r.ok ? 'waiting for resources' : r.reason;
      const retry = setInterval(() => {
        if (g.state !== 'PENDING' || this.ctx.stopped) clearInterval(retry);
        else if (this.bundles.reserve(g.id, all, g.bundles)) {
          clearInterval(retry);
          g.state = 'CREATED';
          g.bundleNodes = g.bundles.map(() => this.ctx.nodeId);
          this.changed(g.id);
        }
      }, RETRY_MS);
      retry.unref();
    }
    queueMicrotask(() => this.changed(g.id));
  }

  async waitGroup(id: string, timeoutMs: number): Promise<GroupState | undefined> {
    const g = this.groups.get(id);
    if (!g || g.state !== 'PENDING' || timeoutMs < 0) return g;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    while (g.state === 'PENDING' && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
    return g;
  }

  async removeGroup(id: string): Promise<void> {
    const g = this.groups.get(id);
    if (!g || g.state === 'REMOVED') return;
    const was = g.state;
    g.state = 'REMOVED';
    g.reason = 'removed with removePlacementGroup()';
    if (was === 'CREATED')
      this.bundles.release(
        id,
        g.bundles.map((_, i) => i),
      );
    this.changed(id);
  }

  async listGroups(): Promise<GroupState[]> {
    return [...this.groups.values()];
  }
}
