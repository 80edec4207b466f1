/**
 * The cluster's internal key-value store (Ray's `internal_kv`): small metadata shared by drivers,
 * tasks and actors of a cluster (library state, where checkpoints are, coordination). Kept in
 * the GCS on a multi-node cluster, in the node on an embedded one.
 */
import { InvalidArgumentError } from '../errors.js';
import { requireClient } from './remote.js';

/** Options of the {@link internalKv} calls. */
export interface KvOptions {
  /** Keys live in namespaces (default `''`). */
  namespace?: string;
}

function checkKey(what: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidArgumentError(`${what} needs a non-empty string key.`);
  return key;
}

/** Get, put, delete and list keys of the cluster's key-value store. */
export const internalKv = {
  /**
   * Stores `value` (a string is stored as UTF-8) under `key`. Returns true if the key was new;
   * an existing key keeps its value unless `overwrite` (default true).
   */
  async put(key: string, value: string | Uint8Array, opts: KvOptions & { overwrite?: boolean } = {}): Promise<boolean> {
    checkKey('internalKv.put()', key);
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (!(bytes instanceof Uint8Array))
      throw new InvalidArgumentError('internalKv.put() stores strings or Uint8Arrays.');
    return (await requireClient('internalKv.put()').kv({
      k: 'put',
      namespace: opts.namespace ?? '',
      key,
      value: bytes,
      overwrite: opts.overwrite !== false,
    })) as boolean;
  },
  /** The value under `key`, or undefined. */
  async get(key: string, opts: KvOptions = {}): Promise<Uint8Array | undefined> {
    checkKey('internalKv.get()', key);
    const v = await requireClient('internalKv.get()').kv({ k: 'get', namespace: opts.namespace ?? '', key });
    return v === undefined ? undefined : new Uint8Array(v as Uint8Array);
  },
  /** The value under `key` as a UTF-8 string, or undefined. */
  async getString(key: string, opts: KvOptions = {}): Promise<string | undefined> {
    const v = await internalKv.get(key, opts);
    return v === undefined ? undefined : new TextDecoder().decode(v);
  },
  /** Deletes `key`; true if it existed. */
  async del(key: string, opts: KvOptions = {}): Promise<boolean> {
    checkKey('internalKv.del()', key);
    return (
      ((await requireClient('internalKv.del()').kv({ k: 'del', namespace: opts.namespace ?? '', key })) as number) > 0
    );
  },
  /** Keys that start with `prefix`. */
  async keys(prefix = '', opts: KvOptions = {}): Promise<string[]> {
    return (await requireClient('internalKv.keys()').kv({
      k: 'keys',
      namespace: opts.namespace ?? '',
      prefix,
    })) as string[];
  },
};
