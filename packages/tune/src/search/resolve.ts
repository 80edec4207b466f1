/**
 * Walking a param space: finding its domains and grid dimensions, reading and writing values by
 * path, flattening configs to `'a/b'` keys and back, and resolving a space into a config.
 */
import type { Config } from '../types.js';
import { TuneInvalidArgumentError } from '../errors.js';
import type { Rng } from './rng.js';
import { Domain, FunctionDomain, GridSearchDomain, isPlainObject } from './space.js';

/** The location of a value in a nested config: object keys and array indices. */
export type Path = readonly (string | number)[];

/** A {@link Domain} found in a space, with where it is. */
export interface DomainEntry {
  readonly path: Path;
  /** `path` joined with `/`, e.g. `model/width` (Ray's flattened key). */
  readonly key: string;
  readonly domain: Domain;
}

/** A grid dimension of a space: a {@link gridSearch} and where it is. */
export interface GridDimension {
  readonly path: Path;
  readonly key: string;
  readonly values: readonly unknown[];
}

/** Joins a path into Ray's flattened key form, `a/b/0`. */
export function pathKey(path: Path): string {
  return path.join('/');
}

/**
 * Every domain in `space`, depth first in key order. Plain objects and arrays are walked into;
 * anything else (including the values inside a domain) is a leaf.
 */
export function findDomains(space: unknown): DomainEntry[] {
  const found: DomainEntry[] = [];
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (value instanceof Domain) {
      found.push({ path: [...path], key: pathKey(path), domain: value });
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i]));
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  walk(space, []);
  return found;
}

/**
 * The grid dimensions of `space`, sorted by path as Ray does. The variant generator iterates
 * them with the first dimension changing fastest.
 */
export function findGridDimensions(space: unknown): GridDimension[] {
  return findDomains(space)
    .filter((e) => e.domain instanceof GridSearchDomain)
    .map((e) => ({ path: e.path, key: e.key, values: (e.domain as GridSearchDomain).values }))
    .sort((a, b) => comparePaths(a.path, b.path));
}

/** The number of grid combinations of `space` (1 without any {@link gridSearch}). */
export function countGridVariants(space: unknown): number {
  return findGridDimensions(space).reduce((n, d) => n * d.values.length, 1);
}

function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/** A copy of the plain objects and arrays of `value`; other values (domains, class instances) are shared. */
export function cloneStructure<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneStructure(v)) as T;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = cloneStructure(v);
    return copy as T;
  }
  return value;
}

/** Whether `path` leads to a value in `root` (through plain objects and arrays). */
export function hasPath(root: unknown, path: Path): boolean {
  let node = root;
  for (const segment of path) {
    if (!(Array.isArray(node) || isPlainObject(node)) || !Object.hasOwn(node, segment)) return false;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return true;
}

/** The value at `path` in `root`, or undefined. */
export function getAtPath(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (!(Array.isArray(node) || isPlainObject(node))) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Sets the value at `path` in `root` (which must be mutable), creating plain objects on the way.
 * @throws TuneInvalidArgumentError when the path goes through a value that is not an object or array.
 */
export function setAtPath(root: Record<string, unknown>, path: Path, value: unknown): void {
  if (path.length === 0) throw new TuneInvalidArgumentError('Cannot set a value at an empty path.');
  let node: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const container = node as Record<string | number, unknown>;
    if (container[path[i]] === undefined) container[path[i]] = typeof path[i + 1] === 'number' ? [] : {};
    node = container[path[i]];
    if (!(Array.isArray(node) || isPlainObject(node))) {
      throw new TuneInvalidArgumentError(
        `Cannot set '${pathKey(path)}': '${pathKey(path.slice(0, i + 1))}' is not an object.`,
      );
    }
  }
  (node as Record<string | number, unknown>)[path[path.length - 1]] = value;
}

/**
 * Flattens a nested config into `{ 'a/b': value }` (Ray's `flatten_dict`): plain objects and
 * non-empty arrays are walked into (array indices become keys), other values are leaves.
 * @throws TuneInvalidArgumentError when two paths give the same key (a key containing `separator`).
 */
export function flattenConfig(config: Config, separator = '/'): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const walk = (value: unknown, prefix: string[]): void => {
    const isContainer =
      (Array.isArray(value) && value.length > 0) || (isPlainObject(value) && Object.keys(value).length > 0);
    if (prefix.length > 0 && !isContainer) {
      const key = prefix.join(separator);
      if (Object.hasOwn(flat, key)) {
        throw new TuneInvalidArgumentError(
          `Cannot flatten the config: two paths give the key '${key}'. Avoid '${separator}' in config keys.`,
        );
      }
      flat[key] = value;
      return;
    }
    for (const [k, v] of Object.entries(value as object)) walk(v, [...prefix, k]);
  };
  walk(config, []);
  return flat;
}

/**
 * Rebuilds a nested config from {@link flattenConfig}'s form. An object whose keys are exactly
 * `0..n-1` becomes an array, as Ray's `unflatten_list_dict`.
 * @throws TuneInvalidArgumentError when a key is both a leaf and a prefix of another key.
 */
export function unflattenConfig(flat: Record<string, unknown>, separator = '/'): Config {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split(separator);
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (next === undefined) node[parts[i]] = {};
      else if (!isPlainObject(next) || next instanceof Domain) {
        throw new TuneInvalidArgumentError(
          `Cannot unflatten: '${parts.slice(0, i + 1).join(separator)}' is both a value and a prefix of '${key}'.`,
        );
      }
      node = node[parts[i]] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    if (Object.hasOwn(node, last)) {
      throw new TuneInvalidArgumentError(`Cannot unflatten: '${key}' is both a value and a prefix of another key.`);
    }
    node[last] = value;
  }
  return arraysFromIndexObjects(root) as Config;
}

function arraysFromIndexObjects(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  const converted: Record<string, unknown> = {};
  for (const k of keys) converted[k] = arraysFromIndexObjects(value[k]);
  const isList = keys.length > 0 && keys.every((k, i) => k === String(i));
  return isList ? keys.map((k) => converted[k]) : converted;
}

/** What to do with a {@link gridSearch} met while resolving. */
export type GridHandling =
  /** Pick one of its values at random, like a choice. */
  | 'sample'
  /** Leave it in place (the variant generator assigns grid values itself). */
  | 'keep'
  /** Throw: a grid where it cannot be expanded (inside a sampled value). */
  | 'error';

/** Thrown inside a sampleFrom function that reads a value not resolved yet; caught by the resolver. */
class UnresolvedAccess {
  constructor(readonly path: string) {}
}

const MAX_PASSES = 1000;

/**
 * Resolves `space` into a config: every domain is sampled with `rng` (domains inside sampled
 * values too), constants are copied, and {@link sampleFrom} functions run once the values they
 * read are resolved.
 *
 * @param grids what to do with {@link gridSearch} domains (default `'sample'`).
 * @returns the config; with `grids: 'keep'`, grid domains (and sampleFrom functions reading
 *   them) are left in it.
 * @throws TuneInvalidArgumentError when sampleFrom functions depend on each other in a cycle, a
 *   sampleFrom function throws (its error is the cause), or a grid is met with `grids: 'error'`.
 */
export function resolveSpace(space: Config, rng: Rng, grids: GridHandling = 'sample'): Config {
  const config = cloneStructure(space);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const pending = findDomains(config).filter((e) => !(grids === 'keep' && e.domain instanceof GridSearchDomain));
    if (pending.length === 0) return config;
    let progressed = false;
    for (const entry of pending) {
      if (entry.domain instanceof FunctionDomain) continue;
      if (entry.domain instanceof GridSearchDomain && grids === 'error') {
        throw new TuneInvalidArgumentError(
          `gridSearch at '${entry.key}' sits inside a sampled value (a choice or sampleFrom result), where it cannot be expanded into trials. Move it to the top of the param space, or use choice().`,
        );
      }
      setAtPath(config, entry.path, cloneStructure(entry.domain.sample(rng)));
      progressed = true;
    }
    let functions = pending.filter((e) => e.domain instanceof FunctionDomain);
    let deferred: { entry: DomainEntry; missing: string }[] = [];
    for (;;) {
      deferred = [];
      for (const entry of functions) {
        let value: unknown;
        try {
          value = entry.domain.sample(rng, { config: guard(config, []) });
        } catch (err) {
          if (err instanceof UnresolvedAccess) {
            deferred.push({ entry, missing: err.path });
            continue;
          }
          throw new TuneInvalidArgumentError(
            `sampleFrom at '${entry.key}' threw: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          );
        }
        setAtPath(config, entry.path, cloneStructure(value));
        progressed = true;
      }
      if (deferred.length === 0 || deferred.length === functions.length) break;
      functions = deferred.map((d) => d.entry);
    }
    if (!progressed) {
      if (grids === 'keep') return config;
      const cycle = deferred.map((d) => `'${d.entry.key}' reads '${d.missing}'`).join(', ');
      throw new TuneInvalidArgumentError(
        `sampleFrom functions depend on each other in a cycle: ${cycle}. Break the cycle.`,
      );
    }
  }
  throw new TuneInvalidArgumentError(
    `The param space did not resolve after ${MAX_PASSES} passes: a sampleFrom keeps returning new domains.`,
  );
}

/** A read-only view of the config that throws {@link UnresolvedAccess} on values still to sample. */
function guard(target: object, path: (string | number)[]): any {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof prop === 'symbol') return value;
      if (value instanceof Domain) throw new UnresolvedAccess(pathKey([...path, prop]));
      if (Array.isArray(value) || isPlainObject(value)) return guard(value, [...path, prop]);
      return value;
    },
    set(_obj, prop) {
      throw new TuneInvalidArgumentError(
        `sampleFrom functions must not change spec.config (tried to set '${String(prop)}').`,
      );
    },
    deleteProperty(_obj, prop) {
      throw new TuneInvalidArgumentError(
        `sampleFrom functions must not change spec.config (tried to delete '${String(prop)}').`,
      );
    },
  });
}

/** A value of a point to evaluate, and the place in the space it goes. */
export interface PresetValue {
  readonly path: Path;
  readonly key: string;
  readonly value: unknown;
}

/**
 * The values a (possibly partial) point to evaluate sets in `space`. The point is walked only
 * where the space itself has nested objects or arrays, so `{ model: { width: 64 } }` sets one
 * value and `{ layers: [64, 64] }` sets `layers` whole when the space has a domain there.
 * @throws TuneInvalidArgumentError when the point has a key the space does not (as Ray).
 */
export function presetValues(space: Config, point: Config, what = 'pointsToEvaluate'): PresetValue[] {
  const values: PresetValue[] = [];
  const walk = (spaceNode: unknown, pointNode: unknown, path: (string | number)[]): void => {
    const bothObjects = isPlainObject(spaceNode) && isPlainObject(pointNode);
    const bothArrays = Array.isArray(spaceNode) && Array.isArray(pointNode);
    if (path.length > 0 && !bothObjects && !bothArrays) {
      values.push({ path: [...path], key: pathKey(path), value: pointNode });
      return;
    }
    for (const [k, v] of Object.entries(pointNode as object)) {
      const segment = bothArrays ? Number(k) : k;
      if (!Object.hasOwn(spaceNode as object, k)) {
        throw new TuneInvalidArgumentError(
          `${what}: key '${pathKey([...path, segment])}' is not in the param space. Add it to the param space, or remove it from the point.`,
        );
      }
      walk((spaceNode as Record<string, unknown>)[k], v, [...path, segment]);
    }
  };
  if (!isPlainObject(point)) {
    throw new TuneInvalidArgumentError(
      `${what}: each point must be a plain object such as { lr: 0.01 }, got ${typeof point}.`,
    );
  }
  walk(space, point, []);
  return values;
}
