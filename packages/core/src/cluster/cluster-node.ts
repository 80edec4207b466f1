/**
 * A node of a multi-node cluster: the node manager plus what joins it to the others, as a facade
 * over these parts, which it wires together and exposes to the node manager as its ports
 * (node/ports.ts):
 * - membership.ts: registration, heartbeats and the cluster view (from the GCS);
 * - placer.ts: placement of owned work across nodes, over the view;
 * - peers.ts: batched messages to other nodes, borrow counting of the refs they carry;
 * - object-transfer.ts: pull-based object transfer in chunks;
 * - remote-actors.ts: actors hosted elsewhere (a state machine), their calls and restarts;
 * - groups.ts: placement groups (kept by the GCS);
 * - log-router.ts: workers' console output, sent to the nodes of their jobs' drivers.
 * A driver connected to a cluster runs one too, with no resources: it owns what it makes and
 * runs nothing.
 */
import * as grpc from '@grpc/grpc-js';
import type { NodeManager } from '../node/node-manager.js';
import type { ClusterPorts, ResultValue } from '../node/ports.js';
import type { ClusterInfo, KvOp, TaskSpec } from '../protocol/specs.js';
import { getLogger, ignored } from '../log.js';
import { gcsActors } from './actors-gcs.js';
import { gcsCallError } from './gcs-writes.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { NodeHandlers } from './generated/raytscore/Node.js';
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { PeerBatch__Output } from './generated/raytscore/PeerBatch.js';
import type { PeerMessage__Output } from './generated/raytscore/PeerMessage.js';
import type { StateReply } from './generated/raytscore/StateReply.js';
import { CollectiveRouter } from './collective-router.js';
import { ClusterGroups } from './groups.js';
import { Membership, type LostNode } from './membership.js';
import { ObjectTransfer } from './object-transfer.js';
import { Peers } from './peers.js';
import { PeerInbox, type InboundPeerStream } from './peer-inbox.js';
import { ClusterPlacer } from './placer.js';
import { JobDrivers, LogRouter } from './log-router.js';
import { gcsClient, nodeClient, unary, VERSION } from './proto.js';
import type { ClusterAuth } from './auth-token.js';
import { boundNode, type MemberDirectory, type MemberIdentity } from './identity.js';
import { RemoteActors } from './remote-actors.js';
import {
  actorCallFromWire,
  actorFromWire,
  argRefs,
  taskFromWire,
  taskToWire,
  valueFromWire,
  workerLogsFromWire,
} from './wire.js';

const log = getLogger('ray-ts.core');

export interface ClusterNodeOptions {
  node: NodeManager;
  gcsAddress: string;
  /** host:port this node's service listens on. */
  address: string;
  isHead: boolean;
  isDriver: boolean;
  /** The node a driver prefers for its work (its local node). */
  preferredNode?: string;
  /** Heartbeat period (default: the node's config). */
  heartbeatMs?: number;
  labels?: Record<string, string>;
  /** The token this node presents to the GCS and its peers (the cluster's). */
  auth: ClusterAuth;
  /** Who this node is to the GCS and its peers (its id and credential, identity.ts). */
  identity: MemberIdentity;
  /** host:port of this node's Prometheus endpoint, published in its NodeInfo ('' or none: off). */
  metricsAddress?: string;
}

export class ClusterNode {
  readonly node: NodeManager;
  readonly nodeId: string;
  readonly address: string;
  private readonly gcs: GcsClient;
  private readonly membership: Membership;
  private readonly placer: ClusterPlacer;
  private readonly peers: Peers;
  private readonly inbox: PeerInbox;
  private readonly transfer: ObjectTransfer;
  private readonly actors: RemoteActors;
  private readonly collectives: CollectiveRouter;
  private readonly groups: ClusterGroups;
  private readonly jobDrivers: JobDrivers;
  private readonly logs: LogRouter;
  /** What the node manager reaches the cluster through. */
  readonly ports: ClusterPorts;
  private stopped = false;
  /** Called when the job of a driver ends (to drop its non-detached actors). */
  onJobFinished: ((jobId: string) => void) | undefined;
  /** Called when the cluster declared this node dead while it ran (see Membership): it must stop. */
  onFenced: (() => void) | undefined;

  constructor(private readonly opts: ClusterNodeOptions) {
    const node = opts.node;
    this.node = node;
    this.nodeId = node.nodeId;
    this.address = opts.address;
    this.gcs = gcsClient(opts.gcsAddress, opts.auth, opts.identity);
    const config = node.config;
    this.membership = new Membership(
      this.gcs,
      {
        nodeId: this.nodeId,
        gcsAddress: opts.gcsAddress,
        heartbeatMs: opts.heartbeatMs ?? config.heartbeatMs,
        resubscribeMs: config.gcsResubscribeMs,
        info: () => this.info(),
      },
      {
        view: (lost, changed) => this.onView(lost, changed),
        viewApplied: () => {
          this.peers.flush();
          node.viewChanged();
        },
        group: (p) => this.groups.onInfo(p),
        actorDead: (a) => this.actors.deadForGood(a),
        job: (j) => this.jobDrivers.jobEvent(j.jobId, j.state, j.driverNodeId),
        jobFinished: (jobId) => this.onJobFinished?.(jobId),
        fenced: () => this.onFenced?.(),
      },
    );
    this.groups = new ClusterGroups(this.gcs, node, (id) => node.groupChanged(id));
    this.placer = new ClusterPlacer(node, this.membership, (id) => this.groups.group(id), config.actorChargeMs);
    this.placer.preferredNode = opts.preferredNode;
    this.peers = new Peers(
      this.nodeId,
      this.membership,
      node.store,
      (address) => nodeClient(address, opts.auth, opts.identity),
      config,
    );
    this.inbox = new PeerInbox(config.peerAckDelayMs);
    this.transfer = new ObjectTransfer(
      this.nodeId,
      node.store,
      this.membership,
      this.peers,
      config.pullMaxObjectBytes,
      (origin) => this.logs.flushTo(origin),
    );
    this.actors = this.remoteActors();
    this.jobDrivers = new JobDrivers(this.membership);
    this.logs = new LogRouter(this.jobDrivers, (nodeId, msg) => this.peers.send(nodeId, msg), config);
    this.collectives = new CollectiveRouter(
      this.nodeId,
      config,
      gcsActors(this.gcs),
      this.actors,
      (nodeId, msg) => this.peers.send(nodeId, msg),
      () => this.stopped,
    );
    const placer = this.placer;
    this.ports = {
      placer,
      peers: {
        forwardTask: (nodeId, spec, noSpill) => this.forwardTask(nodeId, spec, noSpill),
        spillBack: (origin, taskId, nodeId) => this.peers.send(origin, { spillback: { taskId, nodeId } }),
        cancelRemote: (nodeId, taskId, force, recursive) =>
          this.peers.send(nodeId, { cancelTask: { taskId, force, recursive } }),
        sendTaskDone: (origin, taskId, results, producer, ms) =>
          this.transfer.sendTaskDone(origin, taskId, results, producer, ms),
        pull: (ids) => this.transfer.pull(ids),
        sendCollective: (to, key, dtype, data) => this.collectives.sendCollective(to, key, dtype, data),
      },
      actors: this.actors,
      groups: this.groups,
      directory: { clusterInfo: () => this.clusterInfo(), kv: (op) => this.kv(op) },
      logs: { forwardLog: (jobId, line) => this.logs.forward(jobId, line) },
    };
    node.store.onReleaseBorrow = (id, owner, count) =>
      this.peers.send(owner, { borrow: { objectId: id, node: this.nodeId, delta: -count } });
    node.store.onFreeRemote = (id, location) => this.peers.send(location, { freeObjects: { objectIds: [id] } });
  }

  private remoteActors(): RemoteActors {
    const node = this.node;
    const isStopped = () => this.stopped;
    return new RemoteActors({
      nodeId: this.nodeId,
      jobId: node.jobId,
      namespace: node.namespace,
      executes: node.executes,
      config: node.config,
      gcs: gcsActors(this.gcs, isStopped),
      pinArgs: (args) => node.pinArgs(args),
      unpinArgs: (args) => node.unpinArgs(args),
      createPending: (ids) => {
        for (const id of ids) node.store.createPending(id);
      },
      storeResult: (id, v) => node.storeResult(id, v),
      createLocalActor: (spec) => node.createLocalActor(spec),
      submitLocalCall: (spec) => node.submitActorTask(spec),
      hostsActor: (id) => node.hostsActor(id),
      killLocalActor: (id, noRestart) => node.killActor(id, noRestart),
      fitsBesideQueuedActors: (r) => node.fitsBesideQueuedActors(r),
      infeasible: (r) => this.placer.infeasible(r),
      place: (spec, localFits) => this.placer.place(spec.options.resources, spec.options.strategy, localFits),
      roomOn: (nodeId, r) => this.placer.roomOn(nodeId, r),
      roomElsewhere: (r) => this.placer.roomElsewhere(r),
      busyNodeFor: (r) => this.placer.busyNodeFor(r),
      actorSent: (nodeId, r) => this.placer.actorSent(nodeId, r),
      waitForNodeFitting: (r) => this.membership.waitForView(() => this.placer.someNodeFits(r), 24 * 3600_000),
      group: (id) => this.groups.group(id),
      whenGroupPlaced: (id, fn, unknown) =>
        this.groups.whenPlaced(
          id,
          fn,
          ignored(`lookup of placement group ${id} (its actors wait for its event)`),
          unknown,
        ),
      send: (nodeId, msg) => this.peers.send(nodeId, msg),
      owners: (refIds, target) => this.peers.owners(refIds, target),
      get stopped() {
        return isStopped();
      },
    });
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
        ...[...this.actors.waiting.values()].map((shape) => ({ shape, count: 1, infeasible: false })),
      ],
      objectStoreUsed: st.usedBytes,
      objectStoreCapacity: st.capacityBytes,
      numObjects: st.numObjects,
      numWorkers: n.debugState().workers,
      jobId: n.jobId,
      labels: this.opts.labels ?? {},
      credentialSha256: this.opts.identity.credentialSha256,
      metricsAddress: this.opts.metricsAddress ?? '',
    };
  }

  /** The members as this node's view has them, to check the identities of calls to its service. */
  readonly members: MemberDirectory = {
    member: (nodeId) => {
      const n = this.membership.get(nodeId);
      return n?.state === 'ALIVE' ? { credentialSha256: n.credentialSha256, isHead: n.isHead } : undefined;
    },
    waitFor: (pred, timeoutMs) => this.membership.waitForView(pred, timeoutMs),
  };

  /** Registers with the GCS and starts heartbeats and the view subscription. */
  start(): Promise<void> {
    return this.membership.start();
  }

  private onView(lost: LostNode[], changed: string[]): void {
    this.placer.viewChanged(changed);
    for (const { nodeId, why, info } of lost) {
      this.forgetPeer(nodeId, why);
      this.jobDrivers.nodeLost(info);
      // A driver that is gone ends its job: its actors that are not detached end with it.
      if (info.isDriver && info.jobId) this.node.killJobActors(info.jobId);
    }
  }

  /** A peer left the cluster: drop what was queued for it and what this node kept on its behalf. */
  private forgetPeer(nodeId: string, why: string): void {
    this.node.store.forgetNode(nodeId);
    this.placer.nodeGone(nodeId);
    this.node.nodeLost(nodeId, why);
    // Its actors are gone with it: restarted elsewhere by their owners, or looked up again.
    this.actors.nodeLost(nodeId, why);
    this.collectives.nodeLost(nodeId);
    this.peers.forget(nodeId);
    this.inbox.forget(nodeId);
  }

  gcsClient(): GcsClient {
    return this.gcs;
  }

  viewNodes(): NodeInfo__Output[] {
    return [...this.membership.nodes()];
  }

  /** The node a driver prefers for its work (the node at the address it connected to). */
  get preferredNode(): string | undefined {
    return this.placer.preferredNode;
  }

  set preferredNode(nodeId: string | undefined) {
    this.placer.preferredNode = nodeId;
  }

  // ---------------------------------------------------------------- peers
  private forwardTask(nodeId: string, spec: TaskSpec, noSpill: boolean): void {
    this.placer.taskSent(nodeId, spec.taskId, spec.resources);
    const wire = taskToWire(spec.jobId ? spec : { ...spec, jobId: this.node.jobId });
    this.peers.send(nodeId, {
      executeTask: { spec: wire, owners: this.peers.owners(argRefs(spec.args), nodeId), noSpill },
    });
  }

  private onPeerBatch(b: PeerBatch__Output): void {
    const from = b.fromNode;
    for (const m of b.messages) {
      try {
        this.onPeerMessage(from, m);
      } catch (err) {
        log.error(`node ${this.nodeId} failed to handle a message from ${from}`, { err });
      }
    }
  }

  private onPeerMessage(from: string, m: PeerMessage__Output): void {
    const node = this.node;
    const sharedAbove = node.store.inlineMaxBytes;
    switch (m.msg) {
      case 'executeTask': {
        const x = m.executeTask!;
        const spec = taskFromWire(x.spec!, sharedAbove); // checked before its refs are counted
        this.peers.receiveRefs(x.owners?.owners);
        node.executeForwarded(spec, from, x.noSpill);
        break;
      }
      case 'spillback': {
        const x = m.spillback!;
        this.placer.taskEnded(from, x.taskId);
        node.spilledBack(x.taskId, from, x.nodeId);
        break;
      }
      case 'taskDone': {
        const x = m.taskDone!;
        const results: ResultValue[] = x.results.map((v) =>
          v.t === 'remote' ? { t: 'remote', location: v.location, size: v.size } : valueFromWire(v, sharedAbove),
        );
        this.peers.receiveRefs(x.owners?.owners);
        this.placer.taskEnded(from, x.taskId);
        if (!node.onRemoteTaskDone(x.taskId, results, x.ms || undefined)) this.actors.callDone(x.taskId, results);
        break;
      }
      case 'createActor': {
        const x = m.createActor!;
        const spec = actorFromWire(x.spec!, sharedAbove);
        this.peers.receiveRefs(x.owners?.owners);
        node.createLocalActor(spec);
        break;
      }
      case 'actorCall': {
        const x = m.actorCall!;
        const spec = actorCallFromWire(x.spec!, sharedAbove);
        this.peers.receiveRefs(x.owners?.owners);
        node.executeForwardedCall(spec, from);
        break;
      }
      case 'killActor':
        void node.killActor(m.killActor!.actorId, m.killActor!.noRestart);
        break;
      case 'cancelTask':
        void node.cancel(`${m.cancelTask!.taskId}.0`, m.cancelTask!.force, m.cancelTask!.recursive);
        break;
      case 'borrow':
        node.store.addBorrow(m.borrow!.objectId, m.borrow!.node, m.borrow!.delta);
        break;
      case 'freeObjects':
        for (const id of m.freeObjects!.objectIds) node.store.dropCopy(id);
        break;
      case 'collective': {
        const x = m.collective!;
        node.deliverCollective(x.actorId, x.key, x.dtype, x.data, true);
        break;
      }
      case 'workerLogs': {
        const x = workerLogsFromWire(m.workerLogs!);
        node.workerLogsFromPeer(x.jobId, this.membership.get(from)?.address ?? from, x.lines, x.dropped);
        break;
      }
    }
  }

  // ---------------------------------------------------------------- cluster information
  /** A KV call to the GCS; a write its Redis did not take fails with GcsUnavailableError. */
  async kv(op: KvOp): Promise<unknown> {
    try {
      return await this.kvCall(op);
    } catch (err) {
      throw gcsCallError(err);
    }
  }

  private async kvCall(op: KvOp): Promise<unknown> {
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
    const nodes = this.placer.executors();
    const total: Record<string, number> = {};
    const available: Record<string, number> = {};
    for (const n of nodes) {
      for (const [k, v] of Object.entries(n.resourcesTotal)) total[k] = (total[k] ?? 0) + v;
      for (const [k, v] of Object.entries(n.resourcesAvailable)) available[k] = (available[k] ?? 0) + v;
    }
    return {
      total,
      available,
      nodes: this.viewNodes()
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
  /** The node service's handlers but its logs' (log-service.ts). */
  handlers(
    onStop: () => void,
  ): Pick<NodeHandlers, 'Peer' | 'Pull' | 'PrepareBundles' | 'ReturnBundles' | 'GetState' | 'Stop'> {
    return {
      Peer: (call) => {
        // Bound to a member by the identity interceptor: every batch must come in its name.
        const bound = boundNode(call);
        let refused = false;
        const inOwnName: InboundPeerStream = {
          write: (batch) => call.write(batch),
          on: (_event, fn) =>
            call.on('data', (b: PeerBatch__Output) => {
              if (refused) return;
              if (b.fromNode === bound) return fn(b);
              refused = true;
              const details = `Peer refused: node ${bound} sent a batch in the name of node ${b.fromNode}; a node sends only in its own name.`;
              call.emit('error', { code: grpc.status.PERMISSION_DENIED, details });
            }),
        };
        this.inbox.serve(inOwnName, (b: PeerBatch__Output) => this.onPeerBatch(b));
        call.on('error', () => {}); // a peer that goes away: its node's death is handled through the view
        call.on('end', () => call.end());
      },
      Pull: (call) => {
        if (call.request.requester !== boundNode(call)) {
          const details = `Pull refused: node ${boundNode(call)} asked in the name of node ${call.request.requester}.`;
          call.emit('error', { code: grpc.status.PERMISSION_DENIED, details });
          return;
        }
        this.transfer
          .servePull(call as never)
          .catch((err: Error) => call.emit('error', { code: grpc.status.INTERNAL, details: err.message }));
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
        error: t.error ?? '',
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
    this.logs.stop();
    this.peers.stop();
    this.stopped = true;
    this.actors.stop();
    await this.membership.stop();
    this.peers.close();
    this.gcs.close();
  }
}
