/**
 * User-facing options (all optional) and their compiled, validated, readonly forms.
 * Each `compileXxxOptions` validates once at the API boundary and fills defaults, so bad input
 * fails at the call with an {@link InvalidArgumentError} that says what to do.
 */
import { InvalidArgumentError } from './errors.js';

/** Where a task or actor runs: a worker thread (default) or a child process of its own. */
export type Isolation = 'thread' | 'process';

/** Resources a task or actor needs, e.g. `{ CPU: 1, GPU: 0.5, accelerator: 1 }`. */
export type ResourceSet = Readonly<Record<string, number>>;

/** Pins work to a node: hard (`soft: false`, the default) fails if the node is gone or too small. */
export interface NodeAffinitySchedulingStrategy {
  /** The node's id, as `nodes()` or `getRuntimeContext().nodeId` give it. */
  nodeId: string;
  /** Run elsewhere when the node cannot take it (default false). */
  soft?: boolean;
}

/** Runs work in a bundle of a placement group (its resources come out of the bundle's reservation). */
export interface PlacementGroupSchedulingStrategy {
  placementGroup: { readonly id: string };
  /** The bundle to use; -1 (default) for any bundle of the group. */
  placementGroupBundleIndex?: number;
  /**
   * Tasks and actors this work submits without a scheduling strategy of their own go into the
   * same group (any bundle), and so on down (default false), as Ray's option of that name.
   */
  placementGroupCaptureChildTasks?: boolean;
}

/**
 * Where work runs: `'DEFAULT'` (locally while there is room, else on the best node), `'SPREAD'`
 * (over the nodes, round robin), a node affinity or a placement group bundle.
 */
export type SchedulingStrategy =
  'DEFAULT' | 'SPREAD' | NodeAffinitySchedulingStrategy | PlacementGroupSchedulingStrategy;

/** A scheduling strategy in compiled form (DEFAULT is `undefined`). */
export type SchedulingStrategySpec =
  | { readonly type: 'SPREAD' }
  | { readonly type: 'NODE_AFFINITY'; readonly nodeId: string; readonly soft: boolean }
  | {
      readonly type: 'PLACEMENT_GROUP';
      readonly placementGroupId: string;
      readonly bundleIndex: number;
      readonly captureChildTasks?: boolean;
    };

/**
 * The environment of the worker that runs a task or actor (Ray's `runtime_env`). Work with a
 * runtime environment runs on workers started with it (never shared with other work), and the
 * tasks and actors it submits inherit it, merged with their own.
 */
export interface RuntimeEnv {
  /**
   * Environment variables, seen in the worker's `process.env` (each worker thread has its own
   * copy; native code sees the process's). Values must be strings. Merged over the parent's.
   */
  envVars?: Record<string, string>;
  /**
   * The folder work runs in (Ray's `working_dir`). In `init()`, a local folder: it is packed
   * (without `node_modules`, `.git`, `.gitignore` matches and `excludes`; 500 MiB at most),
   * stored once in the cluster by content hash, and unpacked once on each node that runs the job's
   * work, which runs with it as its working directory (`process.cwd()`; a child-process worker's
   * real one). Functions and classes defined in modules under it load from the unpacked copy, so
   * the job's own modules reach every host. Per task or actor, the URI of a package uploaded
   * already (`gcs://_ray_pkg_<hash>.zip`, as `getRuntimeContext().runtimeEnv.workingDir` gives).
   */
  workingDir?: string;
  /** gitignore-style patterns of files under `workingDir` and `modules` to leave out of their packages (`init()` only). */
  excludes?: string[];
  /**
   * More folders of modules to ship (Ray's `py_modules`): packed and unpacked as `workingDir` is,
   * so functions and classes defined in them load on every node. Local folders in `init()`;
   * package URIs per task or actor.
   */
  modules?: string[];
}

/** Options of a remote function, given to `remote(fn, options)` or `fn.options(...)`. */
export interface TaskOptions {
  /** CPUs reserved while the task runs (default 1; fractions allowed). */
  numCpus?: number;
  /** GPUs reserved while the task runs (default 0). The task runs in a child process with `CUDA_VISIBLE_DEVICES` set. */
  numGpus?: number;
  /** Custom resources, e.g. `{ accelerator: 1 }`. */
  resources?: Record<string, number>;
  /** Memory in bytes reserved for scheduling (not enforced). */
  memory?: number;
  /** Number of return values: the function returns an array of this length and `.remote()` returns one ref per element. */
  numReturns?: number;
  /** Retries when the worker dies (and, with `retryExceptions`, when the task throws). -1 retries forever. Default 3. */
  maxRetries?: number;
  /** Retry on exceptions too: `true` for any, or a list of error classes or names to retry on. */
  retryExceptions?: boolean | ReadonlyArray<string | (abstract new (...args: never[]) => Error)>;
  /** A name for the task, shown in errors and logs (default: the function's name). */
  name?: string;
  /** `'thread'` (default) or `'process'`, for code that must not share a process. */
  isolation?: Isolation;
  /** Where the task runs (default `'DEFAULT'`). */
  schedulingStrategy?: SchedulingStrategy;
  /** The worker's environment (Ray's `runtime_env`): `{ envVars: { KEY: 'value' } }`. */
  runtimeEnv?: RuntimeEnv;
}

/** Options of an actor class, given to `remote(Class, options)` or `Class.options(...)`. */
export interface ActorOptions {
  /** A name to find the actor with `getActor(name)`; unique within its namespace. */
  name?: string;
  /** Namespace of the name (default: the job's namespace, `'default'`). */
  namespace?: string;
  /** `'detached'` keeps the actor alive after the job that made it ends. */
  lifetime?: 'detached' | 'non_detached';
  /** Restarts after the actor's worker dies (default 0; -1 for unlimited). */
  maxRestarts?: number;
  /** Retries of a method call interrupted by the actor's death, after a restart (default 0; -1 for unlimited). */
  maxTaskRetries?: number;
  /** Calls run at once (default 1, or 1000 for actors with async methods). */
  maxConcurrency?: number;
  /** CPUs held for the actor's lifetime (default 0: the actor shares a worker thread with others). */
  numCpus?: number;
  /** GPUs held for the actor's lifetime; the actor runs in a process with `CUDA_VISIBLE_DEVICES` set. */
  numGpus?: number;
  /** Custom resources held for the actor's lifetime. */
  resources?: Record<string, number>;
  /** Memory in bytes reserved for scheduling (not enforced). */
  memory?: number;
  /**
   * `'thread'` gives the actor a worker thread of its own even when it holds no resources (a
   * server loop, say); `'process'` a child process. Left out, an actor that holds no resources
   * shares a worker thread with other such actors, and one that holds resources has its own.
   */
  isolation?: Isolation;
  /** If a named actor exists already, return it instead of failing. */
  getIfExists?: boolean;
  /** Where the actor runs (default `'DEFAULT'`). */
  schedulingStrategy?: SchedulingStrategy;
  /**
   * The actor's environment (Ray's `runtime_env`), merged over the job's: `{ envVars: { KEY: 'value' } }`.
   * An actor that holds no resources shares a worker thread only with actors of the same environment.
   */
  runtimeEnv?: RuntimeEnv;
}

/** Options of one actor method call, via `handle.method.options(...)`. */
export interface ActorMethodOptions {
  numReturns?: number;
  name?: string;
}

export interface CompiledTaskOptions {
  readonly resources: ResourceSet;
  readonly numReturns: number;
  /** Undefined: the running cluster's default (`taskMaxRetries`). */
  readonly maxRetries: number | undefined;
  readonly retryExceptions: boolean | readonly string[];
  readonly name: string | undefined;
  readonly isolation: Isolation;
  readonly strategy: SchedulingStrategySpec | undefined;
  /** `runtimeEnv.envVars`, undefined when none are given. */
  readonly envVars: EnvVars | undefined;
}

export interface CompiledActorOptions {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly detached: boolean;
  readonly maxRestarts: number;
  readonly maxTaskRetries: number;
  readonly maxConcurrency: number | undefined;
  readonly resources: ResourceSet;
  /** `'shared'`: a worker thread shared with other actors that hold no resources. */
  readonly isolation: Isolation | 'shared';
  readonly getIfExists: boolean;
  readonly strategy: SchedulingStrategySpec | undefined;
  /** `runtimeEnv.envVars`, undefined when none are given. */
  readonly envVars?: EnvVars;
}

/** Environment variables of a runtime environment, validated. */
export type EnvVars = Readonly<Record<string, string>>;

const taskKeys = [
  'numCpus',
  'numGpus',
  'resources',
  'memory',
  'numReturns',
  'maxRetries',
  'retryExceptions',
  'name',
  'isolation',
  'schedulingStrategy',
  'runtimeEnv',
] as const;
const actorKeys = [
  'name',
  'namespace',
  'lifetime',
  'maxRestarts',
  'maxTaskRetries',
  'maxConcurrency',
  'numCpus',
  'numGpus',
  'resources',
  'memory',
  'isolation',
  'getIfExists',
  'schedulingStrategy',
  'runtimeEnv',
] as const;
const methodKeys = ['numReturns', 'name'] as const;

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

/** Rejects keys not in `known`, suggesting the closest known one. */
export function checkKnownKeys(what: string, opts: object, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidArgumentError(
      `Options of ${what} must be an object, got ${opts === null ? 'null' : typeof opts}.`,
    );
  }
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const best = known
      .map((k) => [k, editDistance(key.toLowerCase(), k.toLowerCase())] as const)
      .sort((x, y) => x[1] - y[1])[0];
    const hint = best && best[1] <= 3 ? ` Did you mean '${best[0]}'?` : '';
    throw new InvalidArgumentError(`Unknown option '${key}' for ${what}.${hint} Valid options: ${known.join(', ')}.`);
  }
}

function nonNegative(what: string, key: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidArgumentError(`Invalid ${key} for ${what}: ${String(v)}. It must be a finite number >= 0.`);
  }
  return v;
}

function integer(what: string, key: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(`Invalid ${key} for ${what}: ${String(v)}. It must be an integer >= ${min}.`);
  }
  return v;
}

function gpus(what: string, v: unknown): number | undefined {
  const n = nonNegative(what, 'numGpus', v);
  if (n !== undefined && n > 1 && !Number.isInteger(n)) {
    throw new InvalidArgumentError(
      `Invalid numGpus for ${what}: ${n}. Fractions are allowed below 1 only (GPUs are shared, not split across).`,
    );
  }
  return n;
}

function resourceSet(
  what: string,
  o: { numCpus?: unknown; numGpus?: unknown; resources?: unknown; memory?: unknown },
  defaultCpus: number,
): ResourceSet {
  const out: Record<string, number> = {};
  const cpu = nonNegative(what, 'numCpus', o.numCpus) ?? defaultCpus;
  if (cpu > 0) out.CPU = cpu;
  const gpu = gpus(what, o.numGpus);
  if (gpu) out.GPU = gpu;
  const mem = nonNegative(what, 'memory', o.memory);
  if (mem) out.memory = mem;
  if (o.resources !== undefined) {
    if (o.resources === null || typeof o.resources !== 'object' || Array.isArray(o.resources)) {
      throw new InvalidArgumentError(`Invalid resources for ${what}: expected an object like { accelerator: 1 }.`);
    }
    for (const [k, v] of Object.entries(o.resources)) {
      if (k === 'CPU' || k === 'GPU' || k === 'memory') {
        throw new InvalidArgumentError(
          `Invalid resources for ${what}: use ${k === 'CPU' ? 'numCpus' : k === 'GPU' ? 'numGpus' : 'memory'} instead of resources.${k}.`,
        );
      }
      const n = nonNegative(what, `resources.${k}`, v);
      if (n) out[k] = n;
    }
  }
  return Object.freeze(out);
}

function isolation(what: string, v: unknown): 'thread' | 'process' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'thread' && v !== 'process') {
    throw new InvalidArgumentError(`Invalid isolation for ${what}: ${String(v)}. Use 'thread' or 'process'.`);
  }
  return v;
}

function optName(what: string, key: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) {
    throw new InvalidArgumentError(`Invalid ${key} for ${what}: expected a non-empty string.`);
  }
  return v;
}

function strategy(what: string, v: unknown): SchedulingStrategySpec | undefined {
  if (v === undefined || v === 'DEFAULT') return undefined;
  if (v === 'SPREAD') return { type: 'SPREAD' };
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.nodeId === 'string' && o.nodeId) {
      if (o.soft !== undefined && typeof o.soft !== 'boolean') {
        throw new InvalidArgumentError(`Invalid schedulingStrategy.soft for ${what}: expected true or false.`);
      }
      return { type: 'NODE_AFFINITY', nodeId: o.nodeId, soft: o.soft === true };
    }
    const pg = o.placementGroup as { id?: unknown } | undefined;
    if (pg && typeof pg === 'object' && typeof pg.id === 'string') {
      const idx = integer(what, 'placementGroupBundleIndex', o.placementGroupBundleIndex, -1) ?? -1;
      const capture = o.placementGroupCaptureChildTasks;
      if (capture !== undefined && typeof capture !== 'boolean') {
        throw new InvalidArgumentError(
          `Invalid schedulingStrategy.placementGroupCaptureChildTasks for ${what}: expected true or false.`,
        );
      }
      return {
        type: 'PLACEMENT_GROUP',
        placementGroupId: pg.id,
        bundleIndex: idx,
        ...(capture ? { captureChildTasks: true } : {}),
      };
    }
  }
  throw new InvalidArgumentError(
    `Invalid schedulingStrategy for ${what}: ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}. ` +
      `Use 'DEFAULT', 'SPREAD', { nodeId, soft? } or { placementGroup, placementGroupBundleIndex? }.`,
  );
}

const unsupportedEnv: Record<string, string> = {
  pip: 'install packages in your project (npm install): workers load modules as the driver does',
  npm: 'install packages in your project (npm install): workers load modules as the driver does',
  pyModules: "it is spelled 'modules' here",
  conda: 'install packages in your project (npm install)',
  container: 'start the nodes themselves in the container',
};
const envKeys = new Set(['envVars', 'workingDir', 'modules', 'excludes']);
/**
 * A runtime environment's packages travel as two reserved variables of its environment, so they
 * reach every worker, nested work and node the way its `envVars` do (and workers are shared only
 * within one environment): the working directory's package URI, and the modules' URIs joined by commas.
 */
export const WORKING_DIR_VAR = 'RAY_TS_WORKING_DIR';
export const MODULES_VAR = 'RAY_TS_MODULES';
const reservedVars = new Set([WORKING_DIR_VAR, MODULES_VAR]);
const PACKAGE_URI = /^gcs:\/\/_ray_pkg_[0-9a-f]+\.zip$/;

/**
 * Validates a runtime environment; undefined when it sets nothing. Its packages (`workingDir`,
 * `modules`) must be package URIs here: `init()` packs local folders into packages first.
 */
export function compileRuntimeEnv(what: string, v: unknown): EnvVars | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidArgumentError(
      `Invalid runtimeEnv for ${what}: expected an object like { envVars: { KEY: 'value' }, workingDir: '.' }.`,
    );
  }
  for (const key of Object.keys(v)) {
    if (envKeys.has(key)) continue;
    const camel = key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (envKeys.has(camel))
      throw new InvalidArgumentError(`Invalid runtimeEnv for ${what}: '${key}' is spelled '${camel}' here.`);
    const why = unsupportedEnv[camel];
    throw new InvalidArgumentError(
      why
        ? `runtimeEnv.${key} is not supported (${what}): ${why}. runtimeEnv takes envVars, workingDir, modules and excludes.`
        : `Unknown runtimeEnv key '${key}' for ${what}: runtimeEnv takes envVars, workingDir, modules and excludes.`,
    );
  }
  const env = v as RuntimeEnv;
  const out: Record<string, string> = { ...compileEnvVars(what, env.envVars) };
  const local = (field: string, given: string) =>
    new InvalidArgumentError(
      `runtimeEnv.${field} for ${what} is the local folder '${given}': a local folder is packed and shipped by init({ runtimeEnv }) ` +
        `(set it there, as Ray does); per task or actor give a package URI (gcs://_ray_pkg_<hash>.zip), such as ` +
        `getRuntimeContext().runtimeEnv.${field === 'workingDir' ? 'workingDir' : 'modules'}.`,
    );
  if (env.workingDir !== undefined) {
    if (typeof env.workingDir !== 'string' || !env.workingDir)
      throw new InvalidArgumentError(`Invalid runtimeEnv.workingDir for ${what}: expected a folder path.`);
    if (!PACKAGE_URI.test(env.workingDir)) throw local('workingDir', env.workingDir);
    out[WORKING_DIR_VAR] = env.workingDir;
  }
  if (env.modules !== undefined) {
    if (!Array.isArray(env.modules) || env.modules.some((m) => typeof m !== 'string' || !m))
      throw new InvalidArgumentError(`Invalid runtimeEnv.modules for ${what}: expected a list of folder paths.`);
    for (const m of env.modules) if (!PACKAGE_URI.test(m)) throw local('modules', m);
    if (env.modules.length) out[MODULES_VAR] = env.modules.join(',');
  }
  // excludes shape packing, which init() did already: per task they are checked and have nothing to do.
  if (env.excludes !== undefined && (!Array.isArray(env.excludes) || env.excludes.some((e) => typeof e !== 'string')))
    throw new InvalidArgumentError(
      `Invalid runtimeEnv.excludes for ${what}: expected a list of patterns, like ['*.log'].`,
    );
  return Object.keys(out).length ? Object.freeze(out) : undefined;
}

function compileEnvVars(what: string, vars: unknown): Record<string, string> {
  if (vars === undefined) return {};
  if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) {
    throw new InvalidArgumentError(
      `Invalid runtimeEnv.envVars for ${what}: expected an object of strings, like { LOG_LEVEL: 'debug' }.`,
    );
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(vars)) {
    if (!k || /[=\0]/.test(k))
      throw new InvalidArgumentError(
        `Invalid runtimeEnv.envVars name for ${what}: ${JSON.stringify(k)} (no '=' or NUL, not empty).`,
      );
    if (reservedVars.has(k))
      throw new InvalidArgumentError(
        `Invalid runtimeEnv.envVars.${k} for ${what}: ray-ts sets it from runtimeEnv.${k === MODULES_VAR ? 'modules' : 'workingDir'}; set that instead.`,
      );
    if (typeof val !== 'string') {
      throw new InvalidArgumentError(
        `Invalid runtimeEnv.envVars.${k} for ${what}: ${typeof val}; values must be strings (write String(value)).`,
      );
    }
    out[k] = val;
  }
  return out;
}

/** A runtime environment as users give it, from its compiled variables (for `getRuntimeContext().runtimeEnv`). */
export function runtimeEnvOf(vars: EnvVars | undefined): RuntimeEnv {
  if (!vars) return {};
  const envVars: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (!reservedVars.has(k)) envVars[k] = v;
  return {
    ...(Object.keys(envVars).length ? { envVars } : {}),
    ...(vars[WORKING_DIR_VAR] ? { workingDir: vars[WORKING_DIR_VAR] } : {}),
    ...(vars[MODULES_VAR] ? { modules: vars[MODULES_VAR].split(',') } : {}),
  };
}

/** A stable key of a set of environment variables ('' for none): workers are shared only within one key. */
export function envKeyOf(vars: EnvVars | undefined): string {
  if (!vars) return '';
  return JSON.stringify(
    Object.keys(vars)
      .sort()
      .map((k) => [k, vars[k]]),
  );
}

/** Validates task options and fills defaults. */
export function compileTaskOptions(
  what: string,
  opts: TaskOptions,
  defaults: { maxRetries?: number },
): CompiledTaskOptions {
  checkKnownKeys(what, opts, taskKeys);
  let retryExceptions: boolean | string[] = false;
  const re = opts.retryExceptions;
  if (re === true || re === false) retryExceptions = re;
  else if (Array.isArray(re)) {
    retryExceptions = re.map((e: unknown) => {
      if (typeof e === 'string') return e;
      if (typeof e === 'function' && typeof e.name === 'string') return e.name;
      throw new InvalidArgumentError(`Invalid retryExceptions for ${what}: list error classes or their names.`);
    });
  } else if (re !== undefined) {
    throw new InvalidArgumentError(`Invalid retryExceptions for ${what}: use true, false, or a list of error classes.`);
  }
  const maxRetries = integer(what, 'maxRetries', opts.maxRetries, -1) ?? defaults.maxRetries;
  const iso = isolation(what, opts.isolation) ?? 'thread';
  const resources = resourceSet(what, opts, 1);
  return Object.freeze({
    resources,
    numReturns: integer(what, 'numReturns', opts.numReturns, 1) ?? 1,
    maxRetries,
    retryExceptions,
    name: optName(what, 'name', opts.name),
    isolation: resources.GPU ? 'process' : iso,
    strategy: strategy(what, opts.schedulingStrategy),
    envVars: compileRuntimeEnv(what, opts.runtimeEnv),
  });
}

/** Validates actor options and fills defaults. */
export function compileActorOptions(what: string, opts: ActorOptions): CompiledActorOptions {
  checkKnownKeys(what, opts, actorKeys);
  if (opts.lifetime !== undefined && opts.lifetime !== 'detached' && opts.lifetime !== 'non_detached') {
    throw new InvalidArgumentError(
      `Invalid lifetime for ${what}: ${String(opts.lifetime)}. Use 'detached' or leave it out.`,
    );
  }
  const resources = resourceSet(what, opts, 0);
  const name = optName(what, 'name', opts.name);
  if (opts.getIfExists && !name) {
    throw new InvalidArgumentError(`getIfExists needs a name for ${what}.`);
  }
  const envVars = compileRuntimeEnv(what, opts.runtimeEnv);
  const iso = isolation(what, opts.isolation) ?? (Object.keys(resources).length > 0 ? 'thread' : 'shared');
  return Object.freeze({
    name,
    namespace: optName(what, 'namespace', opts.namespace),
    detached: opts.lifetime === 'detached',
    maxRestarts: integer(what, 'maxRestarts', opts.maxRestarts, -1) ?? 0,
    maxTaskRetries: integer(what, 'maxTaskRetries', opts.maxTaskRetries, -1) ?? 0,
    maxConcurrency: integer(what, 'maxConcurrency', opts.maxConcurrency, 1),
    resources,
    isolation: resources.GPU ? 'process' : iso,
    getIfExists: opts.getIfExists === true,
    strategy: strategy(what, opts.schedulingStrategy),
    ...(envVars ? { envVars } : {}),
  });
}

/** Validates per-call actor method options. */
export function compileMethodOptions(what: string, opts: ActorMethodOptions): { numReturns: number; name?: string } {
  checkKnownKeys(what, opts, methodKeys);
  const name = optName(what, 'name', opts.name);
  return { numReturns: integer(what, 'numReturns', opts.numReturns, 1) ?? 1, ...(name ? { name } : {}) };
}
