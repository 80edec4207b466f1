/**
 * Placement-group bundle placement (pure): which node gets each bundle under PACK, SPREAD,
 * STRICT_PACK or STRICT_SPREAD, given the nodes' totals and what is available now. Also the
 * renamed resources a reserved bundle adds to its node, which work in the group asks for
 * (as Ray does: `CPU` in bundle 0 of group X becomes `CPU_pg_X_0`, and `CPU_pg_X` for any bundle).
 */
import type { ResourceSet } from '../options.js';

export type PlacementStrategy = 'PACK' | 'SPREAD' | 'STRICT_PACK' | 'STRICT_SPREAD';
export const placementStrategies: readonly PlacementStrategy[] = ['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD'];

export interface PlacementNode {
  nodeId: string;
  total: Readonly<Record<string, number>>;
  available: Readonly<Record<string, number>>;
}

export type PlacementResult =
  | { ok: true; nodes: string[] }
  /** `infeasible`: no cluster of these nodes can ever hold it (fail); else wait for resources. */
  | { ok: false; infeasible: boolean; reason: string };

const EPS = 1e-9;

function fits(req: ResourceSet, have: Record<string, number>): boolean {
  for (const k in req) if ((have[k] ?? 0) + EPS < req[k]) return false;
  return true;
}

function take(req: ResourceSet, have: Record<string, number>): void {
  for (const k in req) have[k] = (have[k] ?? 0) - req[k];
}

function sum(bundles: ResourceSet[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bundles) for (const k in b) out[k] = (out[k] ?? 0) + b[k];
  return out;
}

/** Resources as people read them: `{ CPU: 2, GPU: 1 }`. */
export function fmtResources(r: ResourceSet): string {
  return (
    '{ ' +
    Object.entries(r)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') +
    ' }'
  );
}

/** Greedy placement of `bundles` on `nodes` by `strategy` against `field` (total or available). */
function assign(
  strategy: PlacementStrategy,
  bundles: ResourceSet[],
  nodes: PlacementNode[],
  field: 'total' | 'available',
): string[] | undefined {
  const left = new Map(nodes.map((n) => [n.nodeId, { ...n[field] }]));
  const out: string[] = [];
  if (strategy === 'STRICT_PACK') {
    const need = sum(bundles);
    const node = nodes.find((n) => fits(need, left.get(n.nodeId)!));
    return node ? bundles.map(() => node.nodeId) : undefined;
  }
  if (strategy === 'PACK') {
    // As few nodes as possible: one node if any holds all, else fill nodes in turn.
    const need = sum(bundles);
    const one = nodes.find((n) => fits(need, left.get(n.nodeId)!));
    if (one) return bundles.map(() => one.nodeId);
    for (const b of bundles) {
      const used = [...new Set(out)].find((id) => fits(b, left.get(id)!));
      const node = used ?? nodes.find((n) => fits(b, left.get(n.nodeId)!))?.nodeId;
      if (!node) return undefined;
      take(b, left.get(node)!);
      out.push(node);
    }
    return out;
  }
  // SPREAD / STRICT_SPREAD: a different node for each bundle (SPREAD reuses nodes when it must).
  const usedCount = new Map<string, number>();
  for (const b of bundles) {
    const candidates = nodes
      .filter((n) => fits(b, left.get(n.nodeId)!))
      .filter((n) => strategy === 'SPREAD' || !usedCount.has(n.nodeId))
      .sort((x, y) => (usedCount.get(x.nodeId) ?? 0) - (usedCount.get(y.nodeId) ?? 0));
    const node = candidates[0]?.nodeId;
    if (!node) return undefined;
    take(b, left.get(node)!);
    usedCount.set(node, (usedCount.get(node) ?? 0) + 1);
    out.push(node);
  }
  return out;
}

/** Places bundles now, or says why not (and whether waiting can ever help). */
export function placeBundles(
  strategy: PlacementStrategy,
  bundles: ResourceSet[],
  nodes: PlacementNode[],
): PlacementResult {
  const now = assign(strategy, bundles, nodes, 'available');
  if (now) return { ok: true, nodes: now };
  if (assign(strategy, bundles, nodes, 'total')) {
    return { ok: false, infeasible: false, reason: 'waiting for resources: the nodes that could hold it are busy' };
  }
  let reason: string;
  const biggest = bundles.find((b) => !nodes.some((n) => fits(b, n.total)));
  if (biggest) {
    reason =
      `bundle ${fmtResources(biggest)} fits on no node (${nodes.length} node${nodes.length === 1 ? '' : 's'}: ` +
      nodes.map((n) => fmtResources(n.total)).join(', ') +
      ')';
  } else if (strategy === 'STRICT_SPREAD' && bundles.length > nodes.length) {
    reason = `STRICT_SPREAD needs ${bundles.length} nodes, one per bundle, and the cluster has ${nodes.length}`;
  } else if (strategy === 'STRICT_PACK') {
    reason = `STRICT_PACK needs ${fmtResources(sum(bundles))} on one node, and the largest node has less`;
  } else {
    reason = `the bundles ${bundles.map(fmtResources).join(', ')} do not fit on the cluster's nodes together`;
  }
  return { ok: false, infeasible: true, reason };
}

/** The renamed resources work in a group asks for (bundle -1: any bundle of the group). */
export function groupResources(req: ResourceSet, groupId: string, bundleIndex: number): ResourceSet {
  const suffix = bundleIndex >= 0 ? `_${groupId}_${bundleIndex}` : `_${groupId}`;
  const out: Record<string, number> = {};
  for (const k in req) out[`${k}${suffix}`] = req[k];
  out[`bundle${suffix}`] = 0.001;
  return out;
}

/** What reserving bundle `index` of a group adds to its node's resources. */
export function bundleResources(bundle: ResourceSet, groupId: string, index: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in bundle) {
    out[`${k}_${groupId}_${index}`] = bundle[k];
    out[`${k}_${groupId}`] = bundle[k];
  }
  out[`bundle_${groupId}_${index}`] = 1000;
  out[`bundle_${groupId}`] = 1000;
  return out;
}

/** True for resource names made by {@link bundleResources} (hidden from users' resource views). */
export function isGroupResource(name: string): boolean {
  return name.includes('_pg_');
}
