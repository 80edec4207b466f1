/**
 * Serve config files, as Ray Serve writes them: YAML with snake_case keys that name the server
 * options and the applications (each an `import_path` to a module's export, with per-deployment
 * overrides). `ray-ts serve run` and `ray-ts serve deploy` read them.
 *
 * ```yaml
 * proxy_location: EveryNode
 * http_options: { host: 127.0.0.1, port: 8000 }
 * applications:
 *   - name: app1
 *     route_prefix: /app1
 *     import_path: ./app.ts:app        # a module (relative to this file) : an exported name
 *     deployments:
 *       - { name: Model, num_replicas: 2, user_config: { threshold: 0.5 } }
 * ```
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { Application, Deployment } from './deployment.js';
import { ServeInvalidArgumentError } from './errors.js';
import {
  checkRoutePrefix,
  compileDeploymentOptions,
  compileStartOptions,
  type DeploymentOptions,
  type StartOptions,
} from './options.js';

/** Overrides of one deployment of an application, by its name (`deployments:` in the file). */
export type DeploymentOverride = DeploymentOptions & { name: string };

/** One application of a config file, validated, before its module is imported. */
export interface AppConfig {
  /** The application's name (default `'default'`). */
  name: string;
  /** Its HTTP route prefix (default `'/'`; `null`: no HTTP route). */
  routePrefix: string | null;
  /** `module-path:exportName`, the module path relative to the config file. */
  importPath: string;
  /** Arguments of an app builder (when the export is a function). */
  args: Record<string, unknown> | undefined;
  /** Option overrides by deployment name. */
  deployments: DeploymentOverride[];
}

/** A config file, validated and in ray-ts's camelCase options. */
export interface ServeConfig {
  /** Options of `serve.start()`. */
  start: StartOptions;
  applications: AppConfig[];
}

/** A config file's applications, imported and with their overrides applied: what `deployApps()` takes. */
export interface LoadedServeConfig {
  start: StartOptions;
  apps: { name: string; routePrefix: string | null; app: Application }[];
}

// ---------------------------------------------------------------- schema

/** One key of a section: its camelCase name, and the section below it (none: a plain value). */
interface Field {
  to: string;
  /** `null` means something (else a key with no value is left at its default). */
  nullable?: true;
  /** A mapping with keys of its own. */
  map?: Schema;
  /** A list of mappings. */
  list?: Schema;
}
type Schema = Record<string, Field>;

const autoscalingSchema: Schema = {
  min_replicas: { to: 'minReplicas' },
  max_replicas: { to: 'maxReplicas' },
  initial_replicas: { to: 'initialReplicas' },
  target_ongoing_requests: { to: 'targetOngoingRequests' },
  upscale_delay_s: { to: 'upscaleDelayS' },
  downscale_delay_s: { to: 'downscaleDelayS' },
  look_back_period_s: { to: 'lookBackPeriodS' },
  metrics_interval_s: { to: 'metricsIntervalS' },
};

const actorSchema: Schema = {
  num_cpus: { to: 'numCpus' },
  num_gpus: { to: 'numGpus' },
  memory: { to: 'memory' },
  resources: { to: 'resources' }, // names of custom resources stay as written
};

const deploymentSchema: Schema = {
  name: { to: 'name' },
  num_replicas: { to: 'numReplicas' },
  autoscaling_config: { to: 'autoscalingConfig', map: autoscalingSchema },
  max_ongoing_requests: { to: 'maxOngoingRequests' },
  max_queued_requests: { to: 'maxQueuedRequests' },
  user_config: { to: 'userConfig' }, // the user's own data: keys stay as written
  ray_actor_options: { to: 'rayActorOptions', map: actorSchema },
  health_check_period_s: { to: 'healthCheckPeriodS' },
  health_check_timeout_s: { to: 'healthCheckTimeoutS' },
  graceful_shutdown_timeout_s: { to: 'gracefulShutdownTimeoutS' },
  graceful_shutdown_wait_loop_s: { to: 'gracefulShutdownWaitLoopS' },
  version: { to: 'version' },
};

const appSchema: Schema = {
  name: { to: 'name' },
  route_prefix: { to: 'routePrefix', nullable: true }, // null: no HTTP route
  import_path: { to: 'importPath' },
  args: { to: 'args' },
  deployments: { to: 'deployments', list: deploymentSchema },
};

const httpSchema: Schema = {
  host: { to: 'host' },
  port: { to: 'port' },
  request_timeout_s: { to: 'requestTimeoutS' },
  max_request_body_bytes: { to: 'maxRequestBodyBytes' },
  proxies_per_node: { to: 'proxiesPerNode' },
};

const grpcSchema: Schema = {
  host: { to: 'host' },
  port: { to: 'port' },
  proto_files: { to: 'protoFiles' },
  include_dirs: { to: 'includeDirs' },
  services: { to: 'services' },
};

const topSchema: Schema = {
  proxy_location: { to: 'proxyLocation' },
  http_options: { to: 'httpOptions', map: httpSchema },
  grpc_options: { to: 'grpcOptions', map: grpcSchema },
  applications: { to: 'applications', list: appSchema },
};

// ---------------------------------------------------------------- parsing

type Path = (string | number)[];

function showPath(p: Path): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${k}` : k;
  return s || 'the top level';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(v))
  );
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function suggestion(key: string, known: string[]): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (snake !== key && known.includes(snake))
    return ` Did you mean '${snake}'? (config files use Ray's snake_case keys)`;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best && bestD <= Math.max(1, Math.floor(key.length / 4)) ? ` Did you mean '${best}'?` : '';
}

/** Reads one config file's text: the YAML document, and where its nodes are (for messages). */
class Source {
  private readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(
    text: string,
    readonly name: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const [err] = this.doc.errors;
    if (err) {
      throw new ServeInvalidArgumentError(
        `${name}:${this.lines.linePos(err.pos[0]).line}: invalid YAML: ${err.message.split('\n')[0]}`,
      );
    }
  }

  /** `file:line` of a node, or of a key inside it. */
  where(p: Path, key?: string): string {
    let node: unknown = this.doc.getIn(p, true);
    if (key !== undefined && isMap(node)) {
      node = node.items.find((it) => isScalar(it.key) && it.key.value === key)?.key ?? node;
    }
    const offset = (node as YamlNode | undefined)?.range?.[0];
    return offset === undefined ? this.name : `${this.name}:${this.lines.linePos(offset).line}`;
  }

  fail(p: Path, message: string, key?: string): never {
    throw new ServeInvalidArgumentError(`${this.where(p, key)}: ${message}`);
  }
}

/** Checks the keys of one section against its schema and renames them to camelCase (recursively). */
function convert(src: Source, value: unknown, schema: Schema, p: Path): Record<string, unknown> {
  if (!isPlainObject(value))
    src.fail(p, `${showPath(p)} must be a mapping of ${Object.keys(schema).join(', ')}; got ${describeValue(value)}.`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const field = schema[k];
    if (!field) {
      const known = Object.keys(schema);
      src.fail(p, `unknown key '${k}' in ${showPath(p)}.${suggestion(k, known)} Known keys: ${known.join(', ')}.`, k);
    }
    if ((v === null && !field.nullable) || v === undefined) continue; // `key:` with nothing after it: the default
    if (field.map) {
      out[field.to] = convert(src, v, field.map, [...p, k]);
    } else if (field.list) {
      if (!Array.isArray(v)) src.fail([...p, k], `${showPath([...p, k])} must be a list; got ${describeValue(v)}.`);
      out[field.to] = v.map((item, i) => convert(src, item, field.list!, [...p, k, i]));
    } else {
      out[field.to] = v;
    }
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Runs a check of options.ts, giving its error the place in the file. */
function located<T>(src: Source, p: Path, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ServeInvalidArgumentError) src.fail(p, err.message);
    throw err;
  }
}

function resolvePaths(list: unknown, baseDir: string | undefined): unknown {
  if (!baseDir || !Array.isArray(list)) return list;
  return list.map((f) => (typeof f === 'string' ? path.resolve(baseDir, f) : f));
}

/**
 * Parses and validates the text of a Serve config file (YAML, Ray Serve's snake_case keys) into
 * ray-ts options. Pure: it imports no application module (see {@link loadServeConfig}).
 * @param text The YAML text.
 * @param options.source The file's name, for messages (default `'config'`).
 * @param options.baseDir Where relative `grpc_options.proto_files`/`include_dirs` lie (default: kept as written).
 * @throws ServeInvalidArgumentError naming the file, line and key, for invalid YAML, an unknown key
 * (with the known ones), a value of the wrong type, duplicate app names or route prefixes.
 * @example
 * const config = parseServeConfig(fs.readFileSync('serve.yaml', 'utf8'), { source: 'serve.yaml' });
 */
export function parseServeConfig(text: string, options: { source?: string; baseDir?: string } = {}): ServeConfig {
  const src: Source = new Source(text, options.source ?? 'config'); // typed, so that src.fail() narrows
  const raw: unknown = src.doc.toJS();
  if (raw === null || raw === undefined) src.fail([], 'the file is empty: it needs at least `applications:`.');
  const top = convert(src, raw, topSchema, []);

  const start: StartOptions = {};
  const http = { ...(top.httpOptions as Record<string, unknown> | undefined) };
  if (top.proxyLocation !== undefined) {
    if (!['EveryNode', 'HeadOnly', 'Disabled'].includes(top.proxyLocation as string)) {
      src.fail(
        ['proxy_location'],
        `invalid proxy_location ${JSON.stringify(top.proxyLocation)}: use EveryNode, HeadOnly or Disabled.`,
      );
    }
    http.location = top.proxyLocation;
  }
  if (Object.keys(http).length) {
    start.http = http;
    located(src, top.httpOptions ? ['http_options'] : [], () => compileStartOptions({ http: start.http }));
  }
  if (top.grpcOptions) {
    const g = { ...(top.grpcOptions as Record<string, unknown>) };
    if (g.protoFiles !== undefined) g.protoFiles = resolvePaths(g.protoFiles, options.baseDir);
    if (g.includeDirs !== undefined) g.includeDirs = resolvePaths(g.includeDirs, options.baseDir);
    start.grpc = g as unknown as StartOptions['grpc'];
    located(src, ['grpc_options'], () => compileStartOptions({ grpc: start.grpc }));
  }

  const apps = (top.applications ?? []) as Record<string, unknown>[];
  const names = new Map<string, number>();
  const prefixes = new Map<string, string>();
  const applications = apps.map((a, i): AppConfig => {
    const p: Path = ['applications', i];
    const name = a.name ?? 'default';
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) {
      src.fail(
        p,
        `invalid application name ${JSON.stringify(name)} in ${showPath(p)}: use letters, digits, '_', '-' or '.'.`,
        'name',
      );
    }
    if (names.has(name)) {
      src.fail(
        p,
        `two applications are named '${name}' (applications[${names.get(name)}] and applications[${i}]): give each a name of its own.`,
        'name',
      );
    }
    names.set(name, i);
    const routePrefix = a.routePrefix === undefined ? '/' : (a.routePrefix as string | null);
    located(src, [...p, 'route_prefix'], () => checkRoutePrefix(routePrefix, name));
    if (routePrefix !== null) {
      const other = prefixes.get(routePrefix);
      if (other)
        src.fail(
          p,
          `applications '${other}' and '${name}' both have route_prefix '${routePrefix}': give each its own.`,
          'route_prefix',
        );
      prefixes.set(routePrefix, name);
    }
    if (typeof a.importPath !== 'string' || !a.importPath) {
      src.fail(
        p,
        `application '${name}' needs an import_path: 'path/to/module.ts:exportName', the module relative to this file.`,
      );
    }
    if (a.args !== undefined && !isPlainObject(a.args)) {
      src.fail(
        [...p, 'args'],
        `args of application '${name}' must be a mapping (given to the app builder); got ${describeValue(a.args)}.`,
      );
    }
    const seen = new Set<string>();
    const deployments = ((a.deployments ?? []) as Record<string, unknown>[]).map((d, j) => {
      const dp: Path = [...p, 'deployments', j];
      if (typeof d.name !== 'string' || !d.name)
        src.fail(dp, `${showPath(dp)} needs the name of the deployment it overrides.`);
      if (seen.has(d.name))
        src.fail(
          dp,
          `deployment '${d.name}' of application '${name}' is listed twice: merge its options into one entry.`,
          'name',
        );
      seen.add(d.name);
      const opts = d as unknown as DeploymentOverride;
      located(src, dp, () => compileDeploymentOptions(`deployment '${d.name}' of application '${name}'`, opts));
      return opts;
    });
    return {
      name,
      routePrefix,
      importPath: a.importPath,
      args: a.args as Record<string, unknown> | undefined,
      deployments,
    };
  });
  return { start, applications };
}

// ---------------------------------------------------------------- applications

/**
 * Applies per-deployment option overrides to an application graph: every bound deployment of
 * that name (the root, or one bound among the arguments, also inside arrays and plain objects)
 * is rebound as `deployment.options(override)` with the same arguments.
 * @throws ServeInvalidArgumentError when an override names a deployment not in the graph (the
 * message lists the ones there), or an option is invalid.
 */
export function applyOverrides(
  root: Application,
  overrides: readonly DeploymentOverride[],
  appName = 'default',
): Application {
  if (!overrides.length) return root;
  const byName = new Map(overrides.map((o) => [o.name, o]));
  const present = new Set<string>();
  const done = new Map<Application, Application>();
  const swap = (v: unknown): unknown => {
    if (v instanceof Application) return visit(v);
    if (Array.isArray(v)) return v.map(swap);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    return v;
  };
  const visit = (node: Application): Application => {
    const prior = done.get(node);
    if (prior) return prior; // one node bound in two places stays one node
    const d: Deployment = node.deployment;
    present.add(d.name);
    const o = byName.get(d.name);
    let dep = d;
    if (o) {
      const { name: _name, ...opts } = o;
      dep = d.options(opts);
    }
    const rebuilt = dep.bind(...node.args.map(swap));
    done.set(node, rebuilt);
    return rebuilt;
  };
  const out = visit(root);
  const missing = overrides.map((o) => o.name).filter((n) => !present.has(n));
  if (missing.length) {
    throw new ServeInvalidArgumentError(
      `Application '${appName}' has no deployment named ${missing.map((n) => `'${n}'`).join(', ')} to override. ` +
        `Its deployments: ${[...present].join(', ')}. Use one of these names under 'deployments:' (or the name given with serve.deployment({ name })).`,
    );
  }
  return out;
}

let tsxReady: Promise<void> | undefined;
/** Lets Node import TypeScript modules, with tsx (as core's workers do). */
function registerTsx(forFile: string): Promise<void> {
  tsxReady ??= (async () => {
    type Api = { register: () => unknown };
    let api: Api;
    try {
      api = (await import('tsx/esm/api')) as Api;
    } catch {
      try {
        // tsx installed in the user's project rather than next to @ray-ts/serve.
        const file = createRequire(path.join(process.cwd(), 'noop.js')).resolve('tsx/esm/api');
        api = (await import(pathToFileURL(file).href)) as Api;
      } catch (err) {
        tsxReady = undefined;
        throw new ServeInvalidArgumentError(
          `Loading the TypeScript module ${forFile} needs tsx, which could not be loaded (${(err as Error).message}). ` +
            `Install it (npm i -D tsx) or point import_path at compiled JavaScript.`,
          { cause: err },
        );
      }
    }
    api.register();
  })();
  return tsxReady;
}

/** Splits `path/to/module.ts:exportName` (the export defaults to `default`). */
function splitImportPath(target: string): { spec: string; exportName: string } {
  const m = /^(.+):([A-Za-z_$][\w$]*)$/.exec(target);
  return m ? { spec: m[1], exportName: m[2] } : { spec: target, exportName: 'default' };
}

function resolveModule(spec: string, baseDir: string, target: string): string {
  const file = path.resolve(baseDir, spec);
  if (fs.existsSync(file)) return file;
  if (!spec.startsWith('.') && !path.isAbsolute(spec)) {
    try {
      return createRequire(path.join(baseDir, 'noop.js')).resolve(spec); // a package's module
    } catch {
      // reported below
    }
  }
  throw new ServeInvalidArgumentError(
    `Cannot find the module of import path '${target}': no file ${file}${spec.startsWith('.') || path.isAbsolute(spec) ? '' : ' and no package ' + spec}. ` +
      `Write it as 'path/to/module.ts:exportName', the path relative to ${baseDir}.`,
  );
}

function kindOf(v: unknown): string {
  if (v instanceof Application) return 'an application';
  if (v instanceof Deployment) return 'a deployment';
  if (typeof v === 'function') return 'a function';
  return describeValue(v);
}

/**
 * Imports `path/to/module.ts:exportName` (the module relative to `baseDir`; `.ts` modules through
 * tsx) and makes an application of the export: an `Application` as is, a `Deployment` bound with
 * no arguments, or an app builder function called with `args` that returns either.
 * @throws ServeInvalidArgumentError when the module or export is missing, `args` are given to a
 * non-builder, or the export (or what the builder returns) is not an application.
 * @example
 * const app = await buildFromImportPath('./app.ts:builder', process.cwd(), { model: 'small' });
 */
export async function buildFromImportPath(
  target: string,
  baseDir: string,
  args?: Record<string, unknown>,
): Promise<Application> {
  const { spec, exportName } = splitImportPath(target);
  const file = resolveModule(spec, baseDir, target);
  if (/\.[cm]?tsx?$/.test(file)) await registerTsx(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ServeInvalidArgumentError(
      `Importing ${file} (import path '${target}') failed: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
  if (!(exportName in mod)) {
    const candidates = Object.keys(mod).filter(
      (k) => mod[k] instanceof Application || mod[k] instanceof Deployment || typeof mod[k] === 'function',
    );
    throw new ServeInvalidArgumentError(
      `Module ${file} has no export '${exportName}' (import path '${target}'). ` +
        (candidates.length
          ? `Its exports that could be an app: ${candidates.join(', ')}.`
          : 'It exports no application, deployment or app builder.'),
    );
  }
  const value = mod[exportName];
  const what = `'${exportName}' of ${file}`;
  let app: unknown = value;
  if (typeof value === 'function') {
    if (/^class[\s{]/.test(Function.prototype.toString.call(value))) {
      throw new ServeInvalidArgumentError(
        `${what} is a plain class: make it a deployment with serve.deployment(), and export the deployment or an application (Model.bind()).`,
      );
    }
    app = await (value as (a: Record<string, unknown>) => unknown)(args ?? {});
    if (!(app instanceof Application) && !(app instanceof Deployment)) {
      throw new ServeInvalidArgumentError(
        `The app builder ${what} returned ${kindOf(app)}: it must return an application (a bound deployment, e.g. Model.bind()).` +
          sameNameHint(app),
      );
    }
  } else if (args !== undefined && Object.keys(args).length) {
    throw new ServeInvalidArgumentError(
      `Arguments were given for ${what}, but it is ${kindOf(value)}, not an app builder: export a function (args) => Application to take them, or drop args.`,
    );
  }
  if (app instanceof Deployment) return app.bind();
  if (!(app instanceof Application)) {
    throw new ServeInvalidArgumentError(
      `${what} is ${kindOf(app)}: import_path must name an application (Model.bind()), a deployment, or an app builder function.` +
        sameNameHint(app),
    );
  }
  return app;
}

function sameNameHint(v: unknown): string {
  const name = (v as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === 'Application' || name === 'Deployment'
    ? ` It is ${name === 'Application' ? 'an Application' : 'a Deployment'} of another copy of @ray-ts/serve: make the module and the command use one install.`
    : '';
}

/**
 * Reads a Serve config file: validates it ({@link parseServeConfig}), imports each application's
 * `import_path` (relative to the file) and applies its `deployments:` overrides.
 * Deploy the result with `serve.start(start)` and then the apps.
 * @throws ServeInvalidArgumentError naming the file and place of the problem.
 * @example
 * const { start, apps } = await loadServeConfig('serve.yaml');
 */
export async function loadServeConfig(file: string): Promise<LoadedServeConfig> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServeInvalidArgumentError(`Cannot read the config file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const baseDir = path.dirname(path.resolve(file));
  const config = parseServeConfig(text, { source: file, baseDir });
  const apps: LoadedServeConfig['apps'] = [];
  for (const a of config.applications) {
    let root: Application;
    try {
      root = await buildFromImportPath(a.importPath, baseDir, a.args);
    } catch (err) {
      if (!(err instanceof ServeInvalidArgumentError)) throw err;
      throw new ServeInvalidArgumentError(`${file}: application '${a.name}': ${err.message}`, { cause: err.cause });
    }
    try {
      apps.push({ name: a.name, routePrefix: a.routePrefix, app: applyOverrides(root, a.deployments, a.name) });
    } catch (err) {
      if (!(err instanceof ServeInvalidArgumentError)) throw err;
      throw new ServeInvalidArgumentError(`${file}: ${err.message}`, { cause: err.cause });
    }
  }
  return { start: config.start, apps };
}
