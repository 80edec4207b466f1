/**
 * A node's parts wired together over fakes, for the unit tests of the scheduler and of the life
 * of tasks: the real task queue, resource pool, object store, dependencies, worker slots, bundles,
 * lineage and tasks, with fake workers that record what they are sent and, on a multi-node
 * cluster, fake cluster ports. For core's own unit tests: not exported from index.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type RuntimeConfig } from '../config.js';
import { errorFromWire } from '../errors.js';
import { envKeyOf, type EnvVars, type ResourceSet, type SchedulingStrategySpec } from '../options.js';
import type { TaskSpec } from '../protocol/specs.js';
import type { FnRef } from '../protocol/values.js';
import type { TaskOutcome, ToWorker } from '../protocol/worker-messages.js';
import type { StoredValue } from '../runtime/serialization.js';
import { Bundles } from './bundles.js';
import type { NodeContext } from './context.js';
import { Dependencies } from './dependencies.js';
import { Lineage } from './lineage.js';
import { ObjectStore } from './object-store.js';
import type { ClusterPorts, GroupDirectory, GroupState, Missing, PeerLink, Placement, Placer } from './ports.js';
import { ResourcePool, type Allocation } from './resources.js';
import { Scheduler } from './scheduler.js';
import { TaskQueue } from './task-queue.js';
import { TaskRecords } from './task-records.js';
import { Tasks } from './tasks.js';
import type { WorkerHandle } from './worker-handle.js';
import { WorkerSlots } from './worker-slots.js';
import type { CreateWork, Work } from './work.js';

/** Two functions the worker slots learn to be short and long (pipelining tests). */
export const fnShort: FnRef = {
  id: 'fn-short',
  desc: { kind: 'source', source: '() => 1', name: 'short', isClass: false, origin: '' },
};
export const fnLong: FnRef = {
  id: 'fn-long',
  desc: { kind: 'source', source: '() => 2', name: 'long', isClass: false, origin: '' },
};

/** A task spec with defaults: one CPU, one return `<id>.0`, no retries, a function of its own. */
export function taskSpec(taskId: string, over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    taskId,
    name: taskId,
    fn: { id: `fn-${taskId}`, desc: { kind: 'source', source: '() => 1', name: taskId, isClass: false, origin: '' } },
    args: [],
    returnIds: [`${taskId}.0`],
    resources: { CPU: 1 },
    maxRetries: 0,
    retryExceptions: false,
    isolation: 'thread',
    ...over,
  };
}

type TaskMessage = Extract<ToWorker, { k: 'task' }>;

/** A worker as the node's parts use it: records what it is sent and whether it was terminated. */
export class FakeWorker {
  readonly knownFns = new Set<string>();
  readonly heldRefs = new Set<string>();
  readonly sent: ToWorker[] = [];
  readonly terminations: { reason: string; detail: string }[] = [];
  lastSeq = 0;
  readonly pid = process.pid;
  /** Thread workers' status word (slot 0: the sequence number of the task running now); none here by default. */
  status: Int32Array | undefined = undefined;
  dead = false;
  exitReason: WorkerHandle['exitReason'] = undefined;
  exitDetail = '';
  readonly envKey: string;

  constructor(
    readonly id: string,
    readonly kind: 'thread' | 'process',
    readonly cudaVisibleDevices: string | undefined,
    envVars: EnvVars | undefined,
  ) {
    this.envKey = envKeyOf(envVars);
  }

  send(msg: ToWorker): void {
    if (!this.dead) this.sent.push(msg);
  }

  terminate(reason: 'terminated' | 'crash' = 'terminated', detail = ''): void {
    this.exitReason = reason;
    this.exitDetail = detail;
    this.terminations.push({ reason, detail });
  }

  /** The tasks it was sent, in order. */
  get tasks(): TaskMessage[] {
    return this.sent.filter((m): m is TaskMessage => m.k === 'task');
  }

  /** Ids of the tasks it was sent, in order. */
  get taskIds(): string[] {
    return this.tasks.map((m) => m.spec.taskId);
  }

  get handle(): WorkerHandle {
    return this as unknown as WorkerHandle;
  }
}

/** The fake behind a worker handle the node's parts hold. */
export function fake(w: WorkerHandle | undefined): FakeWorker {
  if (!w) throw new Error('no worker');
  return w as unknown as FakeWorker;
}

/** The worker pool: idle workers are reused (same kind, GPUs and environment), else new ones made. */
export class FakeWorkers {
  readonly all: FakeWorker[] = [];
  readonly idle: FakeWorker[] = [];

  spawn(kind: 'thread' | 'process', cuda: string | undefined, envVars?: EnvVars): WorkerHandle {
    const w = new FakeWorker(`worker-${this.all.length + 1}`, kind, cuda, envVars);
    this.all.push(w);
    return w.handle;
  }

  take(kind: 'thread' | 'process', cuda: string | undefined, envVars?: EnvVars): WorkerHandle {
    const envKey = envKeyOf(envVars);
    const i = this.idle.findIndex((w) => w.kind === kind && w.cudaVisibleDevices === cuda && w.envKey === envKey);
    if (i >= 0) return this.idle.splice(i, 1)[0].handle;
    return this.spawn(kind, cuda, envVars);
  }

  release(w: WorkerHandle): void {
    this.idle.push(fake(w));
  }
}

/** A placer that answers what the test says, and records what it was asked. */
export class FakePlacer implements Placer {
  /** The answer to place(): 'here' unless the test sets another. */
  answer: (resources: ResourceSet, strategy: SchedulingStrategySpec | undefined, localFits: boolean) => Placement =
    () => ({ kind: 'here' });
  readonly placed: { resources: ResourceSet; strategy: SchedulingStrategySpec | undefined; localFits: boolean }[] = [];
  missing: Missing | undefined = undefined;
  spillTo: string | undefined = undefined;
  readonly spillAsks: { resources: ResourceSet; except: string }[] = [];
  readonly alive = new Set<string>();

  place(resources: ResourceSet, strategy: SchedulingStrategySpec | undefined, localFits: boolean): Placement {
    this.placed.push({ resources, strategy, localFits });
    return this.answer(resources, strategy, localFits);
  }

  infeasible(): Missing | undefined {
    return this.missing;
  }

  spillTarget(resources: ResourceSet, except: string): string | undefined {
    this.spillAsks.push({ resources, except });
    return this.spillTo;
  }

  isAlive(nodeId: string): boolean {
    return this.alive.has(nodeId);
  }
}

/** A pull the test resolves (or rejects) by hand. */
export interface Pull {
  ids: string[];
  resolve(): void;
  reject(err: unknown): void;
}

/** Messages to other nodes, recorded. */
export class FakePeers implements PeerLink {
  readonly forwarded: { nodeId: string; taskId: string; noSpill: boolean }[] = [];
  readonly spilledBack: { origin: string; taskId: string; nodeId: string }[] = [];
  readonly cancelled: { nodeId: string; taskId: string; force: boolean; recursive: boolean }[] = [];
  readonly done: { origin: string; taskId: string; results: StoredValue[] }[] = [];
  readonly pulls: Pull[] = [];

  forwardTask(nodeId: string, spec: TaskSpec, noSpill: boolean): void {
    this.forwarded.push({ nodeId, taskId: spec.taskId, noSpill });
  }

  spillBack(origin: string, taskId: string, nodeId: string): void {
    this.spilledBack.push({ origin, taskId, nodeId });
  }

  cancelRemote(nodeId: string, taskId: string, force: boolean, recursive: boolean): void {
    this.cancelled.push({ nodeId, taskId, force, recursive });
  }

  sendTaskDone(origin: string, taskId: string, results: StoredValue[]): void {
    this.done.push({ origin, taskId, results });
  }

  pull(ids: string[]): Promise<void> {
    return new Promise((resolve, reject) => this.pulls.push({ ids, resolve: () => resolve(), reject }));
  }

  sendCollective(): void {
    throw new Error('not used by these tests');
  }
}

/** Placement groups the test sets by hand. */
export class FakeGroups implements GroupDirectory {
  readonly groups = new Map<string, GroupState>();

  set(id: string, state: GroupState['state'], bundles: ResourceSet[] = [{ CPU: 1 }], bundleNodes: string[] = []): void {
    this.groups.set(id, { id, name: '', strategy: 'PACK', bundles, state, bundleNodes, reason: 'test' });
  }

  group(id: string): GroupState | undefined {
    return this.groups.get(id);
  }

  async createGroup(g: GroupState): Promise<void> {
    this.groups.set(g.id, g);
  }

  async waitGroup(id: string): Promise<GroupState | undefined> {
    return this.groups.get(id);
  }

  async removeGroup(id: string): Promise<void> {
    const g = this.groups.get(id);
    if (g) g.state = 'REMOVED';
  }

  async listGroups(): Promise<GroupState[]> {
    return [...this.groups.values()];
  }
}

/** Cluster ports with a fake placer, peers and groups (the actor and cluster directories and logs are unused). */
export function fakeCluster(): ClusterPorts & { placer: FakePlacer; peers: FakePeers; groups: FakeGroups } {
  const unused = (): never => {
    throw new Error('not used by these tests');
  };
  return {
    placer: new FakePlacer(),
    peers: new FakePeers(),
    groups: new FakeGroups(),
    actors: {
      createActor: unused,
      submitActorTask: unused,
      killActor: unused,
      getActor: unused,
      namedActors: unused,
      actorState: unused,
    },
    directory: { clusterInfo: unused, kv: unused },
    logs: { forwardLog: unused },
  };
}

export interface TestNodeOptions {
  nodeId?: string;
  resources?: Record<string, number>;
  config?: Partial<RuntimeConfig>;
  cluster?: ClusterPorts;
  executes?: boolean;
}

/** A node's task side over fake workers (and fake cluster ports when `cluster` is given). */
export function testNode(opts: TestNodeOptions = {}) {
  const config = loadConfig({ pipelineDepth: 16, pipelineMaxTaskMs: 2, lineagePinning: true, ...opts.config });
  const store = new ObjectStore(
    1 << 20,
    config.inlineObjectMaxBytes,
    path.join(os.tmpdir(), 'ray-ts-unit-never-spills'),
  );
  const pool = new ResourcePool(opts.resources ?? { CPU: 1 });
  let scheduleQueued = false;
  const ctx = {
    nodeId: opts.nodeId ?? 'node-a',
    jobId: 'job-1',
    namespace: 'test',
    config,
    store,
    pool,
    executes: opts.executes ?? true,
    cluster: opts.cluster,
    placementTimes: undefined,
    stopped: false,
    busyCount: 0,
    busy(delta: number) {
      this.busyCount += delta;
    },
    requestSchedule() {
      if (scheduleQueued) return;
      scheduleQueued = true;
      queueMicrotask(() => {
        scheduleQueued = false;
        scheduler.schedule();
      });
    },
  } satisfies NodeContext & { busyCount: number };
  const queue = new TaskQueue();
  const deps = new Dependencies(ctx);
  const workers = new FakeWorkers();
  const slots = new WorkerSlots(ctx, workers);
  const lineage = new Lineage(store, (args) => deps.unpin(args));
  const records = new TaskRecords(ctx);
  store.onFree = (id) => lineage.release(id, (taskId) => queue.has(taskId));
  const groups = new FakeGroups();
  const bundles = new Bundles(ctx);
  const actorDeaths: { actorId: string; cause: string }[] = [];
  const placedActors: { work: CreateWork; alloc: Allocation; args: StoredValue[] }[] = [];
  const tasks = new Tasks(ctx, queue, {
    deps,
    lineage,
    records,
    slots,
    groups: () => ctx.cluster?.groups ?? groups,
    actorDied: (actor, cause) => actorDeaths.push({ actorId: actor.spec.actorId, cause }),
    placeActor: (work, alloc, args) => placedActors.push({ work, alloc, args }),
  });
  const scheduler = new Scheduler(ctx, queue, deps, slots, bundles, tasks);

  const node = {
    ctx,
    config,
    store,
    pool,
    queue,
    deps,
    slots,
    lineage,
    records,
    bundles,
    groups,
    tasks,
    scheduler,
    workers,
    actorDeaths,
    placedActors,
    /** Submits a task as the driver does, holding refs to its returns. */
    submit(spec: TaskSpec): TaskSpec {
      tasks.submit(spec);
      for (const id of spec.returnIds) store.addHolder(id);
      return spec;
    },
    /** The work of a task this node knows. */
    work(taskId: string): Work {
      const w = queue.get(taskId);
      if (!w) throw new Error(`no work ${taskId}`);
      return w;
    },
    /** Reports a task done by the worker that runs it. */
    finish(taskId: string, outcome: TaskOutcome = { ok: true, results: [{ t: 'js', v: taskId }] }, ms?: number): void {
      const w = node.work(taskId).worker;
      if (!tasks.taskDone(w!, taskId, outcome, ms)) throw new Error(`${taskId} does not run on a worker`);
    },
    /** The stored value of an object (undefined while pending or if unknown). */
    value(id: string): StoredValue | undefined {
      return store.get(id);
    },
    /** The error an object holds, as its class (undefined if it holds none). */
    error(id: string): Error | undefined {
      const v = store.get(id);
      return v?.t === 'err' ? errorFromWire(v.e) : undefined;
    },
  };
  return node;
}

/** A task's result as a worker reports it. */
export function ok(v: string | number): TaskOutcome {
  return { ok: true, results: [{ t: 'js', v }] };
}

/** A task's exception as a worker reports it. */
export function thrown(errorName: string, message = 'boom'): TaskOutcome {
  return { ok: false, error: { name: errorName, message, stack: '', props: {} }, errorName };
}
