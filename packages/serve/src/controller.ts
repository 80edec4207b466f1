/**
 * The Serve controller: one detached actor per cluster that owns every application. Its control
 * loop starts and stops replicas to match each deployment's target (rolling updates replace old
 * versions without dropping requests), checks their health, samples their load for autoscaling,
 * keeps a group of proxy threads on every node, and publishes the routing table to every router
 * by long poll.
 */
import { ActorDiedError, availableResources, get, kill, nodes, remote, type ActorHandle, type NodeInfo } from '@ray-ts/core';
import { decide, newAutoscalingState, recordLoad, type AutoscalingState } from './autoscaling.js';
import { SERVE_NAMESPACE, serveConfig } from './constants.js';
import type { ApplicationStatus, DeploymentStatus, ServeStatus } from './controller-api.js';
import { ServeInvalidArgumentError } from './errors.js';
import type { CompiledStartOptions } from './options.js';
import { ServeProxy, type ProxyMethods } from './proxy.js';
import { ServeReplica } from './replica.js';
import { deploymentKey, type AppSpec, type DeploymentSpec, type ReplicaMethods, type RoutingTable } from './wire.js';

interface Replica {
  readonly id: string;
  readonly version: string;
  readonly actor: ActorHandle<ReplicaMethods>;
  state: 'STARTING' | 'RUNNING' | 'STOPPING';
  readonly startedAt: number;
  nodeId: string;
  models: string[];
  ongoing: number;
  lastHealth: number;
  healthBusy: boolean;
  metricsBusy: boolean;
  /** JSON of the userConfig it runs with. */
  config: string;
  reconfiguring: boolean;
}

interface Deployment {
  readonly app: string;
  readonly name: string;
  readonly key: string;
  spec: DeploymentSpec;
  target: number;
  replicas: Replica[];
  failures: number;
  failed: string | undefined;
  lastError: string;
  deleting: boolean;
  autoscale: AutoscalingState;
  lastSample: number;
  lastMetrics: number;
  /** 'UPSCALING' / 'DOWNSCALING' while an autoscaling change is being applied. */
  scaling: DeploymentStatus | undefined;
}

interface App {
  readonly name: string;
  routePrefix: string | null;
  ingress: string;
  deployments: Set<string>;
  status: ApplicationStatus;
  message: string;
}

interface ProxyGroup {
  readonly nodeId: string;
  /** The node's host, to check that its port still accepts. */
  readonly host: string;
  actors: ActorHandle<ProxyMethods>[];
  status: 'STARTING' | 'HEALTHY' | 'UNHEALTHY';
  httpPort: number | undefined;
  grpcPort: number | undefined;
  checking: boolean;
}

const json = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return String(v);
  }
};

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; name?: string } };
  const cause = e?.cause?.message ? `${e.cause.name ?? 'Error'}: ${e.cause.message}` : undefined;
  return (cause ?? e?.message ?? String(err)).split('\n')[0];
}

class ServeControllerActor {
  private opts: CompiledStartOptions | undefined;
  private readonly apps = new Map<string, App>();
  private readonly deps = new Map<string, Deployment>();
  private readonly proxies = new Map<string, ProxyGroup>();
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

  constructor() {
    this.timer = setInterval(() => void this.tick(), serveConfig.controlLoopMs);
  }

  /** Starts the proxies (once); later calls keep the first options. */
  async start(opts: CompiledStartOptions): Promise<ServeStatus['proxies']> {
    this.opts ??= opts;
    await this.ensureProxies();
    return this.status().proxies;
  }

  startOptions(): CompiledStartOptions | undefined {
    return this.opts;
  }

  /** Deploys (or updates) applications; returns at once, see waitApps(). */
  async deployApps(specs: AppSpec[]): Promise<void> {
    for (const spec of specs) {
      for (const other of this.apps.values()) {
        if (other.name !== spec.name && spec.routePrefix !== null && other.routePrefix === spec.routePrefix && other.status !== 'DELETING') {
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
      app = { name: spec.name, routePrefix: spec.routePrefix, ingress: '', deployments: new Set(), status: 'DEPLOYING', message: '' };
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
      let dep = this.deps.get(key);
      if (!dep) {
        dep = {
          app: spec.name, name: d.name, key, spec: d, target: d.options.numReplicas, replicas: [], failures: 0, failed: undefined,
          lastError: '', deleting: false, autoscale: newAutoscalingState(), lastSample: 0, lastMetrics: 0, scaling: undefined,
        };
        this.deps.set(key, dep);
      } else {
        const autoscaled = dep.spec.options.autoscaling && d.options.autoscaling;
        if (dep.spec.version !== d.version) {
          dep.failures = 0;
          dep.failed = undefined;
        }
        dep.spec = d;
        dep.deleting = false;
        // An autoscaling deployment keeps its current size across updates, within the new bounds.
        dep.target = autoscaled
          ? Math.min(d.options.autoscaling!.maxReplicas, Math.max(d.options.autoscaling!.minReplicas, dep.target))
          : d.options.numReplicas;
      }
    }
    for (const key of app.deployments) {
      if (!keep.has(key)) {
        const dep = this.deps.get(key);
        if (dep) dep.deleting = true;
      }
    }
    app.deployments = new Set([...app.deployments, ...keep]);
  }

  /** Deletes applications: their replicas drain and stop. */
  async deleteApps(names: string[]): Promise<void> {
    for (const name of names) {
      const app = this.apps.get(name);
      if (!app) continue;
      app.status = 'DELETING';
      for (const key of app.deployments) {
        const dep = this.deps.get(key);
        if (dep) dep.deleting = true;
      }
    }
    this.dirty = true;
    await this.tick();
  }

  /** Waits until each app is RUNNING, DEPLOY_FAILED or gone (deleted), or the timeout passes. */
  async waitApps(names: string[], timeoutMs: number): Promise<Record<string, { status: ApplicationStatus; message: string }>> {
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
    const proxies: ServeStatus['proxies'] = {};
    for (const g of this.proxies.values()) {
      proxies[g.nodeId] = { status: g.status, httpPort: g.httpPort, grpcPort: g.grpcPort, threads: g.actors.length };
    }
    const applications: ServeStatus['applications'] = {};
    for (const app of this.apps.values()) {
      const deployments: ServeStatus['applications'][string]['deployments'] = {};
      for (const key of app.deployments) {
        const dep = this.deps.get(key);
        if (!dep || dep.deleting) continue;
        const states: Partial<Record<Replica['state'], number>> = {};
        let ongoing = 0;
        for (const r of dep.replicas) {
          states[r.state] = (states[r.state] ?? 0) + 1;
          if (r.state === 'RUNNING') ongoing += r.ongoing;
        }
        deployments[dep.name] = {
          status: this.deploymentStatus(dep),
          message: dep.failed ?? this.pendingMessage(dep) ?? (dep.lastError ? `last replica failure: ${dep.lastError}` : ''),
          targetReplicas: dep.target,
          replicaStates: states,
          ongoingRequests: ongoing,
        };
      }
      applications[app.name] = { status: app.status, message: app.message, routePrefix: app.routePrefix, deployments };
    }
    return { proxies, applications };
  }

  /** Stops everything Serve runs: replicas, proxies, then the loop. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const kills: Promise<unknown>[] = [];
    for (const dep of this.deps.values()) for (const r of dep.replicas) kills.push(kill(r.actor).catch(() => undefined));
    for (const g of this.proxies.values()) {
      for (const p of g.actors) kills.push(get(p.stop.remote(), { timeoutMs: 5000 }).catch(() => undefined).then(() => kill(p).catch(() => undefined)));
    }
    await Promise.all(kills);
    this.deps.clear();
    this.apps.clear();
    this.proxies.clear();
    this.table = { version: this.table.version + 1, apps: [], deployments: {}, shutdown: true };
    for (const l of this.listeners.splice(0)) l();
  }

  /** Says so when replicas have been waiting for resources for a while. */
  private pendingMessage(dep: Deployment): string | undefined {
    const now = Date.now();
    const waiting = dep.replicas.filter((r) => r.state === 'STARTING' && now - r.startedAt > 3000).length;
    if (waiting === 0 || this.fits(dep)) return undefined;
    const a = dep.spec.options.rayActorOptions;
    const need = JSON.stringify({ CPU: a.numCpus ?? 1, ...(a.numGpus ? { GPU: a.numGpus } : {}), ...a.resources });
    return `${waiting} replica(s) wait for resources: each needs ${need}, the cluster has ${JSON.stringify(this.available)} available. ` +
      'Lower rayActorOptions (numCpus: 0.5, say), reduce replicas, or add nodes.';
  }

  private deploymentStatus(dep: Deployment): DeploymentStatus {
    if (dep.failed) return 'DEPLOY_FAILED';
    const cur = dep.replicas.filter((r) => r.version === dep.spec.version && r.state !== 'STOPPING');
    const old = dep.replicas.some((r) => r.version !== dep.spec.version && r.state !== 'STOPPING');
    const running = cur.filter((r) => r.state === 'RUNNING').length;
    if (!old && running === dep.target && cur.length === dep.target) return 'HEALTHY';
    if (dep.scaling) return dep.scaling;
    return 'UPDATING';
  }

  // ---- the control loop ----

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const dep of [...this.deps.values()]) {
        this.autoscale(dep, now);
        this.reconcile(dep);
        this.probe(dep, now);
        if (dep.deleting && dep.replicas.length === 0) {
          this.deps.delete(dep.key);
          for (const app of this.apps.values()) app.deployments.delete(dep.key);
          this.dirty = true;
        }
      }
      this.updateApps();
      if (now - this.lastResourceCheck >= 250) {
        this.lastResourceCheck = now;
        void availableResources().then((a) => (this.available = a), () => undefined);
      }
      if (this.opts && now - this.lastProxyCheck >= serveConfig.proxyCheckMs) {
        this.lastProxyCheck = now;
        void this.ensureProxies().catch(() => undefined);
      }
      if (this.dirty) this.publish();
    } finally {
      this.ticking = false;
    }
  }

  private updateApps(): void {
    for (const app of [...this.apps.values()]) {
      const deps = [...app.deployments].map((k) => this.deps.get(k)).filter((d): d is Deployment => !!d);
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
        if (deps.filter((d) => !d.deleting).every((d) => this.deploymentStatus(d) === 'HEALTHY')) {
          app.status = 'RUNNING';
          app.message = '';
        } else {
          app.message = deps.map((d) => this.pendingMessage(d)).find((m) => m) ?? '';
        }
      }
    }
  }

  private publish(): void {
    this.dirty = false;
    const deployments: RoutingTable['deployments'] = {};
    for (const dep of this.deps.values()) {
      if (dep.deleting) continue;
      const replicas = dep.replicas
        .filter((r) => r.state === 'RUNNING')
        .map((r) => ({ id: r.id, actor: r.actor, nodeId: r.nodeId, models: r.models }));
      deployments[dep.key] = {
        maxOngoingRequests: dep.spec.options.maxOngoingRequests,
        maxQueuedRequests: dep.spec.options.maxQueuedRequests,
        replicas,
        ...(dep.failed && replicas.length === 0 ? { unavailable: dep.failed } : {}),
      };
    }
    const apps = [...this.apps.values()]
      .filter((a) => a.status !== 'DELETING')
      .map((a) => ({ name: a.name, routePrefix: a.routePrefix, ingress: a.ingress }));
    this.table = { version: this.table.version + 1, apps, deployments };
    for (const l of this.listeners.splice(0)) l();
  }

  private autoscale(dep: Deployment, now: number): void {
    const cfg = dep.spec.options.autoscaling;
    if (!cfg || dep.deleting) return;
    if (now - dep.lastSample >= cfg.metricsIntervalS * 1000) {
      dep.lastSample = now;
      let load = this.queuedFor(dep.key, now);
      for (const r of dep.replicas) if (r.state === 'RUNNING') load += r.ongoing;
      recordLoad(dep.autoscale, cfg, now, load);
    }
    const next = decide(dep.autoscale, cfg, dep.target, now);
    if (next !== dep.target) {
      dep.scaling = next > dep.target ? 'UPSCALING' : 'DOWNSCALING';
      console.log(`Serve: scaling ${dep.app}/${dep.name} from ${dep.target} to ${next} replicas.`);
      dep.target = next;
    } else if (this.deploymentStatus(dep) === 'HEALTHY') {
      dep.scaling = undefined;
    }
  }

  private reconcile(dep: Deployment): void {
    const live = dep.replicas.filter((r) => r.state !== 'STOPPING');
    if (dep.deleting) {
      for (const r of live) this.stopReplica(dep, r, true);
      return;
    }
    const v = dep.spec.version;
    const cur = live.filter((r) => r.version === v);
    const old = live.filter((r) => r.version !== v);
    const target = dep.target;
    if (old.length === 0) {
      if (!dep.failed) for (let i = cur.length; i < target; i++) this.startReplica(dep);
      if (cur.length > target) {
        const order = [...cur].sort((a, b) => (a.state === 'STARTING' ? -1 : 0) - (b.state === 'STARTING' ? -1 : 0) || a.ongoing - b.ongoing);
        for (const r of order.slice(0, cur.length - target)) this.stopReplica(dep, r, true);
      }
    } else {
      // Rolling update: a new replica first when the cluster has room, else an old one makes room.
      const runningNew = cur.filter((r) => r.state === 'RUNNING').length;
      const startingNew = cur.length - runningNew;
      const stopping = dep.replicas.some((r) => r.state === 'STOPPING');
      if (!dep.failed && cur.length < target && startingNew === 0) {
        if (this.fits(dep)) this.startReplica(dep);
        else if (!stopping) this.stopReplica(dep, old[0], true);
      }
      const excess = target === 0 ? old.length : Math.min(old.length, runningNew + old.length - target);
      for (const r of old.slice(0, Math.max(0, excess))) this.stopReplica(dep, r, true);
    }
    for (const r of cur) {
      const config = json(dep.spec.options.userConfig);
      if (r.state === 'RUNNING' && r.config !== config && !r.reconfiguring) {
        r.reconfiguring = true;
        get(r.actor.reconfigure.remote(dep.spec.options.userConfig)).then(
          () => {
            r.config = config;
            r.reconfiguring = false;
          },
          (err: unknown) => {
            r.reconfiguring = false;
            dep.lastError = `reconfigure failed: ${describe(err)}`;
            r.config = config; // not retried in a loop; the error shows in status
          },
        );
      }
    }
  }

  /** True when the cluster has room for one more replica of `dep` now. */
  private fits(dep: Deployment): boolean {
    const a = dep.spec.options.rayActorOptions;
    const need: Record<string, number> = { CPU: a.numCpus ?? 1, GPU: a.numGpus ?? 0, ...a.resources };
    for (const [k, n] of Object.entries(need)) if (n > 0 && (this.available[k] ?? 0) < n) return false;
    return true;
  }

  private startReplica(dep: Deployment): void {
    const id = `${dep.app}#${dep.name}#${(this.seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const o = dep.spec.options;
    const a = o.rayActorOptions;
    const actor = ServeReplica.options({
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
    }).remote({
      app: dep.app, deployment: dep.name, replicaId: id, cls: dep.spec.cls, isFunction: dep.spec.isFunction,
      initArgs: dep.spec.initArgs, userConfig: o.userConfig, maxOngoingRequests: o.maxOngoingRequests,
    }) as unknown as ActorHandle<ReplicaMethods>;
    const r: Replica = {
      id, version: dep.spec.version, actor, state: 'STARTING', startedAt: Date.now(), nodeId: '', models: [], ongoing: 0, lastHealth: Date.now(),
      healthBusy: false, metricsBusy: false, config: json(o.userConfig), reconfiguring: false,
    };
    dep.replicas.push(r);
    get(actor.initialize.remote()).then(
      ({ nodeId }) => {
        if (r.state !== 'STARTING') return;
        r.state = 'RUNNING';
        r.nodeId = nodeId;
        r.lastHealth = Date.now();
        dep.failures = 0;
        this.dirty = true;
      },
      (err: unknown) => {
        if (r.state !== 'STARTING') return;
        this.removeReplica(dep, r);
        dep.failures++;
        dep.lastError = describe(err);
        console.error(`Serve: replica ${id} of ${dep.app}/${dep.name} failed to start: ${dep.lastError}`);
        if (dep.failures >= serveConfig.maxStartFailures) {
          this.dirty = true;
          dep.failed = `Deployment '${dep.name}' of app '${dep.app}' failed to start ${dep.failures} replicas in a row; the last error: ${dep.lastError}`;
        }
      },
    );
  }

  private removeReplica(dep: Deployment, r: Replica): void {
    const wasRunning = r.state === 'RUNNING';
    r.state = 'STOPPING';
    dep.replicas = dep.replicas.filter((x) => x !== r);
    void kill(r.actor).catch(() => undefined);
    if (wasRunning) this.dirty = true;
  }

  private stopReplica(dep: Deployment, r: Replica, graceful: boolean): void {
    if (r.state === 'STOPPING') return;
    if (!graceful || r.state === 'STARTING') {
      this.removeReplica(dep, r);
      return;
    }
    r.state = 'STOPPING';
    this.dirty = true;
    const o = dep.spec.options;
    const finish = () => {
      dep.replicas = dep.replicas.filter((x) => x !== r);
      void kill(r.actor).catch(() => undefined);
    };
    get(r.actor.drain.remote(o.gracefulShutdownTimeoutS, o.gracefulShutdownWaitLoopS), {
      timeoutMs: (o.gracefulShutdownTimeoutS + o.gracefulShutdownWaitLoopS + 5) * 1000,
    }).then(finish, finish);
  }

  /** Health checks and load samples; a dead or unhealthy replica is replaced. */
  private probe(dep: Deployment, now: number): void {
    const o = dep.spec.options;
    const metricsMs = o.autoscaling ? o.autoscaling.metricsIntervalS * 1000 : serveConfig.metricsIntervalMs;
    const sample = now - dep.lastMetrics >= metricsMs;
    if (sample) dep.lastMetrics = now;
    for (const r of dep.replicas) {
      if (r.state !== 'RUNNING') continue;
      if (sample && !r.metricsBusy) {
        r.metricsBusy = true;
        get(r.actor.metrics.remote(), { timeoutMs: o.healthCheckTimeoutS * 1000 }).then(
          (m) => {
            r.metricsBusy = false;
            r.ongoing = m.ongoing;
            if (m.models.join() !== r.models.join()) {
              r.models = m.models;
              this.dirty = true;
            }
          },
          (err: unknown) => {
            r.metricsBusy = false;
            if (err instanceof ActorDiedError) this.replaceReplica(dep, r, `it died (${describe(err)})`);
          },
        );
      }
      if (!r.healthBusy && now - r.lastHealth >= o.healthCheckPeriodS * 1000) {
        r.healthBusy = true;
        get(r.actor.checkHealth.remote(), { timeoutMs: o.healthCheckTimeoutS * 1000 }).then(
          () => {
            r.healthBusy = false;
            r.lastHealth = Date.now();
          },
          (err: unknown) => {
            r.healthBusy = false;
            r.lastHealth = Date.now();
            this.replaceReplica(dep, r, `its health check failed: ${describe(err)}`);
          },
        );
      }
    }
  }

  private replaceReplica(dep: Deployment, r: Replica, why: string): void {
    if (r.state !== 'RUNNING') return;
    console.error(`Serve: replacing replica ${r.id} of ${dep.app}/${dep.name}: ${why}`);
    dep.lastError = why;
    this.removeReplica(dep, r);
    void this.tick();
  }

  // ---- proxies ----

  private async ensureProxies(): Promise<void> {
    const opts = this.opts;
    if (!opts || this.stopped) return;
    if (opts.http.location === 'Disabled' && !opts.grpc) return;
    const all = await nodes();
    const alive = all.filter((n) => n.alive && (opts.http.location !== 'HeadOnly' || n.isHead));
    const ids = new Set(alive.map((n) => n.nodeId));
    for (const [id] of this.proxies) if (!ids.has(id)) this.proxies.delete(id);
    const starts: Promise<void>[] = [];
    for (const n of alive) {
      const g = this.proxies.get(n.nodeId);
      if (!g) starts.push(this.startProxyGroup(n, opts));
      else if (g.status === 'HEALTHY' && !g.checking) void this.checkProxyGroup(g);
    }
    await Promise.all(starts);
  }

  private async startProxyGroup(n: NodeInfo, opts: CompiledStartOptions): Promise<void> {
    const count = opts.http.proxiesPerNode ?? Math.max(1, Math.floor(n.resources.CPU ?? 1));
    const g: ProxyGroup = { nodeId: n.nodeId, host: n.address.replace(/:\d+$/, ''), actors: [], status: 'STARTING', httpPort: undefined, grpcPort: undefined, checking: false };
    this.proxies.set(n.nodeId, g);
    const make = () => ServeProxy.options({
      namespace: SERVE_NAMESPACE,
      lifetime: 'detached',
      isolation: 'thread',
      maxConcurrency: 100_000,
      schedulingStrategy: { nodeId: n.nodeId, soft: false },
    }).remote(opts) as unknown as ActorHandle<ProxyMethods>;
    try {
      const first = make();
      g.actors.push(first);
      const info = await get(first.listen.remote(undefined));
      const rest = Array.from({ length: count - 1 }, make);
      g.actors.push(...rest);
      await get(rest.map((p) => p.listen.remote(info)));
      g.httpPort = info.httpPort;
      g.grpcPort = info.grpcPort;
      g.status = 'HEALTHY';
    } catch (err) {
      console.error(`Serve: the proxies on node ${n.nodeId} failed to start: ${describe(err)}`);
      g.status = 'UNHEALTHY';
      for (const p of g.actors) void kill(p).catch(() => undefined);
      if (this.proxies.get(n.nodeId) === g) this.proxies.delete(n.nodeId);
      throw err;
    }
  }

  private healthUrl(g: ProxyGroup): string | undefined {
    const o = this.opts;
    if (!o || o.http.location === 'Disabled' || g.httpPort === undefined) return undefined;
    const wildcard = o.http.host === '0.0.0.0' || o.http.host === '::';
    // A loopback bind on another machine cannot be reached from here.
    if (!wildcard && o.http.host !== g.host && !(g.host === '127.0.0.1' || g.host === 'localhost')) return undefined;
    const host = wildcard ? g.host : o.http.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${g.httpPort}/-/healthz`;
  }

  private async checkProxyGroup(g: ProxyGroup): Promise<void> {
    g.checking = true;
    try {
      await get(g.actors.map((p) => p.ping.remote()), { timeoutMs: 10_000 });
      // The threads share one socket: one that died closed it for all. Check that it still accepts.
      const url = this.healthUrl(g);
      if (url) {
        const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
        await r.arrayBuffer();
      }
    } catch (err) {
      console.error(`Serve: a proxy on node ${g.nodeId} stopped answering (${describe(err)}); restarting the node's proxies.`);
      g.status = 'UNHEALTHY';
      for (const p of g.actors) void kill(p).catch(() => undefined);
      if (this.proxies.get(g.nodeId) === g) this.proxies.delete(g.nodeId);
    } finally {
      g.checking = false;
    }
  }
}

/** @internal The controller actor class. */
export const ServeController = remote(ServeControllerActor);
