/**
 * The state of one deployment inside the Serve controller: its replicas and their lifecycle
 * (STARTING -> RUNNING -> STOPPING), the control step that moves them toward the target (rolling
 * updates replace old versions without dropping requests), health checks, load samples and
 * autoscaling. It reaches the cluster only through a {@link ReplicaRuntime}, so it is
 * unit-tested with a fake runtime and a fake clock (the controller implements it with core).
 */
import { decide, newAutoscalingState, recordLoad, type AutoscalingState } from './autoscaling.js';
import { serveConfig } from './constants.js';
import type { DeploymentStatus, ReplicaState, ServeStatus } from './controller-api.js';
import { ReplicaDiedError } from './errors.js';
import type { CompiledDeploymentOptions } from './options.js';
import { deploymentKey, type DeploymentSpec, type ReplicaSpec, type RoutedReplica, type RoutingTable } from './wire.js';

/**
 * One replica actor as the deployment state drives it. Every promise rejects with a
 * {@link ReplicaDiedError} when the call failed because the actor died, else with the call's error.
 */
export interface RuntimeReplica {
  /** Waits for the replica's constructor; resolves with the node it runs on. */
  initialize(): Promise<{ nodeId: string }>;
  /** Ongoing requests and loaded models; rejects after `timeoutMs`. */
  metrics(timeoutMs: number): Promise<{ ongoing: number; models: string[] }>;
  /** The user's health check; rejects when it throws or takes more than `timeoutMs`. */
  checkHealth(timeoutMs: number): Promise<void>;
  /** Hands a new userConfig to the running replica. */
  reconfigure(userConfig: unknown): Promise<void>;
  /** Lets ongoing requests finish (at most `timeoutS`, then `waitLoopS` for late ones); rejects after `timeoutMs`. */
  drain(timeoutS: number, waitLoopS: number, timeoutMs: number): Promise<void>;
  /** Kills the actor; never rejects. */
  kill(): Promise<void>;
  /** The handle routers call, published in the routing table. */
  readonly routed: RoutedReplica['actor'];
}

/** What the deployment state needs from the cluster and from the controller around it. */
export interface ReplicaRuntime {
  /** A new, unique replica id. */
  newReplicaId(app: string, deployment: string): string;
  /**
   * Starts a replica actor, placed and sized as the deployment's options say (returns at once;
   * see {@link RuntimeReplica.initialize}).
   */
  start(spec: ReplicaSpec, options: CompiledDeploymentOptions): RuntimeReplica;
  /** The cluster's latest view of available resources. */
  available(): Record<string, number>;
  /** Requests queued in routers for the deployment `key` (recent reports only). */
  queuedRequests(key: string, now: number): number;
  /** The clock, in ms. */
  now(): number;
  /** The routing table must be published again (a replica began or stopped serving, models changed, the deployment failed). */
  routingChanged(): void;
  /** Runs the control loop soon (a replica was lost and must be replaced). */
  wake(): void;
  /** Logs what it does (scaling) and what went wrong (replicas that fail or are replaced). */
  log(message: string): void;
  error(message: string): void;
  /** A replica started, was health-checked or stopped (for the controller's metrics). */
  replicaHealth?(event: ReplicaHealthEvent): void;
}

/** What {@link ReplicaRuntime.replicaHealth} is told. */
export type ReplicaHealthEvent = { app: string; deployment: string; replicaId: string } & (
  { kind: 'started' } | { kind: 'checked'; healthy: boolean } | { kind: 'stopped' }
);

/**
 * One line that says what went wrong (the remote cause, when there is one). A
 * {@link ReplicaDiedError} is told by the core error that says how its actor died.
 */
export function describeError(err: unknown): string {
  if (err instanceof ReplicaDiedError) return describeError(err.cause);
  const e = err as { message?: string; cause?: { message?: string; name?: string } };
  const cause = e?.cause?.message ? `${e.cause.name ?? 'Error'}: ${e.cause.message}` : undefined;
  return (cause ?? e?.message ?? String(err)).split('\n')[0];
}

function json(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return String(v);
  }
}

/** A replica's record. Its `state` changes only in {@link DeploymentState.transition}. */
export interface Replica {
  readonly id: string;
  readonly version: string;
  readonly handle: RuntimeReplica;
  state: ReplicaState;
  readonly startedAt: number;
  /** Where it runs, the models it has loaded and its ongoing requests (from the last metrics). */
  nodeId: string;
  models: string[];
  ongoing: number;
  lastHealth: number;
  /** A health check / metrics call is in flight. */
  healthBusy: boolean;
  metricsBusy: boolean;
  /** JSON of the userConfig it runs with. */
  config: string;
  reconfiguring: boolean;
}

/**
 * The replica lifecycle: the states each state may move to. STARTING -> RUNNING once the
 * constructor returned; STARTING or RUNNING -> STOPPING to stop (a RUNNING one drains first).
 * A STOPPING replica's actor is killed and its record dropped.
 */
const NEXT: { readonly [S in ReplicaState]: readonly ReplicaState[] } = {
  STARTING: ['RUNNING', 'STOPPING'],
  RUNNING: ['STOPPING'],
  STOPPING: [],
};

/** True for the state a replica never leaves. */
export function isTerminal(state: ReplicaState): boolean {
  return NEXT[state].length === 0;
}

/** A deployment's entry in `serve.status()`. */
export type DeploymentReport = ServeStatus['applications'][string]['deployments'][string];

/** One deployment of one application, and its replicas. */
export class DeploymentState {
  readonly name: string;
  /** `app#deployment`. */
  readonly key: string;
  #spec: DeploymentSpec;
  #target: number;
  #replicas: Replica[] = [];
  #failures = 0;
  #failed: string | undefined;
  #lastError = '';
  #deleting = false;
  readonly #autoscale: AutoscalingState = newAutoscalingState();
  #lastSample = 0;
  #lastMetrics = 0;
  /** 'UPSCALING' / 'DOWNSCALING' while an autoscaling change is being applied. */
  #scaling: DeploymentStatus | undefined;

  constructor(
    readonly app: string,
    spec: DeploymentSpec,
    private readonly runtime: ReplicaRuntime,
  ) {
    this.name = spec.name;
    this.key = deploymentKey(app, spec.name);
    this.#spec = spec;
    this.#target = spec.options.numReplicas;
  }

  get spec(): DeploymentSpec {
    return this.#spec;
  }
  /** The replicas it aims to run. */
  get target(): number {
    return this.#target;
  }
  /** Why it is DEPLOY_FAILED (undefined while it is not). */
  get failed(): string | undefined {
    return this.#failed;
  }
  /** Set once it was removed from its app: its replicas drain and stop. */
  get deleting(): boolean {
    return this.#deleting;
  }
  get replicas(): readonly Replica[] {
    return this.#replicas;
  }
  /** True once it is deleted and its last replica stopped. */
  get gone(): boolean {
    return this.#deleting && this.#replicas.length === 0;
  }

  /** Takes a new spec (from a redeploy); a new version gets three fresh start attempts. */
  update(spec: DeploymentSpec): void {
    const autoscaled = this.#spec.options.autoscaling && spec.options.autoscaling;
    if (this.#spec.version !== spec.version) {
      this.#failures = 0;
      this.#failed = undefined;
    }
    this.#spec = spec;
    this.#deleting = false;
    // An autoscaling deployment keeps its current size across updates, within the new bounds.
    this.#target = autoscaled
      ? Math.min(spec.options.autoscaling!.maxReplicas, Math.max(spec.options.autoscaling!.minReplicas, this.#target))
      : spec.options.numReplicas;
  }

  /** Stops all its replicas (gracefully) from the next step on. */
  delete(): void {
    this.#deleting = true;
  }

  /** One round of the control loop at time `now`: autoscale, move replicas toward the target, probe them. */
  step(now: number): void {
    this.autoscaleStep(now);
    this.reconcile();
    this.probe(now);
  }

  /** Kills every replica at once (Serve shuts down). */
  killAll(): Promise<void>[] {
    return this.#replicas.map((r) => r.handle.kill());
  }

  status(): DeploymentStatus {
    if (this.#failed) return 'DEPLOY_FAILED';
    const version = this.#spec.version;
    const cur = this.#replicas.filter((r) => r.version === version && r.state !== 'STOPPING');
    const old = this.#replicas.some((r) => r.version !== version && r.state !== 'STOPPING');
    const running = cur.filter((r) => r.state === 'RUNNING').length;
    if (!old && running === this.#target && cur.length === this.#target) return 'HEALTHY';
    if (this.#scaling) return this.#scaling;
    return 'UPDATING';
  }

  /** Says so when replicas have been waiting for resources for a while. */
  pendingMessage(): string | undefined {
    const now = this.runtime.now();
    const waiting = this.#replicas.filter((r) => r.state === 'STARTING' && now - r.startedAt > 3000).length;
    if (waiting === 0 || this.fits()) return undefined;
    const a = this.#spec.options.rayActorOptions;
    const need = JSON.stringify({ CPU: a.numCpus ?? 1, ...(a.numGpus ? { GPU: a.numGpus } : {}), ...a.resources });
    return (
      `${waiting} replica(s) wait for resources: each needs ${need}, the cluster has ${JSON.stringify(this.runtime.available())} available. ` +
      'Lower rayActorOptions (numCpus: 0.5, say), reduce replicas, or add nodes.'
    );
  }

  report(): DeploymentReport {
    const states: Partial<Record<ReplicaState, number>> = {};
    let ongoing = 0;
    for (const r of this.#replicas) {
      states[r.state] = (states[r.state] ?? 0) + 1;
      if (r.state === 'RUNNING') ongoing += r.ongoing;
    }
    return {
      status: this.status(),
      message:
        this.#failed ?? this.pendingMessage() ?? (this.#lastError ? `last replica failure: ${this.#lastError}` : ''),
      targetReplicas: this.#target,
      replicaStates: states,
      ongoingRequests: ongoing,
      queuedRequests: this.runtime.queuedRequests(this.key, this.runtime.now()),
    };
  }

  /** Its entry in the routing table: the RUNNING replicas. */
  routing(): RoutingTable['deployments'][string] {
    const replicas = this.#replicas
      .filter((r) => r.state === 'RUNNING')
      .map((r) => ({ id: r.id, actor: r.handle.routed, nodeId: r.nodeId, models: r.models }));
    return {
      maxOngoingRequests: this.#spec.options.maxOngoingRequests,
      maxQueuedRequests: this.#spec.options.maxQueuedRequests,
      replicas,
      ...(this.#failed && replicas.length === 0 ? { unavailable: this.#failed } : {}),
    };
  }

  // ---- the replica state machine ----

  /**
   * The one place a replica changes state. Returns false (and changes nothing) when the lifecycle
   * does not allow the move, e.g. a late answer for a replica that was stopped meanwhile.
   */
  private transition(r: Replica, to: ReplicaState): boolean {
    if (!NEXT[r.state].includes(to)) return false;
    const routed = r.state === 'RUNNING' || to === 'RUNNING';
    const wasRunning = r.state === 'RUNNING';
    r.state = to;
    if (routed) this.runtime.routingChanged();
    if (wasRunning && to === 'STOPPING') this.healthEvent(r, { kind: 'stopped' });
    return true;
  }

  private healthEvent(
    r: Replica,
    e: { kind: 'started' } | { kind: 'checked'; healthy: boolean } | { kind: 'stopped' },
  ): void {
    this.runtime.replicaHealth?.({ app: this.app, deployment: this.name, replicaId: r.id, ...e });
  }

  /** Starts a new replica of the current version; STARTING until its constructor returns. */
  private startReplica(): void {
    const id = this.runtime.newReplicaId(this.app, this.name);
    const spec = this.#spec;
    const o = spec.options;
    const handle = this.runtime.start(
      {
        app: this.app,
        deployment: this.name,
        replicaId: id,
        cls: spec.cls,
        isFunction: spec.isFunction,
        initArgs: spec.initArgs,
        userConfig: o.userConfig,
        maxOngoingRequests: o.maxOngoingRequests,
      },
      o,
    );
    const now = this.runtime.now();
    const r: Replica = {
      id,
      version: spec.version,
      handle,
      state: 'STARTING',
      startedAt: now,
      nodeId: '',
      models: [],
      ongoing: 0,
      lastHealth: now,
      healthBusy: false,
      metricsBusy: false,
      config: json(o.userConfig),
      reconfiguring: false,
    };
    this.#replicas.push(r);
    handle.initialize().then(
      ({ nodeId }) => {
        if (!this.transition(r, 'RUNNING')) return; // it was stopped meanwhile
        r.nodeId = nodeId;
        r.lastHealth = this.runtime.now();
        this.#failures = 0;
        this.healthEvent(r, { kind: 'started' });
      },
      (err: unknown) => {
        if (r.state !== 'STARTING') return;
        this.removeReplica(r);
        this.#failures++;
        this.#lastError = describeError(err);
        this.runtime.error(`Serve: replica ${id} of ${this.app}/${this.name} failed to start: ${this.#lastError}`);
        if (this.#failures >= serveConfig.maxStartFailures) {
          this.runtime.routingChanged();
          this.#failed = `Deployment '${this.name}' of app '${this.app}' failed to start ${this.#failures} replicas in a row; the last error: ${this.#lastError}`;
        }
      },
    );
  }

  /** Stops a replica at once: STOPPING, out of the list, killed. */
  private removeReplica(r: Replica): void {
    if (!this.transition(r, 'STOPPING')) return;
    this.#replicas = this.#replicas.filter((x) => x !== r);
    void r.handle.kill();
  }

  /** Stops a replica: a STARTING one at once, a RUNNING one once it drained its requests. */
  private stopReplica(r: Replica): void {
    if (isTerminal(r.state)) return;
    if (r.state === 'STARTING') {
      this.removeReplica(r);
      return;
    }
    this.transition(r, 'STOPPING');
    const o = this.#spec.options;
    const finish = () => {
      this.#replicas = this.#replicas.filter((x) => x !== r);
      void r.handle.kill();
    };
    r.handle
      .drain(
        o.gracefulShutdownTimeoutS,
        o.gracefulShutdownWaitLoopS,
        (o.gracefulShutdownTimeoutS + o.gracefulShutdownWaitLoopS + 5) * 1000,
      )
      .then(finish, finish);
  }

  private replaceReplica(r: Replica, why: string): void {
    if (r.state !== 'RUNNING') return;
    this.runtime.error(`Serve: replacing replica ${r.id} of ${this.app}/${this.name}: ${why}`);
    this.#lastError = why;
    this.removeReplica(r);
    this.runtime.wake();
  }

  // ---- the control step ----

  private autoscaleStep(now: number): void {
    const cfg = this.#spec.options.autoscaling;
    if (!cfg || this.#deleting) return;
    if (now - this.#lastSample >= cfg.metricsIntervalS * 1000) {
      this.#lastSample = now;
      let load = this.runtime.queuedRequests(this.key, now);
      for (const r of this.#replicas) if (r.state === 'RUNNING') load += r.ongoing;
      recordLoad(this.#autoscale, cfg, now, load);
    }
    const next = decide(this.#autoscale, cfg, this.#target, now);
    if (next !== this.#target) {
      this.#scaling = next > this.#target ? 'UPSCALING' : 'DOWNSCALING';
      this.runtime.log(`Serve: scaling ${this.app}/${this.name} from ${this.#target} to ${next} replicas.`);
      this.#target = next;
    } else if (this.status() === 'HEALTHY') {
      this.#scaling = undefined;
    }
  }

  private reconcile(): void {
    const live = this.#replicas.filter((r) => r.state !== 'STOPPING');
    if (this.#deleting) {
      for (const r of live) this.stopReplica(r);
      return;
    }
    const v = this.#spec.version;
    const cur = live.filter((r) => r.version === v);
    const old = live.filter((r) => r.version !== v);
    const target = this.#target;
    if (old.length === 0) {
      if (!this.#failed) for (let i = cur.length; i < target; i++) this.startReplica();
      if (cur.length > target) {
        // STARTING replicas go first, then the least busy.
        const order = [...cur].sort(
          (a, b) => (a.state === 'STARTING' ? -1 : 0) - (b.state === 'STARTING' ? -1 : 0) || a.ongoing - b.ongoing,
        );
        for (const r of order.slice(0, cur.length - target)) this.stopReplica(r);
      }
    } else {
      // Rolling update: a new replica first when the cluster has room, else an old one makes room.
      const runningNew = cur.filter((r) => r.state === 'RUNNING').length;
      const startingNew = cur.length - runningNew;
      const stopping = this.#replicas.some((r) => r.state === 'STOPPING');
      if (!this.#failed && cur.length < target && startingNew === 0) {
        if (this.fits()) this.startReplica();
        else if (!stopping) this.stopReplica(old[0]);
      }
      const excess = target === 0 ? old.length : Math.min(old.length, runningNew + old.length - target);
      for (const r of old.slice(0, Math.max(0, excess))) this.stopReplica(r);
    }
    for (const r of cur) {
      const userConfig = this.#spec.options.userConfig;
      const config = json(userConfig);
      if (r.state === 'RUNNING' && r.config !== config && !r.reconfiguring) {
        r.reconfiguring = true;
        r.handle.reconfigure(userConfig).then(
          () => {
            r.config = config;
            r.reconfiguring = false;
          },
          (err: unknown) => {
            r.reconfiguring = false;
            this.#lastError = `reconfigure failed: ${describeError(err)}`;
            r.config = config; // not retried in a loop; the error shows in status
          },
        );
      }
    }
  }

  /** True when the cluster has room for one more replica now. */
  private fits(): boolean {
    const a = this.#spec.options.rayActorOptions;
    const need: Record<string, number> = { CPU: a.numCpus ?? 1, GPU: a.numGpus ?? 0, ...a.resources };
    const available = this.runtime.available();
    for (const [k, n] of Object.entries(need)) if (n > 0 && (available[k] ?? 0) < n) return false;
    return true;
  }

  /** Health checks and load samples; a dead or unhealthy replica is replaced. */
  private probe(now: number): void {
    const o = this.#spec.options;
    const metricsMs = o.autoscaling ? o.autoscaling.metricsIntervalS * 1000 : serveConfig.metricsIntervalMs;
    const sample = now - this.#lastMetrics >= metricsMs;
    if (sample) this.#lastMetrics = now;
    for (const r of this.#replicas) {
      if (r.state !== 'RUNNING') continue;
      if (sample && !r.metricsBusy) {
        r.metricsBusy = true;
        r.handle.metrics(o.healthCheckTimeoutS * 1000).then(
          (m) => {
            r.metricsBusy = false;
            r.ongoing = m.ongoing;
            if (m.models.join() !== r.models.join()) {
              r.models = m.models;
              this.runtime.routingChanged();
            }
          },
          (err: unknown) => {
            r.metricsBusy = false;
            if (err instanceof ReplicaDiedError) this.replaceReplica(r, `it died (${describeError(err)})`);
          },
        );
      }
      if (!r.healthBusy && now - r.lastHealth >= o.healthCheckPeriodS * 1000) {
        r.healthBusy = true;
        r.handle.checkHealth(o.healthCheckTimeoutS * 1000).then(
          () => {
            r.healthBusy = false;
            r.lastHealth = this.runtime.now();
            if (r.state === 'RUNNING') this.healthEvent(r, { kind: 'checked', healthy: true });
          },
          (err: unknown) => {
            r.healthBusy = false;
            r.lastHealth = this.runtime.now();
            if (r.state === 'RUNNING') this.healthEvent(r, { kind: 'checked', healthy: false });
            this.replaceReplica(r, `its health check failed: ${describeError(err)}`);
          },
        );
      }
    }
  }
}
