import { describe, expect, it } from 'vitest';
import { serveConfig } from './constants.js';
import type { ReplicaState } from './controller-api.js';
import {
  DeploymentState,
  isTerminal,
  type ReplicaHealthEvent,
  type ReplicaRuntime,
  type RuntimeReplica,
} from './deployment-state.js';
import { ReplicaDiedError } from './errors.js';
import { compileDeploymentOptions, type CompiledDeploymentOptions, type DeploymentOptions } from './options.js';
import type { DeploymentSpec, ReplicaSpec, RoutedReplica } from './wire.js';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(err: unknown): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve: (v) => {
      d.settled = true;
      resolve(v);
    },
    reject: (err) => {
      d.settled = true;
      reject(err);
    },
  };
  return d;
}

/** Lets the promise callbacks of the deployment state run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

interface Call {
  readonly method: 'metrics' | 'checkHealth' | 'reconfigure' | 'drain';
  readonly args: unknown[];
  readonly d: Deferred<any>;
}

/** A replica actor whose every call waits until the test settles it. */
class FakeReplica implements RuntimeReplica {
  readonly routed = {} as RoutedReplica['actor'];
  readonly init = deferred<{ nodeId: string }>();
  readonly calls: Call[] = [];
  killed = false;

  constructor(
    readonly spec: ReplicaSpec,
    readonly options: CompiledDeploymentOptions,
  ) {}

  initialize(): Promise<{ nodeId: string }> {
    return this.init.promise;
  }
  metrics(timeoutMs: number): Promise<{ ongoing: number; models: string[] }> {
    return this.call('metrics', [timeoutMs]);
  }
  checkHealth(timeoutMs: number): Promise<void> {
    return this.call('checkHealth', [timeoutMs]);
  }
  reconfigure(userConfig: unknown): Promise<void> {
    return this.call('reconfigure', [userConfig]);
  }
  drain(timeoutS: number, waitLoopS: number, timeoutMs: number): Promise<void> {
    return this.call('drain', [timeoutS, waitLoopS, timeoutMs]);
  }
  kill(): Promise<void> {
    this.killed = true;
    return Promise.resolve();
  }

  /** Calls of `method`, oldest first. */
  of(method: Call['method']): Call[] {
    return this.calls.filter((c) => c.method === method);
  }
  /** The call of `method` still waiting for an answer. */
  pending(method: Call['method']): Call | undefined {
    return this.calls.find((c) => c.method === method && !c.d.settled);
  }

  private call<T>(method: Call['method'], args: unknown[]): Promise<T> {
    const d = deferred<T>();
    this.calls.push({ method, args, d });
    return d.promise;
  }
}

/** A cluster of `cpus` CPUs (a replica holds one until it is killed) and a clock that tests move. */
class FakeRuntime implements ReplicaRuntime {
  t = 1_000_000;
  cpus = 100;
  queued = 0;
  readonly started: FakeReplica[] = [];
  readonly logs: string[] = [];
  readonly errors: string[] = [];
  readonly queuedKeys = new Set<string>();
  routingChanges = 0;
  wakes = 0;
  private seq = 0;

  newReplicaId(app: string, deployment: string): string {
    return `${app}#${deployment}#${this.seq++}`;
  }
  start(spec: ReplicaSpec, options: CompiledDeploymentOptions): RuntimeReplica {
    const r = new FakeReplica(spec, options);
    this.started.push(r);
    return r;
  }
  available(): Record<string, number> {
    return { CPU: this.cpus - this.started.filter((r) => !r.killed).length };
  }
  queuedRequests(key: string): number {
    this.queuedKeys.add(key);
    return this.queued;
  }
  now(): number {
    return this.t;
  }
  routingChanged(): void {
    this.routingChanges++;
  }
  wake(): void {
    this.wakes++;
  }
  log(message: string): void {
    this.logs.push(message);
  }
  error(message: string): void {
    this.errors.push(message);
  }
  /** Replica events for the controller's metrics, as `replica event`. */
  readonly health: string[] = [];
  replicaHealth(e: ReplicaHealthEvent): void {
    const what = e.kind === 'checked' ? (e.healthy ? 'healthy' : 'unhealthy') : e.kind;
    this.health.push(`${e.app}/${e.deployment} ${e.replicaId} ${what}`);
  }
}

function spec(options: DeploymentOptions = {}, version = 'v1'): DeploymentSpec {
  return {
    name: 'Model',
    cls: (() => undefined) as unknown as DeploymentSpec['cls'],
    isFunction: false,
    initArgs: ['arg'],
    options: compileDeploymentOptions("deployment 'Model'", options),
    version,
  };
}

class Harness {
  readonly rt = new FakeRuntime();
  readonly dep: DeploymentState;

  constructor(options: DeploymentOptions = {}, version = 'v1') {
    this.dep = new DeploymentState('app', spec(options, version), this.rt);
  }

  /** Moves the clock by `ms`, runs one control step and lets the answers it got run. */
  async step(ms = 0): Promise<void> {
    this.rt.t += ms;
    this.dep.step(this.rt.t);
    await flush();
  }

  /** Lets every STARTING replica's constructor return. */
  async startAll(): Promise<void> {
    for (const r of this.rt.started) if (!r.init.settled && !r.killed) r.init.resolve({ nodeId: 'node-1' });
    await flush();
  }

  /** `version:STATE` of each replica, in order. */
  states(): string[] {
    return this.dep.replicas.map((r) => `${r.version}:${r.state}`);
  }

  count(state: ReplicaState, version?: string): number {
    return this.dep.replicas.filter((r) => r.state === state && (version === undefined || r.version === version))
      .length;
  }

  fake(id: string): FakeReplica {
    return this.rt.started.find((r) => r.spec.replicaId === id)!;
  }

  /** The replicas being drained, as their fakes. */
  draining(): FakeReplica[] {
    return this.rt.started.filter((r) => r.pending('drain'));
  }

  /** Runs until the deployment is HEALTHY and nothing drains; `check` runs after every step and every answer. */
  async settle(check: () => void = () => undefined): Promise<void> {
    for (let i = 0; i < 50 && (this.dep.status() !== 'HEALTHY' || this.count('STOPPING') > 0); i++) {
      await this.step(10);
      check();
      // One answer at a time: a started constructor, else a finished drain.
      const starting = this.rt.started.find((r) => !r.init.settled && !r.killed);
      if (starting) starting.init.resolve({ nodeId: 'node-1' });
      else this.draining()[0]?.pending('drain')!.d.resolve(undefined);
      await flush();
      check();
    }
    expect(this.dep.status()).toBe('HEALTHY');
  }
}

async function running(options: DeploymentOptions = {}, version = 'v1'): Promise<Harness> {
  const h = new Harness(options, version);
  await h.step();
  await h.startAll();
  expect(h.dep.status()).toBe('HEALTHY');
  return h;
}

describe('DeploymentState', () => {
  it('starts replicas up to the target and routes to them once they run', async () => {
    const h = new Harness({ numReplicas: 3, maxOngoingRequests: 7, userConfig: { threshold: 1 } });
    await h.step();
    expect(h.states()).toEqual(['v1:STARTING', 'v1:STARTING', 'v1:STARTING']);
    expect(h.dep.status()).toBe('UPDATING');
    expect(h.dep.routing().replicas).toEqual([]);
    expect(h.rt.started[0].spec).toMatchObject({
      app: 'app',
      deployment: 'Model',
      replicaId: 'app#Model#0',
      initArgs: ['arg'],
      userConfig: { threshold: 1 },
      maxOngoingRequests: 7,
    });

    await h.step(); // nothing more while they start
    expect(h.rt.started).toHaveLength(3);

    await h.startAll();
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:RUNNING', 'v1:RUNNING']);
    expect(h.dep.status()).toBe('HEALTHY');
    expect(h.rt.routingChanges).toBe(3);
    const table = h.dep.routing();
    expect(table.maxOngoingRequests).toBe(7);
    expect(table.replicas.map((r) => [r.id, r.nodeId])).toEqual([
      ['app#Model#0', 'node-1'],
      ['app#Model#1', 'node-1'],
      ['app#Model#2', 'node-1'],
    ]);
    expect(table.replicas[0].actor).toBe(h.rt.started[0].routed);
    expect(h.dep.report()).toEqual({
      status: 'HEALTHY',
      message: '',
      targetReplicas: 3,
      replicaStates: { RUNNING: 3 },
      ongoingRequests: 0,
      queuedRequests: 0,
    });
  });

  it(`is DEPLOY_FAILED with the last error after ${serveConfig.maxStartFailures} failed constructors in a row`, async () => {
    const h = new Harness();
    for (let i = 1; i <= serveConfig.maxStartFailures; i++) {
      expect(h.dep.status()).not.toBe('DEPLOY_FAILED');
      await h.step();
      expect(h.rt.started).toHaveLength(i);
      h.rt.started[i - 1].init.reject(new Error(`constructor failed #${i}\n    at Model (model.js:1)`));
      await flush();
      expect(h.rt.started[i - 1].killed).toBe(true);
      expect(h.dep.replicas).toHaveLength(0);
    }
    const n = serveConfig.maxStartFailures;
    const message = `Deployment 'Model' of app 'app' failed to start ${n} replicas in a row; the last error: constructor failed #${n}`;
    expect(h.dep.status()).toBe('DEPLOY_FAILED');
    expect(h.dep.failed).toBe(message);
    expect(h.dep.report().message).toBe(message);
    expect(h.dep.routing()).toMatchObject({ replicas: [], unavailable: message });
    expect(h.rt.errors[0]).toBe('Serve: replica app#Model#0 of app/Model failed to start: constructor failed #1');

    await h.step(); // no more tries
    expect(h.rt.started).toHaveLength(n);

    // A new version gets fresh tries.
    h.dep.update(spec({}, 'v2'));
    expect(h.dep.failed).toBeUndefined();
    await h.step();
    await h.startAll();
    expect(h.dep.status()).toBe('HEALTHY');
  });

  it('counts only failures in a row', async () => {
    const h = new Harness({ numReplicas: 2 });
    await h.step();
    h.rt.started[0].init.reject(new Error('flaky'));
    h.rt.started[1].init.resolve({ nodeId: 'node-1' });
    await flush();
    for (let i = 0; i < serveConfig.maxStartFailures - 1; i++) {
      await h.step();
      h.rt.started.at(-1)!.init.reject(new Error('flaky'));
      await flush();
    }
    await h.step();
    await h.startAll();
    expect(h.dep.status()).toBe('HEALTHY');
    expect(h.dep.report().message).toBe('last replica failure: flaky');
  });

  it('rolls an update out new replica first when the cluster has room', async () => {
    const h = await running({ numReplicas: 2 });
    h.dep.update(spec({ numReplicas: 2 }, 'v2'));
    await h.step();
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:RUNNING', 'v2:STARTING']);
    expect(h.dep.status()).toBe('UPDATING');
    await h.step(); // one new replica at a time; no old one stops before it runs
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:RUNNING', 'v2:STARTING']);

    await h.startAll();
    await h.step();
    expect(h.states()).toEqual(['v1:STOPPING', 'v1:RUNNING', 'v2:RUNNING', 'v2:STARTING']);
    const old = h.fake('app#Model#0');
    expect(old.of('drain').map((c) => c.args)).toEqual([[20, 2, 27_000]]);
    expect(old.killed).toBe(false);
    expect(h.dep.routing().replicas.map((r) => r.id)).toEqual(['app#Model#1', 'app#Model#2']);

    await h.settle(() => expect(h.count('RUNNING')).toBeGreaterThanOrEqual(2));
    expect(h.states()).toEqual(['v2:RUNNING', 'v2:RUNNING']);
    expect(h.rt.started.slice(0, 2).map((r) => r.killed)).toEqual([true, true]);
  });

  it('rolls an update out old replica first when the cluster is full, one at a time', async () => {
    const h = await running({ numReplicas: 3 });
    h.rt.cpus = 3;
    h.dep.update(spec({ numReplicas: 3 }, 'v2'));
    await h.step();
    expect(h.states()).toEqual(['v1:STOPPING', 'v1:RUNNING', 'v1:RUNNING']);
    await h.step(); // waits for the room the draining one makes
    expect(h.states()).toEqual(['v1:STOPPING', 'v1:RUNNING', 'v1:RUNNING']);
    h.draining()[0].pending('drain')!.d.resolve(undefined);
    await flush();
    await h.step();
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:RUNNING', 'v2:STARTING']);

    await h.settle(() => {
      expect(h.count('RUNNING')).toBeGreaterThanOrEqual(2);
      expect(h.count('STOPPING')).toBeLessThanOrEqual(1);
      expect(h.rt.available().CPU).toBeGreaterThanOrEqual(0);
    });
    expect(h.states()).toEqual(['v2:RUNNING', 'v2:RUNNING', 'v2:RUNNING']);
  });

  it('hands a new userConfig to the running replicas without restarting them', async () => {
    const h = await running({ numReplicas: 2, userConfig: { threshold: 1 } });
    h.dep.update(spec({ numReplicas: 2, userConfig: { threshold: 2 } }));
    await h.step();
    await h.step(); // not twice while it runs
    for (const r of h.rt.started) expect(r.of('reconfigure').map((c) => c.args)).toEqual([[{ threshold: 2 }]]);
    h.rt.started[0].pending('reconfigure')!.d.resolve(undefined);
    h.rt.started[1].pending('reconfigure')!.d.reject(new Error('bad threshold'));
    await flush();
    await h.step();
    expect(h.rt.started).toHaveLength(2);
    expect(h.rt.started.map((r) => r.of('reconfigure').length)).toEqual([1, 1]); // a failure is not retried in a loop
    expect(h.rt.started.every((r) => r.of('drain').length === 0 && !r.killed)).toBe(true);
    expect(h.dep.status()).toBe('HEALTHY');
    expect(h.dep.report().message).toBe('last replica failure: reconfigure failed: bad threshold');
  });

  it('scales down by stopping STARTING replicas first, then the least busy, with a drain', async () => {
    const h = new Harness({ numReplicas: 4 });
    await h.step();
    for (const r of h.rt.started.slice(0, 3)) r.init.resolve({ nodeId: 'node-1' });
    await flush();
    await h.step(serveConfig.metricsIntervalMs); // samples the load
    const [busy, idle, busier] = h.rt.started;
    busy.pending('metrics')!.d.resolve({ ongoing: 3, models: [] });
    idle.pending('metrics')!.d.resolve({ ongoing: 0, models: [] });
    busier.pending('metrics')!.d.resolve({ ongoing: 5, models: [] });
    await flush();
    expect(h.dep.report().ongoingRequests).toBe(8);

    h.dep.update(spec({ numReplicas: 3 }));
    await h.step();
    const starting = h.rt.started[3];
    expect(starting.killed).toBe(true); // at once: it serves nothing yet
    expect(starting.of('drain')).toHaveLength(0);
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:RUNNING', 'v1:RUNNING']);
    expect(h.rt.started.some((r) => r.of('drain').length > 0)).toBe(false);

    h.dep.update(spec({ numReplicas: 2 }));
    await h.step();
    expect(idle.of('drain')).toHaveLength(1);
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:STOPPING', 'v1:RUNNING']);
    expect(h.dep.routing().replicas.map((r) => r.id)).toEqual([busy.spec.replicaId, busier.spec.replicaId]);

    const changes = h.rt.routingChanges;
    starting.init.resolve({ nodeId: 'node-2' }); // too late: it stays stopped
    idle.pending('drain')!.d.resolve(undefined);
    await flush();
    expect(h.rt.routingChanges).toBe(changes);
    expect(idle.killed).toBe(true);
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:RUNNING']);
    expect(h.dep.status()).toBe('HEALTHY');
  });

  it('replaces a replica whose health check fails', async () => {
    const h = await running({ healthCheckPeriodS: 1, healthCheckTimeoutS: 3 });
    const [first] = h.rt.started;
    await h.step(500);
    expect(first.of('checkHealth')).toHaveLength(0);
    await h.step(500);
    expect(first.of('checkHealth').map((c) => c.args)).toEqual([[3000]]);
    first.pending('checkHealth')!.d.resolve(undefined);
    await flush();
    await h.step(1000);
    first.pending('checkHealth')!.d.reject(new Error('database unreachable'));
    await flush();

    expect(first.killed).toBe(true);
    expect(h.dep.replicas).toHaveLength(0);
    expect(h.rt.wakes).toBe(1);
    expect(h.rt.errors).toEqual([
      'Serve: replacing replica app#Model#0 of app/Model: its health check failed: database unreachable',
    ]);
    expect(h.dep.report().message).toBe('last replica failure: its health check failed: database unreachable');
    await h.step();
    await h.startAll();
    expect(h.states()).toEqual(['v1:RUNNING']);
    expect(h.rt.started).toHaveLength(2);
    // What ray_serve_deployment_replica_healthy and ray_serve_deployment_replica_starts record.
    expect(h.rt.health).toEqual([
      'app/Model app#Model#0 started',
      'app/Model app#Model#0 healthy',
      'app/Model app#Model#0 unhealthy',
      'app/Model app#Model#0 stopped',
      'app/Model app#Model#1 started',
    ]);
  });

  it('replaces a replica whose metrics call says it died, and only then', async () => {
    const h = await running();
    const [first] = h.rt.started;
    await h.step(serveConfig.metricsIntervalMs);
    first.pending('metrics')!.d.reject(new Error('timed out'));
    await flush();
    expect(h.states()).toEqual(['v1:RUNNING']);

    await h.step(serveConfig.metricsIntervalMs);
    first
      .pending('metrics')!
      .d.reject(new ReplicaDiedError('Replica r1 died', { cause: new Error('its worker thread exited\n  at ...') }));
    await flush();
    expect(first.killed).toBe(true);
    expect(h.dep.replicas).toHaveLength(0);
    expect(h.dep.report().message).toBe('last replica failure: it died (its worker thread exited)');
    await h.step();
    expect(h.states()).toEqual(['v1:STARTING']);
  });

  it('republishes routes when the models a replica loaded change', async () => {
    const h = await running();
    const before = h.rt.routingChanges;
    await h.step(serveConfig.metricsIntervalMs);
    h.rt.started[0].pending('metrics')!.d.resolve({ ongoing: 1, models: ['m1'] });
    await flush();
    expect(h.rt.routingChanges).toBe(before + 1);
    expect(h.dep.routing().replicas[0].models).toEqual(['m1']);
  });

  it('changes the autoscaling target only after the delay', async () => {
    const h = await running({
      autoscalingConfig: {
        minReplicas: 1,
        maxReplicas: 4,
        targetOngoingRequests: 1,
        upscaleDelayS: 2,
        downscaleDelayS: 5,
        metricsIntervalS: 0.5,
        lookBackPeriodS: 1,
      },
    });
    h.rt.queued = 3;
    await h.step(500); // the first sample that sees the load
    for (let i = 0; i < 3; i++) {
      expect(h.dep.target).toBe(1);
      await h.step(500);
    }
    expect(h.dep.target).toBe(1);
    expect(h.rt.started).toHaveLength(1);
    await h.step(500); // the upscale delay (2 s) since the first sample
    expect(h.dep.target).toBe(3);
    expect(h.rt.queuedKeys).toEqual(new Set(['app#Model']));
    expect(h.rt.logs).toEqual(['Serve: scaling app/Model from 1 to 3 replicas.']);
    expect(h.dep.status()).toBe('UPSCALING');
    expect(h.states()).toEqual(['v1:RUNNING', 'v1:STARTING', 'v1:STARTING']);
    await h.startAll();
    await h.step(500);
    expect(h.dep.status()).toBe('HEALTHY');

    h.rt.queued = 0;
    const quietFrom = h.rt.t;
    while (h.dep.target === 3 && h.rt.t - quietFrom < 20_000) await h.step(500);
    expect(h.dep.target).toBe(1);
    expect(h.rt.t - quietFrom).toBeGreaterThanOrEqual(5000); // the downscale delay
    expect(h.rt.t - quietFrom).toBeLessThanOrEqual(7000);
    expect(h.rt.logs.at(-1)).toBe('Serve: scaling app/Model from 3 to 1 replicas.');
    expect(h.count('STOPPING')).toBe(2);
  });

  it('drains every replica once deleted, then is gone', async () => {
    const h = await running({ numReplicas: 2 });
    h.dep.delete();
    await h.step();
    expect(h.states()).toEqual(['v1:STOPPING', 'v1:STOPPING']);
    expect(h.dep.gone).toBe(false);
    for (const r of h.draining()) r.pending('drain')!.d.resolve(undefined);
    await flush();
    expect(h.dep.gone).toBe(true);
    expect(h.rt.started.every((r) => r.killed)).toBe(true);
  });

  it('has STOPPING as the only terminal replica state', () => {
    expect((['STARTING', 'RUNNING', 'STOPPING'] as const).filter(isTerminal)).toEqual(['STOPPING']);
  });
});
