/**
 * The driver-facing API: `init`, `shutdown`, `get`, `put`, `wait`, `cancel`, actors by name,
 * `kill`, runtime context and cluster resources. The same calls work inside tasks and actors.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { CoreClient } from '../runtime/client.js';
import { loadConfig, type RuntimeConfig } from '../config.js';
import { ActorExitSignal, InvalidArgumentError, RayError } from '../errors.js';
import { ids } from '../ids.js';
import { setMemoryPressureHook, setSharedGcThreshold, setSharedPoolLimit } from '../runtime/memory.js';
import type { NodeManager } from '../node/node-manager.js';
import { ObjectRef, RefTracker, watchedRef } from '../runtime/object-ref.js';
import { checkKnownKeys, compileRuntimeEnv, type EnvVars, type RuntimeEnv } from '../options.js';
import type {
  ActorCreationSpec,
  ActorTaskSpec,
  ClusterInfo,
  KvOp,
  NodeInfo,
  TaskContextData,
  TaskSpec,
} from '../protocol/specs.js';
import { actorIdOf, makeHandle, requireClient, reviver, setDefaultMaxRetries, type ActorHandle } from './remote.js';
import { deserialize, serialize, type StoredValue } from '../runtime/serialization.js';
import { threadState } from '../runtime/thread-state.js';
import { executionContext } from '../worker/client.js';
import { setPlacementGroupHost } from './placement-group.js';
import { setStateAddress } from './state.js';
import { setTimelineSource } from './timeline.js';

/** Options of {@link init}. */
export interface InitOptions {
  /** CPUs of the embedded node (default: all cores). */
  numCpus?: number;
  /** GPUs of the embedded node (default: from `CUDA_VISIBLE_DEVICES`, else the NVIDIA devices found, else 0). */
  numGpus?: number;
  /** Custom resources of the node, e.g. `{ accelerator: 2 }`. */
  resources?: Record<string, number>;
  /** Object store capacity in bytes (default: 30% of RAM, at most 8 GiB). Beyond it, objects spill to disk. */
  objectStoreMemory?: number;
  /** Namespace for named actors (default `'default'`). */
  namespace?: string;
  /** Print workers' console output here, prefixed with its origin (default true). */
  logToDriver?: boolean;
  /** Return the running cluster's info instead of failing if `init()` was called already. */
  ignoreReinitError?: boolean;
  /** Runtime settings (see `RuntimeConfig`); `RAY_TS_*` environment variables set them too. */
  config?: Partial<RuntimeConfig>;
  /**
   * Connect to a running cluster at HOST:PORT (the head's address, as `ray-ts start --head`
   * printed it) instead of starting an embedded one. `RAY_TS_ADDRESS` sets it too; `'local'`
   * forces the embedded cluster.
   */
  address?: string;
  /**
   * The job's runtime environment (Ray's `runtime_env`): every task and actor this driver
   * submits inherits it, merged with its own, e.g. `{ envVars: { LOG_LEVEL: 'debug' } }`.
   */
  runtimeEnv?: RuntimeEnv;
}

/** What {@link init} returns. */
export interface RuntimeInfo {
  readonly jobId: string;
  readonly nodeId: string;
  readonly namespace: string;
  readonly address: string;
  readonly resources: Readonly<Record<string, number>>;
}

const initKeys = [
  'numCpus',
  'numGpus',
  'resources',
  'objectStoreMemory',
  'namespace',
  'logToDriver',
  'ignoreReinitError',
  'config',
  'address',
  'runtimeEnv',
];

/** The driver's client: calls the in-process node directly. */
class LocalClient implements CoreClient {
  readonly jobId: string;
  readonly nodeId: string;
  readonly namespace: string;
  readonly inlineObjectMaxBytes: number;
  constructor(
    readonly node: NodeManager,
    config: RuntimeConfig,
  ) {
    this.jobId = node.jobId;
    this.nodeId = node.nodeId;
    this.namespace = node.namespace;
    this.inlineObjectMaxBytes = config.inlineObjectMaxBytes;
  }
  currentTask(): TaskContextData | undefined {
    return undefined;
  }
  submitTask(spec: TaskSpec): void {
    this.node.submitTask(spec);
  }
  createActor(spec: ActorCreationSpec): string | undefined {
    return this.node.createActor(spec);
  }
  submitActorTask(spec: ActorTaskSpec): void {
    this.node.submitActorTask(spec);
  }
  put(id: string, value: StoredValue): void {
    this.node.put(id, value);
  }
  get(idList: string[], timeoutMs: number | undefined): Promise<StoredValue[]> {
    return this.node.getValues(idList, timeoutMs);
  }
  wait(idList: string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]> {
    return this.node.waitValues(idList, numReturns, timeoutMs);
  }
  cancel(objectId: string, force: boolean, recursive: boolean): Promise<void> {
    return this.node.cancel(objectId, force, recursive);
  }
  killActor(actorId: string, noRestart: boolean): Promise<void> {
    return this.node.killActor(actorId, noRestart);
  }
  async getActor(name: string, namespace: string | undefined) {
    return this.node.getActorByName(name, namespace);
  }
  namedActors() {
    return this.node.namedActors();
  }
  async clusterInfo(): Promise<ClusterInfo> {
    return this.node.clusterInfo();
  }
  kv(op: KvOp): Promise<unknown> {
    return this.node.kv(op);
  }
}

let driver: { node: NodeManager; client: LocalClient; info: RuntimeInfo; stop: () => Promise<void> } | undefined;

function detectGpus(): number[] {
  const cvd = process.env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined) {
    return cvd
      .split(',')
      .map((s) => s.trim())
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  }
  try {
    return fs
      .readdirSync('/dev')
      .filter((f) => /^nvidia\d+$/.test(f))
      .map((f) => Number(f.slice(6)))
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function checkAmount(key: string, v: unknown, integer = false): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(
      `Invalid ${key} for init(): ${String(v)}. It must be a${integer ? 'n integer' : ' number'} >= 0.`,
    );
  }
  return v;
}

/**
 * Starts an embedded cluster in this process (a head node with an object store and a pool of
 * worker threads) and connects this program to it as the driver. Ready in milliseconds: workers
 * start in the background.
 *
 * @throws InvalidArgumentError for bad options; RayError if already initialized (unless `ignoreReinitError`).
 * @example
 * import { init, remote, get, shutdown } from '@ray-ts/core';
 * await init({ numCpus: 4 });
 * const double = remote((x: number) => 2 * x);
 * console.log(await get(double.remote(21))); // 42
 * await shutdown();
 */
export async function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  checkKnownKeys('init()', options, initKeys);
  if (driver) {
    if (options.ignoreReinitError) return driver.info;
    throw new RayError(
      'init() was called twice: a cluster is already running in this process. Call shutdown() first, or pass ignoreReinitError: true.',
    );
  }
  if (threadState().isWorker) {
    throw new RayError(
      'init() cannot be called inside a task or actor: the worker is already connected to its cluster.',
    );
  }
  const jobEnv = compileRuntimeEnv('init()', options.runtimeEnv);
  const numCpus = checkAmount('numCpus', options.numCpus) ?? os.availableParallelism();
  const detected = detectGpus();
  const numGpus = checkAmount('numGpus', options.numGpus, true) ?? detected.length;
  const store = checkAmount('objectStoreMemory', options.objectStoreMemory, true);
  const resources: Record<string, number> = { CPU: numCpus };
  if (numGpus) resources.GPU = numGpus;
  if (options.resources !== undefined) {
    if (typeof options.resources !== 'object' || options.resources === null) {
      throw new InvalidArgumentError('Invalid resources for init(): expected an object like { accelerator: 2 }.');
    }
    for (const [k, v] of Object.entries(options.resources)) {
      if (k === 'CPU' || k === 'GPU') {
        throw new InvalidArgumentError(
          `Invalid resources for init(): use ${k === 'CPU' ? 'numCpus' : 'numGpus'} instead of resources.${k}.`,
        );
      }
      resources[k] = checkAmount(`resources.${k}`, v)!;
    }
  }
  const config = loadConfig({
    ...(options.config ?? {}),
    ...(options.logToDriver !== undefined ? { logToDriver: options.logToDriver } : {}),
  });
  const namespace = options.namespace ?? 'default';
  const address = options.address ?? (process.env.RAY_TS_ADDRESS || undefined);
  if (address !== undefined && address !== 'local') {
    if (typeof address !== 'string')
      throw new InvalidArgumentError('Invalid address for init(): expected "HOST:PORT".');
    for (const k of ['numCpus', 'numGpus', 'resources', 'objectStoreMemory'] as const) {
      if (options[k] !== undefined) {
        throw new InvalidArgumentError(
          `init({ address }) connects to a running cluster, whose nodes have their resources already: drop ${k} ` +
            `(give resources to nodes with 'ray-ts start --num-cpus ... --resources ...').`,
        );
      }
    }
    return connect(address, namespace, config, store, jobEnv);
  }
  // Loaded here, not at import: worker threads import this module too and never run a node.
  const { NodeManager } = await import('../node/node-manager.js');
  if (driver) throw new RayError('init() was called twice at once: await the first call before calling it again.');
  const node = new NodeManager({
    nodeId: ids().next('node'),
    jobId: ids().next('job'),
    namespace,
    resources,
    gpuIds: detected.length >= numGpus ? detected : undefined,
    objectStoreBytes: store ?? config.objectStoreBytes,
    config,
  });
  const client = attachDriver(node, config, store ?? config.objectStoreBytes, jobEnv);
  const info: RuntimeInfo = Object.freeze({
    jobId: node.jobId,
    nodeId: node.nodeId,
    namespace,
    address: 'embedded',
    resources: Object.freeze({ ...resources }),
  });
  driver = { node, client, info, stop: () => node.stop() };
  return info;
}

/** Makes this thread the driver of `node`: its client, ref tracking, memory limits and the job's runtime environment. */
function attachDriver(
  node: NodeManager,
  config: RuntimeConfig,
  capacity: number,
  jobEnv: EnvVars | undefined,
): LocalClient {
  setSharedGcThreshold(Math.min(128 * 1024 * 1024, Math.max(16 * 1024 * 1024, Math.floor(capacity / 2))));
  setSharedPoolLimit(Math.min(2 * 1024 ** 3, Math.floor(capacity / 4)));
  const client = new LocalClient(node, config);
  const st = threadState();
  st.client = client;
  st.envVars = jobEnv;
  const objects = node.store;
  const tracker = new RefTracker(
    {
      addRefs: (a) => node.addDriverRefs(a),
      removeRefs: (r) => node.removeDriverRefs(r),
      addRef: (id) => objects.addHolder(id),
      removeRef: (id) => objects.removeHolder(id),
    },
    false,
  );
  st.refTracker = tracker;
  setMemoryPressureHook(() => tracker.sweep());
  setDefaultMaxRetries(config.taskMaxRetries);
  return client;
}

/** init({ address }): this process becomes a driver of a running cluster. */
async function connect(
  address: string,
  namespace: string,
  config: RuntimeConfig,
  store: number | undefined,
  jobEnv: EnvVars | undefined,
): Promise<RuntimeInfo> {
  const { startNode, pingGcs, parseAddress } = await import('../cluster/server.js');
  parseAddress(address);
  await pingGcs(address);
  const jobId = ids().next('job');
  const started = await startNode({
    head: false,
    gcsAddress: address,
    resources: {},
    objectStoreBytes: store ?? config.objectStoreBytes,
    config,
    driver: { jobId, namespace },
  });
  const { node, cluster } = started;
  // The driver's local node: the head (whose address it was given) takes its work first.
  cluster.preferredNode = cluster.viewNodes().find((n) => n.address === address && !n.isDriver)?.nodeId;
  const { unary } = await import('../cluster/proto.js');
  await unary(cluster.gcsClient(), 'RegisterJob', {
    jobId,
    driverNodeId: node.nodeId,
    driverPid: process.pid,
    entrypoint: process.argv.slice(1).join(' '),
    namespace,
  });
  const client = attachDriver(node, config, store ?? config.objectStoreBytes, jobEnv);
  const total = cluster.clusterInfo().total;
  const info: RuntimeInfo = Object.freeze({
    jobId,
    nodeId: node.nodeId,
    namespace,
    address,
    resources: Object.freeze(total),
  });
  driver = {
    node,
    client,
    info,
    stop: async () => {
      await unary(cluster.gcsClient(), 'FinishJob', { jobId }, 3_000).catch(() => {});
      await started.stop();
    },
  };
  return info;
}

setPlacementGroupHost(() => driver?.node);
setStateAddress(() => (driver && driver.info.address !== 'embedded' ? driver.info.address : undefined));
setTimelineSource(() => (driver && driver.info.address === 'embedded' ? driver.node.taskStates() : undefined));

/** True between `init()` and `shutdown()` (and always inside tasks and actors). */
export function isInitialized(): boolean {
  return threadState().client !== undefined;
}

/** Stops the embedded cluster: workers end, objects are dropped. Safe to call twice. */
export async function shutdown(): Promise<void> {
  const d = driver;
  if (!d) return;
  driver = undefined;
  const st = threadState();
  st.client = undefined;
  st.envVars = undefined;
  st.refTracker?.clear();
  st.refTracker = undefined;
  setSharedPoolLimit(0);
  setMemoryPressureHook(undefined);
  await d.stop();
}

/** Options of {@link get}. */
export interface GetOptions {
  /** Fail with GetTimeoutError if the values are not ready within this many milliseconds. */
  timeoutMs?: number;
}

type Unref<T> = T extends ObjectRef<infer V> ? V : never;

function checkTimeout(what: string, t: unknown): number | undefined {
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !(t >= 0)) {
    throw new InvalidArgumentError(`Invalid timeoutMs for ${what}: ${String(t)}. It must be a number >= 0.`);
  }
  return t;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Promise) return 'a Promise (await it instead of passing it to get())';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

/**
 * Waits for the values of one ref or an array of refs. Throws the task's error (a TaskError with
 * the remote stack) if it failed, and GetTimeoutError past `timeoutMs`.
 * @example const [a, b] = await get([f.remote(1), f.remote(2)]);
 */
export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export function get<const R extends readonly ObjectRef<unknown>[]>(
  refs: R,
  options?: GetOptions,
): Promise<{ -readonly [K in keyof R]: Unref<R[K]> }>;
export async function get(
  refOrRefs: ObjectRef<unknown> | readonly ObjectRef<unknown>[],
  options: GetOptions = {},
): Promise<unknown> {
  const single = !Array.isArray(refOrRefs);
  const refs = (single ? [refOrRefs] : refOrRefs) as readonly unknown[];
  for (let i = 0; i < refs.length; i++) {
    if (!(refs[i] instanceof ObjectRef)) {
      throw new InvalidArgumentError(
        `get() takes an ObjectRef or an array of ObjectRefs; got ${describeValue(refs[i])}${single ? '' : ` at index ${i}`}.`,
      );
    }
  }
  checkKnownKeys('get()', options, ['timeoutMs']);
  const timeoutMs = checkTimeout('get()', options.timeoutMs);
  const client = requireClient('get()');
  const values = await client.get(
    (refs as ObjectRef<unknown>[]).map((r) => r.id),
    timeoutMs,
  );
  const out = values.map((v) => deserialize(v, reviver));
  return single ? out[0] : out;
}

/**
 * Stores a value in the object store and returns a ref to it, e.g. to pass one large value to
 * many tasks without copying it each time.
 */
export function put<T>(value: T): ObjectRef<T> {
  if (value instanceof ObjectRef) {
    throw new InvalidArgumentError(
      'put() of an ObjectRef is not allowed: pass the ref itself, or wrap it in an object or array.',
    );
  }
  const client = requireClient('put()');
  const stored = serialize(value, 'the value given to put()', client.inlineObjectMaxBytes);
  const id = ids().next('obj');
  client.put(id, stored);
  const large = (stored.t === 'raw' || stored.t === 'v8') && stored.b.byteLength >= 1024 * 1024;
  return large ? watchedRef<T>(id) : new ObjectRef<T>(id);
}

/** Options of {@link wait}. */
export interface WaitOptions {
  /** How many ready refs to wait for (default 1). */
  numReturns?: number;
  /** Return what is ready after this many milliseconds (default: wait as long as it takes). */
  timeoutMs?: number;
  /**
   * Kept for Ray compatibility. On a multi-node cluster an object counts as ready once its value
   * is on this node (fetched meanwhile), as with Ray's default `fetchLocal: true`; on one node
   * values are always local.
   */
  fetchLocal?: boolean;
}

/**
 * Waits until `numReturns` of `refs` are ready (or `timeoutMs` passes) and splits them into ready
 * and not ready, each in the order given.
 * @example const { ready, notReady } = await wait(refs, { numReturns: 1 });
 */
export async function wait<T>(
  refs: readonly ObjectRef<T>[],
  options: WaitOptions = {},
): Promise<{ ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] }> {
  if (!Array.isArray(refs) || refs.some((r) => !(r instanceof ObjectRef))) {
    throw new InvalidArgumentError('wait() takes an array of ObjectRefs.');
  }
  checkKnownKeys('wait()', options, ['numReturns', 'timeoutMs', 'fetchLocal']);
  const numReturns = options.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 0 || numReturns > refs.length) {
    throw new InvalidArgumentError(
      `Invalid numReturns for wait(): ${numReturns}. It must be an integer from 0 to the number of refs (${refs.length}).`,
    );
  }
  const idList = refs.map((r) => r.id);
  if (new Set(idList).size !== idList.length) {
    throw new InvalidArgumentError('wait() takes unique refs: the same ref appears twice.');
  }
  const timeoutMs = checkTimeout('wait()', options.timeoutMs);
  const readyIds = new Set(await requireClient('wait()').wait(idList, numReturns, timeoutMs));
  const ready: ObjectRef<T>[] = [];
  const notReady: ObjectRef<T>[] = [];
  for (const r of refs) {
    if (readyIds.has(r.id) && ready.length < Math.max(numReturns, 1)) ready.push(r);
    else notReady.push(r);
  }
  return { ready, notReady };
}

/** Options of {@link cancel}. */
export interface CancelOptions {
  /** Stop the task's worker at once (kills even a busy loop; the worker is replaced). Default false. */
  force?: boolean;
  /** Cancel the tasks it submitted too (default true). */
  recursive?: boolean;
}

/**
 * Cancels the task that produces `ref`. A queued task never runs; a running one is asked to stop
 * (its `getRuntimeContext().cancelSignal` aborts) or, with `force`, its worker is stopped.
 * `get(ref)` then throws TaskCancelledError. Finished tasks are not affected.
 */
export async function cancel(ref: ObjectRef<unknown>, options: CancelOptions = {}): Promise<void> {
  if (!(ref instanceof ObjectRef)) throw new InvalidArgumentError('cancel() takes an ObjectRef.');
  checkKnownKeys('cancel()', options, ['force', 'recursive']);
  await requireClient('cancel()').cancel(ref.id, options.force === true, options.recursive !== false);
}

/** Options of {@link kill}. */
export interface KillOptions {
  /** Do not restart the actor even if it has `maxRestarts` left (default true). */
  noRestart?: boolean;
}

/** Kills an actor at once; pending and later calls fail with ActorDiedError (unless it restarts). */
export async function kill(actor: ActorHandle<unknown>, options: KillOptions = {}): Promise<void> {
  checkKnownKeys('kill()', options, ['noRestart']);
  let id: string;
  try {
    id = actorIdOf(actor);
  } catch {
    throw new InvalidArgumentError('kill() takes an actor handle.');
  }
  await requireClient('kill()').killActor(id, options.noRestart !== false);
}

/**
 * Ends the actor whose method calls it, for good, as Ray's `ray.actor.exit_actor()`: the call
 * and every call still queued fail with ActorDiedError ("it called exitActor()"), and the actor
 * is not restarted. Only inside an actor method.
 * @example class Job { run() { ...; exitActor(); } }
 */
export function exitActor(): never {
  const actorId = executionContext.getStore()?.data.actorId;
  const client = threadState().client;
  if (!actorId || !threadState().isWorker || !client || !('exitActor' in client)) {
    throw new InvalidArgumentError(
      'exitActor() ends the actor that calls it: call it inside an actor method (to end another actor, use kill(handle)).',
    );
  }
  (client as unknown as { exitActor(id: string): void }).exitActor(actorId);
  throw new ActorExitSignal();
}

/**
 * The names of the named actors alive in this job's namespace, as Ray's
 * `ray.util.list_named_actors()`; with `{ allNamespaces: true }`, every named actor's name and namespace.
 * @example const names = await listNamedActors(); // ['counter', ...]
 */
export async function listNamedActors(): Promise<string[]>;
export async function listNamedActors(options: { allNamespaces: true }): Promise<{ name: string; namespace: string }[]>;
export async function listNamedActors(
  options: { allNamespaces?: boolean } = {},
): Promise<string[] | { name: string; namespace: string }[]> {
  checkKnownKeys('listNamedActors()', options, ['allNamespaces']);
  const client = requireClient('listNamedActors()');
  const all = (await client.namedActors()).sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  return options.allNamespaces ? all : all.filter((a) => a.namespace === client.namespace).map((a) => a.name);
}

/** Options of {@link getActor}. */
export interface GetActorOptions {
  namespace?: string;
}

/**
 * Finds a named actor (made with `.options({ name })`) and returns a handle to it.
 * @throws InvalidArgumentError when no live actor has that name.
 */
export async function getActor<T = unknown>(name: string, options: GetActorOptions = {}): Promise<ActorHandle<T>> {
  if (typeof name !== 'string' || !name)
    throw new InvalidArgumentError('getActor() takes the actor name (a non-empty string).');
  checkKnownKeys('getActor()', options, ['namespace']);
  const data = await requireClient('getActor()').getActor(name, options.namespace);
  if (!data) {
    throw new InvalidArgumentError(
      `No actor named '${name}' in namespace '${options.namespace ?? threadState().client?.namespace}'. ` +
        `Create it with MyActor.options({ name: '${name}' }).remote(), or check the namespace.`,
    );
  }
  return makeHandle<T>(data);
}

/** What {@link getRuntimeContext} returns. */
export interface RuntimeContext {
  readonly jobId: string;
  readonly nodeId: string;
  readonly namespace: string;
  /** The running task or actor call; undefined on the driver. */
  readonly taskId: string | undefined;
  /** The current actor; undefined outside actors. */
  readonly actorId: string | undefined;
  /** Resources held by the current task or actor. */
  readonly assignedResources: Readonly<Record<string, number>>;
  /** Aborted when the current task is cancelled (a signal that never aborts on the driver). */
  readonly cancelSignal: AbortSignal;
  /** True inside a task or actor. */
  readonly isWorker: boolean;
  /**
   * The placement group this work's children go into (it was scheduled with
   * `placementGroupCaptureChildTasks: true`, or inherited it); undefined otherwise.
   */
  readonly placementGroupId: string | undefined;
  /** The runtime environment this code runs in (its worker's, or the driver's `init({ runtimeEnv })`). */
  readonly runtimeEnv: RuntimeEnv;
}

const neverAborts = new AbortController().signal;

/** Information about where this code runs: job, node, task, actor and assigned resources. */
export function getRuntimeContext(): RuntimeContext {
  const client = requireClient('getRuntimeContext()');
  const exec = executionContext.getStore();
  return Object.freeze({
    jobId: client.jobId,
    nodeId: client.nodeId,
    namespace: client.namespace,
    taskId: exec?.data.taskId,
    actorId: exec?.data.actorId,
    assignedResources: exec?.data.assignedResources ?? {},
    cancelSignal: exec?.signal ?? neverAborts,
    isWorker: threadState().isWorker,
    placementGroupId: exec?.data.placementGroupId,
    runtimeEnv: Object.freeze(threadState().envVars ? { envVars: { ...threadState().envVars } } : {}),
  });
}

/** The GPU ids assigned to the current task or actor (also in its `CUDA_VISIBLE_DEVICES`). */
export function getGpuIds(): number[] {
  return [...(executionContext.getStore()?.data.gpuIds ?? [])];
}

/** Total resources of the cluster, e.g. `{ CPU: 8, GPU: 1 }`. */
export async function clusterResources(): Promise<Record<string, number>> {
  return (await requireClient('clusterResources()').clusterInfo()).total;
}

/** Resources not held by running tasks and actors right now. */
export async function availableResources(): Promise<Record<string, number>> {
  return (await requireClient('availableResources()').clusterInfo()).available;
}

/** The nodes of the cluster, with their resources and liveness. */
export async function nodes(): Promise<NodeInfo[]> {
  return (await requireClient('nodes()').clusterInfo()).nodes;
}

/** @internal The embedded node of this driver (for the testing export). */
export function embeddedNode(): NodeManager | undefined {
  return driver?.node;
}
