/**
 * The cluster's status as `ray-ts status` prints it and the dashboard's `/api/cluster_status`
 * returns it (one computation for both): nodes with their resources and use, resources used and
 * total, demand waiting for resources (tasks and placement groups), demand no node can meet, jobs,
 * and the autoscaler's account.
 */
import type { AutoscalerStatus } from './autoscaler.js';
import type { ClusterAuth } from './auth-token.js';
import { autoscalerStatus, groupsOf, jobsOf, viewOf, type Row } from './state-impl.js';

/** A node's row: what the GCS knows, and the machine's use as its `/metrics` last said (null: not known). */
export interface NodeStatus {
  nodeId: string;
  address: string;
  state: string;
  isHead: boolean;
  resourcesTotal: Record<string, number>;
  resourcesAvailable: Record<string, number>;
  cpuPercent: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  objectStoreUsedBytes: number;
  objectStoreBytes: number;
  numWorkers: number;
  numObjects: number;
}

/** Resources by shape, and how many of that shape wait. */
export interface DemandStatus {
  shape: Record<string, number>;
  count: number;
}

/** A placement group that waits for resources, or that no node can hold. */
export interface GroupDemandStatus {
  placementGroupId: string;
  name: string;
  strategy: string;
  bundles: Record<string, number>[];
  reason: string;
}

/** What `ray-ts status` prints, as data. */
export interface ClusterStatus {
  address: string;
  nodes: NodeStatus[];
  /** Of the alive nodes, by resource name. */
  resources: { used: Record<string, number>; total: Record<string, number> };
  pendingDemand: DemandStatus[];
  infeasible: (DemandStatus | GroupDemandStatus)[];
  placementGroupsPending: GroupDemandStatus[];
  jobs: { running: number; finished: number };
  autoscaler: AutoscalerStatus | null;
}

/** A node's machine use (from its `/metrics`), by node id. */
export type MachineUse = (
  nodeId: string,
) => { cpuPercent: number; memUsedBytes: number; memTotalBytes: number } | undefined;

const round = (v: number) => Math.round(v * 1e4) / 1e4;

function sum(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = round((into[k] ?? 0) + v);
}

function groupDemand(g: Row): GroupDemandStatus {
  return {
    placementGroupId: String(g.placementGroupId),
    name: String(g.name ?? ''),
    strategy: String(g.strategy),
    bundles: g.bundles as Record<string, number>[],
    reason: String(g.reason ?? ''),
  };
}

/** The status of the cluster whose GCS is at `address` (its machine use from `use`, when given). */
export async function clusterStatus(address: string, auth?: ClusterAuth, use?: MachineUse): Promise<ClusterStatus> {
  const [view, groups, jobs, auto] = await Promise.all([
    viewOf(address, auth),
    groupsOf(address, auth),
    jobsOf(address, auth),
    autoscalerStatus(address, auth),
  ]);
  const members = view.filter((n) => !n.isDriver);
  const alive = members.filter((n) => n.state === 'ALIVE');
  const total: Record<string, number> = {};
  const available: Record<string, number> = {};
  for (const n of alive) {
    sum(total, n.resourcesTotal);
    sum(available, n.resourcesAvailable);
  }
  const used = Object.fromEntries(Object.keys(total).map((k) => [k, round(total[k] - (available[k] ?? 0))]));
  const pending: DemandStatus[] = [];
  const infeasible: ClusterStatus['infeasible'] = [];
  for (const n of alive)
    for (const d of n.load) (d.infeasible ? infeasible : pending).push({ shape: d.shape, count: d.count });
  infeasible.push(...groups.filter((g) => g.state === 'INFEASIBLE').map(groupDemand));
  const running = jobs.filter((j) => j.state === 'RUNNING').length;
  return {
    address,
    nodes: members.map((n) => {
      const m = use?.(n.nodeId);
      return {
        nodeId: n.nodeId,
        address: n.address,
        state: n.state,
        isHead: n.isHead,
        resourcesTotal: n.resourcesTotal,
        resourcesAvailable: n.resourcesAvailable,
        cpuPercent: m?.cpuPercent ?? null,
        memUsedBytes: m?.memUsedBytes ?? null,
        memTotalBytes: m?.memTotalBytes ?? null,
        objectStoreUsedBytes: Number(n.objectStoreUsed),
        objectStoreBytes: Number(n.objectStoreCapacity),
        numWorkers: n.numWorkers,
        numObjects: n.numObjects,
      };
    }),
    resources: { used, total },
    pendingDemand: pending,
    infeasible,
    placementGroupsPending: groups.filter((g) => g.state === 'PENDING').map(groupDemand),
    jobs: { running, finished: jobs.length - running },
    autoscaler: auto ?? null,
  };
}

function fmtRes(r: Record<string, number>): string {
  return (
    Object.entries(r)
      .map(([k, v]) => `${k}: ${Math.round(v * 100) / 100}`)
      .join(', ') || '-'
  );
}

/** The lines `ray-ts status` prints. */
export function formatClusterStatus(s: ClusterStatus): string[] {
  const out: string[] = [];
  const alive = s.nodes.filter((n) => n.state === 'ALIVE');
  out.push(`======== ray-ts cluster status (${s.address}) ========`);
  const dead = s.nodes.length - alive.length;
  out.push(`Nodes: ${alive.length} alive${dead > 0 ? `, ${dead} dead` : ''}`);
  for (const n of s.nodes) {
    const t = n.resourcesTotal;
    const used = Object.fromEntries(Object.keys(t).map((k) => [k, t[k] - (n.resourcesAvailable[k] ?? 0)]));
    out.push(
      `  ${n.nodeId}  ${n.isHead ? 'head ' : 'node '} ${n.address.padEnd(21)} ${n.state}  used ${fmtRes(used)} of ${fmtRes(t)}  workers ${n.numWorkers}  objects ${n.numObjects}`,
    );
  }
  out.push('Resources (used / total):');
  for (const k of Object.keys(s.resources.total).sort())
    out.push(`  ${k}: ${Math.round((s.resources.used[k] ?? 0) * 100) / 100} / ${s.resources.total[k]}`);
  out.push('Pending demand:');
  if (!s.pendingDemand.length && !s.placementGroupsPending.length) out.push('  (none)');
  for (const d of s.pendingDemand) out.push(`  {${fmtRes(d.shape)}}: ${d.count} queued`);
  for (const g of s.placementGroupsPending)
    out.push(`  placement group ${g.placementGroupId} (${g.strategy}): ${g.reason}`);
  out.push('Infeasible demand:');
  if (!s.infeasible.length) out.push('  (none: tasks and actors no node can run fail at once with UnschedulableError)');
  for (const d of s.infeasible)
    out.push(
      'placementGroupId' in d
        ? `  placement group ${d.placementGroupId} (${d.strategy}): ${d.reason}`
        : `  {${fmtRes(d.shape)}}: ${d.count} waiting`,
    );
  out.push(`Jobs: ${s.jobs.running} running, ${s.jobs.finished} finished`);
  const auto = s.autoscaler;
  if (auto) {
    out.push('Autoscaler:');
    if (!auto.nodes.length) out.push('  (no worker nodes started)');
    for (const n of auto.nodes) out.push(`  ${n.providerId} (${n.type}) ${n.nodeId ?? '-'}: ${n.reason}`);
    for (const d of auto.pendingDemand) out.push(`  pending: {${fmtRes(d.shape)}} x ${d.count}`);
    out.push(`  last action: ${auto.lastAction}`);
  }
  return out;
}
