/**
 * The internal key-value store of an embedded cluster (a multi-node cluster keeps it in the GCS):
 * values by namespace and key, copied in and out.
 */
import type { KvOp } from '../protocol/specs.js';

export class LocalKv {
  private readonly entries = new Map<string, Uint8Array>();

  apply(op: KvOp): unknown {
    const key = `${op.namespace}\u0000${op.k === 'keys' ? op.prefix : op.key}`;
    switch (op.k) {
      case 'put': {
        const added = !this.entries.has(key);
        if (added || op.overwrite) this.entries.set(key, op.value.slice());
        return added;
      }
      case 'get':
        return this.entries.get(key)?.slice();
      case 'del':
        return this.entries.delete(key) ? 1 : 0;
      case 'keys':
        return [...this.entries.keys()].filter((k) => k.startsWith(key)).map((k) => k.slice(k.indexOf('\u0000') + 1));
    }
  }
}
