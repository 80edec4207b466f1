/**
 * Messages to other nodes: one gRPC client and one outgoing Peer stream per node, and the
 * messages of a turn batched per node (sent at the end of the turn). Refs carried in messages are
 * counted as borrows (distributed reference counting): owners count the borrows of other nodes.
 */
import * as grpc from '@grpc/grpc-js';
import { checkObjectIds } from '../ids.js';
import type { ObjectStore } from '../node/object-store.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import type { PeerBatch, PeerBatch__Output } from './generated/raytscore/PeerBatch.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import type { View } from './membership.js';

export class Peers {
  private readonly clients = new Map<string, NodeClient>();
  private readonly outgoing = new Map<string, grpc.ClientDuplexStream<PeerBatch, PeerBatch__Output>>();
  private readonly pending = new Map<string, PeerMessage[]>();
  private flushQueued = false;
  private stopped = false;

  constructor(
    private readonly nodeId: string,
    private readonly view: View,
    private readonly store: ObjectStore,
    /** Makes the gRPC client of a node, with the cluster's token (proto.ts's nodeClient; unit tests give a fake). */
    private readonly makeClient: (address: string) => NodeClient,
  ) {}

  /** The client of a node in the view (undefined: its address is not known yet). */
  client(nodeId: string): NodeClient | undefined {
    let c = this.clients.get(nodeId);
    if (c) return c;
    const addr = this.view.get(nodeId)?.address;
    if (!addr) return undefined;
    c = this.makeClient(addr);
    this.clients.set(nodeId, c);
    return c;
  }

  /** Queues a message for a node; the turn's messages go in one batch. */
  send(nodeId: string, msg: PeerMessage): void {
    if (this.stopped) return;
    let q = this.pending.get(nodeId);
    if (!q) this.pending.set(nodeId, (q = []));
    q.push(msg);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  /** Sends what is queued to nodes whose address is known (the rest when the view has it). */
  flush(): void {
    for (const [nodeId, msgs] of this.pending) {
      if (!msgs.length) continue;
      let stream = this.outgoing.get(nodeId);
      if (!stream) {
        const c = this.client(nodeId);
        if (!c) continue; // address not in the view yet: sent when it is
        stream = c.Peer();
        stream.on('data', () => {});
        const opened = stream;
        // A late error of a stream that was replaced (the node left and came back) keeps the new one.
        stream.on('error', () => {
          if (this.outgoing.get(nodeId) === opened) this.outgoing.delete(nodeId);
        });
        this.outgoing.set(nodeId, stream);
      }
      this.pending.set(nodeId, []);
      stream.write({ fromNode: this.nodeId, messages: msgs });
    }
  }

  /**
   * The owners of the refs in a message going to `target`, counting the borrow `target` makes:
   * this node counts it for its own objects, and tells the owner of anyone else's.
   */
  owners(refIds: readonly string[], target: string): { owners: Record<string, string> } {
    const owners: Record<string, string> = {};
    for (const id of refIds) {
      if (id in owners) continue;
      const owner = this.store.ownerOf(id) ?? this.nodeId;
      owners[id] = owner;
      if (owner === target) continue;
      if (owner === this.nodeId) this.store.addBorrow(id, target, 1);
      else this.send(owner, { borrow: { objectId: id, node: target, delta: 1 } });
    }
    return { owners };
  }

  /** Records the foreign refs of an arriving message (this node now borrows them). */
  receiveRefs(owners: Record<string, string> | undefined): void {
    if (!owners) return;
    checkObjectIds(Object.keys(owners), 'the refs of a message from another node'); // before any is counted
    for (const id in owners) {
      const owner = owners[id];
      if (owner !== this.nodeId) this.store.addBorrowed(id, owner);
    }
  }

  /** A node left: what was queued for it goes, and its stream and channel close. */
  forget(nodeId: string): void {
    this.pending.delete(nodeId);
    this.outgoing.get(nodeId)?.end();
    this.outgoing.delete(nodeId);
    this.clients.get(nodeId)?.close();
    this.clients.delete(nodeId);
  }

  /** Sends what is queued, then closes every stream and channel. */
  stop(): void {
    this.flush();
    this.stopped = true;
  }

  close(): void {
    for (const s of this.outgoing.values()) s.end();
    for (const c of this.clients.values()) c.close();
  }
}
