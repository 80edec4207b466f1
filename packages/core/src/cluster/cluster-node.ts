/**
 * A node of a multi-node cluster: the node manager (node.ts) plus its gRPC endpoint, its
 * membership in the GCS (registration, heartbeats, the cluster view), placement of owned work
 * across nodes, forwarding of tasks and actor calls, pull-based object transfer in chunks, and
 * distributed reference counting (owners count the borrows of other nodes). A driver connected
 * to a cluster runs one too, with no resources: it owns what it makes and runs nothing.
 */
import * as grpc from '@grpc/grpc-js';
import { ActorDiedError, InvalidArgumentError, ObjectLostError, RayError, errorToWire } from '../errors.js';
import { allocShared } from '../runtime/memory.js';
import type { ClusterLink, GroupState, NodeManager, ResultValue } from '../node/node-manager.js';
import type { ResourceSet, SchedulingStrategySpec } from '../options.js';
import type {
  ActorCreationSpec,
  ActorHandleData,
  ActorTaskSpec,
  ClusterInfo,
  KvOp,
  TaskSpec,
} from '../protocol/worker-messages.js';
import { isGroupResource, type PlacementStrategy } from '../node/placement.js';
import { nestedRefs, storedError, type StoredValue } from '../runtime/serialization.js';
import type { WorkerHandle } from '../node/worker-handle.js';
import type { ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { GcsEvent__Output } from './generated/raytscore/GcsEvent.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import type { NodeHandlers } from './generated/raytscore/Node.js';
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { ObjectChunk, ObjectChunk__Output } from './generated/raytscore/ObjectChunk.js';
import type { PeerBatch, PeerBatch__Output } from './generated/raytscore/PeerBatch.js';
import type { PeerMessage, PeerMessage__Output } from './generated/raytscore/PeerMessage.js';
import type { PlacementGroupInfo__Output } from './generated/raytscore/PlacementGroupInfo.js';
import type { StateReply } from './generated/raytscore/StateReply.js';
import { prefault, type Prefault } from './prefault.js';
import { channelOptions, protos, unary, VERSION } from './proto.js';
import {
  actorCallFromWire,
  actorCallToWire,
  actorFromWire,
  actorToWire,
  argRefs,
  taskFromWire,
  taskToWire,
  valueFromWire,
  valueToWire,
  type PValue,
  type PValueOut,
} from './wire.js';

const CHUNK = 128 * 1024;
/** Receive buffers this large get their pages faulted in by a helper thread (see prefault.ts). */
const PREFAULT_ABOVE = 8 * 1024 * 1024;
const EPS = 1e-9;

interface RemoteActor {
  /** The node hosting it; undefined while unknown (being placed or looked up). */
  node: string | undefined;
  /** The id the hosting node knows it by (differs for a getIfExists alias). */
  realId: string;
  queue: ActorTaskSpec[];
  dead: string | undefined;
  /** Being registered and placed by this node (calls wait for it; no lookup). */
  creating: boolean;
  lookingUp: boolean;
  /** Retries of a call its death interrupted (from the GCS, for actors this node did not create). */
  maxTaskRetries: number;
}

function remoteActor(realId: string, node?: string, creating = false): RemoteActor {
  return { node, realId, queue: [], dead: undefined, creating, lookingUp: false, maxTaskRetries: 0 };
}

/** Resolves when a server stream can take more, or its reader went away (it never drains then). */
function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

/** A pull broke because its node stopped answering (it may have died). */
class PeerUnreachable extends Error {
  constructor(
    readonly node: string,
    message: string,
  ) {
    super(message);
  }
}

function groupFromInfo(p: PlacementGroupInfo__Output): GroupState | undefined {
  const spec = p.spec;
  if (!spec) return undefined;
  return {
    id: spec.placementGroupId,
    name: spec.name,
    strategy: spec.strategy as PlacementStrategy,
    bundles: spec.bundles.map((b) => b.resources),
    state: p.state as GroupState['state'],
    bundleNodes: p.bundleNodes,
    reason: p.reason,
  };
}

export interface ClusterNodeOptions {
  node: NodeManager;
  gcsAddress: string;
  /** host:port this node's service listens on. */
  address: string;
  isHead: boolean;
  isDriver: boolean;
  /** The node a driver prefers for its work (its local node). */
  preferredNode?: string;
  heartbeatMs?: number;
  labels?: Record<string, string>;
}

export class ClusterNode implements ClusterLink {
  readonly node: NodeManager;
  readonly nodeId: string;
  readonly address: string;
  private readonly gcs: GcsClient;
  private view = new Map<string, NodeInfo__Output>();
  /** Resources of node types an autoscaler may start. */
  private potential: Record<string, number>[] = [];
  /** Actors waiting for a node the autoscaler may start (reported as load). */
  private readonly waitingActors = new Map<string, Record<string, number>>();
  /** Resources this node sent to each node, not yet reported done. */
  private readonly outstanding = new Map<string, Record<string, number>>();
  private readonly sinceView = new Map<string, Record<string, number>>();
  /**
   * Actors this node sent to each node: they count as taken there until that node reports a change
   * (or 2 s pass), since a view published in between may not show them yet.
   */
  private readonly actorCharges = new Map<string, { resources: ResourceSet; at: number }[]>();
  private readonly outgoing = new Map<string, grpc.ClientDuplexStream<PeerBatch, PeerBatch__Output>>();
  private readonly pending = new Map<string, PeerMessage[]>();
  private flushQueued = false;
  private readonly clients = new Map<string, NodeClient>();
  private readonly remoteActors = new Map<string, RemoteActor>();
  /** Actor calls sent to other nodes: task id -> spec (its args stay pinned until done). */
  private readonly remoteCalls = new Map<string, ActorTaskSpec>();
  /** Attempts of each actor call sent to another node. */
  private readonly callAttempts = new Map<string, number>();
  /**
   * Actors this node created on other nodes and may restart when their node dies: the creation
   * spec (its arguments stay pinned) and how often it was restarted.
   */
  private readonly owned = new Map<
    string,
    { spec: ActorCreationSpec; namespace: string; restarts: number; pinned: boolean }
  >();
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly groups = new Map<string, GroupState>();
  private readonly groupWaiters = new Map<string, (() => void)[]>();
  private subscription: grpc.ClientReadableStream<GcsEvent__Output> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private spreadNext = 0;
  private stopped = false;
  private viewWaiters: (() => void)[] = [];
  preferredNode: string | undefined;
  /** Called when the job of a driver ends (to drop its non-detached actors). */
  onJobFinished: ((jobId: string) => void) | undefined;

  constructor(private readonly opts: ClusterNodeOptions) {
    this.node = opts.node;
    this.nodeId = opts.node.nodeId;
    this.address = opts.address;
    this.preferredNode = opts.preferredNode;
    this.gcs = new (protos().gcs.Gcs)(opts.gcsAddress, grpc.credentials.createInsecure(), channelOptions);
    const store = this.node.store;
    store.onReleaseBorrow = (id, owner, count) =>
      this.send(owner, { borrow: { objectId: id, node: this.nodeId, delta: -count } });
    store.onFreeRemote = (id, location) => this.send(location, { freeObjects: { objectIds: [id] } });
  }

  // ---------------------------------------------------------------- membership
  private info(): NodeInfo {
    const n = this.node;
    const st = n.store.stats();
    return {
      nodeId: this.nodeId,
      address: this.address,
      isHead: this.opts.isHead,
      isDriver: this.opts.isDriver,
      resourcesTotal: n.userResources(n.pool.total),
      resourcesAvailable: n.userResources(n.pool.availableResources()),
      state: 'ALIVE',
      pid: process.pid,
      version: VERSION,
      startTimeMs: Date.now(),
      load: [
        ...n.load().map((l) => ({ shape: l.shape, count: l.count, infeasible: false })),
        ...[...this.waitingActors.values()].map((shape) => ({ shape, count: 1, infeasible: false })),
      ],
      objectStoreUsed: st.usedBytes,
      objectStoreCapacity: st.capacityBytes,
      numObjects: st.numObjects,
      numWorkers: n.debugState().workers,
      jobId: n.jobId,
      labels: this.opts.labels ?? {},
    };
  }

  /** Registers with the GCS and starts heartbeats and the view subscription. */
  async start(): Promise<void> {
    try {
      await unary(this.gcs, 'RegisterNode', this.info(), 10_000);
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.FAILED_PRECONDITION)
        throw new InvalidArgumentError(`Cannot join the cluster at ${this.opts.gcsAddress}: ${e.details}`);
      throw new RayError(
        `Cannot reach a ray-ts cluster at ${this.opts.gcsAddress} (${e.details || e.message}). ` +
          `Check the address (HOST:PORT of the head, as 'ray-ts start --head' printed it) and that the head is running ('ray-ts status --address ${this.opts.gcsAddress}').`,
      );
    }
    this.subscribe();
    await this.waitForView((v) => v.has(this.nodeId), 10_000);
    this.heartbeat = setInterval(() => {
      unary<unknown, { known: boolean }>(this.gcs, 'Heartbeat', { node: this.info() }, 5_000).then(
        (r) => {
          if (!r.known && !this.stopped) void unary(this.gcs, 'RegisterNode', this.info(), 5_000).catch(() => {});
        },
        () => {},
      );
    }, this.opts.heartbeatMs ?? 100);
    this.heartbeat.unref();
  }

  /**
   * Follows the GCS's changes. If the stream breaks (the head restarted, or is down), it is opened
   * again until the GCS answers; meanwhile the node keeps its last view and work between live
   * nodes goes on.
   */
  private subscribe(): void {
    const s = this.gcs.Subscribe({ nodeId: this.nodeId });
    this.subscription = s;
    let again = false;
    const resubscribe = () => {
      if (again || this.stopped) return;
      again = true;
      setTimeout(() => {
        if (!this.stopped) this.subscribe();
      }, 500).unref();
    };
    s.on('data', (ev: GcsEvent__Output) => this.onEvent(ev));
    s.on('error', resubscribe);
    s.on('end', resubscribe);
  }

  private onEvent(ev: GcsEvent__Output): void {
    if (ev.view) {
      const next = new Map<string, NodeInfo__Output>();
      for (const n of ev.view.nodes) next.set(n.nodeId, n);
      const lost: [string, string, NodeInfo__Output][] = [];
      // A driver that left (or a node that died): its borrows end, and copies it owned go.
      for (const [id, n] of this.view) {
        const now = next.get(id);
        if (n.state === 'ALIVE' && (!now || now.state !== 'ALIVE'))
          lost.push([id, !now ? 'left the cluster' : 'died (it missed its heartbeats)', n]);
      }
      for (const [id, n] of next) {
        const was = this.view.get(id);
        if (
          !was ||
          JSON.stringify(was.resourcesAvailable) !== JSON.stringify(n.resourcesAvailable) ||
          JSON.stringify(was.load) !== JSON.stringify(n.load)
        )
          this.actorCharges.delete(id);
      }
      this.view = next;
      this.potential = ev.view.potentialNodes.map((d) => d.shape);
      this.sinceView.clear();
      for (const [id, why, info] of lost) {
        this.forgetPeer(id, why);
        // A driver that is gone ends its job: its actors that are not detached end with it.
        if (info.isDriver && info.jobId) this.node.killJobActors(info.jobId);
      }
      const ws = this.viewWaiters;
      this.viewWaiters = [];
      for (const w of ws) w();
      this.flush();
      this.node.viewChanged();
    } else if (ev.placementGroup) {
      this.onGroup(ev.placementGroup);
    } else if (ev.actor && ev.actor.state === 'DEAD') {
      // Dead for good (its node reports final deaths): no restart from here, calls fail.
      const ra = this.remoteActors.get(ev.actor.actorId);
      if (ra && !ra.dead && ra.node !== undefined)
        this.actorGone(ra, `it died (${ev.actor.deathCause || 'unknown cause'})`);
      else this.disown(ev.actor.actorId);
    } else if (ev.job && ev.job.state === 'FINISHED') {
      this.onJobFinished?.(ev.job.jobId);
    }
  }

  private onGroup(p: PlacementGroupInfo__Output): void {
    const g = groupFromInfo(p);
    if (!g) return;
    const prev = this.groups.get(g.id);
    // Replies and events travel on different streams: never go back to PENDING from a later state.
    if (prev && prev.state !== 'PENDING' && g.state === 'PENDING') return;
    this.groups.set(g.id, g);
    if (g.state !== 'PENDING') {
      const ws = this.groupWaiters.get(g.id);
      this.groupWaiters.delete(g.id);
      for (const w of ws ?? []) w();
    }
    this.node.groupChanged(g.id);
  }

  private waitForView(pred: (v: Map<string, NodeInfo__Output>) => boolean, timeoutMs: number): Promise<boolean> {
    if (pred(this.view)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      const check = () => {
        if (pred(this.view)) {
          clearTimeout(timer);
          resolve(true);
        } else this.viewWaiters.push(check);
      };
      this.viewWaiters.push(check);
    });
  }

  /** A peer left the cluster: drop what was queued for it and what this node kept on its behalf. */
  private forgetPeer(nodeId: string, why: string): void {
    this.node.store.forgetNode(nodeId);
    this.outstanding.delete(nodeId);
    this.node.nodeLost(nodeId, why);
    // Its actors are gone with it (restarting them elsewhere is for a later version).
    for (const ra of [...new Set(this.remoteActors.values())]) {
      if (ra.node === nodeId && !ra.dead) this.actorNodeLost(ra, nodeId, why);
    }
    this.pending.delete(nodeId);
    this.outgoing.get(nodeId)?.end();
    this.outgoing.delete(nodeId);
    this.clients.get(nodeId)?.close();
    this.clients.delete(nodeId);
  }

  gcsClient(): GcsClient {
    return this.gcs;
  }

  viewNodes(): NodeInfo__Output[] {
    return [...this.view.values()];
  }

  // ---------------------------------------------------------------- peers
  private client(nodeId: string): NodeClient | undefined {
    let c = this.clients.get(nodeId);
    if (c) return c;
    const addr = this.view.get(nodeId)?.address;
    if (!addr) return undefined;
    c = new (protos().node.Node)(addr, grpc.credentials.createInsecure(), channelOptions);
    this.clients.set(nodeId, c);
    return c;
  }

  private send(nodeId: string, msg: PeerMessage): void {
    if (this.stopped) return;
    let q = this.pending.get(nodeId);
    if (!q) this.pending.set(nodeId, (q = []));
    q.push(msg);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    for (const [nodeId, msgs] of this.pending) {
      if (!msgs.length) continue;
      let stream = this.outgoing.get(nodeId);
      if (!stream) {
        const c = this.client(nodeId);
        if (!c) continue; // address not in the view yet: sent when it is
        stream = c.Peer();
        stream.on('data', () => {});
        stream.on('error', () => this.outgoing.delete(nodeId));
        this.outgoing.set(nodeId, stream);
      }
      this.pending.set(nodeId, []);
      stream.write({ fromNode: this.nodeId, messages: msgs });
    }
  }

  /**
   * The owners of the refs in a message going to `target`, counting the borrow `target` makes:
   * this node counts it for its own objects, and tells the owner of anyone else's.
   */
  private owners(refIds: readonly string[], target: string): { owners: Record<string, string> } {
    const owners: Record<string, string> = {};
    const store = this.node.store;
    for (const id of refIds) {
      if (id in owners) continue;
      const owner = store.ownerOf(id) ?? this.nodeId;
      owners[id] = owner;
      if (owner === target) continue;
      if (owner === this.nodeId) store.addBorrow(id, target, 1);
      else this.send(owner, { borrow: { objectId: id, node: target, delta: 1 } });
    }
    return { owners };
  }

  /** Records the foreign refs of an arriving message (this node now borrows them). */
  private receiveRefs(owners: Record<string, string> | undefined): void {
    if (!owners) return;
    const store = this.node.store;
    for (const id in owners) {
      const owner = owners[id];
      if (owner !== this.nodeId) store.addBorrowed(id, owner);
    }
  }

  private onPeerBatch(b: PeerBatch__Output): void {
    const from = b.fromNode;
    for (const m of b.messages) {
      try {
        this.onPeerMessage(from, m);
      } catch (err) {
        console.error(`ray-ts: node ${this.nodeId} failed to handle a message from ${from}:`, err);
      }
    }
  }

  private onPeerMessage(from: string, m: PeerMessage__Output): void {
    const sharedAbove = this.node.store.inlineMaxBytes;
    switch (m.msg) {
      case 'executeTask': {
        const x = m.executeTask!;
        this.receiveRefs(x.owners?.owners);
        this.node.executeForwarded(taskFromWire(x.spec!, sharedAbove), from, x.noSpill);
        break;
      }
      case 'spillback': {
        const x = m.spillback!;
        this.release(from, x.taskId);
        this.node.spilledBack(x.taskId, from, x.nodeId);
        break;
      }
      case 'taskDone': {
        const x = m.taskDone!;
        this.receiveRefs(x.owners?.owners);
        const results: ResultValue[] = x.results.map((v) =>
          v.t === 'remote' ? { t: 'remote', location: v.location, size: v.size } : valueFromWire(v, sharedAbove),
        );
        this.release(from, x.taskId);
        if (this.node.onRemoteTaskDone(x.taskId, results, x.ms || undefined)) break;
        const call = this.remoteCalls.get(x.taskId);
        if (call) {
          this.remoteCalls.delete(x.taskId);
          this.callAttempts.delete(x.taskId);
          call.returnIds.forEach((id, i) => this.node.storeResult(id, results[i] ?? results[0]));
          this.node.unpinArgs(call.args);
        }
        break;
      }
      case 'createActor': {
        const x = m.createActor!;
        this.receiveRefs(x.owners?.owners);
        this.node.createLocalActor(actorFromWire(x.spec!, sharedAbove));
        break;
      }
      case 'actorCall': {
        const x = m.actorCall!;
        this.receiveRefs(x.owners?.owners);
        this.node.executeForwardedCall(actorCallFromWire(x.spec!, sharedAbove), from);
        break;
      }
      case 'killActor':
        void this.node.killActor(m.killActor!.actorId, m.killActor!.noRestart);
        break;
      case 'cancelTask':
        void this.node.cancel(`${m.cancelTask!.taskId}.0`, m.cancelTask!.force, m.cancelTask!.recursive);
        break;
      case 'borrow':
        this.node.store.addBorrow(m.borrow!.objectId, m.borrow!.node, m.borrow!.delta);
        break;
      case 'freeObjects':
        for (const id of m.freeObjects!.objectIds) this.node.store.dropCopy(id);
        break;
      case 'collective': {
        const x = m.collective!;
        this.node.deliverCollective(x.actorId, x.key, x.dtype, x.data, true);
        break;
      }
    }
  }

  /** Where actors that get collective messages from here live (looked up once in the GCS). */
  private readonly collectiveNodes = new Map<string, Promise<string | undefined>>();

  /** Sends a collective message to actor `to` on its node (retried while the actor is not placed yet). */
  sendCollective(to: string, key: string, dtype: string, data: ArrayBufferView, tries = 0): void {
    let where = this.collectiveNodes.get(to);
    if (!where) {
      const known = this.remoteActors.get(to)?.node;
      where = known
        ? Promise.resolve(known)
        : unary<unknown, { found: boolean; actor: ActorInfo__Output | null }>(this.gcs, 'GetActor', {
            actorId: to,
          }).then(
            (r) => (r.found && r.actor?.nodeId && r.actor.state !== 'DEAD' ? r.actor.nodeId : undefined),
            () => undefined,
          );
      this.collectiveNodes.set(to, where);
    }
    void where.then((nodeId) => {
      if (!nodeId) {
        this.collectiveNodes.delete(to);
        if (tries < 600 && !this.stopped)
          setTimeout(() => this.sendCollective(to, key, dtype, data, tries + 1), 50).unref();
        return;
      }
      if (nodeId !== this.nodeId)
        this.send(nodeId, {
          collective: { actorId: to, key, dtype, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) },
        });
    });
  }

  // ---------------------------------------------------------------- placement
  private estimate(n: NodeInfo__Output): Record<string, number> {
    const est = { ...n.resourcesAvailable };
    for (const d of n.load) for (const k in d.shape) est[k] = (est[k] ?? 0) - d.shape[k] * d.count;
    const since = this.sinceView.get(n.nodeId);
    if (since) for (const k in since) est[k] = (est[k] ?? 0) - since[k];
    const sent = this.actorCharges.get(n.nodeId);
    if (sent) {
      const now = Date.now();
      for (const c of sent)
        if (now - c.at < 2_000) for (const k in c.resources) est[k] = (est[k] ?? 0) - c.resources[k];
    }
    return est;
  }

  private executors(): NodeInfo__Output[] {
    return [...this.view.values()].filter((n) => n.state === 'ALIVE' && !n.isDriver);
  }

  private static fits(req: ResourceSet, have: Record<string, number>): boolean {
    for (const k in req) if (!isGroupResource(k) && (have[k] ?? 0) + EPS < req[k]) return false;
    return true;
  }

  infeasible(resources: ResourceSet): { name: string; requested: number; total: number } | undefined {
    const nodes = this.executors();
    if (nodes.some((n) => ClusterNode.fits(resources, n.resourcesTotal))) return undefined;
    if (this.potential.some((t) => ClusterNode.fits(resources, t))) return undefined; // the autoscaler can add one
    for (const [name, amount] of Object.entries(resources)) {
      if (isGroupResource(name)) continue;
      const best = Math.max(0, ...nodes.map((n) => n.resourcesTotal[name] ?? 0));
      if (amount > best + EPS) return { name, requested: amount, total: best };
    }
    return { name: Object.keys(resources)[0] ?? 'CPU', requested: 0, total: 0 };
  }

  place(
    resources: ResourceSet,
    strategy: SchedulingStrategySpec | undefined,
    localFits: boolean,
  ): string | { error: string } | { wait: string } {
    const me = this.nodeId;
    const local = this.node.executes;
    if (strategy?.type === 'PLACEMENT_GROUP') {
      const g = this.groups.get(strategy.placementGroupId);
      if (!g || g.state !== 'CREATED') return { error: `placement group ${strategy.placementGroupId} is not created` };
      if (strategy.bundleIndex >= 0) return g.bundleNodes[strategy.bundleIndex];
      if (g.bundleNodes.includes(me) && localFits) return me;
      const withRoom = g.bundleNodes.find((id) => {
        const n = this.view.get(id);
        return n && ClusterNode.fits(resources, this.estimate(n));
      });
      return withRoom ?? g.bundleNodes[this.spreadNext++ % g.bundleNodes.length];
    }
    const nodes = this.executors().filter((n) => ClusterNode.fits(resources, n.resourcesTotal));
    if (strategy?.type === 'NODE_AFFINITY') {
      const n = this.view.get(strategy.nodeId);
      if (n && n.state === 'ALIVE' && !n.isDriver && ClusterNode.fits(resources, n.resourcesTotal)) return n.nodeId;
      if (!strategy.soft) {
        return {
          error: `Hard node affinity to node ${strategy.nodeId}, which is ${!n ? 'not in the cluster' : n.state !== 'ALIVE' ? 'dead' : n.isDriver ? 'a driver, not a node' : `too small for ${JSON.stringify(resources)}`}. Use soft: true to run it elsewhere.`,
        };
      }
    }
    if (!nodes.length) {
      if (this.potential.some((t) => ClusterNode.fits(resources, t)))
        return { wait: 'for a node the autoscaler may start' };
      return { error: `No live node can run work needing ${JSON.stringify(resources)}.` };
    }
    const withRoom = (n: NodeInfo__Output) =>
      n.nodeId === me ? localFits : ClusterNode.fits(resources, this.estimate(n));
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
      if (local && localFits) return me;
      const pref = this.preferredNode ? nodes.find((n) => n.nodeId === this.preferredNode) : undefined;
      if (pref && withRoom(pref)) pick = pref;
      pick ??= nodes.filter((n) => n.nodeId !== me && withRoom(n)).sort((a, b) => this.load(a) - this.load(b))[0];
      if (!pick && local && nodes.some((n) => n.nodeId === me)) return me;
      pick ??= nodes.sort((a, b) => this.load(a) - this.load(b))[0];
    }
    return pick.nodeId;
  }

  private load(n: NodeInfo__Output): number {
    return (this.outstanding.get(n.nodeId)?.CPU ?? 0) / Math.max(1, n.resourcesTotal.CPU ?? 1);
  }

  private charge(nodeId: string, resources: ResourceSet, sign: number): void {
    for (const map of sign > 0 ? [this.outstanding, this.sinceView] : [this.outstanding]) {
      let r = map.get(nodeId);
      if (!r) map.set(nodeId, (r = {}));
      for (const k in resources) r[k] = (r[k] ?? 0) + sign * resources[k];
    }
  }

  private readonly charged = new Map<string, ResourceSet>();

  private release(nodeId: string, taskId: string): void {
    const r = this.charged.get(taskId);
    if (!r) return;
    this.charged.delete(taskId);
    this.charge(nodeId, r, -1);
  }

  forwardTask(nodeId: string, spec: TaskSpec, noSpill: boolean): void {
    this.charged.set(spec.taskId, spec.resources);
    this.charge(nodeId, spec.resources, 1);
    const wire = taskToWire(spec.jobId ? spec : { ...spec, jobId: this.node.jobId });
    this.send(nodeId, { executeTask: { spec: wire, owners: this.owners(argRefs(spec.args), nodeId), noSpill } });
  }

  spillTarget(resources: ResourceSet, except: string): string | undefined {
    const pick = this.executors()
      .filter((n) => n.nodeId !== this.nodeId && n.nodeId !== except && ClusterNode.fits(resources, this.estimate(n)))
      .sort((a, b) => this.load(a) - this.load(b))[0];
    if (!pick) return undefined;
    // Counts as taken there until the next view, so one free CPU draws one task, not the queue.
    let r = this.sinceView.get(pick.nodeId);
    if (!r) this.sinceView.set(pick.nodeId, (r = {}));
    for (const k in resources) r[k] = (r[k] ?? 0) + resources[k];
    return pick.nodeId;
  }

  spillBack(origin: string, taskId: string, nodeId: string): void {
    this.send(origin, { spillback: { taskId, nodeId } });
  }

  isAlive(nodeId: string): boolean {
    return this.view.get(nodeId)?.state === 'ALIVE';
  }

  cancelRemote(nodeId: string, taskId: string, force: boolean, recursive: boolean): void {
    this.send(nodeId, { cancelTask: { taskId, force, recursive } });
  }

  sendTaskDone(
    origin: string,
    taskId: string,
    results: StoredValue[],
    producer: WorkerHandle | undefined,
    ms: number | undefined,
  ): void {
    const store = this.node.store;
    const inlineMax = this.node.store.inlineMaxBytes;
    const wire: PValue[] = [];
    const refs: string[] = [];
    results.forEach((v, i) => {
      const size = v.t === 'v8' || v.t === 'raw' ? v.b.byteLength : 0;
      if (size > inlineMax && this.view.get(origin)?.state === 'ALIVE') {
        // Large: stays here as a copy for its owner, which pulls it when someone reads it.
        const id = `${taskId}.${i}`;
        store.put(id, v, producer);
        store.markCopy(id, origin);
        wire.push({ t: 'remote', location: this.nodeId, size });
      } else {
        wire.push(valueToWire(v));
      }
      refs.push(...nestedRefs(v));
    });
    this.send(origin, { taskDone: { taskId, results: wire, owners: this.owners(refs, origin), ms: ms ?? 0 } });
  }

  // ---------------------------------------------------------------- objects
  pull(ids: string[]): Promise<void> {
    return Promise.all(
      ids.map((id) => {
        let p = this.pulls.get(id);
        if (!p) {
          p = this.pullOne(id).finally(() => this.pulls.delete(id));
          this.pulls.set(id, p);
        }
        return p;
      }),
    ).then(() => undefined);
  }

  private async pullOne(id: string): Promise<void> {
    const store = this.node.store;
    for (let hop = 0; hop < 16; hop++) {
      if (!store.has(id) || store.isLocal(id)) return;
      // Being made (again, if its node died): wait for it first.
      if (!store.isReady(id)) await new Promise<void>((r) => store.onReady(id, r));
      let source = store.remoteSource(id);
      if (!source) continue;
      try {
        for (let redirects = 0; source && redirects < 8; redirects++) {
          if (!store.has(id) || store.isLocal(id)) return;
          source = await this.pullFrom(source, id);
        }
        if (!source) return;
      } catch (err) {
        // The node stopped answering: wait until the cluster knows whether it died (then the
        // owner makes the object again, or says it is lost), and try again.
        if (!(err instanceof PeerUnreachable)) throw err;
        const down = err.node;
        const known = await this.waitForView((v) => v.get(down)?.state !== 'ALIVE', 60_000);
        if (!known)
          throw new ObjectLostError(
            `Object ${id} could not be fetched: node ${down} stopped answering (${err.message}).`,
            { objectId: id, nodeId: down },
          );
        await new Promise((r) => setTimeout(r, 10)); // the owner reacts to the same view change
      }
    }
    if (store.has(id) && !store.isLocal(id)) {
      throw new ObjectLostError(
        `Object ${id} could not be fetched: no node holds its bytes (owner ${store.ownerOf(id) ?? this.nodeId}).`,
        { objectId: id, nodeId: this.nodeId },
      );
    }
  }

  /** Pulls one object from a node; resolves with a node to try next if it redirects. */
  private pullFrom(source: string, id: string): Promise<string | undefined> {
    const st = this.view.get(source)?.state;
    if (st && st !== 'ALIVE') {
      return Promise.reject(
        new ObjectLostError(
          `Object ${id} is lost: its bytes were on node ${source}, which is gone, and it cannot be made again ` +
            `(an actor method made it, it was put there, or the retries of the task that made it are used up: raise maxRetries).`,
          { objectId: id, nodeId: source },
        ),
      );
    }
    const c = this.client(source);
    if (!c) {
      return this.waitForView((v) => v.has(source), 5_000).then((ok) => {
        if (!ok)
          throw new ObjectLostError(`Object ${id} is on node ${source}, which is not in the cluster.`, {
            objectId: id,
            nodeId: this.nodeId,
          });
        return source;
      });
    }
    const inlineMax = this.node.store.inlineMaxBytes;
    return new Promise((resolve, reject) => {
      const call = c.Pull({ objectId: id, requester: this.nodeId });
      let header: PValue | undefined;
      let owners: Record<string, string> | undefined;
      let buf: Uint8Array | undefined;
      let off = 0;
      let redirect: string | undefined;
      let faults: Prefault | undefined;
      call.on('data', (ch: ObjectChunk__Output) => {
        if (!header) {
          header = ch.header!;
          owners = ch.owners?.owners;
          if (header.t === 'remote') {
            redirect = header.location as string;
            return;
          }
          const size = Number(header.size ?? 0);
          if (header.t === 'v8' || header.t === 'raw')
            buf = size > inlineMax ? new Uint8Array(allocShared(size)) : new Uint8Array(size);
          if (buf && size >= PREFAULT_ABOVE) faults = prefault(buf.buffer as SharedArrayBuffer);
        }
        if (buf && ch.data.length) {
          ch.data.copy(buf, off); // Buffer.copy: Uint8Array.set from a Buffer takes a slow path (~0.3 GB/s)
          off += ch.data.length;
          faults?.advance(off);
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        reject(
          err.code === grpc.status.NOT_FOUND
            ? new ObjectLostError(`Object ${id} is lost: ${err.details}`, { objectId: id, nodeId: source })
            : new PeerUnreachable(source, err.details || err.message),
        );
      });
      call.on('end', () => {
        if (redirect) {
          resolve(redirect);
          return;
        }
        if (!header) {
          reject(new ObjectLostError(`Object ${id}: node ${source} sent nothing.`, { objectId: id, nodeId: source }));
          return;
        }
        this.receiveRefs(owners);
        const h = header;
        const value: StoredValue = buf
          ? h.t === 'raw'
            ? { t: 'raw', ctor: h.ctor as never, b: buf }
            : { t: 'v8', b: buf, ...(h.refs?.length ? { refs: h.refs } : {}), ...(h.special ? { special: true } : {}) }
          : valueFromWire(
              { ...(h as object), data: Buffer.from((h.data ?? new Uint8Array(0)) as Uint8Array) } as PValueOut,
              inlineMax,
            );
        this.node.store.fillPulled(id, value);
        resolve(undefined);
      });
    });
  }

  /** Serves a Pull: the header, then the bytes in chunks (flow control bounds what is in flight). */
  private async servePull(
    call: grpc.ServerWritableStream<{ objectId: string; requester: string }, ObjectChunk>,
  ): Promise<void> {
    const { objectId: id, requester } = call.request;
    const store = this.node.store;
    if (store.has(id) && !store.isReady(id)) await new Promise<void>((r) => store.onReady(id, r));
    if (!store.has(id)) {
      call.emit('error', {
        code: grpc.status.NOT_FOUND,
        details: `node ${this.nodeId} has no object ${id} (it was freed, or never existed)`,
      });
      return;
    }
    if (!store.isLocal(id)) {
      const src = store.remoteSource(id);
      if (!src || src === requester) {
        call.emit('error', {
          code: grpc.status.NOT_FOUND,
          details: `node ${this.nodeId} knows object ${id} but holds no copy`,
        });
        return;
      }
      call.write({ header: { t: 'remote', location: src } });
      call.end();
      return;
    }
    const v = store.getForTransfer(id)!;
    const owners = this.owners(nestedRefs(v), requester);
    if (v.t === 'js' || v.t === 'err') {
      call.write({ header: valueToWire(v), owners });
      call.end();
      return;
    }
    const b = v.b;
    call.write({
      header: {
        t: v.t,
        size: b.byteLength,
        ctor: v.t === 'raw' ? v.ctor : '',
        refs: v.t === 'v8' ? (v.refs ?? []) : [],
        special: v.t === 'v8' && !!v.special,
      },
      owners,
    });
    // Pinned while streaming: freed now, its bytes could be reused for another object mid-stream.
    store.pin(id);
    try {
      for (let off = 0; off < b.byteLength; off += CHUNK) {
        const chunk = Buffer.from(b.buffer as ArrayBuffer, b.byteOffset + off, Math.min(CHUNK, b.byteLength - off));
        if (!call.write({ data: chunk })) await drained(call);
        if (call.cancelled) return;
      }
      call.end();
    } finally {
      store.unpin(id);
    }
  }

  // ---------------------------------------------------------------- actors
  group(id: string): GroupState | undefined {
    return this.groups.get(id);
  }

  /** Waits until the group is created, removed or infeasible (for pg.ready()). */
  async waitGroup(id: string, timeoutMs: number): Promise<GroupState | undefined> {
    const known = this.groups.get(id);
    if (known && known.state !== 'PENDING') return known;
    const info = await unary<unknown, PlacementGroupInfo__Output>(
      this.gcs,
      'WaitPlacementGroup',
      { placementGroupId: id, timeoutMs },
      timeoutMs > 0 ? timeoutMs + 5_000 : 24 * 3600_000,
    );
    this.onGroup(info);
    return this.groups.get(id);
  }

  /** Asks the GCS to place a group (pg.ready() waits for it). */
  async createGroup(g: GroupState): Promise<void> {
    this.groups.set(g.id, g);
    const info = await unary<unknown, PlacementGroupInfo__Output>(this.gcs, 'CreatePlacementGroup', {
      placementGroupId: g.id,
      name: g.name,
      strategy: g.strategy,
      bundles: g.bundles.map((b) => ({ resources: b })),
      jobId: this.node.jobId,
      namespace: this.node.namespace,
    });
    this.onGroup(info);
  }

  async removeGroup(id: string): Promise<void> {
    await unary(this.gcs, 'RemovePlacementGroup', { placementGroupId: id });
    const g = this.groups.get(id);
    if (g) {
      g.state = 'REMOVED';
      this.node.groupChanged(id);
    }
  }

  async listGroups(): Promise<GroupState[]> {
    const r = await unary<unknown, { placementGroups: PlacementGroupInfo__Output[] }>(
      this.gcs,
      'ListPlacementGroups',
      {},
    );
    return r.placementGroups.map(groupFromInfo).filter((g): g is GroupState => g !== undefined);
  }

  createActor(spec: ActorCreationSpec): void {
    const o = spec.options;
    spec = spec.jobId ? spec : { ...spec, jobId: this.node.jobId };
    const ra = remoteActor(spec.actorId, undefined, true);
    this.remoteActors.set(spec.actorId, ra);
    this.node.pinArgs(spec.args);
    const namespace = o.namespace ?? this.node.namespace;
    const register = o.name
      ? unary<unknown, { ok: boolean; existing: ActorInfo__Output | null }>(
          this.gcs,
          'RegisterActor',
          this.actorInfo(spec, namespace, ''),
        )
      : Promise.resolve({ ok: true, existing: null });
    register.then(
      (r) => {
        if (!r.ok && r.existing) {
          if (o.getIfExists) {
            ra.realId = r.existing.actorId;
            this.node.unpinArgs(spec.args);
            this.actorLocated(ra, r.existing.nodeId);
            return;
          }
          this.node.unpinArgs(spec.args);
          this.actorGone(
            ra,
            `an actor named '${o.name}' already exists in namespace '${namespace}'. Use getActor('${o.name}') to get it, pick another name, or pass getIfExists: true`,
          );
          return;
        }
        this.placeActor(spec, ra, namespace);
      },
      (err: Error) => {
        this.node.unpinArgs(spec.args);
        this.actorGone(ra, `the GCS could not register it (${err.message})`);
      },
    );
  }

  private actorInfo(spec: ActorCreationSpec, namespace: string, nodeId: string): ActorInfo__Output {
    const o = spec.options;
    return {
      actorId: spec.actorId,
      name: o.name ?? '',
      namespace,
      className: spec.className,
      nodeId,
      ownerNodeId: this.nodeId,
      jobId: spec.jobId ?? this.node.jobId,
      state: 'PENDING',
      detached: o.detached,
      methods: spec.methods,
      numRestarts: 0,
      maxTaskRetries: o.maxTaskRetries,
      deathCause: '',
      resources: o.resources as Record<string, number>,
      placementGroupId: o.strategy?.type === 'PLACEMENT_GROUP' ? o.strategy.placementGroupId : '',
    };
  }

  /** Actors kept by their owner until some node has room: each retry returns true once done. */
  private parked: (() => boolean)[] = [];
  private readonly parkedActors = new Set<string>();
  private parkTimer: NodeJS.Timeout | undefined;

  private park(retry: () => boolean): void {
    this.parked.push(retry);
    if (this.parkTimer) return;
    this.parkTimer = setInterval(() => this.retryParked(), 50);
    this.parkTimer.unref();
  }

  private retryParked(): void {
    const ps = this.parked;
    this.parked = [];
    for (const p of ps) if (!p()) this.parked.push(p);
    if (!this.parked.length && this.parkTimer) {
      clearInterval(this.parkTimer);
      this.parkTimer = undefined;
    }
  }

  private roomOn(nodeId: string, resources: ResourceSet): boolean {
    const n = this.view.get(nodeId);
    return !!n && ClusterNode.fits(resources, this.estimate(n));
  }

  private roomSomewhere(resources: ResourceSet): boolean {
    if (this.node.executes && this.node.fitsBesideQueuedActors(resources)) return true;
    return this.executors().some((n) => n.nodeId !== this.nodeId && ClusterNode.fits(resources, this.estimate(n)));
  }

  /** Places an actor (`queueOn`: on that node, without room there now, after waiting with its owner). */
  private placeActor(spec: ActorCreationSpec, ra: RemoteActor, namespace: string, queueOn?: string): void {
    const o = spec.options;
    if (o.strategy?.type === 'PLACEMENT_GROUP') {
      const g = this.groups.get(o.strategy.placementGroupId);
      if (!g || g.state === 'PENDING') {
        const ws = this.groupWaiters.get(o.strategy.placementGroupId) ?? [];
        ws.push(() => this.placeActor(spec, ra, namespace));
        this.groupWaiters.set(o.strategy.placementGroupId, ws);
        if (!g) void this.waitGroup(o.strategy.placementGroupId, 0).catch(() => {});
        return;
      }
    }
    const missing = o.strategy?.type === 'PLACEMENT_GROUP' ? undefined : this.infeasible(o.resources);
    const localFits = this.node.executes && this.node.fitsBesideQueuedActors(o.resources);
    const target = missing
      ? {
          error: `Actor '${spec.className}' (${spec.actorId}) asks for ${JSON.stringify(o.resources)}, but no node can ever satisfy it: it needs ${missing.requested} ${missing.name} and the largest node has ${missing.total}.`,
        }
      : (queueOn ?? this.place(o.resources, o.strategy, localFits));
    if (typeof target !== 'string' && 'wait' in target) {
      // Waits for a node the autoscaler starts for it (its shape is part of this node's load).
      this.waitingActors.set(spec.actorId, { ...o.resources });
      this.waitForView(
        () => this.executors().some((n) => ClusterNode.fits(o.resources, n.resourcesTotal)),
        24 * 3600_000,
      ).then(
        () => {
          this.waitingActors.delete(spec.actorId);
          this.placeActor(spec, ra, namespace);
        },
        () => {},
      );
      return;
    }
    if (typeof target !== 'string') {
      this.node.unpinArgs(spec.args);
      this.actorGone(ra, target.error);
      void unary(this.gcs, o.name ? 'UpdateActor' : 'RegisterActor', {
        ...this.actorInfo(spec, namespace, ''),
        state: 'DEAD',
        deathCause: target.error,
      }).catch(() => {});
      return;
    }
    // As Ray's GCS keeps pending actors until a node has room, the owner keeps an actor that fits
    // nowhere now (rather than queueing it on one busy node while another frees up); it is placed
    // at the first view or local release that shows room. Its shape counts as this node's load.
    // Nodes kept busy by a stream of tasks may never show room in a view: after a second it queues
    // on a node with tasks waiting, to take its turn among them (nodes held by actors it waits out).
    const placed = o.strategy?.type === 'PLACEMENT_GROUP' || o.strategy?.type === 'NODE_AFFINITY';
    if (!placed && !queueOn && !(target === this.nodeId ? localFits : this.roomOn(target, o.resources))) {
      this.waitingActors.set(spec.actorId, { ...o.resources });
      this.parkedActors.add(spec.actorId);
      const since = Date.now();
      this.park(() => {
        if (!this.parkedActors.has(spec.actorId) || this.stopped) return true;
        let busy: string | undefined;
        if (!this.roomSomewhere(o.resources)) {
          if (Date.now() - since < 1000) return false;
          busy = this.executors().find(
            (n) => ClusterNode.fits(o.resources, n.resourcesTotal) && n.load.some((l) => l.count > 0),
          )?.nodeId;
          if (!busy) return false;
        }
        this.parkedActors.delete(spec.actorId);
        this.waitingActors.delete(spec.actorId);
        this.placeActor(spec, ra, namespace, busy);
        return true;
      });
      return;
    }
    const info = { ...this.actorInfo(spec, namespace, target) };
    if (target === this.nodeId) {
      this.remoteActors.delete(spec.actorId);
      ra.creating = false;
      this.node.createLocalActor(spec);
      this.node.unpinArgs(spec.args);
      for (const call of ra.queue) this.handOver(call, spec.actorId);
      ra.queue = [];
    } else {
      // Until that node reports it, the actor's resources count as taken there (so the next one goes elsewhere).
      if (o.strategy?.type !== 'PLACEMENT_GROUP') {
        const sent = this.actorCharges.get(target) ?? [];
        this.actorCharges.set(target, [
          ...sent.filter((c) => Date.now() - c.at < 2_000),
          { resources: o.resources, at: Date.now() },
        ]);
      }
      this.send(target, { createActor: { spec: actorToWire(spec), owners: this.owners(argRefs(spec.args), target) } });
      if (!this.owned.has(spec.actorId)) {
        // Kept to restart it elsewhere: the arguments stay pinned while it may restart.
        const pinned = spec.options.maxRestarts !== 0;
        this.owned.set(spec.actorId, { spec, namespace, restarts: 0, pinned });
        if (!pinned) this.node.unpinArgs(spec.args);
      }
      this.actorLocated(ra, target);
    }
    void unary(this.gcs, o.name ? 'UpdateActor' : 'RegisterActor', info).catch(() => {});
  }

  private actorLocated(ra: RemoteActor, nodeId: string): void {
    ra.creating = false;
    ra.node = nodeId;
    const q = ra.queue;
    ra.queue = [];
    for (const call of q) this.sendCall(ra, call);
  }

  private actorGone(ra: RemoteActor, cause: string): void {
    ra.creating = false;
    ra.dead = cause;
    this.disown(ra.realId);
    const q = ra.queue;
    ra.queue = [];
    for (const call of q) this.failCall(call, cause);
  }

  /** This node will not restart the actor again: its constructor arguments can go. */
  private disown(actorId: string): void {
    const own = this.owned.get(actorId);
    if (!own) return;
    this.owned.delete(actorId);
    if (own.pinned) this.node.unpinArgs(own.spec.args);
  }

  /**
   * The node of an actor this node calls died. Its creator restarts it elsewhere while
   * maxRestarts lasts (with the constructor's arguments it kept); other callers find the new
   * place in the GCS. Calls the death interrupted run again while maxTaskRetries lasts.
   */
  private actorNodeLost(ra: RemoteActor, nodeId: string, why: string): void {
    const cause = `its node ${nodeId} ${why}`;
    const own = this.owned.get(ra.realId);
    const inflight = [...this.remoteCalls.values()].filter((c) => this.remoteActors.get(c.actorId) === ra);
    const restart = own ? own.spec.options.maxRestarts === -1 || own.restarts < own.spec.options.maxRestarts : true;
    if (!restart) {
      for (const call of inflight)
        this.failCall(
          call,
          `${cause}, and it was restarted ${own!.restarts} times (maxRestarts ${own!.spec.options.maxRestarts})`,
        );
      this.actorGone(ra, cause);
      void unary(this.gcs, 'UpdateActor', { actorId: ra.realId, state: 'DEAD', deathCause: cause }).catch(() => {});
      return;
    }
    const maxTaskRetries = own ? own.spec.options.maxTaskRetries : ra.maxTaskRetries;
    ra.node = undefined;
    const retry: ActorTaskSpec[] = [];
    for (const call of inflight) {
      const attempts = this.callAttempts.get(call.taskId) ?? 1;
      if (maxTaskRetries === -1 || attempts <= maxTaskRetries) retry.push(call);
      else this.failCall(call, `${cause} while it ran this call, and maxTaskRetries is ${maxTaskRetries}`);
    }
    ra.queue.unshift(...retry);
    if (!own) {
      this.lookUp(ra, ra.realId, 0, nodeId);
      return;
    }
    own.restarts++;
    ra.creating = true;
    const o = own.spec.options;
    void unary(this.gcs, 'UpdateActor', {
      actorId: ra.realId,
      state: 'RESTARTING',
      numRestarts: own.restarts,
      deathCause: cause,
    }).catch(() => {});
    // The new instance may restart locally (worker crashes) only within what is left.
    const left = o.maxRestarts === -1 ? -1 : o.maxRestarts - own.restarts;
    this.placeActor({ ...own.spec, options: { ...o, maxRestarts: left } }, ra, own.namespace);
  }

  private failCall(call: ActorTaskSpec, cause: string): void {
    this.remoteCalls.delete(call.taskId);
    this.callAttempts.delete(call.taskId);
    const err = storedError(
      errorToWire(
        new ActorDiedError(`Actor ${call.actorId} cannot run ${call.name}: ${cause}.`, {
          actorId: call.actorId,
          taskId: call.taskId,
        }),
      ),
    );
    for (const id of call.returnIds) this.node.storeResult(id, err);
    this.node.unpinArgs(call.args);
  }

  /** A call queued here for an actor that turned out to live on this node: its actor table takes it. */
  private handOver(call: ActorTaskSpec, realId: string): void {
    this.remoteCalls.delete(call.taskId);
    this.callAttempts.delete(call.taskId);
    // The actor table pins the arguments itself and fills the result entries made at submission.
    this.node.submitActorTask(call.actorId === realId ? call : { ...call, actorId: realId });
    this.node.unpinArgs(call.args);
  }

  private sendCall(ra: RemoteActor, call: ActorTaskSpec): void {
    const spec = call.actorId === ra.realId ? call : { ...call, actorId: ra.realId };
    if (ra.node === this.nodeId) {
      if (this.node.hostsActor(ra.realId)) this.handOver(call, ra.realId);
      else this.failCall(call, `it is not on node ${this.nodeId}, where the cluster's actor table says it is`);
      return;
    }
    this.callAttempts.set(call.taskId, (this.callAttempts.get(call.taskId) ?? 0) + 1);
    this.send(ra.node!, {
      actorCall: { spec: actorCallToWire(spec), owners: this.owners(argRefs(call.args), ra.node!) },
    });
  }

  submitActorTask(spec: ActorTaskSpec): void {
    for (const id of spec.returnIds) this.node.store.createPending(id);
    this.node.pinArgs(spec.args);
    this.remoteCalls.set(spec.taskId, spec);
    let ra = this.remoteActors.get(spec.actorId);
    if (!ra) {
      ra = remoteActor(spec.actorId);
      this.remoteActors.set(spec.actorId, ra);
    }
    if (ra.dead) {
      const cause = ra.dead;
      queueMicrotask(() => this.failCall(spec, cause));
      return;
    }
    if (ra.node === undefined) {
      ra.queue.push(spec);
      if (!ra.lookingUp && !ra.creating) this.lookUp(ra, spec.actorId);
      return;
    }
    this.sendCall(ra, spec);
  }

  /** Finds where an actor lives in the GCS (`avoid`: a node it just died on; wait for its restart). */
  private lookUp(ra: RemoteActor, actorId: string, tries = 0, avoid?: string): void {
    ra.lookingUp = true;
    unary<unknown, { found: boolean; actor: ActorInfo__Output | null }>(this.gcs, 'GetActor', { actorId }).then(
      (r) => {
        if (r.found && r.actor) ra.maxTaskRetries = r.actor.maxTaskRetries;
        const moved = r.found && r.actor && r.actor.nodeId && (r.actor.nodeId !== avoid || r.actor.state === 'DEAD');
        // After a death, only an instance that is up (or a final death) ends the search.
        if (
          moved &&
          (avoid ? r.actor!.state === 'ALIVE' || r.actor!.state === 'DEAD' : r.actor!.state !== 'RESTARTING')
        ) {
          ra.lookingUp = false;
          if (r.actor!.state === 'DEAD') this.actorGone(ra, `it died (${r.actor!.deathCause || 'unknown cause'})`);
          else this.actorLocated(ra, r.actor!.nodeId);
        } else if (tries < 200 && (r.found || tries < 20)) {
          setTimeout(() => this.lookUp(ra, actorId, tries + 1, avoid), 50).unref();
        } else {
          ra.lookingUp = false;
          this.actorGone(ra, 'it is unknown to this cluster (never created, or forgotten)');
        }
      },
      (err: Error) => {
        ra.lookingUp = false;
        this.actorGone(ra, `the GCS could not be asked where it is (${err.message})`);
      },
    );
  }

  async killActor(actorId: string, noRestart: boolean): Promise<void> {
    let ra = this.remoteActors.get(actorId);
    if (ra && ra.node === undefined && ra.creating && this.parkedActors.has(ra.realId)) {
      // Kept here until some node has room: it never starts.
      this.parkedActors.delete(ra.realId);
      this.waitingActors.delete(ra.realId);
      this.actorGone(ra, 'it was killed with kill() before a node had room for it');
      return;
    }
    if (!ra || ra.node === undefined) {
      const r = await unary<unknown, { found: boolean; actor: ActorInfo__Output | null }>(this.gcs, 'GetActor', {
        actorId,
      });
      if (!r.found || !r.actor?.nodeId) return;
      ra ??= remoteActor(actorId, r.actor.nodeId);
      ra.node ??= r.actor.nodeId;
      this.remoteActors.set(actorId, ra);
    }
    if (ra.node === this.nodeId) await this.node.killActor(ra.realId, noRestart);
    else this.send(ra.node!, { killActor: { actorId: ra.realId, noRestart } });
    if (noRestart) {
      ra.dead = 'it was killed with kill()';
      this.disown(ra.realId);
    }
  }

  /** Named actors alive in the cluster (from the GCS's actor table). */
  async namedActors(): Promise<{ name: string; namespace: string }[]> {
    const r = await unary<unknown, { actors: ActorInfo__Output[] }>(this.gcs, 'ListActors', {}, 5_000);
    return r.actors.filter((a) => a.name && a.state !== 'DEAD').map((a) => ({ name: a.name, namespace: a.namespace }));
  }

  async getActor(name: string, namespace: string): Promise<ActorHandleData | undefined> {
    for (let i = 0; i < 100; i++) {
      const r = await unary<unknown, { found: boolean; actor: ActorInfo__Output | null }>(this.gcs, 'GetActor', {
        name,
        namespace,
      });
      if (!r.found || !r.actor) return undefined;
      const a = r.actor;
      if (a.nodeId) {
        if (!this.remoteActors.has(a.actorId) && !this.node.hostsActor(a.actorId)) {
          this.remoteActors.set(a.actorId, remoteActor(a.actorId, a.nodeId));
        }
        return { actorId: a.actorId, className: a.className, methods: a.methods };
      }
      await new Promise((r2) => setTimeout(r2, 20)); // being placed
    }
    return undefined;
  }

  actorState(actorId: string, state: 'ALIVE' | 'DEAD' | 'RESTARTING', cause?: string): void {
    void unary(this.gcs, 'UpdateActor', { actorId, state, nodeId: this.nodeId, deathCause: cause ?? '' }).catch(
      () => {},
    );
  }

  async kv(op: KvOp): Promise<unknown> {
    switch (op.k) {
      case 'put':
        return (
          await unary<unknown, { added: boolean }>(this.gcs, 'KvPut', {
            namespace: op.namespace,
            key: op.key,
            value: op.value,
            overwrite: op.overwrite,
          })
        ).added;
      case 'get': {
        const r = await unary<unknown, { found: boolean; value: Buffer }>(this.gcs, 'KvGet', {
          namespace: op.namespace,
          key: op.key,
        });
        return r.found ? new Uint8Array(r.value) : undefined;
      }
      case 'del':
        return (await unary<unknown, { deleted: number }>(this.gcs, 'KvDel', { namespace: op.namespace, key: op.key }))
          .deleted;
      case 'keys':
        return (
          await unary<unknown, { keys: string[] }>(this.gcs, 'KvKeys', { namespace: op.namespace, key: op.prefix })
        ).keys;
    }
  }

  clusterInfo(): ClusterInfo {
    const nodes = this.executors();
    const total: Record<string, number> = {};
    const available: Record<string, number> = {};
    for (const n of nodes) {
      for (const [k, v] of Object.entries(n.resourcesTotal)) total[k] = (total[k] ?? 0) + v;
      for (const [k, v] of Object.entries(n.resourcesAvailable)) available[k] = (available[k] ?? 0) + v;
    }
    return {
      total,
      available,
      nodes: [...this.view.values()]
        .filter((n) => !n.isDriver)
        .map((n) => ({
          nodeId: n.nodeId,
          alive: n.state === 'ALIVE',
          isHead: n.isHead,
          address: n.address,
          resources: n.resourcesTotal,
          objectStoreBytes: Number(n.objectStoreCapacity),
        })),
    };
  }

  // ---------------------------------------------------------------- the node service
  handlers(onStop: () => void): NodeHandlers {
    return {
      Peer: (call) => {
        call.on('data', (b: PeerBatch__Output) => this.onPeerBatch(b));
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
      Pull: (call) => {
        this.servePull(call as never).catch((err: Error) =>
          call.emit('error', { code: grpc.status.INTERNAL, details: err.message }),
        );
      },
      PrepareBundles: (call, cb) => {
        const r = call.request;
        const ok = this.node.reserveBundles(
          r.placementGroupId,
          r.indexes,
          r.bundles.map((b) => b.resources),
        );
        cb(null, { ok, reason: ok ? '' : `node ${this.nodeId} has no room for the bundles now` });
      },
      ReturnBundles: (call, cb) => {
        this.node.returnBundles(call.request.placementGroupId, call.request.indexes);
        cb(null, {});
      },
      GetState: (call, cb) => cb(null, this.state(call.request.kind)),
      Stop: (_call, cb) => {
        cb(null, {});
        setTimeout(onStop, 10);
      },
    };
  }

  private state(kind: string): StateReply {
    const out: StateReply = { tasks: [], objects: [] };
    if (kind === 'tasks' || kind === '') {
      out.tasks = this.node.taskStates().map((t) => ({
        taskId: t.taskId,
        name: t.name,
        state: t.state,
        nodeId: t.nodeId,
        ownerNodeId: t.owner,
        jobId: t.jobId,
        resources: t.resources as Record<string, number>,
        startMs: t.startMs,
        endMs: t.endMs,
        runStartMs: t.runStartMs,
        workerId: t.workerId,
        actorId: t.actorId ?? '',
      }));
    }
    if (kind === 'objects' || kind === '') {
      const store = this.node.store;
      for (const id of store.ids()) {
        const d = store.describe(id);
        if (!d) continue;
        out.objects!.push({
          objectId: id,
          nodeId: this.nodeId,
          ownerNodeId: d.owner ?? this.nodeId,
          size: d.size,
          state: d.state,
          localRefs: d.holders,
          pins: d.pins,
          borrowers: d.borrowers,
        });
      }
    }
    return out;
  }

  /** Leaves the cluster: unregisters, closes streams and channels. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await unary(this.gcs, 'UnregisterNode', { nodeId: this.nodeId }, 2_000).catch(() => {});
    this.subscription?.cancel();
    for (const s of this.outgoing.values()) s.end();
    for (const c of this.clients.values()) c.close();
    this.gcs.close();
  }
}
