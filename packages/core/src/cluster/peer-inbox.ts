/**
 * The receiving end of other nodes' Peer streams (see peer-link.ts): hands each batch on once,
 * in order, dropping batches sent again after a stream broke that were processed already, and
 * acknowledges what it processed on the same stream, coalesced: one acknowledgement per stream
 * every `peerAckDelayMs` at most (the sender needs them only to let batches go, so they need not
 * be prompt, and a message each way per batch would double the messages of a 1:1 call loop).
 */
import { systemClock, type Clock } from '../clock.js';
import type { PeerBatch, PeerBatch__Output } from './generated/raytscore/PeerBatch.js';
import { ignored } from '../log.js';

/** What the inbox needs of an incoming gRPC stream (a grpc-js ServerDuplexStream). */
export interface InboundPeerStream {
  write(batch: PeerBatch): boolean;
  on(event: 'data', fn: (b: PeerBatch__Output) => void): unknown;
}

export class PeerInbox {
  /** The highest seq processed per sender and session (`from` NUL `session`). */
  private readonly processed = new Map<string, number>();
  /** The sessions of each sender. */
  private readonly sessions = new Map<string, Set<string>>();

  constructor(
    private readonly ackDelayMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Takes the batches of one stream: each batch not processed yet goes to `handle`, then the
   * highest seq processed is acknowledged (coalesced: at most one every `ackDelayMs`).
   */
  serve(call: InboundPeerStream, handle: (b: PeerBatch__Output) => void): void {
    let ack: PeerBatch | undefined;
    call.on('data', (b) => {
      const seq = Number(b.seq);
      if (!b.session || !seq) {
        handle(b); // no session: not acknowledged, never sent again
        return;
      }
      const key = `${b.fromNode}\0${b.session}`;
      const last = this.processed.get(key) ?? 0;
      if (seq > last) {
        this.processed.set(key, seq);
        let s = this.sessions.get(b.fromNode);
        if (!s) this.sessions.set(b.fromNode, (s = new Set()));
        s.add(b.session);
        handle(b);
      }
      if (ack) {
        ack.ack = Math.max(Number(ack.ack), seq);
        return;
      }
      ack = { fromNode: '', session: b.session, ack: Math.max(seq, last) };
      this.clock.after(this.ackDelayMs, () => {
        const a = ack!;
        ack = undefined;
        try {
          call.write(a);
        } catch (err) {
          ignored('an acknowledgement on a closed peer stream (the sender sends those batches again)')(err);
        }
      });
    });
  }

  /** A sender left the cluster: its sessions are forgotten (a new incarnation opens new ones). */
  forget(nodeId: string): void {
    for (const session of this.sessions.get(nodeId) ?? []) this.processed.delete(`${nodeId}\0${session}`);
    this.sessions.delete(nodeId);
  }
}
