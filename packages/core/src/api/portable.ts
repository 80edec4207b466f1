/**
 * For libraries built on core (data, train, tune, serve): a user's function or class that the
 * library runs inside its own tasks and actors (`ds.map(fn)`, a Serve deployment class). It
 * crosses to workers inside any argument, and `resolve()` gives the function itself there.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeByValue, isClass, loadFunction, loadedFunction, shipRef, type FnRef } from '../runtime/functions.js';
import { ActorClass, RemoteFunction, markerTypes } from './remote.js';
import { toMarker, type Markable } from '../runtime/serialization.js';

type AnyCallable = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown);

/** A function or class that travels to workers; see {@link portable}. */
export class PortableFunction<F extends AnyCallable = AnyCallable> implements Markable {
  /** @internal */
  constructor(
    readonly fnRef: FnRef,
    readonly name: string,
    readonly isClass: boolean,
    private readonly local?: F,
  ) {}

  /** The function (or class) itself, in this thread: imported or compiled the first time. */
  async resolve(): Promise<F> {
    if (this.local) return this.local;
    return (loadedFunction(this.fnRef) ?? (await loadFunction(this.fnRef))) as unknown as F;
  }

  /** @internal */
  [toMarker](): Record<string, unknown> {
    return { type: 'portable', fnRef: shipRef(this.fnRef), name: this.name, isClass: this.isClass };
  }
}

/**
 * Makes a user's function or class portable. A plain one travels by value (its source, which
 * must be self-contained: the error says so, naming `given`); one wrapped with `remote()` at the
 * top level of a module travels by reference (workers import its module), so it may use imports.
 * @param given what the user gave it to, for errors, e.g. `'map()'`.
 * @example
 * const fn = portable(userFn, 'map()'); // in the library, on the driver
 * const f = await fn.resolve();         // in the library's task, on a worker
 */
export function portable<F extends AnyCallable>(
  fn: F | RemoteFunction<any, any> | ActorClass<any>,
  given: string,
): PortableFunction<F> {
  if (fn instanceof RemoteFunction || fn instanceof ActorClass) {
    return new PortableFunction<F>(fn.fnRef, fn.fnRef.desc?.name ?? '<anonymous>', fn instanceof ActorClass);
  }
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`${given} takes a function or a class, got ${fn === null ? 'null' : typeof fn}.`);
  }
  const cls = isClass(fn);
  const ref = describeByValue(fn as never, cls, given);
  return new PortableFunction<F>(ref, ref.desc?.name ?? '<anonymous>', cls, fn);
}

markerTypes.set('portable', (m) => new PortableFunction(m.fnRef as FnRef, m.name as string, m.isClass as boolean));
