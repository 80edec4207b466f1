/**
 * Deployment and server options (all optional) and their compiled, validated, readonly forms.
 * Bad input fails at `deployment()`, `.options()`, `serve.start()` or `serve.run()` with a
 * {@link ServeInvalidArgumentError} that says what to do.
 */
import { ServeInvalidArgumentError } from './errors.js';

/** How a deployment scales with load (Ray Serve's `autoscaling_config`). */
export interface AutoscalingConfig {
  /** Fewest replicas (default 1; 0 scales to zero when idle). */
  minReplicas?: number;
  /** Most replicas (default 1, or `minReplicas` when larger). */
  maxReplicas?: number;
  /** Replicas to start with (default `minReplicas`). */
  initialReplicas?: number;
  /** Ongoing requests per replica to aim for (default 2). */
  targetOngoingRequests?: number;
  /** Seconds the load must ask for more replicas before scaling up (default 30). */
  upscaleDelayS?: number;
  /** Seconds the load must ask for fewer replicas before scaling down (default 600). */
  downscaleDelayS?: number;
  /** Seconds of load samples averaged into each decision (default 30). */
  lookBackPeriodS?: number;
  /** Seconds between load samples (default 0.5). */
  metricsIntervalS?: number;
}

/** Resources and placement of each replica (Ray's `ray_actor_options`). */
export interface RayActorOptions {
  /** CPUs each replica holds (default 1, as in Ray Serve). */
  numCpus?: number;
  /** GPUs each replica holds; the replica runs in a process with `CUDA_VISIBLE_DEVICES` set. */
  numGpus?: number;
  /** Custom resources each replica holds. */
  resources?: Record<string, number>;
  /** Memory in bytes reserved for scheduling. */
  memory?: number;
}

/** Options of a deployment, given to `deployment()` or `Deployment.options()`. */
export interface DeploymentOptions {
  /** Unique within its application (default: the class's name). */
  name?: string;
  /** A fixed number of replicas (default 1), or `'auto'` for autoscaling with defaults. */
  numReplicas?: number | 'auto';
  /** Scale on load instead of a fixed `numReplicas`. */
  autoscalingConfig?: AutoscalingConfig;
  /** Requests one replica runs at once (default 5, as in Ray Serve). */
  maxOngoingRequests?: number;
  /**
   * Requests each caller (a proxy thread, a thread holding a handle) queues when every replica is
   * full; beyond it calls fail at once with BackPressureError, HTTP answers 503 with Retry-After
   * (default {@link DEFAULT_MAX_QUEUED_REQUESTS}; -1: no limit, as Ray's default).
   */
  maxQueuedRequests?: number;
  /** Resources of each replica. */
  rayActorOptions?: RayActorOptions;
  /** Given to the class's `reconfigure(userConfig)` after construction and on every change, without a restart. */
  userConfig?: unknown;
  /** Seconds between health checks (default 10). */
  healthCheckPeriodS?: number;
  /** Seconds a health check may take before the replica counts as unhealthy (default 30). */
  healthCheckTimeoutS?: number;
  /** Seconds a stopping replica may take to finish its requests (default 20). */
  gracefulShutdownTimeoutS?: number;
  /** Seconds a stopping replica waits for late requests after its last one (default 2). */
  gracefulShutdownWaitLoopS?: number;
  /** A version string: replicas restart only when it changes (default: a hash of the code, arguments and actor options). */
  version?: string;
}

/**
 * The default `maxQueuedRequests` (Ray's is -1, no limit). 100 per caller is 20 rounds of the
 * default `maxOngoingRequests` (5): a burst of a hundred clients per proxy thread still queues,
 * while a flood is shed at once with 503 instead of waiting minutes, and the bodies a proxy
 * holds for queued requests stay bounded (at most 100 x `http.maxRequestBodyBytes`).
 */
export const DEFAULT_MAX_QUEUED_REQUESTS = 100;

/** The default `http.maxRequestBodyBytes`: 10 MiB. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;

/** Compiled deployment options. */
export interface CompiledDeploymentOptions {
  readonly name: string | undefined;
  readonly numReplicas: number;
  readonly autoscaling: Required<AutoscalingConfig> | undefined;
  readonly maxOngoingRequests: number;
  readonly maxQueuedRequests: number;
  readonly rayActorOptions: Readonly<RayActorOptions>;
  readonly userConfig: unknown;
  readonly healthCheckPeriodS: number;
  readonly healthCheckTimeoutS: number;
  readonly gracefulShutdownTimeoutS: number;
  readonly gracefulShutdownWaitLoopS: number;
  readonly version: string | undefined;
}

const deploymentKeys = new Set([
  'name',
  'numReplicas',
  'autoscalingConfig',
  'maxOngoingRequests',
  'maxQueuedRequests',
  'rayActorOptions',
  'userConfig',
  'healthCheckPeriodS',
  'healthCheckTimeoutS',
  'gracefulShutdownTimeoutS',
  'gracefulShutdownWaitLoopS',
  'version',
]);
const autoscalingKeys = new Set([
  'minReplicas',
  'maxReplicas',
  'initialReplicas',
  'targetOngoingRequests',
  'upscaleDelayS',
  'downscaleDelayS',
  'lookBackPeriodS',
  'metricsIntervalS',
]);
const actorKeys = new Set(['numCpus', 'numGpus', 'resources', 'memory']);

/** Snake-case names a Ray user may type, with the camelCase ray-ts name. */
const rayNames: Record<string, string> = {
  num_replicas: 'numReplicas',
  autoscaling_config: 'autoscalingConfig',
  max_ongoing_requests: 'maxOngoingRequests',
  max_queued_requests: 'maxQueuedRequests',
  ray_actor_options: 'rayActorOptions',
  user_config: 'userConfig',
  health_check_period_s: 'healthCheckPeriodS',
  health_check_timeout_s: 'healthCheckTimeoutS',
  graceful_shutdown_timeout_s: 'gracefulShutdownTimeoutS',
  graceful_shutdown_wait_loop_s: 'gracefulShutdownWaitLoopS',
  max_concurrent_queries: 'maxOngoingRequests',
  min_replicas: 'minReplicas',
  max_replicas: 'maxReplicas',
  initial_replicas: 'initialReplicas',
  target_ongoing_requests: 'targetOngoingRequests',
  upscale_delay_s: 'upscaleDelayS',
  downscale_delay_s: 'downscaleDelayS',
  num_cpus: 'numCpus',
  num_gpus: 'numGpus',
};

function checkKeys(what: string, o: object, keys: Set<string>): void {
  for (const k of Object.keys(o)) {
    if (keys.has(k)) continue;
    const hint = rayNames[k] ? ` Did you mean '${rayNames[k]}'?` : ` Known options: ${[...keys].join(', ')}.`;
    throw new ServeInvalidArgumentError(`Unknown option '${k}' for ${what}.${hint}`);
  }
}

function num(what: string, key: string, v: unknown, min: number, integer = false): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new ServeInvalidArgumentError(
      `Invalid ${key} for ${what}: ${JSON.stringify(v)}. Expected ${integer ? 'an integer' : 'a number'} >= ${min}.`,
    );
  }
  return v;
}

function object(what: string, key: string, v: unknown): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ServeInvalidArgumentError(`Invalid ${key} for ${what}: expected an object.`);
  }
  return v as Record<string, unknown>;
}

/** Validates an autoscaling config and fills Ray Serve's defaults. */
export function compileAutoscaling(what: string, given: AutoscalingConfig): Required<AutoscalingConfig> {
  checkKeys(`${what}.autoscalingConfig`, given, autoscalingKeys);
  const minReplicas = num(what, 'autoscalingConfig.minReplicas', given.minReplicas, 0, true) ?? 1;
  const maxReplicas =
    num(what, 'autoscalingConfig.maxReplicas', given.maxReplicas, 1, true) ?? Math.max(1, minReplicas);
  if (maxReplicas < minReplicas) {
    throw new ServeInvalidArgumentError(
      `Invalid autoscalingConfig for ${what}: maxReplicas (${maxReplicas}) is below minReplicas (${minReplicas}).`,
    );
  }
  const initialReplicas = num(what, 'autoscalingConfig.initialReplicas', given.initialReplicas, 0, true) ?? minReplicas;
  if (initialReplicas < minReplicas || initialReplicas > maxReplicas) {
    throw new ServeInvalidArgumentError(
      `Invalid autoscalingConfig for ${what}: initialReplicas (${initialReplicas}) must lie between minReplicas and maxReplicas.`,
    );
  }
  const targetOngoingRequests =
    num(what, 'autoscalingConfig.targetOngoingRequests', given.targetOngoingRequests, 0) ?? 2;
  if (targetOngoingRequests === 0) {
    throw new ServeInvalidArgumentError(
      `Invalid autoscalingConfig.targetOngoingRequests for ${what}: it must be above 0.`,
    );
  }
  return Object.freeze({
    minReplicas,
    maxReplicas,
    initialReplicas,
    targetOngoingRequests,
    upscaleDelayS: num(what, 'autoscalingConfig.upscaleDelayS', given.upscaleDelayS, 0) ?? 30,
    downscaleDelayS: num(what, 'autoscalingConfig.downscaleDelayS', given.downscaleDelayS, 0) ?? 600,
    lookBackPeriodS: num(what, 'autoscalingConfig.lookBackPeriodS', given.lookBackPeriodS, 0) ?? 30,
    metricsIntervalS: num(what, 'autoscalingConfig.metricsIntervalS', given.metricsIntervalS, 0.01) ?? 0.5,
  });
}

/** Validates deployment options and fills defaults. */
export function compileDeploymentOptions(what: string, given: DeploymentOptions): CompiledDeploymentOptions {
  if (given === null || typeof given !== 'object')
    throw new ServeInvalidArgumentError(`Options of ${what} must be an object.`);
  checkKeys(what, given, deploymentKeys);
  if (given.name !== undefined && (typeof given.name !== 'string' || !/^[\w.-]+$/.test(given.name))) {
    throw new ServeInvalidArgumentError(
      `Invalid name for ${what}: ${JSON.stringify(given.name)}. Use letters, digits, '_', '-' or '.'.`,
    );
  }
  let autoscaling: Required<AutoscalingConfig> | undefined;
  let numReplicas = 1;
  if (given.numReplicas === 'auto') {
    autoscaling = compileAutoscaling(what, { minReplicas: 1, maxReplicas: 100, ...given.autoscalingConfig });
  } else if (given.autoscalingConfig !== undefined) {
    if (given.numReplicas !== undefined) {
      throw new ServeInvalidArgumentError(
        `${what} has both numReplicas and autoscalingConfig: give one (numReplicas: 'auto' to autoscale with defaults).`,
      );
    }
    autoscaling = compileAutoscaling(
      what,
      object(what, 'autoscalingConfig', given.autoscalingConfig) as AutoscalingConfig,
    );
  } else {
    numReplicas = num(what, 'numReplicas', given.numReplicas, 0, true) ?? 1;
  }
  const actor = object(what, 'rayActorOptions', given.rayActorOptions) ?? {};
  checkKeys(`${what}.rayActorOptions`, actor, actorKeys);
  num(what, 'rayActorOptions.numCpus', actor.numCpus, 0);
  num(what, 'rayActorOptions.numGpus', actor.numGpus, 0);
  num(what, 'rayActorOptions.memory', actor.memory, 0);
  if (actor.resources !== undefined) {
    for (const [k, v] of Object.entries(object(what, 'rayActorOptions.resources', actor.resources)!))
      num(what, `rayActorOptions.resources.${k}`, v, 0);
  }
  const maxQueued = num(what, 'maxQueuedRequests', given.maxQueuedRequests, -1, true) ?? DEFAULT_MAX_QUEUED_REQUESTS;
  if (given.version !== undefined && typeof given.version !== 'string') {
    throw new ServeInvalidArgumentError(`Invalid version for ${what}: expected a string.`);
  }
  return Object.freeze({
    name: given.name,
    numReplicas: autoscaling ? autoscaling.initialReplicas : numReplicas,
    autoscaling,
    maxOngoingRequests: num(what, 'maxOngoingRequests', given.maxOngoingRequests, 1, true) ?? 5,
    maxQueuedRequests: maxQueued,
    rayActorOptions: Object.freeze({ numCpus: 1, ...(actor as RayActorOptions) }),
    userConfig: given.userConfig,
    healthCheckPeriodS: num(what, 'healthCheckPeriodS', given.healthCheckPeriodS, 0.01) ?? 10,
    healthCheckTimeoutS: num(what, 'healthCheckTimeoutS', given.healthCheckTimeoutS, 0.01) ?? 30,
    gracefulShutdownTimeoutS: num(what, 'gracefulShutdownTimeoutS', given.gracefulShutdownTimeoutS, 0) ?? 20,
    gracefulShutdownWaitLoopS: num(what, 'gracefulShutdownWaitLoopS', given.gracefulShutdownWaitLoopS, 0) ?? 2,
    version: given.version,
  });
}

/** Where Serve runs HTTP proxies (Ray's `proxy_location`). */
export type ProxyLocation = 'EveryNode' | 'HeadOnly' | 'Disabled';

/** HTTP ingress options of `serve.start()`. */
export interface HttpOptions {
  /** Address to bind (default `'127.0.0.1'`). */
  host?: string;
  /** Port on every node (default 8000; 0 picks a free port per node, shown by `serve.status()`). */
  port?: number;
  /** Seconds before a request fails with 408 (default: none); the replica's `request.signal` aborts. */
  requestTimeoutS?: number;
  /**
   * Largest request body accepted, in bytes (default 10 MiB). A larger one gets 413 as soon as
   * its `Content-Length` says so, or once that many bytes arrived; the proxy reads no further.
   */
  maxRequestBodyBytes?: number;
  /** Proxy threads per node, all accepting on the one port (default: the node's CPU count). */
  proxiesPerNode?: number;
  /** Nodes that run proxies (default `'EveryNode'`). */
  location?: ProxyLocation;
}

/** gRPC ingress options of `serve.start()`. */
export interface GrpcOptions {
  /** Port on every node (0 picks a free port per node). */
  port: number;
  /** Address to bind (default `'127.0.0.1'`). */
  host?: string;
  /** `.proto` files that define the services (absolute paths, or relative to the working directory). */
  protoFiles: string[];
  /** Fully qualified services to serve, e.g. `['userdefined.UserDefinedService']` (default: every service in the files). */
  services?: string[];
  /** Folders searched for imports of the `.proto` files. */
  includeDirs?: string[];
}

/** Options of `serve.start()`. */
export interface StartOptions {
  http?: HttpOptions;
  grpc?: GrpcOptions;
}

/** Compiled server options (they travel to the controller and the proxies). */
export interface CompiledStartOptions {
  readonly http: Readonly<Required<Omit<HttpOptions, 'requestTimeoutS' | 'proxiesPerNode'>>> & {
    readonly requestTimeoutS: number | undefined;
    readonly proxiesPerNode: number | undefined;
  };
  readonly grpc: Readonly<Required<GrpcOptions>> | undefined;
}

/** Validates `serve.start()` options and fills defaults. */
export function compileStartOptions(given: StartOptions = {}): CompiledStartOptions {
  checkKeys('serve.start()', given, new Set(['http', 'grpc']));
  const h = (object('serve.start()', 'http', given.http) ?? {}) as HttpOptions;
  checkKeys(
    'serve.start() http',
    h,
    new Set(['host', 'port', 'requestTimeoutS', 'maxRequestBodyBytes', 'proxiesPerNode', 'location']),
  );
  if (h.host !== undefined && typeof h.host !== 'string')
    throw new ServeInvalidArgumentError(`Invalid http.host: expected a string like '127.0.0.1'.`);
  const location = h.location ?? 'EveryNode';
  if (!['EveryNode', 'HeadOnly', 'Disabled'].includes(location)) {
    throw new ServeInvalidArgumentError(
      `Invalid http.location: ${String(location)}. Use 'EveryNode', 'HeadOnly' or 'Disabled'.`,
    );
  }
  let grpc: CompiledStartOptions['grpc'];
  if (given.grpc !== undefined) {
    const g = object('serve.start()', 'grpc', given.grpc) as unknown as GrpcOptions;
    checkKeys('serve.start() grpc', g, new Set(['host', 'port', 'protoFiles', 'services', 'includeDirs']));
    if (!Array.isArray(g.protoFiles) || g.protoFiles.length === 0 || g.protoFiles.some((f) => typeof f !== 'string')) {
      throw new ServeInvalidArgumentError(
        `serve.start() grpc needs protoFiles: the .proto files that define your services.`,
      );
    }
    grpc = Object.freeze({
      host: g.host ?? '127.0.0.1',
      port: num('serve.start()', 'grpc.port', g.port, 0, true) ?? 9000,
      protoFiles: g.protoFiles,
      services: g.services ?? [],
      includeDirs: g.includeDirs ?? [],
    });
  }
  return Object.freeze({
    http: Object.freeze({
      host: h.host ?? '127.0.0.1',
      port: num('serve.start()', 'http.port', h.port, 0, true) ?? 8000,
      requestTimeoutS: num('serve.start()', 'http.requestTimeoutS', h.requestTimeoutS, 0.001),
      maxRequestBodyBytes:
        num('serve.start()', 'http.maxRequestBodyBytes', h.maxRequestBodyBytes, 0, true) ??
        DEFAULT_MAX_REQUEST_BODY_BYTES,
      proxiesPerNode: num('serve.start()', 'http.proxiesPerNode', h.proxiesPerNode, 1, true),
      location,
    }),
    grpc,
  });
}

/** Validates a route prefix: `'/'`, `'/api'`; never a trailing slash. */
export function checkRoutePrefix(prefix: unknown, app: string): string | null {
  if (prefix === null) return null;
  if (
    typeof prefix !== 'string' ||
    !prefix.startsWith('/') ||
    (prefix.length > 1 && prefix.endsWith('/')) ||
    /[{}\s]/.test(prefix)
  ) {
    throw new ServeInvalidArgumentError(
      `Invalid routePrefix for app '${app}': ${JSON.stringify(prefix)}. Use a path like '/' or '/api' (no trailing slash), or null for no HTTP route.`,
    );
  }
  return prefix;
}
