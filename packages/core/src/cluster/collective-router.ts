/**
 * Collective messages between actors on different nodes: each goes to the node of its actor,
 * found in the remote actor table or the GCS, and waits (within a budget) for an actor that is
 * not placed yet.
 */
import { systemClock, type Clock } from '../clock.js';
import type { RuntimeConfig } from '../config.js';
import type { ActorsGcs } from './actors-gcs.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import type { RemoteActor } from './remote-actors.js';

export class CollectiveRouter {
  /** Where actors that get collective messages from here live (looked up once in the GCS). */
  private readonly collectiveNodes = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly nodeId: string,
    private readonly config: Pick<RuntimeConfig, 'collectiveDeliveryTimeoutMs' | 'actorLookupRetryMs'>,
    private readonly gcs: Pick<ActorsGcs, 'getActor'>,
    private readonly actors: { get(actorId: string): RemoteActor | undefined },
    private readonly send: (nodeId: string, msg: PeerMessage) => void,
    private readonly stopped: () => boolean,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Sends a collective message to actor `to` on its node (retried while the actor is not placed yet). */
  sendCollective(to: string, key: string, dtype: string, data: ArrayBufferView, since = this.clock.now()): void {
    const { collectiveDeliveryTimeoutMs, actorLookupRetryMs } = this.config;
    let where = this.collectiveNodes.get(to);
    if (!where) {
      const known = this.actors.get(to);
      const node = known && known.where.kind === 'located' ? known.where.node : undefined;
      where =
        node !== undefined
          ? Promise.resolve(node)
          : this.gcs.getActor({ actorId: to }).then(
              (r) => (r.found && r.actor?.nodeId && r.actor.state !== 'DEAD' ? r.actor.nodeId : undefined),
              () => undefined, // the GCS is down: looked up again below while the budget lasts
            );
      this.collectiveNodes.set(to, where);
    }
    void where.then((nodeId) => {
      if (!nodeId) {
        this.collectiveNodes.delete(to);
        if (this.clock.now() - since < collectiveDeliveryTimeoutMs && !this.stopped())
          this.clock.after(actorLookupRetryMs, () => this.sendCollective(to, key, dtype, data, since));
        return;
      }
      if (nodeId !== this.nodeId)
        this.send(nodeId, {
          collective: { actorId: to, key, dtype, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) },
        });
    });
  }
}
