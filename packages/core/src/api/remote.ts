/**
 * `remote()`: remote functions (tasks), actor classes and actor handles, with types that follow
 * the user's function and class signatures.
 */
import { InvalidArgumentError, NotInitializedError } from '../errors.js';
import { describeFunction, isClass, shipRef, type FnRef } from '../runtime/functions.js';
import { ids } from '../ids.js';
import { ObjectRef } from '../runtime/object-ref.js';
import {
  compileActorOptions,
  compileMethodOptions,
  compileTaskOptions,
  type ActorMethodOptions,
  type ActorOptions,
  type CompiledActorOptions,
  type CompiledTaskOptions,
  type EnvVars,
  type SchedulingStrategySpec,
  type TaskOptions,
} from '../options.js';
import type { ActorHandleData, ArgSpec, TaskContextData } from '../protocol/specs.js';
import { MARKER, serialize, toMarker, type Markable, type Reviver } from '../runtime/serialization.js';
import { threadState } from '../runtime/thread-state.js';
import type { CoreClient } from '../runtime/client.js';

/** A value, or a ref to one: what a remote function accepts for each parameter. */
export type RefOr<T> = T | ObjectRef<T>;
/** Parameters of a remote call: each may be given as a value or as an ObjectRef to one. */
export type RemoteArgs<P extends readonly unknown[]> = { [K in keyof P]: RefOr<P[K]> };
/** What `.remote()` returns: one ref, or a tuple of refs with `numReturns`. */
export type RemoteReturn<R, N extends number> = N extends 1
  ? ObjectRef<R>
  : R extends readonly unknown[]
    ? { [K in keyof R]: ObjectRef<R[K]> }
    : ObjectRef<unknown>[];

type AnyFn = (...args: never[]) => unknown;
type AnyClass = abstract new (...args: never[]) => unknown;

/** The client of this thread's runtime, or a clear error if `init()` was not called. */
export function requireClient(what: string): CoreClient {
  const c = threadState().client;
  if (!c) {
    throw new NotInitializedError(`${what} needs a running cluster: call 'await init()' first.`);
  }
  return c;
}

/** Ids of a task's return values: the task's id and the index, so the task is found from a ref. */
function returnIdsOf(taskId: string, n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = `${taskId}.${i}`;
  return out;
}

/** Turns call arguments into ArgSpecs: top-level refs by id, large values through the store. */
function argSpecs(client: CoreClient, args: readonly unknown[], name: string): ArgSpec[] {
  const limit = client.inlineObjectMaxBytes;
  return args.map((a, i) => {
    if (a instanceof ObjectRef) return { r: a.id };
    const v = serialize(a, `argument ${i + 1} of '${name}'`, limit);
    if ((v.t === 'v8' || v.t === 'raw') && v.b.byteLength > limit) {
      // Large arguments go through the object store once (the task pins them), not in the message.
      const id = ids().next('obj');
      client.put(id, v);
      return { r: id };
    }
    return { v };
  });
}

/** A function that runs as a task on the cluster. Made by {@link remote}. */
export class RemoteFunction<F extends AnyFn, N extends number = 1> implements Markable {
  /** @internal */
  readonly fnRef: FnRef;
  /** @internal */
  readonly rawOptions: TaskOptions;
  private readonly compiled: CompiledTaskOptions;
  readonly functionName: string;

  /** @internal Validates the options: bad ones fail here, at remote() or .options(). */
  constructor(fnRef: FnRef, name: string, rawOptions: TaskOptions) {
    this.fnRef = fnRef;
    this.functionName = name;
    this.rawOptions = rawOptions;
    this.compiled = compileTaskOptions(`remote function '${name}'`, rawOptions, {});
  }

  /**
   * Submits a task and returns a ref to its result at once.
   * @example const ref = square.remote(4); const v = await get(ref); // 16
   */
  remote(...args: RemoteArgs<Parameters<F>>): RemoteReturn<Awaited<ReturnType<F>>, N> {
    const client = requireClient(`${this.functionName}.remote()`);
    const o = this.compiled;
    const taskId = ids().next('task');
    const returnIds = returnIdsOf(taskId, o.numReturns);
    const name = o.name ?? this.functionName;
    const current = client.currentTask();
    const parent = current?.taskId;
    const strategy = o.strategy ?? captured(current);
    client.submitTask({
      taskId,
      name,
      fn: shipRef(this.fnRef),
      args: argSpecs(client, args, name),
      returnIds,
      resources: o.resources,
      // The default comes from the running cluster's config: most functions are defined before init().
      maxRetries: o.maxRetries ?? threadState().defaultMaxRetries ?? 3,
      retryExceptions: o.retryExceptions,
      isolation: o.isolation,
      ...(parent ? { parentTaskId: parent } : {}),
      ...(strategy ? { strategy } : {}),
      ...envOf(o.envVars),
      // Work submitted by work belongs to the same job (its driver gets its console output).
      ...(current?.jobId ? { jobId: current.jobId } : {}),
    });
    const refs = returnIds.map((id) => new ObjectRef(id));
    return (o.numReturns === 1 ? refs[0] : refs) as RemoteReturn<Awaited<ReturnType<F>>, N>;
  }

  /** Returns a copy with some options changed, e.g. `f.options({ numCpus: 2 }).remote(x)`. */
  options<M extends number = N>(opts: TaskOptions & { numReturns?: M }): RemoteFunction<F, M> {
    const merged = { ...this.rawOptions, ...opts };
    return new RemoteFunction<F, M>(this.fnRef, this.functionName, merged);
  }

  /** @internal */
  [toMarker](): Record<string, unknown> {
    return { type: 'fn', fnRef: shipRef(this.fnRef), name: this.functionName, options: this.rawOptions };
  }
}

/** The runtime environment's variables work gets: this thread's (inherited), merged with its own. */
function inheritedEnv(own: EnvVars | undefined): EnvVars | undefined {
  const parent = threadState().envVars;
  if (!parent) return own;
  return own ? { ...parent, ...own } : parent;
}

function envOf(own: EnvVars | undefined): { envVars?: EnvVars } {
  const envVars = inheritedEnv(own);
  return envVars ? { envVars } : {};
}

function actorOptionsWith(
  o: CompiledActorOptions,
  strategy: SchedulingStrategySpec | undefined,
  envVars: EnvVars | undefined,
): CompiledActorOptions {
  if (!strategy && envVars === o.envVars) return o;
  return { ...o, ...(strategy ? { strategy } : {}), ...(envVars ? { envVars } : {}) };
}

/** The placement group strategy work inherits from a parent that captures its children (or none). */
function captured(parent: TaskContextData | undefined): SchedulingStrategySpec | undefined {
  const id = parent?.placementGroupId;
  return id ? { type: 'PLACEMENT_GROUP', placementGroupId: id, bundleIndex: -1, captureChildTasks: true } : undefined;
}

/** Method names of T (functions, excluding the constructor). */
export type MethodNames<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => unknown ? (K extends string ? K : never) : never;
}[keyof T];

/** One method of an actor handle: call it with `.remote(...)`. */
export interface ActorMethod<M extends AnyFn, N extends number = 1> {
  /** Calls the method on the actor; returns a ref to its result. Calls from one caller run in order. */
  remote(...args: RemoteArgs<Parameters<M>>): RemoteReturn<Awaited<ReturnType<M>>, N>;
  /** Per-call options: `numReturns`, `name`. */
  options<K extends number = N>(opts: ActorMethodOptions & { numReturns?: K }): ActorMethod<M, K>;
}

/** @internal Key of an actor handle's data. */
export const handleData: unique symbol = Symbol('ray-ts.actor-handle');

/** A typed handle to an actor: each method of `T` has `.remote(...)`. Pass it to tasks and actors freely. */
export type ActorHandle<T> = {
  readonly [K in MethodNames<T>]: T[K] extends AnyFn ? ActorMethod<T[K]> : never;
} & { readonly [handleData]: ActorHandleData };

/** The id of the actor a handle points to. */
export function actorIdOf(handle: ActorHandle<unknown>): string {
  return handle[handleData].actorId;
}

class ActorMethodImpl {
  constructor(
    private readonly data: ActorHandleData,
    private readonly method: string,
    private readonly callOpts: { numReturns: number; name?: string },
  ) {}

  remote(...args: unknown[]): unknown {
    const what = `${this.data.className}.${this.method}`;
    const client = requireClient(`${what}.remote()`);
    const taskId = ids().next('task');
    const returnIds = returnIdsOf(taskId, this.callOpts.numReturns);
    const name = this.callOpts.name ?? what;
    const parent = client.currentTask()?.taskId;
    client.submitActorTask({
      taskId,
      actorId: this.data.actorId,
      method: this.method,
      name,
      args: argSpecs(client, args, name),
      returnIds,
      ...(parent ? { parentTaskId: parent } : {}),
    });
    const refs = returnIds.map((id) => new ObjectRef(id));
    return this.callOpts.numReturns === 1 ? refs[0] : refs;
  }

  options(opts: ActorMethodOptions): ActorMethodImpl {
    return new ActorMethodImpl(this.data, this.method, {
      ...this.callOpts,
      ...compileMethodOptions(`${this.data.className}.${this.method}`, opts),
    });
  }
}

/** @internal Builds a handle object from its data. */
export function makeHandle<T>(data: ActorHandleData): ActorHandle<T> {
  const h: Record<string | symbol, unknown> = {
    [handleData]: data,
    [toMarker]: () => ({ type: 'actor', ...data }),
    [Symbol.for('nodejs.util.inspect.custom')]: () => `ActorHandle(${data.className}, ${data.actorId})`,
  };
  for (const m of data.methods) h[m] = new ActorMethodImpl(data, m, { numReturns: 1 });
  return Object.freeze(h) as unknown as ActorHandle<T>;
}

/** @internal The methods of an actor class, and whether any is async. */
export function methodsOf(cls: AnyClass): { methods: string[]; hasAsync: boolean } {
  const methods = new Set<string>();
  let hasAsync = false;
  for (let p = cls.prototype as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || methods.has(name)) continue;
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (!d || typeof d.value !== 'function') continue;
      methods.add(name);
      const kind = (d.value as AnyFn).constructor.name;
      if (kind === 'AsyncFunction' || kind === 'AsyncGeneratorFunction') hasAsync = true;
    }
  }
  return { methods: [...methods], hasAsync };
}

/** An actor class: `.remote(...ctorArgs)` starts an actor and returns its handle. Made by {@link remote}. */
export class ActorClass<C extends AnyClass> {
  /** @internal */
  readonly fnRef: FnRef;
  readonly className: string;
  private readonly methods: string[];
  private readonly hasAsync: boolean;
  private readonly rawOptions: ActorOptions;
  private readonly compiled: CompiledActorOptions;

  /** @internal */
  constructor(fnRef: FnRef, className: string, methods: string[], hasAsync: boolean, rawOptions: ActorOptions) {
    this.fnRef = fnRef;
    this.className = className;
    this.methods = methods;
    this.hasAsync = hasAsync;
    this.rawOptions = rawOptions;
    this.compiled = compileActorOptions(`actor class '${className}'`, rawOptions);
  }

  /**
   * Starts an actor (an instance of the class in a worker) and returns its handle at once.
   * @example const c = Counter.remote(0); await get(c.increment.remote()); // 1
   */
  remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>> {
    const client = requireClient(`${this.className}.remote()`);
    const actorId = ids().next('actor');
    const current = client.currentTask();
    const strategy = this.compiled.strategy ? undefined : captured(current);
    const existing = client.createActor({
      actorId,
      className: this.className,
      cls: shipRef(this.fnRef),
      args: argSpecs(client, args, `${this.className}.constructor`),
      options: actorOptionsWith(this.compiled, strategy, inheritedEnv(this.compiled.envVars)),
      methods: this.methods,
      hasAsyncMethods: this.hasAsync,
      ...(current?.jobId ? { jobId: current.jobId } : {}),
    });
    return makeHandle({ actorId: existing ?? actorId, className: this.className, methods: this.methods });
  }

  /** Returns a copy with some options changed, e.g. `Counter.options({ name: 'c' }).remote()`. */
  options(opts: ActorOptions): ActorClass<C> {
    return new ActorClass(this.fnRef, this.className, this.methods, this.hasAsync, { ...this.rawOptions, ...opts });
  }
}

/**
 * Makes a function into a remote function (its calls run as tasks), or a class into an actor class.
 * Define remote functions at the top level of a module: workers import that module to find them.
 * Code in the entry script travels by value and must not use variables defined outside it.
 *
 * @example
 * const square = remote((x: number) => x * x);
 * const refs = [1, 2, 3].map((x) => square.remote(x));
 * console.log(await get(refs)); // [1, 4, 9]
 *
 * class Counter { n = 0; increment() { return ++this.n; } }
 * const counter = remote(Counter).remote();
 * await get(counter.increment.remote()); // 1
 */
export function remote<C extends AnyClass>(cls: C, options?: ActorOptions): ActorClass<C>;
export function remote<F extends AnyFn, const N extends number>(
  fn: F,
  options: TaskOptions & { numReturns: N },
): RemoteFunction<F, N>;
export function remote<F extends AnyFn>(fn: F, options?: TaskOptions): RemoteFunction<F>;
export function remote(target: AnyFn | AnyClass, options: TaskOptions | ActorOptions = {}): unknown {
  if (typeof target !== 'function') {
    throw new InvalidArgumentError(
      `remote() takes a function or a class, got ${target === null ? 'null' : typeof target}.`,
    );
  }
  const cls = isClass(target);
  const fnRef = describeFunction(target as AnyFn, cls);
  const name = fnRef.desc?.name ?? (target.name || '<anonymous>');
  if (cls) {
    const { methods, hasAsync } = methodsOf(target as AnyClass);
    return new ActorClass(fnRef, name, methods, hasAsync, options as ActorOptions);
  }
  return new RemoteFunction(fnRef, name, options as TaskOptions);
}

/** Markers of other modules (e.g. portable functions), by `type`. */
export const markerTypes = new Map<string, (marker: Record<string, unknown>) => unknown>();

/** Revives actor handles and remote functions that arrive inside values. */
export const reviver: Reviver = {
  revive(marker: Record<string, unknown>): unknown {
    if (marker.type === 'actor') {
      return makeHandle({
        actorId: marker.actorId as string,
        className: marker.className as string,
        methods: marker.methods as string[],
      });
    }
    if (marker.type === 'fn') {
      return new RemoteFunction(marker.fnRef as FnRef, marker.name as string, marker.options as TaskOptions);
    }
    const other = markerTypes.get(marker.type as string);
    if (other) return other(marker);
    const { [MARKER]: _m, ...rest } = marker;
    return rest;
  },
};
