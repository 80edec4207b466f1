/**
 * The shapes of the head's dashboard routes, as /tmp/prompts/dash-contract.md (and the backend in
 * src/cluster/dashboard-*.ts) define them. Fields the head may leave out are optional: the page
 * shows what is there.
 */

export type Resources = Record<string, number>;

export interface NodeStatus {
  nodeId: string;
  address: string;
  state: string;
  isHead: boolean;
  resourcesTotal: Resources;
  resourcesAvailable: Resources;
  /** The machine's use as its `/metrics` last said (null: not known yet). */
  cpuPercent: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  objectStoreUsedBytes: number;
  objectStoreBytes: number;
  numWorkers?: number;
  numObjects?: number;
}

export interface Demand {
  shape: Resources;
  count: number;
}

/** A placement group that waits for resources, or that no node can hold. */
export interface GroupDemand {
  placementGroupId: string;
  name: string;
  strategy: string;
  bundles: Resources[];
  reason: string;
}

export interface AutoscalerStatus {
  nodes: { providerId: string; type: string; nodeId: string | null; reason: string }[];
  pendingDemand: Demand[];
  lastAction: string;
}

export interface ClusterStatus {
  address?: string;
  nodes: NodeStatus[];
  resources: { used: Resources; total: Resources };
  pendingDemand: Demand[];
  infeasible: (Demand | GroupDemand)[];
  placementGroupsPending: GroupDemand[];
  jobs?: { running: number; finished: number };
  autoscaler: AutoscalerStatus | null;
}

export interface History {
  t: number[];
  series: Record<string, (number | null)[]>;
}

export interface ActorRow {
  actorId: string;
  className: string;
  name?: string;
  namespace?: string;
  state: string;
  nodeId?: string;
  jobId?: string;
  numRestarts?: number;
  deathCause?: string;
  resources?: Resources;
  placementGroupId?: string;
}

export interface TaskRow {
  taskId: string;
  name: string;
  state: string;
  nodeId?: string;
  jobId?: string;
  type?: string;
  actorId?: string;
  durationMs?: number;
  errorMessage?: string;
  error?: string;
  startTimeMs?: number;
  endTimeMs?: number;
}

export interface GroupRow {
  placementGroupId: string;
  name?: string;
  strategy: string;
  state: string;
  bundles: Resources[];
  bundleNodes: string[];
  reason?: string;
}

export interface JobRecord {
  submission_id: string;
  entrypoint: string;
  status: string;
  message: string;
  start_time: number;
  end_time: number | null;
  exit_code: number | null;
  driver_pid?: number | null;
  metadata?: Record<string, string>;
}

export interface DriverJobRow {
  jobId: string;
  state: string;
  startTimeMs?: number;
  endTimeMs?: number;
  entrypoint?: string;
  driverNodeId?: string;
  driverPid?: number;
}

export interface JobLogs {
  logs: string;
  truncatedBytes?: number;
}

/** An object row (`/api/v0/objects`), with `ray memory`'s reference type in `/api/memory`'s top lists. */
export interface ObjectRow {
  objectId: string;
  nodeId: string;
  ownerNodeId?: string;
  size: number;
  state: string;
  localRefs?: number;
  pins?: number;
  borrowers?: number;
  referenceType?: string;
}

/** `/api/memory`: objects per node, as `ray memory` sums them. */
export interface MemorySummary {
  total: { count: number; bytes: number };
  nodes: Record<
    string,
    {
      count: number;
      bytes: number;
      byReferenceType: Record<string, { count: number; bytes: number }>;
      byState: Record<string, number>;
      top: ObjectRow[];
    }
  >;
}

export interface ServeReplica {
  replica_id: string;
  state: string;
  node_id?: string;
  actor_id?: string;
  pid?: number;
  [key: string]: unknown;
}

export interface ServeDeployment {
  status: string;
  message?: string;
  replicas?: ServeReplica[];
  [key: string]: unknown;
}

export interface ServeApplication {
  status: string;
  message?: string;
  route_prefix?: string | null;
  deployments?: Record<string, ServeDeployment>;
  [key: string]: unknown;
}

export interface ServeStatus {
  applications: Record<string, ServeApplication>;
  proxies?: Record<string, { status?: string; node_id?: string; http_port?: number; [key: string]: unknown }>;
  [key: string]: unknown;
}

export type { RunDetail, RunSummary, TrialDetail } from '../src/cluster/dashboard-types.js';
