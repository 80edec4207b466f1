/**
 * The Serve API: start, run, status, delete, shutdown, and handles to running deployments.
 */
import {
  getLogger,
  ActorDiedError,
  get,
  getActor,
  init,
  isInitialized,
  kill,
  nodes,
  type ActorHandle,
} from '@ray-ts/core';
import { CONTROLLER_NAME, SERVE_NAMESPACE } from './constants.js';
import type { ControllerMethods, ServeStatus } from './controller-api.js';
import { ServeController } from './controller.js';
import { Application, buildApp, type Target } from './deployment.js';
import { DeployFailedError, ServeInvalidArgumentError, ServeNotRunningError } from './errors.js';
import { createHandle, type DeploymentHandle, type Servable } from './handle.js';
import { checkRoutePrefix, compileStartOptions, type StartOptions } from './options.js';
import { resetRouterHub, routerHub } from './router.js';
import type { AppSpec } from './wire.js';

const log = getLogger('ray-ts.serve');

/** Options of {@link run}. */
export interface RunOptions {
  /** The application's name (default `'default'`); running again with the same name updates it in place. */
  name?: string;
  /** Path prefix its HTTP routes live under (default `'/'`; `null` for no HTTP route). */
  routePrefix?: string | null;
  /** Seconds to wait for the app to be RUNNING (default 120). */
  timeoutS?: number;
}

async function controller(): Promise<ActorHandle<ControllerMethods> | undefined> {
  if (!isInitialized()) return undefined;
  try {
    return await getActor<ControllerMethods>(CONTROLLER_NAME, { namespace: SERVE_NAMESPACE });
  } catch {
    return undefined;
  }
}

async function requireController(what: string): Promise<ActorHandle<ControllerMethods>> {
  const c = await controller();
  if (!c) throw new ServeNotRunningError(`${what} needs Serve running: call serve.start() or serve.run() first.`);
  return c;
}

/**
 * Starts Serve on the cluster (connecting with `init()` when not connected yet): the controller
 * and the HTTP proxies on every node. Calling it again keeps the running instance.
 * @example
 * await serve.start({ http: { host: '127.0.0.1', port: 8000 } });
 */
export async function start(options: StartOptions = {}): Promise<ServeStatus['proxies']> {
  const opts = compileStartOptions(options);
  if (!isInitialized()) await init();
  let c = await controller();
  if (!c) {
    // On the head node, which lives as long as the cluster.
    const head = (await nodes()).find((n) => n.isHead && n.alive);
    c = ServeController.options({
      name: CONTROLLER_NAME,
      namespace: SERVE_NAMESPACE,
      lifetime: 'detached',
      getIfExists: true,
      maxConcurrency: 100_000,
      ...(head ? { schedulingStrategy: { nodeId: head.nodeId, soft: true } } : {}),
    }).remote() as unknown as ActorHandle<ControllerMethods>;
  }
  const running = await get(c.startOptions.remote());
  if (running && JSON.stringify(running) !== JSON.stringify(opts) && options.http !== undefined) {
    log.warn(
      'serve.start(): Serve is already running with other options; keeping those. Call serve.shutdown() first to change them.',
    );
  }
  return get(c.start.remote(opts));
}

/** What {@link run} deploys: one application, or several with their options. */
export async function deployApps(
  apps: { app: Application; name: string; routePrefix: string | null }[],
  timeoutS = 120,
): Promise<void> {
  const specs: AppSpec[] = apps.map(({ app, name, routePrefix }) => {
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) {
      throw new ServeInvalidArgumentError(
        `Invalid app name ${JSON.stringify(name)}: use letters, digits, '_', '-' or '.'.`,
      );
    }
    const built = buildApp(app, name);
    return {
      name,
      routePrefix: checkRoutePrefix(routePrefix, name),
      ingress: built.ingress,
      deployments: built.deployments,
    };
  });
  let c = await controller();
  if (!c || !(await get(c.startOptions.remote()))) {
    await start();
    c = await requireController('serve.run()');
  }
  await get(c.deployApps.remote(specs));
  const names = specs.map((s) => s.name);
  const result = await get(c.waitApps.remote(names, timeoutS * 1000));
  for (const n of names) {
    const r = result[n];
    if (r.status === 'DEPLOY_FAILED') throw new DeployFailedError(`App '${n}' failed to deploy: ${r.message}`, n);
    if (r.status !== 'RUNNING') {
      throw new DeployFailedError(
        `App '${n}' is not running after ${timeoutS} s (status ${r.status}${r.message ? `: ${r.message}` : ''}); see serve.status().`,
        n,
      );
    }
  }
}

/**
 * Deploys an application (or updates the one with the same name: changed code or arguments roll
 * its replicas over without dropping requests) and waits until it runs. Returns a handle to its
 * ingress deployment.
 * @throws DeployFailedError when a constructor throws or a replica cannot be placed.
 * @example
 * const handle = await serve.run(Model.bind(), { name: 'model', routePrefix: '/model' });
 * const prediction = await handle.predict.remote([1, 2, 3]);
 */
export async function run<T>(
  app: Application<T & Target>,
  options: RunOptions = {},
): Promise<DeploymentHandle<Servable<T>>> {
  const name = options.name ?? 'default';
  const routePrefix = options.routePrefix === undefined ? '/' : options.routePrefix;
  await deployApps([{ app: app as Application, name, routePrefix }], options.timeoutS ?? 120);
  return createHandle<Servable<T>>(name, app.deployment.name);
}

/** The state of Serve: proxies per node, and each application with its deployments. */
export async function status(): Promise<ServeStatus> {
  const c = await controller();
  if (!c) return { proxies: {}, applications: {} };
  return get(c.status.remote());
}

/** Deletes an application: its replicas finish their requests and stop. */
async function deleteApp(name: string, options: { timeoutS?: number } = {}): Promise<void> {
  const c = await requireController('serve.delete()');
  await get(c.deleteApps.remote([name]));
  await get(c.waitApps.remote([name], (options.timeoutS ?? 60) * 1000));
}
export { deleteApp as delete };

/** Stops Serve: every application, the proxies and the controller. A no-op when Serve is not running. */
export async function shutdown(): Promise<void> {
  const c = await controller();
  resetRouterHub();
  if (!c) return;
  try {
    await get(c.shutdown.remote());
  } catch (err) {
    if (!(err instanceof ActorDiedError)) throw err;
  }
  await kill(c).catch(() => undefined);
}

/** A handle to the ingress deployment of a running application. */
export async function getAppHandle<T = unknown>(appName: string): Promise<DeploymentHandle<T>> {
  const c = await requireController('serve.getAppHandle()');
  const st = await get(c.status.remote());
  const app = st.applications[appName];
  if (!app)
    throw new ServeInvalidArgumentError(
      `No application named '${appName}'. Running: ${Object.keys(st.applications).join(', ') || 'none'}.`,
    );
  const t = await routerHub().routingTable();
  const entry = t.apps.find((a) => a.name === appName);
  if (!entry)
    throw new ServeInvalidArgumentError(`Application '${appName}' is not routable yet (status ${app.status}).`);
  return createHandle<T>(appName, entry.ingress.split('#')[1]);
}

/** A handle to a deployment of a running application (default app `'default'`). */
export async function getDeploymentHandle<T = unknown>(
  deploymentName: string,
  appName = 'default',
): Promise<DeploymentHandle<T>> {
  const st = await status();
  const app = st.applications[appName];
  if (!app)
    throw new ServeInvalidArgumentError(
      `No application named '${appName}'. Running: ${Object.keys(st.applications).join(', ') || 'none'}.`,
    );
  if (!app.deployments[deploymentName]) {
    throw new ServeInvalidArgumentError(
      `App '${appName}' has no deployment '${deploymentName}'. It has: ${Object.keys(app.deployments).join(', ')}.`,
    );
  }
  return createHandle<T>(appName, deploymentName);
}

export { Application };
