/**
 * Actors as a node of a multi-node cluster sees those it does not host: where each lives (a
 * state machine, see {@link ActorWhere}), the calls waiting until that is known, the actors this
 * node created (placed by it, and restarted elsewhere when their node dies), and their calls in
 * flight (retried after such a death while maxTaskRetries lasts).
 */
import { ActorDiedError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import type { RuntimeConfig } from '../config.js';
import { ignored } from '../log.js';
import type { ResourceSet } from '../options.js';
import type { ActorCreationSpec, ActorHandleData, ActorTaskSpec, ArgSpec } from '../protocol/specs.js';
import { describeMissing, errorValue } from '../node/failures.js';
import type { ActorDirectory, GroupState, Placement, ResultValue } from '../node/ports.js';
import type { ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import type { ActorsGcs } from './actors-gcs.js';
import { actorCallToWire, actorToWire, argRefs } from './wire.js';
import { moveActor, nodeOf, remoteActor, type RemoteActor } from './actor-where.js';

export { moveActor, nodeOf, type ActorWhere, type RemoteActor } from './actor-where.js';

/** What the remote actor table needs of its node and the cluster layer. */
export interface RemoteActorsHost {
  readonly nodeId: string;
  readonly jobId: string;
  readonly namespace: string;
  readonly executes: boolean;
  readonly config: Pick<
    RuntimeConfig,
    'actorParkRetryMs' | 'actorQueueAfterMs' | 'actorLookupTimeoutMs' | 'actorLookupRetryMs' | 'actorUnknownTimeoutMs'
  >;
  readonly gcs: ActorsGcs;
  /** The node manager's side. */
  pinArgs(args: ArgSpec[]): void;
  unpinArgs(args: ArgSpec[]): void;
  createPending(ids: string[]): void;
  storeResult(id: string, v: ResultValue): void;
  createLocalActor(spec: ActorCreationSpec): void;
  submitLocalCall(spec: ActorTaskSpec): void;
  hostsActor(actorId: string): boolean;
  killLocalActor(actorId: string, noRestart: boolean): Promise<void>;
  fitsBesideQueuedActors(resources: ResourceSet): boolean;
  /** Placement over the cluster view. */
  infeasible(resources: ResourceSet): { name: string; requested: number; total: number } | undefined;
  place(spec: ActorCreationSpec, localFits: boolean): Placement;
  roomOn(nodeId: string, resources: ResourceSet): boolean;
  roomElsewhere(resources: ResourceSet): boolean;
  busyNodeFor(resources: ResourceSet): string | undefined;
  actorSent(nodeId: string, resources: ResourceSet): void;
  /** Resolves once some node could run `resources` (the autoscaler started one). */
  waitForNodeFitting(resources: ResourceSet): Promise<boolean>;
  group(id: string): GroupState | undefined;
  /** Calls `fn` once the group is placed (or can never be); `unknown` if the cluster has no such group. */
  whenGroupPlaced(id: string, fn: () => void, unknown: () => void): void;
  /** Messages to other nodes. */
  send(nodeId: string, msg: PeerMessage): void;
  owners(refIds: readonly string[], target: string): { owners: Record<string, string> };
  readonly stopped: boolean;
}

export class RemoteActors implements ActorDirectory {
  private readonly actors = new Map<string, RemoteActor>();
  /** Actor calls sent to other nodes: task id -> spec (its args stay pinned until done). */
  private readonly calls = new Map<string, ActorTaskSpec>();
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
  /** Actors kept by their owner until some node has room: each retry returns true once done. */
  private parked: (() => boolean)[] = [];
  private readonly parkedActors = new Set<string>();
  /**
   * Constructor arguments createActor() pinned, by actor id, until the creation lets them go: the
   * actor table of the node that hosts it pins its own, and an owner that may restart it keeps
   * them in `owned`.
   */
  private readonly creationPins = new Map<string, ArgSpec[]>();
  private cancelParkTimer: (() => void) | undefined;
  /** Actors waiting for a node the autoscaler may start, or for room (reported as this node's load). */
  readonly waiting = new Map<string, Record<string, number>>();

  constructor(
    private readonly host: RemoteActorsHost,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The actor's record here, for tests and diagnostics. */
  get(actorId: string): RemoteActor | undefined {
    return this.actors.get(actorId);
  }

  // ---------------------------------------------------------------- creation and placement
  createActor(spec: ActorCreationSpec): void {
    const h = this.host;
    const o = spec.options;
    spec = spec.jobId ? spec : { ...spec, jobId: h.jobId };
    const ra = remoteActor(spec.actorId, { kind: 'creating' });
    this.actors.set(spec.actorId, ra);
    h.pinArgs(spec.args);
    this.creationPins.set(spec.actorId, spec.args);
    const namespace = o.namespace ?? h.namespace;
    const register = o.name
      ? h.gcs.registerActor(this.actorInfo(spec, namespace, ''))
      : Promise.resolve({ ok: true, existing: null });
    register.then(
      (r) => {
        if (ra.where.kind === 'dead') return; // killed while the GCS registered it
        if (!r.ok && r.existing) {
          this.dropCreationPins(spec.actorId);
          if (o.getIfExists) {
            ra.realId = r.existing.actorId;
            this.located(ra, r.existing.nodeId);
          } else {
            this.gone(
              ra,
              `an actor named '${o.name}' already exists in namespace '${namespace}'. Use getActor('${o.name}') to get it, pick another name, or pass getIfExists: true`,
            );
          }
          return;
        }
        this.place(spec, ra, namespace);
      },
      (err: Error) => {
        if (ra.where.kind !== 'dead') this.gone(ra, `the GCS could not register it (${err.message})`);
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
      ownerNodeId: this.host.nodeId,
      jobId: spec.jobId ?? this.host.jobId,
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

  private park(retry: () => boolean): void {
    this.parked.push(retry);
    if (this.cancelParkTimer) return;
    const tick = () => {
      const ps = this.parked;
      this.parked = [];
      for (const p of ps) if (!p()) this.parked.push(p);
      this.cancelParkTimer = this.parked.length ? this.clock.after(this.host.config.actorParkRetryMs, tick) : undefined;
    };
    this.cancelParkTimer = this.clock.after(this.host.config.actorParkRetryMs, tick);
  }

  private roomSomewhere(resources: ResourceSet): boolean {
    return (this.host.executes && this.host.fitsBesideQueuedActors(resources)) || this.host.roomElsewhere(resources);
  }

  /** Places an actor (`queueOn`: on that node, without room there now, after waiting with its owner). */
  private place(spec: ActorCreationSpec, ra: RemoteActor, namespace: string, queueOn?: string): void {
    if (ra.where.kind === 'dead') return; // killed while it waited for a node or its group
    const h = this.host;
    const o = spec.options;
    if (o.strategy?.type === 'PLACEMENT_GROUP') {
      const g = h.group(o.strategy.placementGroupId);
      if (!g || g.state === 'PENDING') {
        const id = o.strategy.placementGroupId;
        h.whenGroupPlaced(
          id,
          () => this.place(spec, ra, namespace),
          () => {
            if (ra.where.kind !== 'dead')
              this.gone(ra, `its placement group ${id} is not known to the cluster (removed, or never created)`);
          },
        );
        return;
      }
    }
    const missing = o.strategy?.type === 'PLACEMENT_GROUP' ? undefined : h.infeasible(o.resources);
    const localFits = h.executes && h.fitsBesideQueuedActors(o.resources);
    const target: Placement = missing
      ? {
          kind: 'infeasible',
          reason: `Actor '${spec.className}' (${spec.actorId}) asks for ${JSON.stringify(o.resources)}, but no node can ever satisfy it: ${describeMissing(missing)}.`,
        }
      : queueOn !== undefined
        ? queueOn === h.nodeId
          ? { kind: 'here' }
          : { kind: 'node', nodeId: queueOn }
        : h.place(spec, localFits);
    if (target.kind === 'wait') {
      // Waits for a node the autoscaler starts for it (its shape is part of this node's load).
      this.waiting.set(spec.actorId, { ...o.resources });
      h.waitForNodeFitting(o.resources).then(
        () => {
          this.waiting.delete(spec.actorId);
          this.place(spec, ra, namespace);
        },
        ignored(`wait for a node for actor ${spec.actorId}`),
      );
      return;
    }
    if (target.kind === 'infeasible') {
      this.gone(ra, target.reason);
      const dead = { ...this.actorInfo(spec, namespace, ''), state: 'DEAD', deathCause: target.reason };
      if (o.name) h.gcs.reportActor(dead);
      else h.gcs.registerActor(dead).catch(ignored(`report of actor ${spec.actorId}'s death to the GCS`));
      return;
    }
    const nodeId = target.kind === 'here' ? h.nodeId : target.nodeId;
    // As Ray's GCS keeps pending actors until a node has room, the owner keeps an actor that fits
    // nowhere now (rather than queueing it on one busy node while another frees up); it is placed
    // at the first view or local release that shows room. Its shape counts as this node's load.
    // Nodes kept busy by a stream of tasks may never show room in a view: after a while it queues
    // on a node with tasks waiting, to take its turn among them (nodes held by actors it waits out).
    const placed = o.strategy?.type === 'PLACEMENT_GROUP' || o.strategy?.type === 'NODE_AFFINITY';
    const room = target.kind === 'here' ? localFits : h.roomOn(nodeId, o.resources);
    if (!placed && queueOn === undefined && !room) {
      this.parkUntilRoom(spec, ra, namespace);
      return;
    }
    const info = this.actorInfo(spec, namespace, nodeId);
    const start = () => this.start(spec, ra, namespace, target.kind === 'here', nodeId);
    if (!o.name) {
      start();
      h.gcs.registerActor(info).catch(ignored(`report of actor ${spec.actorId}'s placement to the GCS`));
      return;
    }
    // A named actor takes calls once the GCS keeps where it runs (in Redis when the head has one):
    // whoever heard back from it finds it by name, after a restart of the head too.
    h.gcs.updateActor(info).then(start, (err: unknown) => {
      ignored(
        `report of named actor ${spec.actorId}'s placement to the GCS (it runs; a head started again before its next update does not find it by name)`,
      )(err);
      start();
    });
  }

  /** Creates a placed actor on its node (`here`: this one) and hands it the calls that waited. */
  private start(spec: ActorCreationSpec, ra: RemoteActor, namespace: string, here: boolean, nodeId: string): void {
    if (ra.where.kind === 'dead') return; // killed while the GCS recorded where it goes
    const h = this.host;
    const o = spec.options;
    if (here) {
      this.actors.delete(spec.actorId);
      moveActor(ra, { kind: 'located', node: h.nodeId });
      h.createLocalActor(spec);
      this.dropCreationPins(spec.actorId);
      for (const call of ra.queue) this.handOver(call, spec.actorId);
      ra.queue = [];
    } else {
      // Until that node reports it, the actor's resources count as taken there (so the next one goes elsewhere).
      if (o.strategy?.type !== 'PLACEMENT_GROUP') h.actorSent(nodeId, o.resources);
      h.send(nodeId, { createActor: { spec: actorToWire(spec), owners: h.owners(argRefs(spec.args), nodeId) } });
      if (!this.owned.has(spec.actorId)) {
        // Kept to restart it elsewhere: the arguments stay pinned while it may restart.
        const pinned = spec.options.maxRestarts !== 0;
        this.owned.set(spec.actorId, { spec, namespace, restarts: 0, pinned });
        if (pinned)
          this.creationPins.delete(spec.actorId); // `owned` holds them now
        else this.dropCreationPins(spec.actorId);
      }
      this.located(ra, nodeId);
    }
  }

  private parkUntilRoom(spec: ActorCreationSpec, ra: RemoteActor, namespace: string): void {
    const o = spec.options;
    this.waiting.set(spec.actorId, { ...o.resources });
    this.parkedActors.add(spec.actorId);
    const since = this.clock.now();
    this.park(() => {
      if (!this.parkedActors.has(spec.actorId) || this.host.stopped) return true;
      let busy: string | undefined;
      if (!this.roomSomewhere(o.resources)) {
        if (this.clock.now() - since < this.host.config.actorQueueAfterMs) return false;
        busy = this.host.busyNodeFor(o.resources);
        if (!busy) return false;
      }
      this.parkedActors.delete(spec.actorId);
      this.waiting.delete(spec.actorId);
      this.place(spec, ra, namespace, busy);
      return true;
    });
  }

  private located(ra: RemoteActor, nodeId: string): void {
    moveActor(ra, { kind: 'located', node: nodeId });
    const q = ra.queue;
    ra.queue = [];
    for (const call of q) this.sendCall(ra, call);
  }

  private gone(ra: RemoteActor, cause: string, node = nodeOf(ra)): void {
    moveActor(ra, { kind: 'dead', cause, node });
    this.dropCreationPins(ra.realId);
    this.disown(ra.realId);
    const q = ra.queue;
    ra.queue = [];
    for (const call of q) this.failCall(call, cause);
  }

  private dropCreationPins(actorId: string): void {
    const args = this.creationPins.get(actorId);
    if (!args) return;
    this.creationPins.delete(actorId);
    this.host.unpinArgs(args);
  }

  /** This node will not restart the actor again: its constructor arguments can go. */
  private disown(actorId: string): void {
    const own = this.owned.get(actorId);
    if (!own) return;
    this.owned.delete(actorId);
    if (own.pinned) this.host.unpinArgs(own.spec.args);
  }

  // ---------------------------------------------------------------- deaths
  /** The GCS reports an actor dead for good: calls fail, no restart from here. */
  deadForGood(a: ActorInfo__Output): void {
    const ra = this.actors.get(a.actorId);
    if (ra && ra.where.kind === 'located') this.gone(ra, `it died (${a.deathCause || 'unknown cause'})`);
    else this.disown(a.actorId);
  }

  /** A node left the cluster: the actors this node calls there are restarted or looked up again. */
  nodeLost(nodeId: string, why: string): void {
    for (const ra of [...new Set(this.actors.values())]) {
      if (ra.where.kind === 'located' && ra.where.node === nodeId) this.actorNodeLost(ra, nodeId, why);
    }
  }

  /**
   * The node of an actor this node calls died. Its creator restarts it elsewhere while
   * maxRestarts lasts (with the constructor's arguments it kept); other callers find the new
   * place in the GCS. Calls the death interrupted run again while maxTaskRetries lasts.
   */
  private actorNodeLost(ra: RemoteActor, nodeId: string, why: string): void {
    const h = this.host;
    const cause = `its node ${nodeId} ${why}`;
    const own = this.owned.get(ra.realId);
    const inflight = [...this.calls.values()].filter((c) => this.actors.get(c.actorId) === ra);
    const restart = own ? own.spec.options.maxRestarts === -1 || own.restarts < own.spec.options.maxRestarts : true;
    if (!restart) {
      const limit = `it was restarted ${own!.restarts} times (maxRestarts ${own!.spec.options.maxRestarts})`;
      for (const call of inflight) this.failCall(call, `${cause}, and ${limit}`);
      this.gone(ra, cause);
      h.gcs.reportActor({ actorId: ra.realId, state: 'DEAD', deathCause: cause });
      return;
    }
    const maxTaskRetries = own ? own.spec.options.maxTaskRetries : ra.maxTaskRetries;
    const retry: ActorTaskSpec[] = [];
    for (const call of inflight) {
      const attempts = this.callAttempts.get(call.taskId) ?? 1;
      if (maxTaskRetries === -1 || attempts <= maxTaskRetries) retry.push(call);
      else this.failCall(call, `${cause} while it ran this call, and maxTaskRetries is ${maxTaskRetries}`);
    }
    ra.queue.unshift(...retry);
    if (!own) {
      this.lookUp(ra, ra.realId, nodeId);
      return;
    }
    own.restarts++;
    moveActor(ra, { kind: 'creating' });
    const o = own.spec.options;
    h.gcs.reportActor({ actorId: ra.realId, state: 'RESTARTING', numRestarts: own.restarts, deathCause: cause });
    // The new instance may restart locally (worker crashes) only within what is left.
    const left = o.maxRestarts === -1 ? -1 : o.maxRestarts - own.restarts;
    this.place({ ...own.spec, options: { ...o, maxRestarts: left } }, ra, own.namespace);
  }

  // ---------------------------------------------------------------- calls
  submitActorTask(spec: ActorTaskSpec): void {
    this.host.createPending(spec.returnIds);
    this.host.pinArgs(spec.args);
    this.calls.set(spec.taskId, spec);
    let ra = this.actors.get(spec.actorId);
    if (!ra) {
      ra = remoteActor(spec.actorId);
      this.actors.set(spec.actorId, ra);
    }
    const where = ra.where;
    switch (where.kind) {
      case 'dead':
        queueMicrotask(() => this.failCall(spec, where.cause));
        return;
      case 'located':
        this.sendCall(ra, spec);
        return;
      case 'unknown':
        ra.queue.push(spec);
        this.lookUp(ra, spec.actorId);
        return;
      case 'creating':
      case 'lookingUp':
        ra.queue.push(spec);
        return;
    }
  }

  /** A call sent to another node finished there: its results are stored; false if not one of ours. */
  callDone(taskId: string, results: ResultValue[]): boolean {
    const call = this.calls.get(taskId);
    if (!call) return false;
    this.calls.delete(taskId);
    this.callAttempts.delete(taskId);
    call.returnIds.forEach((id, i) => this.host.storeResult(id, results[i] ?? results[0]));
    this.host.unpinArgs(call.args);
    return true;
  }

  private failCall(call: ActorTaskSpec, cause: string): void {
    this.calls.delete(call.taskId);
    this.callAttempts.delete(call.taskId);
    const err = errorValue(
      new ActorDiedError(`Actor ${call.actorId} cannot run ${call.name}: ${cause}.`, {
        actorId: call.actorId,
        taskId: call.taskId,
      }),
    );
    for (const id of call.returnIds) this.host.storeResult(id, err);
    this.host.unpinArgs(call.args);
  }

  /** A call queued here for an actor that turned out to live on this node: its actor table takes it. */
  private handOver(call: ActorTaskSpec, realId: string): void {
    this.calls.delete(call.taskId);
    this.callAttempts.delete(call.taskId);
    // The actor table pins the arguments itself and fills the result entries made at submission.
    this.host.submitLocalCall(call.actorId === realId ? call : { ...call, actorId: realId });
    this.host.unpinArgs(call.args);
  }

  private sendCall(ra: RemoteActor, call: ActorTaskSpec): void {
    const h = this.host;
    const node = nodeOf(ra)!;
    const spec = call.actorId === ra.realId ? call : { ...call, actorId: ra.realId };
    if (node === h.nodeId) {
      if (h.hostsActor(ra.realId)) this.handOver(call, ra.realId);
      else this.failCall(call, `it is not on node ${h.nodeId}, where the cluster's actor table says it is`);
      return;
    }
    this.callAttempts.set(call.taskId, (this.callAttempts.get(call.taskId) ?? 0) + 1);
    h.send(node, { actorCall: { spec: actorCallToWire(spec), owners: h.owners(argRefs(call.args), node) } });
  }

  /** Finds where an actor lives in the GCS (`avoid`: a node it just died on; wait for its restart). */
  private lookUp(ra: RemoteActor, actorId: string, avoid?: string, since = this.clock.now()): void {
    const { actorLookupTimeoutMs, actorUnknownTimeoutMs, actorLookupRetryMs } = this.host.config;
    moveActor(ra, { kind: 'lookingUp' });
    this.host.gcs.getActor({ actorId }).then(
      (r) => {
        if (ra.where.kind !== 'lookingUp') return; // located or dead meanwhile (kill())
        const a = r.found ? r.actor : null;
        if (a) ra.maxTaskRetries = a.maxTaskRetries;
        const moved = a && a.nodeId && (a.nodeId !== avoid || a.state === 'DEAD');
        // After a death, only an instance that is up (or a final death) ends the search.
        if (moved && (avoid ? a.state === 'ALIVE' || a.state === 'DEAD' : a.state !== 'RESTARTING')) {
          if (a.state === 'DEAD') this.gone(ra, `it died (${a.deathCause || 'unknown cause'})`);
          else this.located(ra, a.nodeId);
          return;
        }
        const elapsed = this.clock.now() - since;
        if (elapsed < (a ? actorLookupTimeoutMs : actorUnknownTimeoutMs))
          this.clock.after(actorLookupRetryMs, () => {
            if (ra.where.kind === 'lookingUp') this.lookUp(ra, actorId, avoid, since);
          });
        else
          this.gone(
            ra,
            a
              ? `it did not come up within ${actorLookupTimeoutMs} ms (the cluster knows it, ${a.state === 'RESTARTING' ? 'restarting' : 'not placed yet'}: no node may have room for it)`
              : 'it is unknown to this cluster (never created, or forgotten)',
          );
      },
      (err: Error) => {
        if (ra.where.kind === 'lookingUp') this.gone(ra, `the GCS could not be asked where it is (${err.message})`);
      },
    );
  }

  async killActor(actorId: string, noRestart: boolean): Promise<void> {
    const h = this.host;
    let ra = this.actors.get(actorId);
    if (ra && ra.where.kind === 'creating') {
      // Not placed yet (kept until some node has room, or waiting for a new node or its
      // placement group): it never starts.
      const parked = this.parkedActors.delete(ra.realId);
      this.waiting.delete(ra.realId);
      const cause = parked
        ? 'it was killed with kill() before a node had room for it'
        : 'it was killed with kill() before it was placed';
      this.gone(ra, cause);
      h.gcs.reportActor({ actorId: ra.realId, state: 'DEAD', deathCause: cause });
      return;
    }
    let node = ra ? nodeOf(ra) : undefined;
    if (node === undefined) {
      const r = await h.gcs.getActor({ actorId });
      if (!r.found || !r.actor?.nodeId) return;
      node = r.actor.nodeId;
      if (!ra) this.actors.set(actorId, (ra = remoteActor(actorId, { kind: 'located', node })));
      else if (ra.where.kind === 'unknown') moveActor(ra, { kind: 'located', node });
    }
    const realId = ra!.realId;
    if (node === h.nodeId) await h.killLocalActor(realId, noRestart);
    else h.send(node, { killActor: { actorId: realId, noRestart } });
    // Calls queued here meanwhile (a lookup was running) fail with the kill's cause.
    if (noRestart) this.gone(ra!, 'it was killed with kill()', node);
  }

  /** Named actors alive in the cluster (from the GCS's actor table). */
  async namedActors(): Promise<{ name: string; namespace: string }[]> {
    const r = await this.host.gcs.listActors();
    return r.actors.filter((a) => a.name && a.state !== 'DEAD').map((a) => ({ name: a.name, namespace: a.namespace }));
  }

  async getActor(name: string, namespace: string): Promise<ActorHandleData | undefined> {
    const { actorLookupTimeoutMs, actorLookupRetryMs } = this.host.config;
    const deadline = this.clock.now() + actorLookupTimeoutMs;
    for (;;) {
      const r = await this.host.gcs.getActor({ name, namespace });
      if (!r.found || !r.actor) return undefined;
      const a = r.actor;
      if (a.nodeId) {
        if (!this.actors.has(a.actorId) && !this.host.hostsActor(a.actorId)) {
          this.actors.set(a.actorId, remoteActor(a.actorId, { kind: 'located', node: a.nodeId }));
        }
        return { actorId: a.actorId, className: a.className, methods: a.methods };
      }
      if (this.clock.now() + actorLookupRetryMs > deadline) return undefined;
      await new Promise<void>((r2) => this.clock.after(actorLookupRetryMs, r2)); // being placed
    }
  }

  actorState(actorId: string, state: 'ALIVE' | 'DEAD' | 'RESTARTING', cause?: string): void {
    this.host.gcs.reportActor({ actorId, state, nodeId: this.host.nodeId, deathCause: cause ?? '' });
  }

  /** Stops placing parked actors. */
  stop(): void {
    this.cancelParkTimer?.();
    this.cancelParkTimer = undefined;
  }
}
