/**
 * Deployment handles: `handle.method.remote(...args)` sends a call to one of a deployment's
 * replicas and returns a {@link DeploymentResponse} at once; await it for the result, or pass it
 * to another handle call without waiting (it is resolved before that call is sent).
 */
import { threadId } from 'node:worker_threads';
import { get } from '@ray-ts/core';
import { RequestTimeoutError, ServeInvalidArgumentError } from './errors.js';
import { routerHub } from './router.js';
import type { ReplicaMethods, RoutedReplica } from './wire.js';
import { deploymentKey } from './wire.js';

/** Options of calls through a handle, given to `handle.options(...)`. */
export interface HandleOptions {
  /** The method `handle.remote()` calls (default `'__call__'`). */
  methodName?: string;
  /** The model a multiplexed deployment should use (see `multiplexed()`). */
  multiplexedModelId?: string;
  /** The method is a generator: the call returns a {@link DeploymentResponseGenerator}. */
  stream?: boolean;
}

/** The result of a handle call: await it, or pass it to another call. */
export class DeploymentResponse<T> implements PromiseLike<T> {
  /** @internal */
  constructor(private readonly promise: Promise<T>) {
    promise.catch(() => undefined); // unobserved failures are not unhandled rejections
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.promise.then(onfulfilled, onrejected);
  }

  /** The result, failing with RequestTimeoutError after `timeoutS` seconds when given. */
  async result(opts: { timeoutS?: number } = {}): Promise<T> {
    if (opts.timeoutS === undefined) return this.promise;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new RequestTimeoutError(`The deployment call took more than ${opts.timeoutS} s.`)),
            opts.timeoutS! * 1000,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The result of a streaming handle call: iterate it with `for await`. */
export class DeploymentResponseGenerator<T> implements AsyncIterable<T> {
  /** @internal */
  constructor(private readonly start: Promise<{ replica: RoutedReplica; stream: string; release: () => void }>) {
    start.catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const { replica, stream, release } = await this.start;
    let done = false;
    try {
      while (!done) {
        const c = await get(replica.actor.streamNext.remote(stream));
        for (const item of c.items) yield item as T;
        if (c.error) throw Object.assign(new Error(c.error.message), { name: c.error.name });
        done = c.done;
      }
    } finally {
      if (!done) void replica.actor.streamCancel.remote(stream);
      release();
    }
  }
}

type AnyFn = (...args: never[]) => unknown;
type Resolved<A extends unknown[]> = { [K in keyof A]: A[K] | DeploymentResponse<A[K]> };

/** A method as seen through a handle. */
export interface HandleMethod<F> {
  remote(
    ...args: F extends (...a: infer A) => unknown ? Resolved<A> : never[]
  ): DeploymentResponse<F extends AnyFn ? Awaited<ReturnType<F>> : never>;
  options(opts: Omit<HandleOptions, 'methodName'>): HandleMethod<F>;
}

type Methods<T> = {
  [K in keyof T as T[K] extends AnyFn ? (K extends 'constructor' ? never : K) : never]: HandleMethod<T[K]>;
};

/** What a handle to a deployment of `T` (a class or a function) calls methods on. */
export type Servable<T> = T extends abstract new (...args: never[]) => infer I
  ? I
  : T extends AnyFn
    ? { __call__: T }
    : T;

/** Handle to a deployment: its methods, plus `remote()` for `__call__` and `options()`. */
export type DeploymentHandle<T = unknown> = Methods<T> & {
  /** Calls the method named by `options({ methodName })`, `__call__` by default (or the function of a function deployment). */
  remote(...args: unknown[]): DeploymentResponse<unknown>;
  /** A handle whose calls use these options. */
  options(opts: HandleOptions): DeploymentHandle<T>;
  readonly deploymentName: string;
  readonly appName: string;
};

let callSeq = 0;

async function resolveArgs(args: unknown[]): Promise<unknown[]> {
  if (!args.some((a) => a instanceof DeploymentResponse)) return args;
  return Promise.all(args.map((a) => (a instanceof DeploymentResponse ? a.result() : a)));
}

function call(
  app: string,
  deployment: string,
  method: string,
  args: unknown[],
  opts: HandleOptions,
): Promise<unknown> | DeploymentResponseGenerator<unknown> {
  const key = deploymentKey(app, deployment);
  const request = async () => {
    const [router, resolved] = await Promise.all([routerHub().router(key), resolveArgs(args)]);
    return router.assign(
      {
        kind: 'call',
        method,
        args: resolved,
        modelId: opts.multiplexedModelId ?? '',
        stream: opts.stream === true,
        requestId: `${process.pid}-${threadId}-h${callSeq++}`,
      },
      { retryOnDeath: false },
    );
  };
  if (opts.stream) {
    return new DeploymentResponseGenerator(
      request().then((a) => {
        const r = a.reply as { stream?: string };
        if (!r.stream) throw new ServeInvalidArgumentError(`${deployment}.${method} did not stream.`);
        return { replica: a.replica, stream: r.stream, release: a.release };
      }),
    );
  }
  return request().then((a) => {
    a.release();
    return (a.reply as { value: unknown }).value;
  });
}

/** @internal Builds a handle to `app`'s deployment `deployment`. */
export function createHandle<T = unknown>(
  app: string,
  deployment: string,
  opts: HandleOptions = {},
): DeploymentHandle<T> {
  const invoke = (method: string, args: unknown[], o: HandleOptions): unknown => {
    const r = call(app, deployment, method, args, o);
    return r instanceof DeploymentResponseGenerator ? r : new DeploymentResponse(r);
  };
  const methodOf = (name: string, o: HandleOptions): HandleMethod<AnyFn> => ({
    remote: (...args: unknown[]) => invoke(name, args, o) as DeploymentResponse<never>,
    options: (more) => methodOf(name, { ...o, ...more }),
  });
  const base = {
    remote: (...args: unknown[]) => invoke(opts.methodName ?? '__call__', args, opts),
    options: (more: HandleOptions) => createHandle<T>(app, deployment, { ...opts, ...more }),
    deploymentName: deployment,
    appName: app,
  };
  return new Proxy(base, {
    get(target, prop) {
      if (typeof prop === 'symbol') {
        if (prop === Symbol.for('nodejs.util.inspect.custom')) return () => `DeploymentHandle(${app}/${deployment})`;
        return undefined;
      }
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === 'then' || prop === 'toJSON') return undefined; // not a thenable, not JSON
      return methodOf(prop, opts);
    },
  }) as unknown as DeploymentHandle<T>;
}

/** @internal The replica methods type, re-exported for the router. */
export type { ReplicaMethods };
