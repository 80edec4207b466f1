/**
 * Request routing, in every thread that calls deployments (proxies, replicas with handles, the
 * driver): one {@link RouterHub} per thread follows the controller's routing table by long poll,
 * and one {@link Router} per deployment picks a replica by power of two choices on the requests
 * this thread has in flight to each, queues when every replica is full, and reports the queue
 * to the controller (so a deployment scaled to zero wakes up).
 */
import { ActorDiedError, get, getActor, type ActorHandle } from '@ray-ts/core';
import { cancelWhy, type Cancellation } from './cancellation.js';
import { directLink } from './direct.js';
import { BackPressureError, ReplicaDiedError, ServeNotRunningError } from './errors.js';
import type { ControllerMethods } from './controller-api.js';
import { CONTROLLER_NAME, SERVE_NAMESPACE } from './constants.js';
import { RouterMetrics } from './router-metrics.js';
import type { ReplicaReply, ReplicaRequest, RoutedReplica, RoutingTable } from './wire.js';

interface ReplicaView {
  replica: RoutedReplica;
  /** Models this router saw the replica serve (before the controller's table says so). */
  models: Set<string>;
  inflight: number;
  /** A replica that rejected a request is skipped until then. */
  fullUntil: number;
  dead: boolean;
}

interface Waiter {
  wake: () => void;
  fail: (err: unknown) => void;
}

/** A request in a router: the replica's reply, and `release()` to call once its stream ended. */
export interface Assignment {
  reply: ReplicaReply;
  replica: RoutedReplica;
  release: () => void;
  /** For a caller that gave up: cancels the reply's stream, if any, and releases. */
  abandon: (why: string) => void;
}

/** Options of one assignment. */
export interface AssignOptions {
  /** Retry once on another replica when the first dies (idempotent requests). */
  retryOnDeath: boolean;
  /** The caller's: its client left, or its time is up. */
  cancel?: Cancellation;
}

const REJECT_BACKOFF_MS = 3;

/**
 * Rejects with the cancellation's reason when it comes before `p` settles (for the HTTP and gRPC
 * proxies, whose clients can time out or leave). A late result is abandoned, so its replica
 * slot frees and its stream, if any, stops.
 */
export function abortable(p: Promise<Assignment>, c: Cancellation): Promise<Assignment> {
  const abandonLate = () =>
    void p.then(
      (a) => a.abandon(cancelWhy(c)),
      () => undefined,
    );
  if (c.reason) {
    abandonLate();
    return Promise.reject(c.reason);
  }
  return new Promise<Assignment>((resolve, reject) => {
    const forget = c.onCancel(() => {
      abandonLate();
      reject(c.reason!);
    });
    p.then(
      (v) => {
        forget();
        if (c.reason) v.abandon(cancelWhy(c));
        resolve(v);
      },
      (e: unknown) => {
        forget();
        reject(e as Error);
      },
    );
  });
}

/** Routes one deployment's requests to its replicas. */
export class Router {
  private views = new Map<string, ReplicaView>();
  private list: ReplicaView[] = [];
  private readonly queue: Waiter[] = [];
  private maxOngoing = 1;
  private maxQueued = -1;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set when the deployment left the table (deleted). */
  private gone: string | undefined;
  /** Set when it failed to deploy and has no replica. */
  private unavailable: string | undefined;

  constructor(
    readonly key: string,
    private readonly metrics?: RouterMetrics,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Requests this router sent to replicas that have not ended yet. */
  get ongoing(): number {
    let n = 0;
    for (const v of this.list) n += v.inflight;
    return n;
  }

  /** Takes the table's view of this deployment. */
  update(entry: RoutingTable['deployments'][string] | undefined, why?: string): void {
    if (!entry) {
      for (const v of this.list) this.probe(v);
      this.gone =
        why ??
        `Deployment '${this.key.replace('#', "' of app '")}' does not exist (it was deleted, or never deployed).`;
      for (const w of this.queue.splice(0)) w.fail(new ServeNotRunningError(this.gone));
      return;
    }
    this.gone = undefined;
    this.unavailable = entry.unavailable;
    this.maxOngoing = entry.maxOngoingRequests;
    this.maxQueued = entry.maxQueuedRequests;
    const next = new Map<string, ReplicaView>();
    for (const r of entry.replicas) {
      const old = this.views.get(r.id);
      if (old && !old.dead) {
        // Updated in place: requests in flight release the view they took, so a copy would keep
        // their count forever and the replica would look full to this router.
        old.replica = r;
        for (const m of r.models) old.models.add(m);
        next.set(r.id, old);
      } else {
        next.set(r.id, { replica: r, models: new Set(r.models), inflight: 0, fullUntil: 0, dead: false });
      }
    }
    for (const [id, v] of this.views) if (!next.has(id)) this.probe(v);
    this.views = next;
    this.list = [...next.values()];
    if (this.unavailable && this.list.length === 0) {
      for (const w of this.queue.splice(0)) w.fail(new ServeNotRunningError(this.unavailable));
    }
    this.wakeAll();
  }

  /**
   * A replica left the table while requests sent to it directly (direct.ts) wait: ask the actor
   * system whether it lives. Dead, they fail with its ActorDiedError (retried as an actor call's
   * would be); alive (draining), they are left to finish and it is asked again a second later.
   */
  private probe(v: ReplicaView): void {
    const link = directLink();
    if (!link) return;
    if (link.waiting(v.replica.id) === 0) return link.forget(v.replica.id);
    get(v.replica.actor.metrics.remote()).then(
      () => void setTimeout(() => this.probe(v), 1000).unref(),
      (err: unknown) => {
        if (err instanceof ActorDiedError) link.failReplica(v.replica.id, err);
        else setTimeout(() => this.probe(v), 1000).unref();
      },
    );
  }

  private choose(modelId: string): ReplicaView | undefined {
    const now = Date.now();
    const free = (v: ReplicaView) => !v.dead && v.inflight < this.maxOngoing && v.fullUntil <= now;
    let candidates = this.list;
    if (modelId) {
      const withModel = candidates.filter((v) => v.models.has(modelId));
      // Replicas that have the model are preferred even when busy: loading it elsewhere costs more.
      if (withModel.some(free)) candidates = withModel;
    }
    const n = candidates.length;
    if (n === 0) return undefined;
    if (n === 1) return free(candidates[0]) ? candidates[0] : undefined;
    // Power of two choices; fall back to a scan when both picks are full.
    const a = candidates[Math.floor(Math.random() * n)];
    let b = candidates[Math.floor(Math.random() * (n - 1))];
    if (b === a) b = candidates[n - 1];
    const fa = free(a);
    const fb = free(b);
    if (fa && fb) return a.inflight <= b.inflight ? a : b;
    if (fa) return a;
    if (fb) return b;
    let best: ReplicaView | undefined;
    for (const v of candidates) if (free(v) && (!best || v.inflight < best.inflight)) best = v;
    return best;
  }

  private wakeAll(): void {
    for (const w of this.queue.splice(0)) w.wake();
  }

  private wakeOne(): void {
    this.queue.shift()?.wake();
  }

  /**
   * Throws BackPressureError when a request would be refused now: the queue is full (the proxy
   * asks before it reads a request's body, so a shed request costs no buffering).
   */
  checkCapacity(): void {
    if (this.maxQueued < 0 || this.queue.length < this.maxQueued) return;
    const [app, dep] = this.key.split('#');
    throw new BackPressureError(
      `Deployment '${dep}' of app '${app}' is overloaded: every replica has ${this.maxOngoing} requests ongoing ` +
        `(maxOngoingRequests) and ${this.queue.length} more wait (maxQueuedRequests ${this.maxQueued}). ` +
        'Retry later, or raise maxOngoingRequests or maxQueuedRequests, or add replicas.',
      `${app}/${dep}`,
    );
  }

  private async waitTurn(cancel: Cancellation | undefined): Promise<void> {
    if (this.gone) throw new ServeNotRunningError(this.gone);
    if (this.unavailable && this.list.length === 0) throw new ServeNotRunningError(this.unavailable);
    this.checkCapacity();
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        wake: () => {
          forget?.();
          resolve();
        },
        fail: (e) => {
          forget?.();
          reject(e);
        },
      };
      this.queue.push(w);
      // A request whose caller gave up leaves the queue: it never runs.
      const forget = cancel?.onCancel(() => {
        const i = this.queue.indexOf(w);
        if (i >= 0) this.queue.splice(i, 1);
        reject(cancel.reason!);
      });
      this.scheduleRetry();
    });
  }

  /**
   * Rejections put replicas aside for a moment: look again once that passed. Every replica with
   * room in this router counts, even one whose pause already ended: `choose()` read the clock a
   * moment earlier, and without a timer its waiter would sleep until the next table update.
   * Replicas full of this router's own requests wake a waiter through `release()` instead.
   */
  private scheduleRetry(): void {
    if (this.retryTimer) return;
    let next = Infinity;
    for (const v of this.list) if (!v.dead && v.inflight < this.maxOngoing) next = Math.min(next, v.fullUntil);
    if (next === Infinity) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.wakeAll();
      },
      Math.max(0, next - Date.now()),
    );
  }

  /**
   * Sends a request to a replica, waiting for room; resolves with its reply. When `opts.cancel`
   * comes, a queued request leaves the queue (it never runs) and a running one is cancelled:
   * the replica aborts its `request.signal`.
   */
  async assign(req: ReplicaRequest, opts: AssignOptions): Promise<Assignment> {
    this.metrics?.request(this.key, req.kind === 'http' ? req.route : '');
    let retried = false;
    const cancel = opts.cancel;
    for (;;) {
      cancel?.throwIfCancelled();
      const v = this.choose(req.modelId);
      if (!v) {
        await this.waitTurn(cancel);
        continue;
      }
      v.inflight++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        v.inflight--;
        this.wakeOne();
      };
      const actor = v.replica.actor;
      const callId = `${CALL_PREFIX}${(callSeq++).toString(36)}`;
      const forget = cancel?.onCancel(() => void actor.cancelRequest.remote(callId, cancelWhy(cancel)));
      let reply: ReplicaReply;
      try {
        // HTTP requests to a replica in this process skip the driver thread (direct.ts).
        const link = req.kind === 'http' ? directLink() : undefined;
        const channel = link?.channel(v.replica.id);
        reply = await (channel
          ? link!.call(v.replica.id, channel, req, callId)
          : get(actor.handle.remote(req, callId)));
      } catch (err) {
        forget?.();
        release();
        if (!(err instanceof ActorDiedError)) throw err;
        v.dead = true;
        this.list = this.list.filter((x) => x !== v);
        if (opts.retryOnDeath && !retried) {
          retried = true;
          continue;
        }
        const [app, dep] = this.key.split('#');
        throw new ReplicaDiedError(
          `Replica ${v.replica.id} of deployment '${dep}' (app '${app}') died while handling the request; ` +
            (opts.retryOnDeath
              ? 'the retry on another replica failed too.'
              : 'it was not retried because the request may not be idempotent (it may have run in part).'),
          { actorId: v.replica.id, cause: err },
        );
      }
      forget?.();
      if (reply.rejected) {
        release();
        v.fullUntil = Date.now() + REJECT_BACKOFF_MS;
        continue;
      }
      if (req.modelId) v.models.add(req.modelId);
      const stream = 'stream' in reply ? reply.stream : 'http' in reply ? reply.http.stream : undefined;
      const abandon = (why: string) => {
        if (stream !== undefined && !released) void actor.streamCancel.remote(stream, why);
        release();
      };
      if (cancel?.reason) {
        abandon(cancelWhy(cancel));
        throw cancel.reason;
      }
      return { reply, replica: v.replica, release, abandon };
    }
  }
}

/** Call ids: unique per thread, and across threads and hosts by the random prefix. */
const CALL_PREFIX = `${Math.random().toString(36).slice(2, 10)}-`;
let callSeq = 0;

/** One per thread: the routing table and the routers built on it. */
export class RouterHub {
  private table: RoutingTable | undefined;
  private readonly routers = new Map<string, Router>();
  private controller: ActorHandle<ControllerMethods> | undefined;
  private polling = false;
  private stopped = false;
  private readonly readyWaiters: (() => void)[] = [];
  private reportTimer: NodeJS.Timeout | undefined;
  private lastReported = new Map<string, number>();
  private readonly id = `router-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly metrics = new RouterMetrics(this.id);

  /** The current table (after the first poll). */
  async routingTable(): Promise<RoutingTable> {
    this.startPolling();
    if (this.table) return this.table;
    await new Promise<void>((r) => this.readyWaiters.push(r));
    if (!this.table) throw new ServeNotRunningError('Serve is not running: call serve.start() or serve.run() first.');
    return this.table;
  }

  /** The router of `app#deployment`. */
  async router(key: string): Promise<Router> {
    let r = this.routers.get(key);
    if (!r) {
      r = new Router(key, this.metrics);
      this.routers.set(key, r);
      const t = await this.routingTable();
      r.update(t.deployments[key]);
    } else if (!this.table) {
      await this.routingTable();
    }
    this.startReporting();
    return r;
  }

  /** Stops polling (Serve shut down, or the thread is done with it). */
  stop(): void {
    this.stopped = true;
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.reportTimer = undefined;
    for (const w of this.readyWaiters.splice(0)) w();
    for (const r of this.routers.values()) r.update(undefined, 'Serve shut down.');
    this.routers.clear();
    this.table = undefined;
  }

  private async controllerHandle(): Promise<ActorHandle<ControllerMethods>> {
    this.controller ??= await getActor<ControllerMethods>(CONTROLLER_NAME, { namespace: SERVE_NAMESPACE });
    return this.controller;
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.stopped = false;
    void this.poll();
  }

  private async poll(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const c = await this.controllerHandle();
        const t = await get(c.listen.remote(this.table?.version ?? -1));
        failures = 0;
        if (this.stopped) break;
        if (t.shutdown) {
          this.stop();
          break;
        }
        if (t.version !== this.table?.version) this.apply(t);
      } catch (err) {
        this.controller = undefined;
        failures++;
        if (failures >= 3 && !this.table) {
          // No controller: callers waiting for a first table learn it now.
          for (const w of this.readyWaiters.splice(0)) w();
        }
        if (err instanceof ActorDiedError || failures > 1)
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * failures)));
      }
    }
    this.polling = false;
  }

  private apply(t: RoutingTable): void {
    this.table = t;
    for (const [key, r] of this.routers) r.update(t.deployments[key]);
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Queued requests go to the controller: they count as load for autoscaling. */
  private startReporting(): void {
    if (this.reportTimer) return;
    this.reportTimer = setInterval(() => {
      const queued: Record<string, number> = {};
      let changed = false;
      for (const [key, r] of this.routers) {
        const q = r.queued;
        this.metrics.sample(key, r.ongoing, q);
        if (q !== (this.lastReported.get(key) ?? 0)) changed = true;
        if (q > 0) queued[key] = q;
        this.lastReported.set(key, q);
      }
      if (!changed && Object.keys(queued).length === 0) return;
      void this.controllerHandle().then(
        (c) => c.recordQueued.remote(this.id, queued),
        () => undefined,
      );
    }, 200);
    this.reportTimer.unref();
  }
}

let hub: RouterHub | undefined;

/** This thread's hub. */
export function routerHub(): RouterHub {
  hub ??= new RouterHub();
  return hub;
}

/** @internal Drops this thread's hub (serve.shutdown()). */
export function resetRouterHub(): void {
  hub?.stop();
  hub = undefined;
}
