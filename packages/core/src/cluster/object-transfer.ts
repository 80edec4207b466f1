/**
 * Object transfer between nodes, pull-based: a node that needs an object's bytes pulls them from
 * the node that holds them, in chunks (gRPC flow control bounds what is in flight), following
 * redirects; a task's large results stay where they were made, as copies for their owner.
 * What a peer sends is checked before it is used: the object ids in it, the size it announces
 * (against the size recorded for the object, and a bound) before memory is allocated for it, and
 * the bytes that arrive against that size.
 */
import * as grpc from '@grpc/grpc-js';
import { ObjectLostError, PeerUnreachableError, errorToWire } from '../errors.js';
import { checkObjectIds, isObjectId } from '../ids.js';
import type { ObjectStore } from '../node/object-store.js';
import type { WorkerHandle } from '../node/worker-handle.js';
import { isBlock, releaseBlock } from '../runtime/arena.js';
import { allocStored, nestedRefs, storedError, type StoredValue } from '../runtime/serialization.js';
import type { ObjectChunk, ObjectChunk__Output } from './generated/raytscore/ObjectChunk.js';
import type { Membership } from './membership.js';
import type { Peers } from './peers.js';
import { prefault, type Prefault } from '../runtime/prefault.js';
import { SHM_ABOVE, hostKey, readShared, writeShared } from './same-host.js';
import { valueFromWire, valueToWire, type PValue, type PValueOut } from './wire.js';

const CHUNK = 128 * 1024;
/** Receive buffers this large get their pages faulted in by a helper thread (see prefault.ts). */
const PREFAULT_ABOVE = 8 * 1024 * 1024;
/** A pull follows at most this many redirects per try, and tries this many times (the object may be made again). */
const MAX_REDIRECTS = 8;
const MAX_TRIES = 16;
/** How long a pull whose node stopped answering waits for the cluster to say whether it died. */
const PEER_VERDICT_MS = 60_000;
/** How often such a pull tries that node again meanwhile (its connection may only have been cut). */
const UNREACHABLE_RETRY_MS = 250;

/** Resolves when a server stream can take more, or its reader went away (it never drains then). */
function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

export class ObjectTransfer {
  private readonly pulls = new Map<string, Promise<void>>();

  constructor(
    private readonly nodeId: string,
    private readonly store: ObjectStore,
    private readonly membership: Pick<Membership, 'get' | 'waitForView'>,
    private readonly peers: Peers,
    /** The largest object a pull accepts (config `pullMaxObjectBytes`). */
    private readonly maxObjectBytes: number,
    /** Called before a task's results go to `origin` (the log router sends what the task printed first). */
    private readonly beforeResults: (origin: string) => void = () => {},
  ) {}

  sendTaskDone(
    origin: string,
    taskId: string,
    results: StoredValue[],
    producer: WorkerHandle | undefined,
    ms: number | undefined,
  ): void {
    const store = this.store;
    const inlineMax = this.store.inlineMaxBytes;
    const wire: PValue[] = [];
    const refs: string[] = [];
    results.forEach((v, i) => {
      const size = v.t === 'v8' || v.t === 'raw' ? v.b.byteLength : 0;
      if (size > inlineMax && this.membership.get(origin)?.state === 'ALIVE') {
        // Large: stays here as a copy for its owner, which pulls it when someone reads it.
        const id = `${taskId}.${i}`;
        const full = store.put(id, v, producer);
        if (full) {
          // No room here: the owner gets the error instead (its readers see ObjectStoreFullError).
          store.discard(id);
          wire.push(valueToWire(storedError(errorToWire(full))));
          return;
        }
        store.markCopy(id, origin);
        wire.push({ t: 'remote', location: this.nodeId, size });
      } else {
        wire.push(valueToWire(v));
      }
      refs.push(...nestedRefs(v));
    });
    this.beforeResults(origin);
    this.peers.send(origin, {
      taskDone: { taskId, results: wire, owners: this.peers.owners(refs, origin), ms: ms ?? 0 },
    });
  }

  pull(ids: string[]): Promise<void> {
    return Promise.all(
      ids.map((id) => {
        let p = this.pulls.get(id);
        if (!p) {
          p = this.pullOne(id).finally(() => this.pulls.delete(id));
          this.pulls.set(id, p);
        }
        return p;
      }),
    ).then(() => undefined);
  }

  private async pullOne(id: string): Promise<void> {
    const store = this.store;
    let unreachableSince: number | undefined;
    for (let hop = 0; hop < MAX_TRIES; hop++) {
      if (!store.has(id) || store.isLocal(id)) return;
      // Being made (again, if its node died): wait for it first.
      if (!store.isReady(id)) await new Promise<void>((r) => store.onReady(id, r));
      let source = store.remoteSource(id);
      if (!source) continue;
      try {
        for (let redirects = 0; source && redirects < MAX_REDIRECTS; redirects++) {
          if (!store.has(id) || store.isLocal(id)) return;
          source = await this.pullFrom(source, id);
        }
        if (!source) return;
      } catch (err) {
        // The node stopped answering: wait until the cluster knows whether it died (then the
        // owner makes the object again, or says it is lost), and try again.
        if (!(err instanceof PeerUnreachableError)) throw err;
        const down = err.node;
        unreachableSince ??= Date.now();
        const dead = await this.membership.waitForView((v) => v.get(down)?.state !== 'ALIVE', UNREACHABLE_RETRY_MS);
        if (!dead) {
          // Alive by the cluster's view: a cut connection (tried again shortly), up to the budget.
          if (Date.now() - unreachableSince > PEER_VERDICT_MS)
            throw new ObjectLostError(
              `Object ${id} could not be fetched: node ${down} stopped answering (${err.message}).`,
              { objectId: id, nodeId: down },
            );
          hop--; // not a hop: the same source again
          continue;
        }
        await new Promise((r) => setTimeout(r, 10)); // the owner reacts to the same view change
      }
    }
    if (store.has(id) && !store.isLocal(id)) {
      throw new ObjectLostError(
        `Object ${id} could not be fetched: no node holds its bytes (owner ${store.ownerOf(id) ?? this.nodeId}).`,
        { objectId: id, nodeId: this.nodeId },
      );
    }
  }

  /** Pulls one object from a node; resolves with a node to try next if it redirects. */
  private pullFrom(source: string, id: string): Promise<string | undefined> {
    const st = this.membership.get(source)?.state;
    if (st && st !== 'ALIVE') {
      return Promise.reject(
        new ObjectLostError(
          `Object ${id} is lost: its bytes were on node ${source}, which is gone, and it cannot be made again ` +
            `(an actor method made it, it was put there, or the retries of the task that made it are used up: raise maxRetries).`,
          { objectId: id, nodeId: source },
        ),
      );
    }
    const c = this.peers.client(source);
    if (!c) {
      return this.membership
        .waitForView((v) => v.get(source) !== undefined, 5_000)
        .then((ok) => {
          if (!ok)
            throw new ObjectLostError(`Object ${id} is on node ${source}, which is not in the cluster.`, {
              objectId: id,
              nodeId: this.nodeId,
            });
          return source;
        });
    }
    const inlineMax = this.store.inlineMaxBytes;
    const recorded = this.store.recordedSize(id);
    return new Promise((resolve, reject) => {
      const call = c.Pull({ objectId: id, requester: this.nodeId, hostKey: hostKey() ?? '' });
      let header: PValue | undefined;
      let owners: Record<string, string> | undefined;
      let buf: Uint8Array | undefined;
      let size = 0;
      let off = 0;
      let redirect: string | undefined;
      let faults: Prefault | undefined;
      let settled = false;
      let handed = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        faults?.advance(size); // the helper stops
        if (buf && !handed) releaseBlock(buf); // the store never got it: its arena block is free again
        reject(err);
      };
      /** The peer sent what it must not: stop reading, and fail the pull (there is no other copy to try). */
      const refuse = (why: string) => {
        fail(
          new ObjectLostError(`Object ${id} could not be fetched from node ${source}: ${why}.`, {
            objectId: id,
            nodeId: source,
          }),
        );
        (call as { cancel?: () => void }).cancel?.();
      };
      /** Checks a header; allocates the bytes it announces only once their size is known to be sane. */
      const readHeader = (
        h: ObjectChunk__Output['header'],
        o: Record<string, string> | undefined,
      ): string | undefined => {
        if (!h) return 'its first message has no header';
        header = h;
        owners = o;
        if (h.t === 'remote') {
          redirect = h.location as string;
          return undefined;
        }
        const ids = [...(h.refs ?? []), ...Object.keys(o ?? {})];
        if (!ids.every(isObjectId)) {
          try {
            checkObjectIds(ids, `the header of object ${id}`);
          } catch (err) {
            return (err as Error).message;
          }
        }
        if (h.t === 'js' || h.t === 'err') return undefined;
        if (h.t !== 'v8' && h.t !== 'raw') return `it sent a value of unknown kind '${String(h.t)}'`;
        size = Number(h.size ?? 0);
        if (!Number.isSafeInteger(size) || size < 0) return `it announced a size of ${String(h.size)} bytes`;
        if (recorded !== undefined && size !== recorded)
          return `it announced ${size} bytes, but the task that made the object reported ${recorded}`;
        if (size > this.maxObjectBytes)
          return `it announced ${size} bytes, more than this node accepts (pullMaxObjectBytes, ${this.maxObjectBytes})`;
        buf = size > inlineMax ? allocStored(size) : new Uint8Array(size);
        // An arena block is warm memory (a new segment is faulted in by the arena itself).
        if (size >= PREFAULT_ABOVE && !isBlock(buf)) faults = prefault(buf.buffer as SharedArrayBuffer);
        return undefined;
      };
      call.on('data', (ch: ObjectChunk__Output) => {
        if (settled) return;
        if (!header) {
          const bad = readHeader(ch.header, ch.owners?.owners);
          if (bad) return refuse(bad);
          if (ch.shmPath) {
            // A node on this host wrote the bytes to shared memory (same-host.ts).
            if (!buf) return refuse(`it named a shared-memory file for a '${String(header!.t)}' value`);
            const why = readShared(ch.shmPath, size, buf);
            if (why) return refuse(why);
            off = size;
            return;
          }
        }
        if (!ch.data.length) return;
        if (!buf) return refuse(`it sent bytes after a '${String(header!.t)}' header`);
        if (off + ch.data.length > size) return refuse(`it sent more than the ${size} bytes it announced`);
        ch.data.copy(buf, off); // Buffer.copy: Uint8Array.set from a Buffer takes a slow path (~0.3 GB/s)
        off += ch.data.length;
        faults?.advance(off);
      });
      call.on('error', (err: grpc.ServiceError) => {
        fail(
          err.code === grpc.status.NOT_FOUND
            ? new ObjectLostError(`Object ${id} is lost: ${err.details}`, { objectId: id, nodeId: source })
            : new PeerUnreachableError(source, err.details || err.message),
        );
      });
      call.on('end', () => {
        if (settled) return;
        if (redirect) {
          settled = true;
          resolve(redirect);
          return;
        }
        if (!header) {
          fail(new ObjectLostError(`Object ${id}: node ${source} sent nothing.`, { objectId: id, nodeId: source }));
          return;
        }
        if (buf && off !== size) return refuse(`it sent ${off} of the ${size} bytes it announced`);
        const h = header;
        this.peers.receiveRefs(owners);
        try {
          const value: StoredValue = buf
            ? h.t === 'raw'
              ? { t: 'raw', ctor: h.ctor as never, b: buf }
              : {
                  t: 'v8',
                  b: buf,
                  ...(h.refs?.length ? { refs: h.refs } : {}),
                  ...(h.special ? { special: true } : {}),
                }
            : valueFromWire(
                { ...(h as object), data: Buffer.from((h.data ?? new Uint8Array(0)) as Uint8Array) } as PValueOut,
                inlineMax,
              );
          handed = true;
          this.store.fillPulled(id, value);
        } catch (err) {
          // Not stored (undecodable, or no room: ObjectStoreFullError): the borrows it brought go back.
          for (const ref in owners ?? {}) this.store.discard(ref);
          fail(err);
          return;
        }
        settled = true;
        resolve(undefined);
      });
    });
  }

  /** Serves a Pull: the header, then the bytes in chunks (flow control bounds what is in flight). */
  async servePull(
    call: grpc.ServerWritableStream<{ objectId: string; requester: string; hostKey?: string }, ObjectChunk>,
  ): Promise<void> {
    const { objectId: id, requester, hostKey: theirHost } = call.request;
    const store = this.store;
    if (!isObjectId(id)) {
      call.emit('error', {
        code: grpc.status.INVALID_ARGUMENT,
        details: `node ${this.nodeId} refused a pull of ${JSON.stringify(String(id).slice(0, 80))}: not an object id`,
      });
      return;
    }
    if (store.has(id) && !store.isReady(id)) await new Promise<void>((r) => store.onReady(id, r));
    if (!store.has(id)) {
      call.emit('error', {
        code: grpc.status.NOT_FOUND,
        details: `node ${this.nodeId} has no object ${id} (it was freed, or never existed)`,
      });
      return;
    }
    if (!store.isLocal(id)) {
      const src = store.remoteSource(id);
      if (!src || src === requester) {
        call.emit('error', {
          code: grpc.status.NOT_FOUND,
          details: `node ${this.nodeId} knows object ${id} but holds no copy`,
        });
        return;
      }
      call.write({ header: { t: 'remote', location: src } });
      call.end();
      return;
    }
    const v = store.getForTransfer(id)!;
    const owners = this.peers.owners(nestedRefs(v), requester);
    if (v.t === 'js' || v.t === 'err') {
      call.write({ header: valueToWire(v), owners });
      call.end();
      return;
    }
    const b = v.b;
    const header = {
      t: v.t,
      size: b.byteLength,
      ctor: v.t === 'raw' ? v.ctor : '',
      refs: v.t === 'v8' ? (v.refs ?? []) : [],
      special: v.t === 'v8' && !!v.special,
    };
    // A puller on this host reads the bytes from shared memory (same-host.ts), else they go in chunks.
    const file = theirHost && b.byteLength >= SHM_ABOVE && theirHost === hostKey() ? writeShared(id, b) : undefined;
    call.write({ header, owners, ...(file ? { shmPath: file } : {}) });
    if (file) {
      call.end();
      return;
    }
    // Pinned while streaming: freed now, its bytes could be reused for another object mid-stream.
    store.pin(id);
    try {
      for (let off = 0; off < b.byteLength; off += CHUNK) {
        const chunk = Buffer.from(b.buffer as ArrayBuffer, b.byteOffset + off, Math.min(CHUNK, b.byteLength - off));
        // A reader that went away leaves a stream that never drains: stop (and unpin) instead.
        if (!call.write({ data: chunk }) && !call.cancelled) await drained(call);
        if (call.cancelled) return;
      }
      call.end();
    } finally {
      store.unpin(id);
    }
  }
}
