/**
 * Collective messages between actors on different nodes: each goes to the node of its actor,
 * found in the remote actor table or the GCS, and waits (within a budget) for an actor that is
 * not placed yet.
 */
import { systemClock, type Clock } from '../clock.js';
import type { RuntimeConfig } from '../config.js';
import type { ActorsGcs } from './actors-gcs.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import type { RemoteActor } from './actor-where.js';

export class CollectiveRouter {
  /** GCS lookups of actors not in the remote actor table, by actor id (the answer is kept). */
  private readonly looked = new Map<string, Promise<string | undefined>>();
  /** Where those lookups found each actor: forgotten when that node leaves (the actor moves). */
  private readonly foundOn = new Map<string, string>();

  constructor(
    private readonly nodeId: string,
    private readonly config: Pick<RuntimeConfig, 'collectiveDeliveryTimeoutMs' | 'actorLookupRetryMs'>,
    private readonly gcs: Pick<ActorsGcs, 'getActor'>,
    private readonly actors: { get(actorId: string): RemoteActor | undefined },
    private readonly send: (nodeId: string, msg: PeerMessage) => void,
    private readonly stopped: () => boolean,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Sends a collective message to actor `to` on its node: where the remote actor table places it
   * now, else where the GCS says (retried while the actor is not placed yet).
   */
  sendCollective(to: string, key: string, dtype: string, data: ArrayBufferView, since = this.clock.now()): void {
    const known = this.actors.get(to);
    if (known?.where.kind === 'located') {
      this.deliver(known.where.node, to, key, dtype, data);
      return;
    }
    let where = this.looked.get(to);
    if (!where) {
      where = this.gcs.getActor({ actorId: to }).then(
        (r) => (r.found && r.actor?.nodeId && r.actor.state !== 'DEAD' ? r.actor.nodeId : undefined),
        () => undefined, // the GCS is down: looked up again below while the budget lasts
      );
      this.looked.set(to, where);
    }
    void where.then((nodeId) => {
      if (!nodeId) {
        this.looked.delete(to);
        const { collectiveDeliveryTimeoutMs, actorLookupRetryMs } = this.config;
        if (this.clock.now() - since < collectiveDeliveryTimeoutMs && !this.stopped())
          this.clock.after(actorLookupRetryMs, () => this.sendCollective(to, key, dtype, data, since));
        return;
      }
      this.foundOn.set(to, nodeId);
      this.deliver(nodeId, to, key, dtype, data);
    });
  }

  private deliver(nodeId: string, to: string, key: string, dtype: string, data: ArrayBufferView): void {
    if (nodeId === this.nodeId) return; // the node manager delivered it here already
    this.send(nodeId, {
      collective: { actorId: to, key, dtype, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) },
    });
  }

  /** A node left: actors found there are looked up again (they may restart elsewhere). */
  nodeLost(nodeId: string): void {
    for (const [actorId, node] of this.foundOn) {
      if (node !== nodeId) continue;
      this.foundOn.delete(actorId);
      this.looked.delete(actorId);
    }
  }
}
