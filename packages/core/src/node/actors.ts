/**
 * The actors of a node: the actor table (names, namespaces, aliases from getIfExists), placement
 * on dedicated workers (actors that hold resources) or shared "actor host" threads (those that
 * hold none), each actor's call queue in submission order, restarts with call retries, kill, and
 * death with the reason given to every pending call. The node manager schedules what needs
 * resources and reaches this through {@link ActorHost}.
 */
import type { RuntimeConfig } from '../config.js';
import { Deque } from '../runtime/deque.js';
import { ActorDiedError, InvalidArgumentError, errorFromWire, errorToWire, type WireError } from '../errors.js';
import type { FnRef } from '../runtime/functions.js';
import type { ObjectStore } from './object-store.js';
import { envKeyOf, type EnvVars, type ResourceSet, type SchedulingStrategySpec } from '../options.js';
import type { ActorCreationSpec, ActorHandleData, ActorTaskSpec, ArgSpec, TaskContextData } from '../protocol/specs.js';
import type { TaskOutcome } from '../protocol/worker-messages.js';
import type { Allocation, ResourcePool } from './resources.js';
import { storedError, type StoredValue } from '../runtime/serialization.js';
import type { WorkerHandle } from './worker-handle.js';

const RAY_ACTOR_STATE = {
  pending: 'PENDING_CREATION',
  alive: 'ALIVE',
  restarting: 'RESTARTING',
  dead: 'DEAD',
} as const;

export interface ActorCall {
  readonly spec: ActorTaskSpec;
  attempts: number;
  depsLeft: number;
  cancelled: boolean;
  /** Set when an argument held on another node could not be fetched: the call fails with it. */
  fetchError?: StoredValue;
}

export interface ActorRecord {
  spec: ActorCreationSpec;
  state: 'pending' | 'alive' | 'restarting' | 'dead';
  worker: WorkerHandle | undefined;
  alloc: Allocation | undefined;
  numRestarts: number;
  queue: Deque<ActorCall>;
  inflight: Map<string, ActorCall>;
  nameKey: string | undefined;
  /** Set by kill(): the next death is not restarted when true. */
  killedNoRestart: boolean | undefined;
  /** Why kill() (or exitActor()) ended it, for its calls' errors. */
  killCause?: string;
  deathCause: string | undefined;
  deathError: WireError | undefined;
  /** The node's scheduling record while a dedicated worker is found for it (opaque here). */
  creation: object | undefined;
}

/** What the actor table needs from its node. */
export interface ActorHost {
  readonly store: ObjectStore;
  readonly pool: ResourcePool;
  readonly config: RuntimeConfig;
  readonly namespace: string;
  readonly nodeId: string;
  spawnThread(envVars: EnvVars | undefined): WorkerHandle;
  /** Schedules the creation of an actor that holds resources; returns the scheduling record. */
  startCreation(actor: ActorRecord): object;
  /** Drops a creation record: placed (`cancelled` false) or given up. */
  endCreation(creation: object, cancelled: boolean): void;
  busy(delta: number): void;
  requestSchedule(): void;
  pinArgs(args: ArgSpec[]): void;
  unpinArgs(args: ArgSpec[]): void;
  resolveArgs(args: ArgSpec[]): { values: StoredValue[] } | { error: StoredValue };
  /** Copies objects held on other nodes here; resolves to an error value if one cannot be fetched. */
  fetchRefs(ids: string[]): Promise<StoredValue | undefined>;
  context(
    work: { id: string },
    name: string,
    alloc: Allocation | undefined,
    actorId?: string,
    strategy?: SchedulingStrategySpec,
    jobId?: string,
  ): TaskContextData;
  fnFor(w: WorkerHandle, ref: FnRef): FnRef;
  unschedulable(
    what: string,
    req: ResourceSet,
    missing: { name: string; requested: number; total: number },
    taskId?: string,
    actorId?: string,
  ): StoredValue;
  cancelledValue(taskId: string): StoredValue;
  /** Makes the pending entries of a call's results (not for calls run for another node). */
  createReturns(spec: ActorTaskSpec): void;
  /** Stores a call's results, or sends them to the node that owns them. */
  finishReturns(spec: ActorTaskSpec, result: StoredValue | StoredValue[], producer?: WorkerHandle): void;
  /** Tells the cluster's actor table about a change (multi-node). */
  actorState(actorId: string, state: 'ALIVE' | 'DEAD' | 'RESTARTING', cause?: string): void;
  /** Records a finished method call's run (for listTasks and the timeline): its worker and how long it ran. */
  recordCall(
    spec: ActorTaskSpec,
    jobId: string | undefined,
    workerId: string,
    ms: number | undefined,
    ok: boolean,
  ): void;
}

export class ActorManager {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly actorAliases = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly actorHosts: WorkerHandle[] = [];
  private readonly actorsOnWorker = new Map<WorkerHandle, Set<string>>();
  private readonly actorHostLimit: number;

  constructor(
    private readonly host: ActorHost,
    cpus: number,
  ) {
    this.actorHostLimit = Math.max(1, Math.ceil(cpus));
  }

  /** Actor calls not finished yet, by task id (queued, waiting for a restart, or running). */
  private readonly actorCalls = new Map<string, { actor: ActorRecord; call: ActorCall }>();

  /** Registers an actor and schedules its creation; returns an existing actor's id for getIfExists. */
  createActor(spec: ActorCreationSpec): string | undefined {
    const o = spec.options;
    let nameKey: string | undefined;
    if (o.name) {
      nameKey = `${o.namespace ?? this.host.namespace}/${o.name}`;
      const existing = this.names.get(nameKey);
      if (existing) {
        if (o.getIfExists) {
          this.actorAliases.set(spec.actorId, existing);
          return existing;
        }
        throw new InvalidArgumentError(
          `An actor named '${o.name}' already exists in namespace '${o.namespace ?? this.host.namespace}'. ` +
            `Use getActor('${o.name}') to get it, pick another name, or pass getIfExists: true.`,
          { actorId: existing },
        );
      }
    }
    const actor: ActorRecord = {
      spec,
      state: 'pending',
      worker: undefined,
      alloc: undefined,
      numRestarts: 0,
      queue: new Deque(),
      inflight: new Map(),
      nameKey,
      killedNoRestart: undefined,
      deathCause: undefined,
      deathError: undefined,
      creation: undefined,
    };
    this.actors.set(spec.actorId, actor);
    if (nameKey) this.names.set(nameKey, spec.actorId);
    this.host.pinArgs(spec.args);
    // A placement group's renamed resources exist once it is created: the node checks them then.
    const missing = o.strategy?.type === 'PLACEMENT_GROUP' ? undefined : this.host.pool.missing(o.resources);
    if (missing) {
      const v = this.host.unschedulable(
        `Actor '${spec.className}' (${spec.actorId})`,
        o.resources,
        missing,
        undefined,
        spec.actorId,
      );
      this.actorDied(actor, 'it cannot be scheduled', (v as { e: WireError }).e, true);
      return undefined;
    }
    this.scheduleActorCreation(actor);
    return undefined;
  }

  private scheduleActorCreation(actor: ActorRecord): void {
    const o = actor.spec.options;
    const dedicated = o.isolation !== 'shared';
    if (dedicated) {
      actor.creation = this.host.startCreation(actor);
      return;
    }
    // Shares a worker thread with other actors that hold no resources and have its runtime environment.
    const envKey = envKeyOf(o.envVars);
    const hosts = this.actorHosts.filter((h) => h.envKey === envKey);
    let host: WorkerHandle | undefined;
    if (hosts.length < this.actorHostLimit) {
      host = this.host.spawnThread(o.envVars);
      this.actorHosts.push(host);
    } else {
      host = hosts.reduce((a, b) =>
        (this.actorsOnWorker.get(a)?.size ?? 0) <= (this.actorsOnWorker.get(b)?.size ?? 0) ? a : b,
      );
    }
    const h = host;
    const pending = actor.spec.args.filter(
      (a) => 'r' in a && !this.host.store.isReady(a.r) && this.host.store.has(a.r),
    );
    let left = pending.length;
    const go = () => {
      if (actor.state === 'dead' || h.dead) {
        if (actor.state !== 'dead') this.scheduleActorCreation(actor);
        return;
      }
      const resolved = this.host.resolveArgs(actor.spec.args);
      if ('error' in resolved) {
        this.actorDied(actor, 'an argument of its constructor failed', (resolved.error as { e: WireError }).e, true);
        return;
      }
      this.placeActor(actor, h, undefined, resolved.values);
    };
    if (left === 0) go();
    else
      for (const a of pending)
        this.host.store.onReady((a as { r: string }).r, () => {
          if (--left === 0) go();
        });
  }

  placeActor(actor: ActorRecord, w: WorkerHandle, alloc: Allocation | undefined, args: StoredValue[]): void {
    actor.worker = w;
    actor.alloc = alloc;
    let set = this.actorsOnWorker.get(w);
    if (!set) this.actorsOnWorker.set(w, (set = new Set()));
    set.add(actor.spec.actorId);
    if (actor.creation) {
      this.host.endCreation(actor.creation, false);
      actor.creation = undefined;
    }
    const o = actor.spec.options;
    const maxConcurrency =
      o.maxConcurrency ?? (actor.spec.hasAsyncMethods ? this.host.config.asyncActorMaxConcurrency : 1);
    w.send({
      k: 'createActor',
      spec: { ...actor.spec, cls: this.host.fnFor(w, actor.spec.cls) },
      args,
      ctx: this.host.context(
        { id: `create:${actor.spec.actorId}` },
        `${actor.spec.className}.constructor`,
        alloc,
        actor.spec.actorId,
        actor.spec.options.strategy,
        actor.spec.jobId,
      ),
      maxConcurrency,
    });
  }

  private resolveActor(actorId: string): ActorRecord | undefined {
    return this.actors.get(this.actorAliases.get(actorId) ?? actorId);
  }

  onActorReady(actorId: string): void {
    const actor = this.actors.get(actorId);
    if (!actor || actor.state === 'dead') return;
    actor.state = 'alive';
    this.host.actorState(actorId, 'ALIVE');
    this.pumpActor(actor);
  }

  /** Live, non-detached actors created by a job. */
  actorsOfJob(jobId: string): string[] {
    const out: string[] = [];
    for (const a of this.actors.values())
      if (a.spec.jobId === jobId && !a.spec.options.detached && a.state !== 'dead') out.push(a.spec.actorId);
    return out;
  }

  /** True if the actor (or an alias of it) has a record here. */
  /** The worker running the actor, once it was placed (undefined while pending, after death). */
  workerOf(actorId: string): WorkerHandle | undefined {
    const a = this.resolveActor(actorId);
    return a && a.state !== 'dead' ? a.worker : undefined;
  }

  isDead(actorId: string): boolean {
    return this.resolveActor(actorId)?.state === 'dead';
  }

  knows(actorId: string): boolean {
    return this.actors.has(this.actorAliases.get(actorId) ?? actorId);
  }

  submitActorTask(spec: ActorTaskSpec): void {
    this.host.createReturns(spec);
    const actor = this.resolveActor(spec.actorId);
    const call: ActorCall = { spec, attempts: 0, depsLeft: 0, cancelled: false };
    this.host.pinArgs(spec.args);
    this.host.busy(1);
    if (!actor || actor.state === 'dead') {
      const err = this.actorDeadValue(actor, spec.actorId, spec);
      queueMicrotask(() => this.finishCall(call, err));
      return;
    }
    this.actorCalls.set(spec.taskId, { actor, call });
    for (const a of spec.args) {
      if ('r' in a && !this.host.store.isReady(a.r) && this.host.store.has(a.r)) {
        call.depsLeft++;
        this.host.store.onReady(a.r, () => {
          call.depsLeft--;
          this.pumpActor(actor);
        });
      }
    }
    actor.queue.push(call);
    this.pumpActor(actor);
  }

  private actorDeadValue(actor: ActorRecord | undefined, actorId: string, spec: ActorTaskSpec): StoredValue {
    if (!actor) {
      return storedError(
        errorToWire(
          new ActorDiedError(
            `Actor ${actorId} is unknown to this cluster (it never existed here, or was killed and forgotten); ` +
              `cannot run ${spec.name}.`,
            { actorId, taskId: spec.taskId },
          ),
        ),
      );
    }
    const advice =
      actor.spec.options.maxRestarts === 0 && !actor.killedNoRestart && !actor.deathError
        ? ' Set maxRestarts to restart it automatically.'
        : '';
    return storedError(
      errorToWire(
        new ActorDiedError(
          `Actor '${actor.spec.className}' (${actor.spec.actorId}) died: ${actor.deathCause ?? 'unknown cause'}; ` +
            `cannot run ${spec.name}.${advice}`,
          {
            actorId: actor.spec.actorId,
            taskId: spec.taskId,
            nodeId: this.host.nodeId,
            ...(actor.deathError ? { cause: errorFromWire(actor.deathError) } : {}),
          },
        ),
      ),
    );
  }

  private pumpActor(actor: ActorRecord): void {
    if (actor.state !== 'alive' || !actor.worker) return;
    const w = actor.worker;
    while (actor.queue.length) {
      const call = actor.queue.peek()!;
      if (call.cancelled) {
        actor.queue.shift();
        continue;
      }
      if (call.depsLeft > 0) break;
      if (call.fetchError) {
        actor.queue.shift();
        this.finishCall(call, call.fetchError);
        continue;
      }
      // Arguments ready on another node (a ref passed by a caller elsewhere) are fetched first; the
      // calls behind wait, so the actor still runs its calls in order.
      const far = call.spec.args.flatMap((a) =>
        'r' in a && this.host.store.isReady(a.r) && !this.host.store.isLocal(a.r) ? [a.r] : [],
      );
      if (far.length) {
        call.depsLeft++;
        void this.host.fetchRefs(far).then((err) => {
          call.depsLeft--;
          if (err) call.fetchError = err;
          this.pumpActor(actor);
        });
        break;
      }
      actor.queue.shift();
      const resolved = this.host.resolveArgs(call.spec.args);
      if ('error' in resolved) {
        this.finishCall(call, resolved.error);
        continue;
      }
      call.attempts++;
      actor.inflight.set(call.spec.taskId, call);
      const spec = call.spec.actorId === actor.spec.actorId ? call.spec : { ...call.spec, actorId: actor.spec.actorId };
      w.send({ k: 'actorCall', spec, args: resolved.values });
    }
  }

  finishCall(call: ActorCall, result: StoredValue | StoredValue[], producer?: WorkerHandle): void {
    this.host.finishReturns(call.spec, result, producer);
    this.actorCalls.delete(call.spec.taskId);
    this.host.unpinArgs(call.spec.args);
    this.host.busy(-1);
  }

  /** Handles an actor's death: restart it if allowed, else fail its calls with ActorDiedError. */
  actorDied(actor: ActorRecord, cause: string, error: WireError | undefined, final: boolean): void {
    if (actor.state === 'dead') return;
    const w = actor.worker;
    if (w) this.actorsOnWorker.get(w)?.delete(actor.spec.actorId);
    actor.worker = undefined;
    if (actor.alloc) {
      this.host.pool.release(actor.alloc);
      actor.alloc = undefined;
    }
    const o = actor.spec.options;
    const canRestart =
      !final && actor.killedNoRestart !== true && (o.maxRestarts === -1 || actor.numRestarts < o.maxRestarts);
    actor.deathCause = cause;
    actor.deathError = error;
    const inflight = [...actor.inflight.values()];
    actor.inflight.clear();
    if (canRestart) {
      actor.numRestarts++;
      actor.state = 'restarting';
      actor.killedNoRestart = undefined;
      const retry: ActorCall[] = [];
      for (const call of inflight) {
        if (o.maxTaskRetries === -1 || call.attempts <= o.maxTaskRetries) retry.push(call);
        else this.finishCall(call, this.actorDeadValue(actor, actor.spec.actorId, call.spec));
      }
      actor.queue.unshiftAll(retry);
      this.host.actorState(actor.spec.actorId, 'RESTARTING', cause);
      this.scheduleActorCreation(actor);
      return;
    }
    actor.state = 'dead';
    this.host.actorState(actor.spec.actorId, 'DEAD', cause);
    if (actor.creation) {
      this.host.endCreation(actor.creation, true);
      actor.creation = undefined;
    }
    for (const call of [...inflight, ...actor.queue.toArray()]) {
      this.finishCall(call, this.actorDeadValue(actor, actor.spec.actorId, call.spec));
    }
    actor.queue.clear();
    if (actor.nameKey && this.names.get(actor.nameKey) === actor.spec.actorId) this.names.delete(actor.nameKey);
    this.host.unpinArgs(actor.spec.args);
    this.host.requestSchedule();
  }

  async killActor(actorId: string, noRestart: boolean, cause = 'it was killed with kill()'): Promise<void> {
    const actor = this.resolveActor(actorId);
    if (!actor || actor.state === 'dead') return;
    actor.killedNoRestart = noRestart;
    actor.killCause = cause;
    const w = actor.worker;
    if (!w) {
      this.actorDied(actor, cause, undefined, noRestart);
      return;
    }
    const dedicated = !this.actorHosts.includes(w);
    // Dead (or restarting) at once, so calls made after kill() returns never reach the old instance.
    this.actorDied(actor, cause, undefined, noRestart);
    if (dedicated) w.terminate('terminated', 'killed');
    else w.send({ k: 'dropActor', actorId: actor.spec.actorId });
  }

  /** Named actors alive here, with their namespaces. */
  namedActors(): { name: string; namespace: string }[] {
    const out: { name: string; namespace: string }[] = [];
    for (const [key, id] of this.names) {
      if (this.actors.get(id)?.state === 'dead') continue;
      const slash = key.indexOf('/');
      out.push({ namespace: key.slice(0, slash), name: key.slice(slash + 1) });
    }
    return out;
  }

  getActorByName(name: string, namespace: string | undefined): ActorHandleData | undefined {
    const id = this.names.get(`${namespace ?? this.host.namespace}/${name}`);
    const actor = id ? this.actors.get(id) : undefined;
    if (!actor || actor.state === 'dead') return undefined;
    return { actorId: actor.spec.actorId, className: actor.spec.className, methods: actor.spec.methods };
  }

  /** A worker ended: its actors die (and restart if they may). */
  onWorkerExit(w: WorkerHandle): void {
    const hostIndex = this.actorHosts.indexOf(w);
    if (hostIndex >= 0) this.actorHosts.splice(hostIndex, 1);
    const actorIds = this.actorsOnWorker.get(w);
    this.actorsOnWorker.delete(w);
    if (!actorIds) return;
    for (const id of actorIds) {
      const actor = this.actors.get(id);
      if (!actor || actor.worker !== w) continue;
      const cause =
        actor.killedNoRestart !== undefined
          ? (actor.killCause ?? 'it was killed with kill()')
          : w.exitReason === 'oom'
            ? `its worker ran out of memory (${w.exitDetail})`
            : `its worker ${w.kind === 'thread' ? 'thread' : 'process'} died (${w.exitDetail || 'exited'})`;
      this.actorDied(actor, cause, undefined, false);
    }
  }

  /** A worker reported a method call's outcome; false if `taskId` is no call of ours. */
  onCallDone(w: WorkerHandle, taskId: string, outcome: TaskOutcome, ms?: number): boolean {
    const actor = this.actorCalls.get(taskId)?.actor;
    const call = actor?.inflight.get(taskId);
    if (!actor || !call) return false;
    actor.inflight.delete(taskId);
    this.host.recordCall(call.spec, actor.spec.jobId, w.id, ms, outcome.ok && !call.cancelled);
    this.finishCall(
      call,
      call.cancelled ? this.host.cancelledValue(taskId) : outcome.ok ? outcome.results : storedError(outcome.error),
      w,
    );
    return true;
  }

  /** An actor's constructor threw: it is dead for good, with that error as the cause. */
  onActorFailed(actorId: string, error: WireError): void {
    const actor = this.actors.get(actorId);
    if (actor) this.actorDied(actor, `its constructor threw ${error.name}: ${error.message}`, error, true);
  }

  /** createActor for a worker's request: a name clash cannot throw there, so the actor is dead from the start. */
  createActorFromWorker(spec: ActorCreationSpec): void {
    try {
      this.createActor(spec);
    } catch (err) {
      const actor: ActorRecord = {
        spec,
        state: 'pending',
        worker: undefined,
        alloc: undefined,
        numRestarts: 0,
        queue: new Deque(),
        inflight: new Map(),
        nameKey: undefined,
        killedNoRestart: true,
        deathCause: undefined,
        deathError: undefined,
        creation: undefined,
      };
      this.actors.set(spec.actorId, actor);
      this.host.pinArgs(spec.args);
      this.actorDied(actor, (err as Error).message, errorToWire(err), true);
    }
  }

  /** Cancels a method call (queued: never runs; running: its cancelSignal aborts); false if `taskId` is no call of ours. */
  cancelCall(taskId: string, force: boolean): boolean {
    const p = this.actorCalls.get(taskId);
    if (!p) return false;
    if (force) {
      throw new InvalidArgumentError(
        `cancel(force: true) is not supported for actor method calls (${p.call.spec.name}): it would kill the actor. ` +
          `Use kill(actor) instead, or cancel without force.`,
      );
    }
    const call = p.call;
    call.cancelled = true;
    const actor = p.actor;
    if (actor.queue.remove(call)) {
      this.finishCall(call, this.host.cancelledValue(call.spec.taskId));
    } else if (actor.inflight.has(call.spec.taskId)) {
      actor.worker?.send({ k: 'cancel', taskId: call.spec.taskId });
    }
    return true;
  }

  /** Actors hosted here by class name and Ray's state name (`ray_actors`), as `state + '\0' + name`. */
  stateCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.actors.values()) {
      const key = `${RAY_ACTOR_STATE[a.state]}\0${a.spec.className}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }

  /** Adds the calls running (`RUNNING`) and queued (`SUBMITTED_TO_WORKER`) here to `ray_tasks`'s counts. */
  addCallStates(into: Map<string, number>): void {
    const add = (state: string, name: string) =>
      into.set(`${state}\0${name}`, (into.get(`${state}\0${name}`) ?? 0) + 1);
    for (const a of this.actors.values()) {
      for (const c of a.inflight.values()) add('RUNNING', c.spec.name);
      for (const c of a.queue.toArray()) add('SUBMITTED_TO_WORKER', c.spec.name);
    }
  }

  /** Counts for diagnostics. */
  counts(): { actors: number; actorHosts: number } {
    let live = 0;
    for (const a of this.actors.values()) if (a.state !== 'dead') live++;
    return { actors: live, actorHosts: this.actorHosts.length };
  }
}
