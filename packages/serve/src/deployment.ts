/**
 * `deployment()` turns a class (or a function) into a {@link Deployment}; `.bind(...args)` makes
 * an {@link Application}: the deployment with its constructor arguments, where other bound
 * deployments stand for handles to them.
 */
import { createHash } from 'node:crypto';
import { serialize } from 'node:v8';
import { markLibraryModule, portable, remote, type ActorClass, type RemoteFunction } from '@ray-ts/core';
import { ServeInvalidArgumentError } from './errors.js';
import { compileDeploymentOptions, type CompiledDeploymentOptions, type DeploymentOptions } from './options.js';
import { HANDLE_MARK, type DeploymentSpec } from './wire.js';

markLibraryModule(import.meta.url);

type AnyClass = abstract new (...args: never[]) => unknown;
type AnyFn = (...args: never[]) => unknown;
/** What a deployment serves: a class or a function. */
export type Target = AnyClass | AnyFn;

/** A deployment: a class or function with options. Make one with {@link deployment}. */
export class Deployment<T extends Target = Target> {
  /** @internal */
  constructor(
    /** @internal */ readonly target: T,
    /** @internal */ readonly remoteTarget: ActorClass<never> | RemoteFunction<never>,
    /** @internal */ readonly given: DeploymentOptions,
    /** @internal */ readonly compiled: CompiledDeploymentOptions,
  ) {}

  /** The deployment's name (the `name` option, or the class's name). */
  get name(): string {
    return this.compiled.name ?? (this.target.name || 'Deployment');
  }

  /** A copy with some options changed, e.g. `Model.options({ numReplicas: 4 })`. */
  options(opts: DeploymentOptions): Deployment<T> {
    const merged = { ...this.given, ...opts };
    if (opts.numReplicas !== undefined && opts.autoscalingConfig === undefined) delete merged.autoscalingConfig;
    if (opts.autoscalingConfig !== undefined && opts.numReplicas === undefined) delete merged.numReplicas;
    return new Deployment(
      this.target,
      this.remoteTarget,
      merged,
      compileDeploymentOptions(`deployment '${this.name}'`, merged),
    );
  }

  /**
   * Binds constructor arguments, giving an application to `serve.run()`. Another bound
   * deployment among the arguments arrives in the constructor as a `DeploymentHandle` to it.
   */
  bind(...args: unknown[]): Application<T> {
    return new Application(this, args);
  }
}

/** A deployment bound to its arguments: the root of an application graph. */
export class Application<T extends Target = Target> {
  /** @internal */
  constructor(
    /** @internal */ readonly deployment: Deployment<T>,
    /** @internal */ readonly args: unknown[],
  ) {}
}

/**
 * Makes a deployment of a class (its replicas are instances; HTTP goes to its
 * `fetch(request: Request)`) or of a function. Define it at the top level of a module, so that
 * replicas can import it (one in the entry script or a test file travels by value and must be
 * self-contained).
 * @example
 * export const Hello = deployment({ numReplicas: 2 })(class Hello {
 *   fetch(req: Request) { return Response.json({ hello: new URL(req.url).searchParams.get('name') }); }
 * });
 * await serve.run(Hello.bind());
 */
export function deployment<T extends Target>(target: T, options?: DeploymentOptions): Deployment<T>;
export function deployment(options?: DeploymentOptions): <T extends Target>(target: T) => Deployment<T>;
export function deployment<T extends Target>(
  a?: T | DeploymentOptions,
  b?: DeploymentOptions,
): Deployment<T> | (<U extends Target>(target: U) => Deployment<U>) {
  if (typeof a === 'function') return make(a, b ?? {});
  const opts = a ?? {};
  compileDeploymentOptions('deployment()', opts);
  return <U extends Target>(target: U) => make(target, opts);
}

function make<T extends Target>(target: T, opts: DeploymentOptions): Deployment<T> {
  if (typeof target !== 'function') {
    throw new ServeInvalidArgumentError(
      `deployment() takes a class or a function, got ${target === null ? 'null' : typeof target}.`,
    );
  }
  const name = opts.name ?? (target.name || 'Deployment');
  const compiled = compileDeploymentOptions(`deployment '${name}'`, opts);
  // Registered here, at definition, so replicas importing the user's module find it at the same place.
  const remoteTarget = remote(target as never) as unknown as ActorClass<never> | RemoteFunction<never>;
  return new Deployment(target, remoteTarget, opts, compiled);
}

function isClassTarget(t: Target): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(t));
}

function hash(parts: unknown[]): string {
  const h = createHash('sha1');
  for (const p of parts) {
    try {
      h.update(serialize(p));
    } catch {
      h.update(String(p));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** Flattens an application graph into the deployments the controller runs. */
export function buildApp(root: Application, appName: string): { ingress: string; deployments: DeploymentSpec[] } {
  if (!(root instanceof Application)) {
    throw new ServeInvalidArgumentError(
      'serve.run() takes an application: a bound deployment, e.g. serve.run(MyDeployment.bind()). ' +
        ((root as unknown) instanceof Deployment ? 'You passed the deployment itself; add .bind(...args).' : ''),
    );
  }
  const specs = new Map<string, DeploymentSpec>();
  const seen = new Map<string, Application>();
  const visit = (node: Application): string => {
    const d = node.deployment;
    const prior = seen.get(d.name);
    if (prior) {
      if (prior === node) return d.name;
      if (prior.deployment.target !== d.target) {
        throw new ServeInvalidArgumentError(
          `App '${appName}' has two different deployments named '${d.name}': give one another name with .options({ name }).`,
        );
      }
      return d.name;
    }
    seen.set(d.name, node);
    const initArgs = node.args.map(function swap(v: unknown): unknown {
      if (v instanceof Application) return { [HANDLE_MARK]: { app: appName, deployment: visit(v) } };
      if (v instanceof Deployment) {
        throw new ServeInvalidArgumentError(
          `An argument of '${d.name}'.bind() is the deployment '${v.name}' itself: bind it too (${v.name}.bind()).`,
        );
      }
      if (Array.isArray(v)) return v.map(swap);
      if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
      }
      return v;
    });
    const cls = portable(d.remoteTarget as never, `deployment '${d.name}'`);
    const o = d.compiled;
    const version =
      o.version ?? hash([Function.prototype.toString.call(d.target), cls.fnRef.id, initArgs, o.rayActorOptions]);
    specs.set(d.name, { name: d.name, cls, isFunction: !isClassTarget(d.target), initArgs, options: o, version });
    return d.name;
  };
  const ingress = visit(root);
  return { ingress, deployments: [...specs.values()] };
}
