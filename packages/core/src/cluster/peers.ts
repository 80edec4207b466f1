/**
 * Messages to other nodes: one gRPC client and one link (peer-link.ts: an outgoing Peer stream
 * with bounded batches, backpressure, acknowledgements and resend) per node; the messages of a
 * turn are sent at its end. Refs carried in messages are counted as borrows (distributed
 * reference counting): owners count the borrows of other nodes.
 */
import { systemClock, type Clock } from '../clock.js';
import type { RuntimeConfig } from '../config.js';
import { checkObjectIds } from '../ids.js';
import type { ObjectStore } from '../node/object-store.js';
import type { NodeClient } from './generated/raytscore/Node.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import type { View } from './membership.js';
import { messageBytes, PeerLink, type PeerLinkConfig, type PeerStream } from './peer-link.js';
import { getLogger } from '../log.js';

const log = getLogger('ray-ts.core');

/** The settings of Peers (config.ts). */
export type PeersConfig = PeerLinkConfig & Pick<RuntimeConfig, 'peerMessageMaxBytes'>;

export class Peers {
  private readonly clients = new Map<string, NodeClient>();
  private readonly links = new Map<string, PeerLink>();
  private flushQueued = false;
  private stopped = false;

  constructor(
    private readonly nodeId: string,
    private readonly view: View,
    private readonly store: ObjectStore,
    /** Makes the gRPC client of a node, with the cluster's token (proto.ts's nodeClient; unit tests give a fake). */
    private readonly makeClient: (address: string) => NodeClient,
    private readonly config: PeersConfig,
    private readonly clock: Clock = systemClock,
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

  /**
   * Queues a message for a node; the turn's messages go in one batch (several past the bounds).
   * A message larger than the receiver accepts (`peerMessageMaxBytes`) is not sent: an error says so.
   */
  send(nodeId: string, msg: PeerMessage): void {
    if (this.stopped) return;
    const bytes = messageBytes(msg);
    if (bytes > this.config.peerMessageMaxBytes) {
      log.error(
        `node ${this.nodeId} did not send a '${Object.keys(msg).join(',')}' message of about ${bytes} bytes ` +
          `to node ${nodeId}: nodes accept messages up to peerMessageMaxBytes (${this.config.peerMessageMaxBytes}). ` +
          'Pass large values as ObjectRefs (ray.put), or raise RAY_TS_PEER_MESSAGE_MAX_BYTES on every node.',
      );
      return;
    }
    this.link(nodeId).push(msg);
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
    for (const link of this.links.values()) link.flush();
  }

  /** What waits for a node: not sent yet, or not acknowledged (undefined: no link to it). */
  backlog(nodeId: string): PeerLink['backlog'] | undefined {
    return this.links.get(nodeId)?.backlog;
  }

  private link(nodeId: string): PeerLink {
    let l = this.links.get(nodeId);
    if (!l) {
      const open = (): PeerStream | undefined => this.client(nodeId)?.Peer() as PeerStream | undefined;
      l = new PeerLink(this.nodeId, nodeId, open, this.config, this.clock);
      this.links.set(nodeId, l);
    }
    return l;
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

  /**
   * A node left: what was queued for it or not acknowledged goes (its work fails with the node),
   * and its stream and channel close.
   */
  forget(nodeId: string): void {
    this.links.get(nodeId)?.close();
    this.links.delete(nodeId);
    this.clients.get(nodeId)?.close();
    this.clients.delete(nodeId);
  }

  /** Sends what is queued, then closes every stream and channel. */
  stop(): void {
    this.flush();
    this.stopped = true;
  }

  close(): void {
    for (const l of this.links.values()) l.close();
    for (const c of this.clients.values()) c.close();
  }
}
