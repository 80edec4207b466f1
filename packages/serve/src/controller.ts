/**
 * The Serve controller: one detached actor per cluster that owns every application. Its control
 * loop starts and stops replicas to match each deployment's target (rolling updates replace old
 * versions without dropping requests), checks their health, samples their load for autoscaling,
 * keeps a group of proxy threads on every node, and publishes the routing table to every router
 * by long poll. The per-deployment logic is in deployment-state.ts (which reaches the cluster
 * through the {@link ReplicaRuntime} implemented here), the proxies in proxy-groups.ts.
 */
import {
  ActorDiedError,
  availableResources,
  get,
  kill,
  remote,
  type ActorHandle,
  type ActorOptions,
} from '@ray-ts/core';
import { SERVE_NAMESPACE, serveConfig } from './constants.js';
import type { ApplicationStatus, ServeStatus } from './controller-api.js';
import { DeploymentState, describeError, type ReplicaRuntime, type RuntimeReplica } from './deployment-state.js';
import { ReplicaDiedError, ServeInvalidArgumentError } from './errors.js';
import type { CompiledDeploymentOptions, CompiledStartOptions } from './options.js';
import { ControllerMetrics } from './controller-metrics.js';
import { ProxyGroups } from './proxy-groups.js';
import { ServeReplica } from './replica.js';
import { restStatus, StatusPublisher, type ReplicasByDeployment } from './status-publish.js';
import { deploymentKey, type AppSpec, type ReplicaMethods, type ReplicaSpec, type RoutingTable } from './wire.js';
import { getLogger } from '@ray-ts/core';

const log = getLogger('ray-ts.serve');

interface App {
  readonly name: string;
  routePrefix: string | null;
  ingress: string;
  deployments: Set<string>;
  status: ApplicationStatus;
  message: string;
}

/** The actor options of each replica of a deployment. */
function replicaActorOptions(o: CompiledDeploymentOptions): ActorOptions {
  const a = o.rayActorOptions;
  return {
    namespace: SERVE_NAMESPACE,
    lifetime: 'detached',
    numCpus: a.numCpus,
    ...(a.numGpus ? { numGpus: a.numGpus } : {}),
    ...(a.resources ? { resources: a.resources } : {}),
    ...(a.memory ? { memory: a.memory } : {}),
    maxConcurrency: Math.max(100, o.maxOngoingRequests * 4 + 32),
    // A thread of its own even without CPUs: a crashing replica takes nothing else down.
    ...(a.numGpus ? {} : { isolation: 'thread' as const }),
    // Replicas spread over the nodes, so that one node's loss leaves others serving (as Ray Serve).
    schedulingStrategy: 'SPREAD',
  };
}

/** A replica actor's calls, with an actor's death told apart as a {@link ReplicaDiedError}. */
function runtimeReplica(spec: ReplicaSpec, actor: ActorHandle<ReplicaMethods>): RuntimeReplica {
  const call = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      if (!(err instanceof ActorDiedError)) throw err;
      throw new ReplicaDiedError(
        `Replica ${spec.replicaId} of deployment '${spec.deployment}' (app '${spec.app}') died (${describeError(err)}); ` +
          'the controller starts another in its place.',
        { actorId: spec.replicaId, cause: err },
      );
    });
  return {
    routed: actor,
    initialize: () => call(get(actor.initialize.remote())),
    metrics: (timeoutMs) => call(get(actor.metrics.remote(), { timeoutMs })),
    checkHealth: (timeoutMs) => call(get(actor.checkHealth.remote(), { timeoutMs })),
    reconfigure: (userConfig) => call(get(actor.reconfigure.remote(userConfig))),
    drain: (timeoutS, waitLoopS, timeoutMs) => call(get(actor.drain.remote(timeoutS, waitLoopS), { timeoutMs })),
    kill: () => kill(actor).catch(() => undefined),
  };
}

class ServeControllerActor {
  private opts: CompiledStartOptions | undefined;
  private readonly apps = new Map<string, App>();
  private readonly deps = new Map<string, DeploymentState>();
  private readonly proxies = new ProxyGroups();
  private table: RoutingTable = { version: 0, apps: [], deployments: {} };
  private dirty = false;
  private listeners: (() => void)[] = [];
  private readonly queued = new Map<string, { at: number; queued: Record<string, number> }>();
  private readonly timer: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;
  private seq = 0;
  private available: Record<string, number> = {};
  private lastProxyCheck = 0;
  private lastResourceCheck = 0;
  /** The dashboard's copy of status() in the KV. */
  private readonly publisher = new StatusPublisher();
  private readonly metrics = new ControllerMetrics();

  /** How deployment states reach the cluster and this controller. */
  private readonly runtime: ReplicaRuntime = {
    newReplicaId: (app, deployment) =>
      `${app}#${deployment}#${(this.seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    start: (spec, options) =>
      runtimeReplica(
        spec,
        ServeReplica.options(replicaActorOptions(options)).remote(spec) as unknown as ActorHandle<ReplicaMethods>,
      ),
    available: () => this.available,
    queuedRequests: (key, now) => this.queuedFor(key, now),
    now: () => Date.now(),
    routingChanged: () => {
      this.dirty = true;
    },
    wake: () => void this.tick(),
    log: (message) => log.info(message),
    error: (message) => log.error(message),
    replicaHealth: (event) => this.metrics.record(event),
  };

  constructor() {
    this.timer = setInterval(() => void this.tick(), serveConfig.controlLoopMs);
  }

  /** Starts the proxies (once); later calls keep the first options. */
  async start(opts: CompiledStartOptions): Promise<ServeStatus['proxies']> {
    this.opts ??= opts;
    await this.proxies.ensure(this.opts);
    return this.status().proxies;
  }

  startOptions(): CompiledStartOptions | undefined {
    return this.opts;
  }

  /** Deploys (or updates) applications; returns at once, see waitApps(). */
  async deployApps(specs: AppSpec[]): Promise<void> {
    for (const spec of specs) {
      for (const other of this.apps.values()) {
        if (
          other.name !== spec.name &&
          spec.routePrefix !== null &&
          other.routePrefix === spec.routePrefix &&
          other.status !== 'DELETING'
        ) {
          throw new ServeInvalidArgumentError(
            `Route prefix '${spec.routePrefix}' of app '${spec.name}' is already used by app '${other.name}': give each app its own routePrefix.`,
          );
        }
      }
    }
    this.available = await availableResources();
    for (const spec of specs) this.deployApp(spec);
    this.dirty = true;
    await this.tick();
  }

  private deployApp(spec: AppSpec): void {
    let app = this.apps.get(spec.name);
    if (!app) {
      app = {
        name: spec.name,
        routePrefix: spec.routePrefix,
        ingress: '',
        deployments: new Set(),
        status: 'DEPLOYING',
        message: '',
      };
      this.apps.set(spec.name, app);
    }
    app.routePrefix = spec.routePrefix;
    app.ingress = deploymentKey(spec.name, spec.ingress);
    app.status = 'DEPLOYING';
    app.message = '';
    const keep = new Set<string>();
    for (const d of spec.deployments) {
      const key = deploymentKey(spec.name, d.name);
      keep.add(key);
      const dep = this.deps.get(key);
      if (!dep) this.deps.set(key, new DeploymentState(spec.name, d, this.runtime));
      else dep.update(d);
    }
    for (const key of app.deployments) {
      if (!keep.has(key)) this.deps.get(key)?.delete();
    }
    app.deployments = new Set([...app.deployments, ...keep]);
  }

  /** Deletes applications: their replicas drain and stop. */
  async deleteApps(names: string[]): Promise<void> {
    for (const name of names) {
      const app = this.apps.get(name);
      if (!app) continue;
      app.status = 'DELETING';
      for (const key of app.deployments) this.deps.get(key)?.delete();
    }
    this.dirty = true;
    await this.tick();
  }

  /** Waits until each app is RUNNING, DEPLOY_FAILED or gone (deleted), or the timeout passes. */
  async waitApps(
    names: string[],
    timeoutMs: number,
  ): Promise<Record<string, { status: ApplicationStatus; message: string }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out: Record<string, { status: ApplicationStatus; message: string }> = {};
      let settled = true;
      for (const n of names) {
        const app = this.apps.get(n);
        out[n] = app ? { status: app.status, message: app.message } : { status: 'NOT_STARTED', message: '' };
        if (app && (app.status === 'DEPLOYING' || app.status === 'DELETING')) settled = false;
      }
      if (settled || Date.now() >= deadline) return out;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The routing table, once its version differs from `sinceVersion` (or after the long-poll timeout). */
  async listen(sinceVersion: number): Promise<RoutingTable> {
    if (this.table.version !== sinceVersion || this.stopped) return this.table;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, serveConfig.longPollTimeoutMs);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.listeners.push(done);
    });
    return this.table;
  }

  /** Queued requests of one router, by deployment key. */
  recordQueued(routerId: string, queued: Record<string, number>): void {
    this.queued.set(routerId, { at: Date.now(), queued });
    // A deployment scaled to zero wakes at once.
    for (const key of Object.keys(queued)) {
      const dep = this.deps.get(key);
      if (dep?.spec.options.autoscaling && dep.target === 0 && queued[key] > 0) void this.tick();
    }
  }

  private queuedFor(key: string, now: number): number {
    let n = 0;
    for (const [id, q] of this.queued) {
      if (now - q.at > 5000) this.queued.delete(id);
      else n += q.queued[key] ?? 0;
    }
    return n;
  }

  status(): ServeStatus {
    const applications: ServeStatus['applications'] = {};
    for (const app of this.apps.values()) {
      const deployments: ServeStatus['applications'][string]['deployments'] = {};
      for (const key of app.deployments) {
        const dep = this.deps.get(key);
        if (!dep || dep.deleting) continue;
        deployments[dep.name] = dep.report();
      }
      applications[app.name] = { status: app.status, message: app.message, routePrefix: app.routePrefix, deployments };
    }
    return { proxies: this.proxies.status(), applications };
  }

  /** Stops everything Serve runs: replicas, proxies, then the loop. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.publisher.clear();
    const kills: Promise<unknown>[] = [];
    for (const dep of this.deps.values()) kills.push(...dep.killAll());
    kills.push(...this.proxies.shutdown());
    await Promise.all(kills);
    this.deps.clear();
    this.apps.clear();
    this.proxies.clear();
    this.table = { version: this.table.version + 1, apps: [], deployments: {}, shutdown: true };
    for (const l of this.listeners.splice(0)) l();
  }

  // ---- the control loop ----

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const dep of [...this.deps.values()]) {
        dep.step(now);
        if (dep.gone) {
          this.deps.delete(dep.key);
          for (const app of this.apps.values()) app.deployments.delete(dep.key);
          this.dirty = true;
        }
      }
      this.updateApps();
      if (now - this.lastResourceCheck >= 250) {
        this.lastResourceCheck = now;
        void availableResources().then(
          (a) => (this.available = a),
          () => undefined,
        );
      }
      if (this.opts && now - this.lastProxyCheck >= serveConfig.proxyCheckMs) {
        this.lastProxyCheck = now;
        void this.proxies.ensure(this.opts).catch(() => undefined);
      }
      if (this.dirty) this.publish();
      this.publisher.maybePublish(now, () => restStatus(this.status(), this.replicasByDeployment()));
    } finally {
      this.ticking = false;
    }
  }

  private replicasByDeployment(): ReplicasByDeployment {
    const out: ReplicasByDeployment = {};
    for (const app of this.apps.values())
      for (const key of app.deployments) {
        const dep = this.deps.get(key);
        if (dep && !dep.deleting) (out[app.name] ??= {})[dep.name] = dep.replicas;
      }
    return out;
  }

  private updateApps(): void {
    for (const app of [...this.apps.values()]) {
      const deps = [...app.deployments].map((k) => this.deps.get(k)).filter((d): d is DeploymentState => !!d);
      if (app.status === 'DELETING') {
        if (deps.length === 0) {
          this.apps.delete(app.name);
          this.dirty = true;
        }
        continue;
      }
      const failed = deps.find((d) => d.failed);
      if (failed) {
        app.status = 'DEPLOY_FAILED';
        app.message = failed.failed!;
      } else if (app.status === 'DEPLOYING' || app.status === 'DEPLOY_FAILED') {
        if (deps.filter((d) => !d.deleting).every((d) => d.status() === 'HEALTHY')) {
          app.status = 'RUNNING';
          app.message = '';
        } else {
          app.message = deps.map((d) => d.pendingMessage()).find((m) => m) ?? '';
        }
      }
    }
  }

  private publish(): void {
    this.dirty = false;
    const deployments: RoutingTable['deployments'] = {};
    for (const dep of this.deps.values()) {
      if (dep.deleting) continue;
      deployments[dep.key] = dep.routing();
    }
    const apps = [...this.apps.values()]
      .filter((a) => a.status !== 'DELETING')
      .map((a) => ({ name: a.name, routePrefix: a.routePrefix, ingress: a.ingress }));
    this.table = { version: this.table.version + 1, apps, deployments };
    for (const l of this.listeners.splice(0)) l();
  }
}

/** @internal The controller actor class. */
export const ServeController = remote(ServeControllerActor);
