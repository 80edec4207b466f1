/**
 * The GCS on the head node: node table with health, jobs, actors (cluster-wide names), placement
 * groups (placed here, reserved on nodes in two phases), internal KV, and the cluster resource
 * view, published to every node and driver over `Subscribe` streams. Tables live in memory, and
 * in Redis when the head has one: a reply that promises a write waits for it to land there
 * (gcs-writes.ts), and what changes the tables fails at once, changing nothing, when Redis cannot
 * take more writes.
 */
import { refusal } from './gcs-admission.js';
import { ignored } from '../log.js';
import * as grpc from '@grpc/grpc-js';
import { placeBundles, type PlacementStrategy } from '../node/placement.js';
import type { ResourceSet } from '../options.js';
import type { ActorInfo, ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { GcsHandlers } from './generated/raytscore/Gcs.js';
import type { GcsEvent } from './generated/raytscore/GcsEvent.js';
import type { JobInfo } from './generated/raytscore/JobInfo.js';
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import type { PlacementGroupInfo } from './generated/raytscore/PlacementGroupInfo.js';
import type { PlacementGroupSpec__Output } from './generated/raytscore/PlacementGroupSpec.js';
import { MemoryStorage, type GcsStorage, type GcsTable } from './gcs-storage.js';
import { nodeClient, unary } from './proto.js';
import type { ClusterAuth } from './auth-token.js';
import { GcsKv, type KvNamespace } from './gcs-kv.js';
import { replyAfter, type Landing } from './gcs-writes.js';
import { GcsMembers, heartbeatRecord } from './gcs-members.js';
import { boundNode, type MemberIdentity } from './identity.js';

interface PgRecord {
  spec: PlacementGroupSpec__Output;
  state: 'PENDING' | 'CREATED' | 'REMOVED' | 'INFEASIBLE';
  bundleNodes: string[];
  reason: string;
  waiters: (() => void)[];
  placing: boolean;
}

export interface GcsOptions {
  clusterId: string;
  /** A node missing heartbeats this long is marked dead. */
  nodeTimeoutMs: number;
  /** Where the tables live (default: in memory). */
  storage?: GcsStorage;
  /** The token the GCS presents when it calls nodes (the cluster's). */
  auth: ClusterAuth;
  /** The head's identity: what the GCS presents when it calls nodes, and the only one that registers the head. */
  identity?: MemberIdentity;
}

/** Time on top of the node timeout that nodes have to find a head started again (see `create`). */
const RESTART_GRACE_MS = 5_000;

export class Gcs {
  readonly clusterId: string;
  private readonly nodes = new Map<string, NodeInfo__Output>();
  private readonly lastSeen = new Map<string, number>();
  private readonly jobs = new Map<string, JobInfo>();
  private readonly actors = new Map<string, ActorInfo__Output>();
  private readonly actorNames = new Map<string, string>();
  private readonly kv: GcsKv;
  private readonly pgs = new Map<string, PgRecord>();
  private readonly subscribers = new Set<grpc.ServerWritableStream<unknown, GcsEvent>>();
  private readonly nodeClients = new Map<string, NodeClient>();
  private viewVersion = 0;
  private viewTimer: NodeJS.Timeout | undefined;
  private readonly healthTimer: NodeJS.Timeout;
  headNodeId = '';
  /** The head's own node, reserved without a round trip. */
  localNode:
    | {
        nodeId: string;
        reserve(groupId: string, indexes: number[], bundles: ResourceSet[]): boolean;
        release(groupId: string, indexes: number[]): void;
      }
    | undefined;

  private readonly storage: GcsStorage;
  /** Who is a member, and what a call bound to one may do (the head's server checks identities against it). */
  readonly members: GcsMembers;

  /** A GCS with its tables loaded from its storage (a head started again finds them there). */
  static async create(opts: GcsOptions): Promise<Gcs> {
    const storage = opts.storage ?? new MemoryStorage();
    const t = await storage.load();
    const clusterId = t.meta.get('clusterId')?.toString() ?? opts.clusterId;
    const gcs = new Gcs({ ...opts, clusterId, storage });
    await storage.write('meta', 'clusterId', clusterId, { bounded: false });
    const json = <T>(b: Buffer) => JSON.parse(b.toString()) as T;
    // A grace period to re-register after the restart: nodes find the new head only once its
    // server is up (after this load) and their channels' reconnect backoff (up to 2 s) has run,
    // so they get RESTART_GRACE_MS on top of the node timeout.
    const now = Date.now() + RESTART_GRACE_MS;
    for (const [id, b] of t.nodes) {
      const n = json<NodeInfo__Output>(b);
      gcs.nodes.set(id, n);
      gcs.lastSeen.set(id, now);
      if (n.isHead) n.state = 'DEAD'; // the head is a new node now
    }
    for (const [id, b] of t.jobs) gcs.jobs.set(id, json<JobInfo>(b));
    for (const [id, b] of t.actors) {
      const a = json<ActorInfo__Output>(b);
      gcs.actors.set(id, a);
      if (a.name && a.state !== 'DEAD') gcs.actorNames.set(`${a.namespace}/${a.name}`, id);
    }
    gcs.kv.load(t.kv);
    for (const [id, b] of t.pgs) {
      const p = json<{
        spec: PlacementGroupSpec__Output;
        state: PgRecord['state'];
        bundleNodes: string[];
        reason: string;
      }>(b);
      gcs.pgs.set(id, { ...p, waiters: [], placing: false });
    }
    return gcs;
  }

  private constructor(private readonly opts: GcsOptions) {
    this.clusterId = opts.clusterId;
    this.storage = opts.storage ?? new MemoryStorage();
    this.kv = new GcsKv(this.storage);
    this.members = new GcsMembers(this.nodes, opts.identity);
    this.healthTimer = setInterval(() => this.checkHealth(), Math.max(200, opts.nodeTimeoutMs / 4));
    this.healthTimer.unref();
  }

  /** Where the tables are kept, for logs and `ray-ts status`. */
  get storageDescription(): string {
    return this.storage.description;
  }

  /**
   * Writes a row (deletes it for `undefined`) before the tables change: throws GcsUnavailableError
   * when the store has no room for it. `internal`: the GCS's own bookkeeping (a node declared dead,
   * a group placed), taken whatever the queue holds.
   */
  private save(table: GcsTable, key: string, value: object | undefined, internal = false): Landing {
    const row = value === undefined ? undefined : JSON.stringify(value);
    return this.storage.write(table, key, row, { bounded: !internal });
  }

  private savePg(pg: PgRecord, internal = false): Landing {
    const { spec, state, bundleNodes, reason } = pg;
    return this.save('pgs', pg.spec.placementGroupId, { spec, state, bundleNodes, reason }, internal);
  }

  // ---------------------------------------------------------------- nodes and the view
  private checkHealth(): void {
    const now = Date.now();
    for (const [id, n] of this.nodes) {
      if (n.state === 'ALIVE' && now - (this.lastSeen.get(id) ?? now) > this.opts.nodeTimeoutMs) {
        n.state = 'DEAD';
        void this.save('nodes', id, n, true);
        if (n.isDriver) void this.endJob(n.jobId, 'its driver died (missed heartbeats)', true);
        this.viewChanged();
        this.retryPendingGroups();
      }
    }
  }

  private viewChanged(): void {
    this.members.changed();
    if (this.viewTimer) return;
    this.viewTimer = setTimeout(() => {
      this.viewTimer = undefined;
      this.publish({ view: this.view() });
    }, 5);
  }

  /** Resources of the node types an autoscaler may add (set by the head when it runs one). */
  private potentialNodes: Record<string, number>[] = [];

  setPotentialNodes(shapes: Record<string, number>[]): void {
    this.potentialNodes = shapes;
    this.viewChanged();
  }

  view(): {
    nodes: NodeInfo__Output[];
    version: number;
    potentialNodes: { shape: Record<string, number>; count: number; infeasible: boolean }[];
  } {
    return {
      nodes: [...this.nodes.values()],
      version: ++this.viewVersion,
      potentialNodes: this.potentialNodes.map((shape) => ({ shape, count: 1, infeasible: false })),
    };
  }

  /** Bundles of placement groups still waiting for room (demand for the autoscaler). */
  pendingBundles(): Record<string, number>[] {
    return [...this.pgs.values()]
      .filter((p) => p.state === 'PENDING')
      .flatMap((p) => p.spec.bundles.map((b) => b.resources));
  }

  private publish(ev: GcsEvent): void {
    for (const s of this.subscribers) s.write(ev);
  }

  private nodeClient(nodeId: string): NodeClient {
    let c = this.nodeClients.get(nodeId);
    if (!c) {
      const addr = this.nodes.get(nodeId)?.address;
      if (!addr) throw new Error(`unknown node ${nodeId}`);
      c = nodeClient(addr, this.opts.auth, this.opts.identity);
      this.nodeClients.set(nodeId, c);
    }
    return c;
  }

  private liveExecutors(): NodeInfo__Output[] {
    return [...this.nodes.values()].filter((n) => n.state === 'ALIVE' && !n.isDriver);
  }

  // ---------------------------------------------------------------- placement groups
  private pgInfo(pg: PgRecord | undefined): PlacementGroupInfo {
    if (!pg) return { found: false, state: 'REMOVED' };
    return { found: true, spec: pg.spec, state: pg.state, bundleNodes: pg.bundleNodes, reason: pg.reason };
  }

  /** Changes a group's state (the GCS's own doing unless `internal` is false); its waiters hear of it once it landed. */
  private setPgState(pg: PgRecord, state: PgRecord['state'], reason = '', internal = true): Landing {
    const landed = this.savePg({ ...pg, state, reason }, internal);
    pg.state = state;
    pg.reason = reason;
    if (state !== 'PENDING') {
      const ws = pg.waiters;
      pg.waiters = [];
      const wake = () => ws.forEach((w) => w());
      if (landed) landed.then(wake, wake);
      else wake();
    }
    this.publish({ placementGroup: this.pgInfo(pg) });
    return landed;
  }

  private retryPendingGroups(): void {
    for (const pg of this.pgs.values()) if (pg.state === 'PENDING') void this.tryPlace(pg);
  }

  private async tryPlace(pg: PgRecord): Promise<void> {
    if (pg.placing || pg.state !== 'PENDING') return;
    pg.placing = true;
    try {
      const bundles = pg.spec.bundles.map((b) => b.resources as ResourceSet);
      const nodes = this.liveExecutors().map((n) => ({
        nodeId: n.nodeId,
        total: n.resourcesTotal,
        available: n.resourcesAvailable,
      }));
      const r = placeBundles(pg.spec.strategy as PlacementStrategy, bundles, nodes);
      if (!r.ok && r.infeasible && this.potentialNodes.length) {
        // Nodes the autoscaler may start could hold it: wait for them.
        const extra = this.potentialNodes.flatMap((t, i) =>
          bundles.map((_, j) => ({ nodeId: `potential-${i}-${j}`, total: t, available: t })),
        );
        const later = placeBundles(pg.spec.strategy as PlacementStrategy, bundles, [...nodes, ...extra]);
        if (later.ok || !later.infeasible) {
          pg.reason = 'waiting for the autoscaler to start nodes that can hold it';
          return;
        }
      }
      if (!r.ok) {
        if (r.infeasible) void this.setPgState(pg, 'INFEASIBLE', r.reason);
        else pg.reason = r.reason;
        return;
      }
      // Two phases: every node reserves its bundles (all or none), then all commit.
      const byNode = new Map<string, number[]>();
      r.nodes.forEach((n, i) => {
        const l = byNode.get(n) ?? [];
        l.push(i);
        byNode.set(n, l);
      });
      const req = (idx: number[]) => ({
        placementGroupId: pg.spec.placementGroupId,
        indexes: idx,
        bundles: idx.map((i) => pg.spec.bundles[i]),
      });
      const prepared: string[] = [];
      let failed = '';
      await Promise.all(
        [...byNode].map(async ([nodeId, idx]) => {
          try {
            const local = this.localNode?.nodeId === nodeId ? this.localNode : undefined;
            const rep = local
              ? {
                  ok: local.reserve(
                    pg.spec.placementGroupId,
                    idx,
                    idx.map((i) => bundles[i]),
                  ),
                  reason: `node ${nodeId} has no room for the bundles now`,
                }
              : await unary<unknown, { ok: boolean; reason: string }>(
                  this.nodeClient(nodeId),
                  'PrepareBundles',
                  req(idx),
                  10_000,
                );
            if (rep.ok) prepared.push(nodeId);
            else failed ||= rep.reason;
          } catch (err) {
            failed ||= `node ${nodeId}: ${(err as Error).message}`;
          }
        }),
      );
      if (failed || pg.state !== 'PENDING') {
        await Promise.all(prepared.map((n) => this.returnBundles(n, req(byNode.get(n)!))));
        if (pg.state === 'PENDING') {
          pg.reason = `waiting for resources (${failed})`;
          setTimeout(() => void this.tryPlace(pg), 100).unref();
        }
        return;
      }
      // Every node holds its bundles now: the reservation stands (CommitBundles has nothing more to
      // do on a node, so it is not sent; a node learns the group is created from the event).
      pg.bundleNodes = r.nodes;
      void this.setPgState(pg, 'CREATED');
    } finally {
      pg.placing = false;
    }
  }

  private async returnBundles(
    nodeId: string,
    req: { placementGroupId: string; indexes: number[]; bundles?: unknown[] },
  ): Promise<void> {
    if (this.localNode?.nodeId === nodeId) this.localNode.release(req.placementGroupId, req.indexes);
    else
      await unary(this.nodeClient(nodeId), 'ReturnBundles', req, 10_000).catch(
        ignored(`ReturnBundles to node ${nodeId} (a node that does not answer is dead, and its bundles with it)`),
      );
  }

  /** Marks a group removed (throws when the store has no room), then has its nodes give its bundles back. */
  private removeGroup(id: string): Landing {
    const pg = this.pgs.get(id);
    if (!pg || pg.state === 'REMOVED') return undefined;
    const wasCreated = pg.state === 'CREATED';
    const landed = this.setPgState(pg, 'REMOVED', 'removed with removePlacementGroup()', false);
    this.returnGroupBundles(pg, wasCreated).catch(ignored(`removal of placement group ${id}'s bundles on its nodes`));
    return landed;
  }

  private async returnGroupBundles(pg: PgRecord, wasCreated: boolean): Promise<void> {
    const id = pg.spec.placementGroupId;
    if (wasCreated) {
      const byNode = new Map<string, number[]>();
      pg.bundleNodes.forEach((n, i) => {
        const l = byNode.get(n) ?? [];
        l.push(i);
        byNode.set(n, l);
      });
      await Promise.all(
        [...byNode].map(([n, idx]) =>
          this.returnBundles(n, {
            placementGroupId: id,
            indexes: idx,
            bundles: idx.map((i) => pg.spec.bundles[i]),
          }),
        ),
      );
    }
    this.retryPendingGroups();
  }

  // ---------------------------------------------------------------- handlers
  handlers(): GcsHandlers {
    const ok = <T>(cb: grpc.sendUnaryData<T>, v: T) => cb(null, v);
    // Handlers that change the tables answer through replyAfter: once their writes landed.
    return {
      RegisterNode: (call, cb) => {
        const n = call.request;
        void refusal(n, this.nodes.get(n.nodeId), this.opts.auth.tls).then((details) => {
          if (details) {
            cb({ code: grpc.status.FAILED_PRECONDITION, details });
            return;
          }
          const denied = this.members.registration(n, boundNode(call));
          if (denied) return cb({ code: grpc.status.PERMISSION_DENIED, details: `RegisterNode refused: ${denied}.` });
          replyAfter(cb, () => {
            const node = { ...n, state: 'ALIVE' };
            const landed = this.save('nodes', n.nodeId, node);
            this.nodes.set(n.nodeId, node);
            this.lastSeen.set(n.nodeId, Date.now());
            if (n.isHead) this.headNodeId = n.nodeId;
            this.viewChanged();
            this.retryPendingGroups();
            return { landed, reply: { clusterId: this.clusterId, headNodeId: this.headNodeId } };
          });
        });
      },
      Heartbeat: (call, cb) => {
        const n = call.request.node!;
        const prev = this.nodes.get(n.nodeId);
        if (!prev || prev.state === 'DEAD') {
          // DEAD: declared dead (a partition, say) while it still ran. Its work was retried and its
          // actors restarted elsewhere: it is fenced, and must not rejoin with them (split brain).
          ok(cb, { known: false, dead: prev?.state === 'DEAD' });
          return;
        }
        const denied = this.members.heartbeat(n.nodeId, boundNode(call));
        if (denied) return cb({ code: grpc.status.PERMISSION_DENIED, details: `Heartbeat refused: ${denied}.` });
        this.lastSeen.set(n.nodeId, Date.now());
        const changed =
          JSON.stringify(prev.resourcesAvailable) !== JSON.stringify(n.resourcesAvailable) ||
          JSON.stringify(prev.resourcesTotal) !== JSON.stringify(n.resourcesTotal) ||
          JSON.stringify(prev.load) !== JSON.stringify(n.load);
        this.nodes.set(n.nodeId, heartbeatRecord(prev, n));
        if (changed) {
          this.viewChanged();
          this.retryPendingGroups();
        }
        ok(cb, { known: true });
      },
      UnregisterNode: (call, cb) => {
        const denied = this.members.unregister(call.request.nodeId, boundNode(call));
        if (denied) return cb({ code: grpc.status.PERMISSION_DENIED, details: `UnregisterNode refused: ${denied}.` });
        replyAfter(cb, () => {
          const n = this.nodes.get(call.request.nodeId);
          if (!n) return { landed: undefined, reply: {} };
          const landed = this.save('nodes', n.nodeId, n.isDriver ? undefined : { ...n, state: 'DEAD' });
          if (n.isDriver) this.nodes.delete(n.nodeId);
          else n.state = 'DEAD';
          this.nodeClients.get(call.request.nodeId)?.close();
          this.nodeClients.delete(call.request.nodeId);
          this.viewChanged();
          return { landed, reply: {} };
        });
      },
      GetClusterView: (_call, cb) => ok(cb, this.view()),
      Subscribe: (call) => {
        this.subscribers.add(call);
        call.write({ view: this.view() });
        call.on('cancelled', () => this.subscribers.delete(call));
        call.on('error', () => this.subscribers.delete(call));
        call.on('close', () => this.subscribers.delete(call));
      },
      RegisterJob: (call, cb) =>
        replyAfter(cb, () => {
          const j = { ...call.request, state: 'RUNNING', startTimeMs: Date.now() };
          const landed = this.save('jobs', j.jobId, j);
          this.jobs.set(j.jobId, j);
          this.publish({ job: j });
          return { landed, reply: j };
        }),
      FinishJob: (call, cb) => replyAfter(cb, () => ({ landed: this.endJob(call.request.jobId, ''), reply: {} })),
      ListJobs: (_call, cb) => ok(cb, { jobs: [...this.jobs.values()] }),
      RegisterActor: (call, cb) =>
        replyAfter(cb, () => {
          const a = call.request;
          const key = `${a.namespace}/${a.name}`;
          if (a.name) {
            const existingId = this.actorNames.get(key);
            const existing = existingId ? this.actors.get(existingId) : undefined;
            if (existing && existing.state !== 'DEAD') return { landed: undefined, reply: { ok: false, existing } };
          }
          // A client told ok finds the actor by name after a restart of the head: the record landed first.
          const landed = this.save('actors', a.actorId, a);
          if (a.name) this.actorNames.set(key, a.actorId);
          this.actors.set(a.actorId, a);
          this.publish({ actor: a });
          return { landed, reply: { ok: true, existing: null } };
        }),
      UpdateActor: (call, cb) =>
        replyAfter(cb, () => {
          const a = call.request;
          const prev = this.actors.get(a.actorId);
          const set = (v: unknown) =>
            v !== '' &&
            v !== 0 &&
            v !== false &&
            !(Array.isArray(v) && v.length === 0) &&
            !(v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
          const next: ActorInfo__Output = prev
            ? ({ ...prev, ...Object.fromEntries(Object.entries(a).filter(([, v]) => set(v))) } as ActorInfo__Output)
            : a;
          if (a.state) next.state = a.state;
          const landed = this.save('actors', a.actorId, next);
          this.actors.set(a.actorId, next);
          if (next.state === 'DEAD' && next.name) {
            const key = `${next.namespace}/${next.name}`;
            if (this.actorNames.get(key) === next.actorId) this.actorNames.delete(key);
          }
          this.publish({ actor: next });
          return { landed, reply: {} };
        }),
      GetActor: (call, cb) => {
        const r = call.request;
        const id = r.actorId || this.actorNames.get(`${r.namespace}/${r.name}`);
        const a = id ? this.actors.get(id) : undefined;
        ok(cb, a && (r.actorId || a.state !== 'DEAD') ? { found: true, actor: a } : { found: false });
      },
      ListActors: (_call, cb) => ok(cb, { actors: [...this.actors.values()] as ActorInfo[] }),
      ...this.kv.handlers((ns, key, replaces, call) => this.members.kvWrite(ns, key, replaces, boundNode(call))),
      CreatePlacementGroup: (call, cb) =>
        replyAfter(cb, () => {
          const spec = call.request;
          const pg: PgRecord = {
            spec,
            state: 'PENDING',
            bundleNodes: [],
            reason: 'being placed',
            waiters: [],
            placing: false,
          };
          const landed = this.savePg(pg);
          this.pgs.set(spec.placementGroupId, pg);
          void this.tryPlace(pg);
          return { landed, reply: this.pgInfo(pg) };
        }),
      // Removed at once (as Ray's remove_placement_group); the nodes give the bundles back after.
      RemovePlacementGroup: (call, cb) =>
        replyAfter(cb, () => ({ landed: this.removeGroup(call.request.placementGroupId), reply: {} })),
      WaitPlacementGroup: (call, cb) => {
        const pg = this.pgs.get(call.request.placementGroupId);
        if (!pg || pg.state !== 'PENDING') {
          ok(cb, this.pgInfo(pg));
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          if (timer) clearTimeout(timer);
          ok(cb, this.pgInfo(pg));
        };
        pg.waiters.push(done);
        if (call.request.timeoutMs > 0) {
          timer = setTimeout(() => {
            const i = pg.waiters.indexOf(done);
            if (i >= 0) pg.waiters.splice(i, 1);
            ok(cb, this.pgInfo(pg));
          }, call.request.timeoutMs);
        }
      },
      GetPlacementGroup: (call, cb) => ok(cb, this.pgInfo(this.pgs.get(call.request.placementGroupId))),
      ListPlacementGroups: (_call, cb) =>
        ok(cb, { placementGroups: [...this.pgs.values()].map((p) => this.pgInfo(p)) }),
    };
  }

  /** A driver's job ended (it shut down, or died): nodes end its actors that are not detached. */
  private endJob(jobId: string, why: string, internal = false): Landing {
    const j = this.jobs.get(jobId);
    if (!j || j.state !== 'RUNNING') return undefined;
    const ended = { ...j, state: 'FINISHED', endTimeMs: Date.now() };
    if (why) ended.entrypoint = `${j.entrypoint ?? ''} (${why})`;
    const landed = this.save('jobs', jobId, ended, internal);
    this.jobs.set(jobId, ended);
    this.publish({ job: ended });
    return landed;
  }

  /**
   * Records a submitted job in the job table (as drivers' jobs are): when it landed, see
   * {@link Landing}; throws GcsUnavailableError, changing nothing, when the store has no room for
   * it (unless `internal`: the head's own bookkeeping).
   */
  recordJob(j: JobInfo, internal = false): Landing {
    const landed = this.save('jobs', j.jobId!, j, internal);
    this.jobs.set(j.jobId!, j);
    this.publish({ job: j });
    return landed;
  }

  /** One namespace of the KV (for services of the head's own process). */
  kvLocal(namespace: string): KvNamespace {
    return this.kv.namespace(namespace);
  }

  /** Nodes in the table (for the embedded head). */
  nodeTable(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  /** An actor by id, or by name (the live one of that name, else the last registered): for its logs. */
  findActor(q: { actorId?: string; name?: string; namespace?: string }): ActorInfo__Output | undefined {
    if (q.actorId) return this.actors.get(q.actorId);
    const id = this.actorNames.get(`${q.namespace}/${q.name}`);
    if (id) return this.actors.get(id);
    return [...this.actors.values()].reverse().find((a) => a.name === q.name && a.namespace === q.namespace);
  }

  /** Stops the GCS; resolves once the writes still queued landed (or `gcsStopFlushMs` passed). */
  async stop(): Promise<void> {
    clearInterval(this.healthTimer);
    if (this.viewTimer) clearTimeout(this.viewTimer);
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
    for (const c of this.nodeClients.values()) c.close();
    await this.storage.close();
  }
}
