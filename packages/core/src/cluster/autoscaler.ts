/**
 * The autoscaler: it starts nodes when work waits that the cluster cannot run (queued tasks and
 * actors, pending placement groups), of a node type that can run it, and stops nodes idle for
 * `idleTimeoutS`, keeping each type's `minWorkers`. Nodes come from a {@link NodeProvider}: the
 * local provider starts node processes on this machine; a Kubernetes provider would create pods
 * (see docs/architecture.md). It runs in the head, next to the GCS.
 */
import type { ChildProcess } from 'node:child_process';
import type { AutoscalerConfig } from './cluster-config.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import { spawnNodeProcess } from './node-process.js';

export type { AutoscalerConfig, NodeTypeConfig } from './cluster-config.js';

/** A node a provider started. */
export interface ProviderNode {
  providerId: string;
  type: string;
  /**
   * The cluster node id, once it has joined: set by the provider, or found by the autoscaler as
   * the live node labelled `ray-ts/provider-id: <providerId>` (every provider's nodes carry it).
   */
  nodeId: string | undefined;
}

/** The label by which the autoscaler knows which cluster node a provider's node is. */
export const PROVIDER_ID_LABEL = 'ray-ts/provider-id';
/** The label naming a node's type. */
export const NODE_TYPE_LABEL = 'ray-ts/node-type';

/**
 * Where nodes come from. The local provider runs node processes on this machine; a cloud or
 * Kubernetes provider would create machines or pods that run `ray-ts start --address ...`.
 */
export interface NodeProvider {
  createNode(type: string, resources: Record<string, number>): Promise<ProviderNode>;
  terminateNode(providerId: string): Promise<void>;
  nodes(): ProviderNode[];
  /** Brings nodes() up to date (a provider that asks a scheduler, such as Slurm's squeue); each step awaits it first. */
  refresh?(): Promise<void>;
}

/** Starts worker nodes as processes on this machine (what `ray-ts up` uses). */
export class LocalNodeProvider implements NodeProvider {
  private readonly running = new Map<string, { node: ProviderNode; proc: ChildProcess }>();
  private seq = 0;

  constructor(
    private readonly gcsAddress: string,
    private readonly sessionDir: string | undefined,
    /** Environment of the nodes it starts: the head's token (auth-token.ts's authEnv). */
    private readonly env: Record<string, string> = {},
  ) {}

  async createNode(type: string, res: Record<string, number>): Promise<ProviderNode> {
    const providerId = `local-${type}-${++this.seq}`;
    const opts = {
      head: false,
      gcsAddress: this.gcsAddress,
      host: '127.0.0.1',
      port: 0,
      resources: res,
      sessionDir: this.sessionDir,
      labels: { [NODE_TYPE_LABEL]: type, [PROVIDER_ID_LABEL]: providerId },
    };
    const { proc, ready } = spawnNodeProcess(opts, {
      env: this.env,
      stderr: 'inherit',
      timeoutMs: 120_000,
      keepOutput: false,
    });
    const node: ProviderNode = { providerId, type, nodeId: undefined };
    this.running.set(providerId, { node, proc });
    ready.then(
      (info) => {
        node.nodeId = info.nodeId;
      },
      () => this.running.delete(providerId),
    );
    proc.on('exit', () => this.running.delete(providerId));
    return node;
  }

  async terminateNode(providerId: string): Promise<void> {
    const r = this.running.get(providerId);
    if (!r) return;
    this.running.delete(providerId);
    r.proc.kill('SIGTERM');
    setTimeout(() => r.proc.kill('SIGKILL'), 5_000).unref();
  }

  nodes(): ProviderNode[] {
    return [...this.running.values()].map((r) => r.node);
  }
}

const EPS = 1e-9;
const fits = (req: Record<string, number>, have: Record<string, number>) =>
  Object.entries(req).every(([k, v]) => (have[k] ?? 0) + EPS >= v);
const take = (req: Record<string, number>, have: Record<string, number>) => {
  for (const k in req) have[k] = (have[k] ?? 0) - req[k];
};
const fmt = (r: Record<string, number>) =>
  '{' +
  Object.entries(r)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') +
  '}';

/** What the autoscaler knows of the cluster at each step. */
export interface ClusterState {
  nodes: NodeInfo__Output[];
  /** Resource shapes of pending placement groups' bundles. */
  pendingBundles: Record<string, number>[];
}

/** The autoscaler's account, for `ray-ts status`. */
export interface AutoscalerStatus {
  nodes: { providerId: string; type: string; nodeId: string | null; reason: string }[];
  pendingDemand: { shape: Record<string, number>; count: number }[];
  lastAction: string;
}

export class Autoscaler {
  private readonly reasons = new Map<string, string>();
  private readonly idleSince = new Map<string, number>();
  private readonly launchedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private status: AutoscalerStatus = { nodes: [], pendingDemand: [], lastAction: 'started' };
  private busy = false;

  constructor(
    readonly config: AutoscalerConfig,
    private readonly provider: NodeProvider,
    private readonly state: () => ClusterState,
    private readonly publish: (s: AutoscalerStatus) => void,
  ) {}

  /** Resources of each node type (work that fits one waits for the autoscaler instead of failing). */
  potentialNodes(): Record<string, number>[] {
    return Object.values(this.config.nodeTypes)
      .filter((t) => t.maxWorkers > 0)
      .map((t) => t.resources);
  }

  start(periodMs = 500): void {
    this.timer = setInterval(() => void this.step(), periodMs);
    this.timer.unref();
    void this.step();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.provider.nodes().map((n) => this.provider.terminateNode(n.providerId)));
  }

  /** One round: launch for unmet demand and minWorkers, stop idle nodes, publish the account. */
  async step(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.provider.refresh?.();
      const { nodes, pendingBundles } = this.state();
      const alive = nodes.filter((n) => n.state === 'ALIVE' && !n.isDriver);
      const ours = this.provider.nodes();
      const byNodeId = new Map(alive.map((n) => [n.nodeId, n]));
      const byProviderId = new Map(alive.map((n) => [n.labels?.[PROVIDER_ID_LABEL], n.nodeId]));
      for (const p of ours) p.nodeId ??= byProviderId.get(p.providerId);
      // A node that joined and then left the cluster (it crashed, or its host or pod went) is
      // given back to its provider (the host freed, the job cancelled, the pod deleted), so that
      // it neither counts as room nor blocks a new launch there.
      const gone = ours.filter(
        (p) => p.nodeId && !byNodeId.has(p.nodeId) && Date.now() - (this.launchedAt.get(p.providerId) ?? 0) > 10_000,
      );
      for (const p of gone) {
        await this.provider.terminateNode(p.providerId);
        this.status.lastAction = `${new Date().toISOString()}: ${p.providerId} (${p.type}) left the cluster: released it`;
        this.reasons.delete(p.providerId);
        this.idleSince.delete(p.providerId);
      }
      if (gone.length) ours.splice(0, ours.length, ...this.provider.nodes());
      // Demand: what owners have queued (drivers included), and bundles of pending groups.
      const demand: Record<string, number>[] = [];
      const summary = new Map<string, { shape: Record<string, number>; count: number }>();
      for (const n of nodes.filter((x) => x.state === 'ALIVE')) {
        for (const d of n.load) {
          for (let i = 0; i < d.count; i++) demand.push(d.shape);
          const key = fmt(d.shape);
          const e = summary.get(key) ?? { shape: d.shape, count: 0 };
          e.count += d.count;
          summary.set(key, e);
        }
      }
      for (const b of pendingBundles) {
        demand.push(b);
        const key = `bundle ${fmt(b)}`;
        const e = summary.get(key) ?? { shape: b, count: 0 };
        e.count++;
        summary.set(key, e);
      }
      // What there is room for: free resources of live nodes, and all of nodes still starting.
      const room = alive.map((n) => ({ ...n.resourcesAvailable }));
      for (const p of ours)
        if (!p.nodeId || !byNodeId.has(p.nodeId)) room.push({ ...this.config.nodeTypes[p.type].resources });
      const counts = new Map<string, number>();
      for (const p of ours) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
      let total = ours.length;
      const launches: { type: string; reason: string }[] = [];
      for (const shape of demand) {
        const slot = room.find((r) => fits(shape, r));
        if (slot) {
          take(shape, slot);
          continue;
        }
        const type = Object.entries(this.config.nodeTypes).find(
          ([name, t]) =>
            fits(shape, t.resources) && (counts.get(name) ?? 0) < t.maxWorkers && total < this.config.maxWorkers,
        )?.[0];
        if (!type) continue; // at a limit: it waits
        counts.set(type, (counts.get(type) ?? 0) + 1);
        total++;
        const fresh = { ...this.config.nodeTypes[type].resources };
        take(shape, fresh);
        room.push(fresh);
        launches.push({ type, reason: `started for pending demand ${fmt(shape)}` });
      }
      for (const [name, t] of Object.entries(this.config.nodeTypes)) {
        for (let c = counts.get(name) ?? 0; c < t.minWorkers && total < this.config.maxWorkers; c++, total++) {
          counts.set(name, c + 1);
          launches.push({ type: name, reason: `started to keep minWorkers ${t.minWorkers}` });
        }
      }
      for (const l of launches) {
        // A launch that fails (no free host, sbatch or the API refused) is tried again next
        // round; it must not keep idle nodes below from being stopped.
        try {
          const n = await this.provider.createNode(l.type, this.config.nodeTypes[l.type].resources);
          this.reasons.set(n.providerId, l.reason);
          this.launchedAt.set(n.providerId, Date.now());
          this.status.lastAction = `${new Date().toISOString()}: ${l.reason} -> ${l.type} (${n.providerId})`;
        } catch (err) {
          this.status.lastAction = `${new Date().toISOString()}: could not start a '${l.type}' node: ${(err as Error).message}`;
          break;
        }
      }
      // Idle nodes above minWorkers stop.
      const now = Date.now();
      const liveCount = new Map<string, number>();
      for (const p of this.provider.nodes()) liveCount.set(p.type, (liveCount.get(p.type) ?? 0) + 1);
      for (const p of this.provider.nodes()) {
        const info = p.nodeId ? byNodeId.get(p.nodeId) : undefined;
        if (!info) continue;
        const idle =
          info.load.length === 0 &&
          Object.entries(info.resourcesTotal).every(([k, v]) => Math.abs((info.resourcesAvailable[k] ?? 0) - v) < EPS);
        if (!idle) {
          this.idleSince.delete(p.providerId);
          continue;
        }
        const since = this.idleSince.get(p.providerId) ?? now;
        this.idleSince.set(p.providerId, since);
        const t = this.config.nodeTypes[p.type];
        if ((liveCount.get(p.type) ?? 0) <= t.minWorkers) continue;
        if (now - since >= this.config.idleTimeoutS * 1000) {
          liveCount.set(p.type, (liveCount.get(p.type) ?? 1) - 1);
          await this.provider.terminateNode(p.providerId);
          this.status.lastAction = `${new Date().toISOString()}: stopped ${p.providerId} (${p.type}): idle for ${((now - since) / 1000).toFixed(1)} s`;
          this.reasons.delete(p.providerId);
          this.idleSince.delete(p.providerId);
        }
      }
      this.status = {
        nodes: this.provider.nodes().map((p) => {
          const since = this.idleSince.get(p.providerId);
          const t = this.config.nodeTypes[p.type];
          const kept =
            since !== undefined
              ? (liveCount.get(p.type) ?? 0) <= t.minWorkers
                ? `idle, kept: minWorkers ${t.minWorkers}`
                : `idle for ${((now - since) / 1000).toFixed(1)} s, stops at ${this.config.idleTimeoutS} s`
              : p.nodeId
                ? 'busy'
                : 'starting';
          return {
            providerId: p.providerId,
            type: p.type,
            nodeId: p.nodeId ?? null,
            reason: `${this.reasons.get(p.providerId) ?? 'started'}; ${kept}`,
          };
        }),
        pendingDemand: [...summary.values()],
        lastAction: this.status.lastAction,
      };
      this.publish(this.status);
    } catch (err) {
      this.status.lastAction = `error: ${(err as Error).message}`;
    } finally {
      this.busy = false;
    }
  }
}
