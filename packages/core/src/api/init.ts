/**
 * Starting and stopping: `init` (an embedded cluster in this process, or a connection to a
 * running one), `isInitialized` and `shutdown`. The rest of the API is in objects.ts, actors.ts
 * and context.ts; the driver's state is in runtime/driver.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import { loadConfig, type RuntimeConfig } from '../config.js';
import { InvalidArgumentError, RayError } from '../errors.js';
import { checkKnownKeys, compileRuntimeEnv, type RuntimeEnv } from '../options.js';
import { resolveClusterAddress } from '../runtime/cluster-address.js';
import { packRuntimeEnv, shipPackages, type PackedEnv } from '../runtime/code-packages.js';
import { connectDriver, driverInfo, startEmbedded, stopDriver, type RuntimeInfo } from '../runtime/driver.js';
import { threadState } from '../runtime/thread-state.js';

export type { RuntimeInfo } from '../runtime/driver.js';

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
   * forces the embedded cluster. The driver presents the cluster's token: `RAY_TS_AUTH_TOKEN`,
   * else the token file of this machine's session directory (see docs/security.md).
   */
  address?: string;
  /**
   * The job's runtime environment (Ray's `runtime_env`): every task and actor this driver
   * submits inherits it, merged with its own, e.g. `{ envVars: { LOG_LEVEL: 'debug' } }`.
   */
  runtimeEnv?: RuntimeEnv;
  /**
   * With `address`: the address the cluster's nodes reach this driver by (Ray's
   * `_node_ip_address`). Default: the local address of the interface that routes to the head.
   */
  nodeIpAddress?: string;
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
  'nodeIpAddress',
];

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
 * @throws InvalidArgumentError for bad options; RayError if already initialized (unless `ignoreReinitError`);
 *   AuthenticationError when the cluster at `address` refuses this driver's token (the message says what to set).
 * @example
 * import { init, remote, get, shutdown } from '@ray-ts/core';
 * await init({ numCpus: 4 });
 * const double = remote((x: number) => 2 * x);
 * console.log(await get(double.remote(21))); // 42
 * await shutdown();
 */
export async function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  checkKnownKeys('init()', options, initKeys);
  const running = driverInfo();
  if (running) {
    if (options.ignoreReinitError) return running;
    throw new RayError(
      'init() was called twice: a cluster is already running in this process. Call shutdown() first, or pass ignoreReinitError: true.',
    );
  }
  if (threadState().isWorker) {
    throw new RayError(
      'init() cannot be called inside a task or actor: the worker is already connected to its cluster.',
    );
  }
  const packedEnv = await packRuntimeEnv(options.runtimeEnv);
  const jobEnv = compileRuntimeEnv('init()', packedEnv.env);
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
  const address = resolveClusterAddress(options.address);
  if (options.nodeIpAddress !== undefined && (address === undefined || address === 'local')) {
    throw new InvalidArgumentError(
      'init({ nodeIpAddress }) sets the address a cluster reaches this driver by: use it with init({ address }).',
    );
  }
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
    return withPackages(packedEnv, connectDriver(address, namespace, config, store, jobEnv, options.nodeIpAddress));
  }
  const started = startEmbedded({
    namespace,
    resources,
    gpuIds: detected.length >= numGpus ? detected : undefined,
    objectStoreBytes: store ?? config.objectStoreBytes,
    config,
    jobEnv,
  });
  return withPackages(packedEnv, started);
}

/** Once the driver runs, its shipped folders are uploaded before init() returns (so before any work names them). */
async function withPackages(packed: PackedEnv, started: Promise<RuntimeInfo>): Promise<RuntimeInfo> {
  const info = await started;
  if (!packed.packages.length) return info;
  try {
    await shipPackages(packed, threadState().client!);
  } catch (err) {
    await stopDriver();
    throw err;
  }
  return info;
}

/** True between `init()` and `shutdown()` (and always inside tasks and actors). */
export function isInitialized(): boolean {
  return threadState().client !== undefined;
}

/** Stops the embedded cluster (or leaves the cluster this driver is connected to): workers end, objects are dropped. Safe to call twice. */
export async function shutdown(): Promise<void> {
  await stopDriver();
}
