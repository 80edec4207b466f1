/**
 * The GCS's internal KV (Ray's internal_kv): byte values by namespace and key, kept in the GCS's
 * storage; served to the cluster over the `Kv*` RPCs and to the head's own services directly.
 */
import type * as grpc from '@grpc/grpc-js';
import type { GcsHandlers } from './generated/raytscore/Gcs.js';
import type { GcsStorage } from './gcs-storage.js';

/** One namespace of the KV. */
export interface KvNamespace {
  put(key: string, value: Buffer): void;
  get(key: string): Buffer | undefined;
  del(key: string): boolean;
  keys(prefix?: string): string[];
}

export class GcsKv {
  private readonly kv = new Map<string, Buffer>();

  constructor(private readonly storage: GcsStorage) {}

  /** Takes the rows its storage kept (a head started again finds them). */
  load(rows: Map<string, Buffer>): void {
    for (const [k, v] of rows) this.kv.set(k, v);
  }

  namespace(namespace: string): KvNamespace {
    const k = (key: string) => `${namespace}\u0000${key}`;
    return {
      put: (key, value) => {
        this.kv.set(k(key), value);
        this.storage.put('kv', k(key), value);
      },
      get: (key) => this.kv.get(k(key)),
      del: (key) => {
        const deleted = this.kv.delete(k(key));
        if (deleted) this.storage.del('kv', k(key));
        return deleted;
      },
      keys: (prefix = '') =>
        [...this.kv.keys()].filter((x) => x.startsWith(k(prefix))).map((x) => x.slice(namespace.length + 1)),
    };
  }

  handlers(): Pick<GcsHandlers, 'KvPut' | 'KvGet' | 'KvDel' | 'KvKeys'> {
    const ok = <T>(cb: grpc.sendUnaryData<T>, v: T) => cb(null, v);
    return {
      KvPut: (call, cb) => {
        const kv = this.namespace(call.request.namespace);
        const added = kv.get(call.request.key) === undefined;
        if (added || call.request.overwrite) kv.put(call.request.key, Buffer.from(call.request.value));
        ok(cb, { added });
      },
      KvGet: (call, cb) => {
        const v = this.namespace(call.request.namespace).get(call.request.key);
        ok(cb, v ? { found: true, value: v } : { found: false });
      },
      KvDel: (call, cb) => ok(cb, { deleted: this.namespace(call.request.namespace).del(call.request.key) ? 1 : 0 }),
      KvKeys: (call, cb) => ok(cb, { keys: this.namespace(call.request.namespace).keys(call.request.key) }),
    };
  }
}
