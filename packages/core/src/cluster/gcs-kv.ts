/**
 * The GCS's internal KV (Ray's internal_kv): byte values by namespace and key, kept in the GCS's
 * storage; served to the cluster over the `Kv*` RPCs and to the head's own services directly.
 * A put or delete answers once its write landed in the storage (Redis), and changes nothing when
 * the storage cannot take it.
 */
import * as grpc from '@grpc/grpc-js';
import type { GcsHandlers } from './generated/raytscore/Gcs.js';
import type { GcsStorage } from './gcs-storage.js';
import { replyAfter, type Landing } from './gcs-writes.js';

/**
 * One namespace of the KV. `put` and `del` say when their write landed (see {@link Landing}), and
 * throw GcsUnavailableError, changing nothing, when the storage has no room for it; `internal`
 * writes (the head's own bookkeeping, rewriting the same keys) are taken whatever it holds.
 */
export interface KvNamespace {
  put(key: string, value: Buffer, internal?: boolean): Landing;
  get(key: string): Buffer | undefined;
  /** Deletes the key (undefined, at once, when there was none). */
  del(key: string, internal?: boolean): Landing;
  keys(prefix?: string): string[];
}

/** A KV write call as a refusal check sees it (its metadata says whom it is bound to). */
export type KvCall = { request: { namespace: string; key: string }; metadata?: grpc.Metadata };
/** Why a put or delete of `namespace`/`key` is refused to `call` (undefined: it is not). */
export type KvWriteCheck = (namespace: string, key: string, replaces: boolean, call: KvCall) => string | undefined;

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
      put: (key, value, internal = false) => {
        const landed = this.storage.write('kv', k(key), value, { bounded: !internal });
        this.kv.set(k(key), value);
        return landed;
      },
      get: (key) => this.kv.get(k(key)),
      del: (key, internal = false) => {
        if (!this.kv.has(k(key))) return undefined;
        const landed = this.storage.write('kv', k(key), undefined, { bounded: !internal });
        this.kv.delete(k(key));
        return landed;
      },
      keys: (prefix = '') =>
        [...this.kv.keys()].filter((x) => x.startsWith(k(prefix))).map((x) => x.slice(namespace.length + 1)),
    };
  }

  /**
   * The `Kv*` RPCs. `refusal` says why a put or delete is refused to its caller (answered with
   * PERMISSION_DENIED, changing nothing); `replaces`: it would change or delete a value that is there.
   */
  handlers(refusal: KvWriteCheck = () => undefined): Pick<GcsHandlers, 'KvPut' | 'KvGet' | 'KvDel' | 'KvKeys'> {
    const ok = <T>(cb: grpc.sendUnaryData<T>, v: T) => cb(null, v);
    const refused = (call: KvCall, replaces: boolean, cb: (e: Partial<grpc.StatusObject>) => void) => {
      const why = refusal(call.request.namespace, call.request.key, replaces, call);
      if (why) cb({ code: grpc.status.PERMISSION_DENIED, details: `KV write refused: ${why}.` });
      return !!why;
    };
    return {
      KvPut: (call, cb) => {
        const exists = this.namespace(call.request.namespace).get(call.request.key) !== undefined;
        if (refused(call, exists && call.request.overwrite, cb)) return;
        replyAfter(cb, () => {
          const kv = this.namespace(call.request.namespace);
          const added = kv.get(call.request.key) === undefined;
          const write = added || call.request.overwrite;
          const landed = write ? kv.put(call.request.key, Buffer.from(call.request.value)) : undefined;
          return { landed, reply: { added } };
        });
      },
      KvGet: (call, cb) => {
        const v = this.namespace(call.request.namespace).get(call.request.key);
        ok(cb, v ? { found: true, value: v } : { found: false });
      },
      KvDel: (call, cb) => {
        const exists = this.namespace(call.request.namespace).get(call.request.key) !== undefined;
        if (refused(call, exists, cb)) return;
        replyAfter(cb, () => {
          const kv = this.namespace(call.request.namespace);
          const deleted = kv.get(call.request.key) !== undefined;
          return { landed: deleted ? kv.del(call.request.key) : undefined, reply: { deleted: deleted ? 1 : 0 } };
        });
      },
      KvKeys: (call, cb) => ok(cb, { keys: this.namespace(call.request.namespace).keys(call.request.key) }),
    };
  }
}
