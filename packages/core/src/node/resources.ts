/**
 * A node's resources: totals, what is available, and which GPU ids each allocation holds.
 * Fractions are allowed; GPUs below 1 share a device, whole GPUs get devices of their own.
 */
import type { ResourceSet } from '../options.js';

/** What one allocation holds: the amounts, and the GPU ids with the share of each. */
export interface Allocation {
  readonly amounts: ResourceSet;
  readonly gpuIds: number[];
  readonly gpuShares: number[];
}

const EPS = 1e-9;

export class ResourcePool {
  readonly total: Readonly<Record<string, number>>;
  private readonly available: Record<string, number>;
  /** Free share of each GPU (1 = whole device free). */
  private readonly gpuFree: number[];
  private readonly gpuIdList: number[];

  constructor(total: Record<string, number>, gpuIds?: number[]) {
    this.total = { ...total };
    this.available = { ...total };
    const n = Math.floor(total.GPU ?? 0);
    this.gpuIdList = gpuIds && gpuIds.length >= n ? gpuIds.slice(0, n) : Array.from({ length: n }, (_, i) => i);
    this.gpuFree = this.gpuIdList.map(() => 1);
  }

  /** The first resource in `req` that exceeds this node's totals, if any. */
  missing(req: ResourceSet): { name: string; requested: number; total: number } | undefined {
    for (const [name, amount] of Object.entries(req)) {
      const total = this.total[name] ?? 0;
      if (amount > total + EPS) return { name, requested: amount, total };
    }
    return undefined;
  }

  fits(req: ResourceSet): boolean {
    for (const name in req) if ((this.available[name] ?? 0) + EPS < req[name]) return false;
    const g = req.GPU;
    if (g) return this.pickGpus(g) !== undefined;
    return true;
  }

  private pickGpus(g: number): { ids: number[]; shares: number[] } | undefined {
    if (g < 1) {
      // Fractional: the busiest device that still has room (packs small shares together).
      let best = -1;
      for (let i = 0; i < this.gpuFree.length; i++) {
        if (this.gpuFree[i] + EPS >= g && (best < 0 || this.gpuFree[i] < this.gpuFree[best])) best = i;
      }
      return best < 0 ? undefined : { ids: [best], shares: [g] };
    }
    const free: number[] = [];
    for (let i = 0; i < this.gpuFree.length && free.length < g; i++) if (this.gpuFree[i] >= 1 - EPS) free.push(i);
    return free.length === g ? { ids: free, shares: free.map(() => 1) } : undefined;
  }

  /** Takes `req` if it fits now; undefined if not. */
  tryAllocate(req: ResourceSet): Allocation | undefined {
    if (!this.fits(req)) return undefined;
    return this.allocate(req);
  }

  /** Takes `req` even if that drives availability below zero (a blocked task taking its CPUs back). */
  allocate(req: ResourceSet): Allocation {
    for (const name in req) this.available[name] = (this.available[name] ?? 0) - req[name];
    let gpuIds: number[] = [];
    let gpuShares: number[] = [];
    if (req.GPU) {
      const pick = this.pickGpus(req.GPU);
      if (pick) {
        for (let i = 0; i < pick.ids.length; i++) this.gpuFree[pick.ids[i]] -= pick.shares[i];
        gpuIds = pick.ids.map((i) => this.gpuIdList[i]);
        gpuShares = pick.shares;
      }
    }
    return { amounts: req, gpuIds, gpuShares };
  }

  release(a: Allocation): void {
    for (const name in a.amounts) this.available[name] = (this.available[name] ?? 0) + a.amounts[name];
    for (let i = 0; i < a.gpuIds.length; i++) {
      const idx = this.gpuIdList.indexOf(a.gpuIds[i]);
      if (idx >= 0) this.gpuFree[idx] += a.gpuShares[i];
    }
  }

  /** Returns only the CPU part of an allocation (a task blocked in `get`), keeping the rest. */
  releaseCpu(a: Allocation): void {
    if (a.amounts.CPU) this.available.CPU = (this.available.CPU ?? 0) + a.amounts.CPU;
  }

  reacquireCpu(a: Allocation): void {
    if (a.amounts.CPU) this.available.CPU = (this.available.CPU ?? 0) - a.amounts.CPU;
  }

  /** Adds resources to the node (a reserved placement-group bundle's renamed resources). */
  addResources(r: Record<string, number>): void {
    const t = this.total as Record<string, number>;
    for (const k in r) {
      t[k] = (t[k] ?? 0) + r[k];
      this.available[k] = (this.available[k] ?? 0) + r[k];
    }
  }

  /** Removes what {@link addResources} added. */
  removeResources(r: Record<string, number>): void {
    const t = this.total as Record<string, number>;
    for (const k in r) {
      t[k] = (t[k] ?? 0) - r[k];
      this.available[k] = (this.available[k] ?? 0) - r[k];
      if (t[k] <= EPS) {
        delete t[k];
        delete this.available[k];
      }
    }
  }

  availableResources(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.available)) out[k] = Math.max(0, Math.round(v * 1e6) / 1e6);
    return out;
  }
}
