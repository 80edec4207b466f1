/**
 * Fakes for the unit tests of object transfer (object-transfer.ts): the cluster view with waits
 * the test answers, Pull calls the test drives (or that a node's servePull answers), and the
 * server's side of a Pull. For core's own unit tests: not exported from index.ts.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../config.js';
import { ObjectStore } from '../node/object-store.js';
import type { SpillOptions } from '../node/spill-files.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import type { NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { ObjectChunk, ObjectChunk__Output } from './generated/raytscore/ObjectChunk.js';
import type { PeerBatch } from './generated/raytscore/PeerBatch.js';
import type { Value__Output } from './generated/raytscore/Value.js';
import type { View } from './membership.js';
import { ObjectTransfer } from './object-transfer.js';
import { Peers } from './peers.js';

/** The stores' threshold: values above it are large (kept as copies, received in shared memory). */
export const inlineMaxBytes = 1024;
/** The largest object a node of these accepts in a pull (the stores hold 1 MiB). */
export const pullMaxObjectBytes = 4 << 20;

/** The cluster view as Membership keeps it; a wait on it ends when the test changes the view or times it out. */
export class FakeMembership implements View {
  readonly byId = new Map<string, NodeInfo__Output>();
  readonly potential = [];
  readonly waits: { timeoutMs: number; resolve: (known: boolean) => void; pred: (v: View) => boolean }[] = [];

  set(nodeId: string, state = 'ALIVE'): void {
    this.byId.set(nodeId, { nodeId, address: `${nodeId}:1`, state } as NodeInfo__Output);
    for (const w of this.waits.splice(0)) {
      if (w.pred(this)) w.resolve(true);
      else this.waits.push(w);
    }
  }

  get(nodeId: string): NodeInfo__Output | undefined {
    return this.byId.get(nodeId);
  }

  nodes(): Iterable<NodeInfo__Output> {
    return this.byId.values();
  }

  waitForView(pred: (v: View) => boolean, timeoutMs: number): Promise<boolean> {
    if (pred(this)) return Promise.resolve(true);
    return new Promise((resolve) => this.waits.push({ pred, timeoutMs, resolve }));
  }

  /** Every pending wait times out. */
  timeOut(): void {
    for (const w of this.waits.splice(0)) w.resolve(false);
  }
}

/** A Pull call as its client sees it: the test (or a bridge to a server) drives it. */
export class FakePull extends EventEmitter {
  /** The reader cancelled the call. */
  cancelled = false;

  constructor(
    readonly node: string,
    readonly request: { objectId: string; requester: string; hostKey?: string },
  ) {
    super();
  }

  header(h: Partial<Value__Output>, owners?: Record<string, string>): void {
    this.emit('data', received({ header: h, ...(owners ? { owners: { owners } } : {}) }));
  }

  /** The bytes in chunks of `size`, then the end. */
  body(b: Uint8Array, size = 128 * 1024): void {
    for (let off = 0; off < b.byteLength; off += size)
      this.emit('data', received({ data: b.subarray(off, off + size) }));
    this.emit('end');
  }

  cancel(): void {
    this.cancelled = true;
  }

  fail(code: grpc.status, details: string): void {
    this.emit('error', { code, details, message: details });
  }
}

/** A chunk as gRPC hands it to the reader: every field filled, bytes copied. */
export function received(ch: ObjectChunk): ObjectChunk__Output {
  const h = ch.header;
  return {
    header: h
      ? {
          t: h.t ?? '',
          data: Buffer.from((h.data ?? new Uint8Array(0)) as Uint8Array),
          refs: h.refs ?? [],
          special: h.special ?? false,
          ctor: h.ctor ?? '',
          location: h.location ?? '',
          size: Number(h.size ?? 0),
        }
      : null,
    owners: ch.owners ? { owners: { ...ch.owners.owners } } : null,
    data: Buffer.from((ch.data ?? new Uint8Array(0)) as Uint8Array),
    shmPath: ch.shmPath ?? '',
  };
}

/**
 * A server stream of Pull: records what is written. write() answers from `accept` (true once it
 * runs out); with `autoDrain`, a refused write is followed by 'drain' a moment later.
 */
export class FakeServerCall extends EventEmitter {
  readonly written: ObjectChunk[] = [];
  readonly errors: { code: grpc.status; details: string }[] = [];
  ended = false;
  cancelled = false;
  settled = false;

  constructor(
    readonly request: { objectId: string; requester: string; hostKey?: string },
    readonly accept: boolean[] = [],
    readonly autoDrain = false,
  ) {
    super();
    this.on('error', (e: { code: grpc.status; details: string }) => this.errors.push(e));
  }

  write(ch: ObjectChunk): boolean {
    this.written.push(ch);
    this.emit('written', ch);
    const ok = this.accept.shift() ?? true;
    if (!ok && this.autoDrain) queueMicrotask(() => this.emit('drain'));
    return ok;
  }

  end(): void {
    this.ended = true;
    this.emit('ended');
  }

  /** The lengths of the data chunks written. */
  get chunks(): number[] {
    return this.written.filter((c) => c.data).map((c) => (c.data as Uint8Array).byteLength);
  }
}

/**
 * Nodes over one fake view and network, each with its own store (objects above
 * {@link inlineMaxBytes} are large), peers and transfer; the batches sent between them and the
 * Pull calls they make are recorded.
 */
export function transferCluster(...alive: string[]) {
  const view = new FakeMembership();
  for (const id of alive) view.set(id);
  const pulls: FakePull[] = [];
  const batches: { from: string; to: string; batch: PeerBatch }[] = [];
  /** Answers pulls sent to a node (left unanswered, for the test to drive, when none). */
  const servers = new Map<string, (p: FakePull) => void>();
  const nodes = new Map<string, ReturnType<typeof node>>();

  /** A node; `spill` gives its store a spill directory and file system (it never spills otherwise). */
  function node(nodeId: string, spill?: { dir: string } & SpillOptions) {
    const store = new ObjectStore(
      1 << 20,
      inlineMaxBytes,
      spill?.dir ?? path.join(os.tmpdir(), 'ray-ts-unit-never-spills'),
      spill,
    );
    const peers = new Peers(
      nodeId,
      view,
      store,
      (address) => {
        const to = address.replace(/:1$/, '');
        const client = {
          Pull(req: { objectId: string; requester: string }) {
            const p = new FakePull(to, req);
            pulls.push(p);
            const serve = servers.get(to);
            if (serve) queueMicrotask(() => serve(p));
            return p;
          },
          Peer() {
            const s = new EventEmitter() as EventEmitter & { write(b: PeerBatch): boolean; end(): void };
            s.write = (batch) => (batches.push({ from: nodeId, to, batch }), true);
            s.end = () => {};
            return s;
          },
          close() {},
        };
        return client as unknown as NodeClient;
      },
      loadConfig(),
    );
    const transfer = new ObjectTransfer(nodeId, store, view, peers, pullMaxObjectBytes);
    /** Serves a Pull here, as the gRPC server would, over a fake stream. */
    const serve = (objectId: string, requester: string, accept: boolean[] = [], hostKey?: string) => {
      const call = new FakeServerCall({ objectId, requester, ...(hostKey ? { hostKey } : {}) }, accept);
      void transfer.servePull(call as never).then(() => (call.settled = true));
      return call;
    };
    const n = { nodeId, store, peers, transfer, serve };
    nodes.set(nodeId, n);
    return n;
  }

  /** Pulls sent to `nodeId` are served by that node's servePull, its writes answered from `accept`. */
  function connect(nodeId: string, accept: boolean[] = []): void {
    servers.set(nodeId, (p) => {
      const call = new FakeServerCall(p.request, [...accept], true);
      call.on('written', (ch: ObjectChunk) => p.emit('data', received(ch)));
      call.on('ended', () => p.emit('end'));
      call.on('error', (e: { code: grpc.status; details: string }) => p.emit('error', e));
      void nodes.get(nodeId)!.transfer.servePull(call as never);
    });
  }

  return { view, pulls, batches, servers, node, connect };
}
