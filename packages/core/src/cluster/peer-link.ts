/**
 * The sending end of the messages from this node to one other node: a bidi `Peer` stream that
 * carries batches of messages, acknowledged by the receiver, and sent again when a stream breaks.
 *
 * - Batches: the messages of a turn go in one batch unless it would pass `peerBatchMaxMessages`
 *   or `peerBatchMaxBytes` (estimated from the payloads they carry); then in several, in order.
 * - Backpressure: when the stream's buffer is full (`write()` returned false) messages wait here
 *   until it drains, and go in larger batches then. Nothing is dropped and the sender is not
 *   slowed down: past `peerQueueWarnBytes` waiting or unacknowledged a warning says so (once per
 *   crossing), as memory grows with the backlog.
 * - Acknowledgements: batches are numbered from 1 within the link's session (one per link, so per
 *   sender incarnation and receiver). The receiver answers on the same stream with the highest
 *   seq it processed, once per turn; acknowledged batches are let go.
 * - Resend: when the stream errs or ends (a connection cut, the peer restarting its server), the
 *   batches not acknowledged are written again, in order, on a new stream opened after a backoff
 *   (`peerReconnectMs`, doubling up to `peerReconnectMaxMs`, reset by an acknowledgement); the
 *   receiver drops those it processed already (see PeerInbox).
 * A node the cluster declares dead is forgotten (Peers.forget): what was waiting for it goes, and
 * its work fails the way a dead node's work does (the node manager and remote actors react to the
 * view change).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { RuntimeConfig } from '../config.js';
import { getLogger, ignored } from '../log.js';
import type { PeerBatch, PeerBatch__Output } from './generated/raytscore/PeerBatch.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';

const log = getLogger('ray-ts.core');

/** The settings of a link (config.ts). */
export type PeerLinkConfig = Pick<
  RuntimeConfig,
  'peerBatchMaxMessages' | 'peerBatchMaxBytes' | 'peerQueueWarnBytes' | 'peerReconnectMs' | 'peerReconnectMaxMs'
>;

/** What a link needs of an outgoing gRPC stream (a grpc-js ClientDuplexStream). */
export interface PeerStream {
  write(batch: PeerBatch): boolean;
  end(): void;
  on(event: 'data', fn: (b: PeerBatch__Output) => void): unknown;
  on(event: 'drain' | 'end', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
}

/** Bytes a message holds beyond its fixed fields: a cheap estimate of its encoded size. */
export function messageBytes(m: PeerMessage): number {
  let n = 64;
  const args = (list: readonly { value?: { data?: Uint8Array | string | null } | null }[] | undefined) => {
    for (const a of list ?? []) n += 32 + byteLength(a.value?.data);
  };
  if (m.executeTask) {
    args(m.executeTask.spec?.args);
    n += byteLength(m.executeTask.spec?.fn?.desc?.source);
  } else if (m.actorCall) args(m.actorCall.spec?.args);
  else if (m.createActor) {
    args(m.createActor.spec?.args);
    n += byteLength(m.createActor.spec?.cls?.desc?.source);
  } else if (m.taskDone) for (const v of m.taskDone.results ?? []) n += 32 + byteLength(v.data);
  else if (m.collective) n += byteLength(m.collective.data);
  else if (m.workerLogs) for (const l of m.workerLogs.lines ?? []) n += 16 + byteLength(l.text);
  return n;
}

function byteLength(d: Uint8Array | string | null | undefined): number {
  if (!d) return 0;
  return typeof d === 'string' ? d.length : d.byteLength;
}

interface Sent {
  seq: number;
  batch: PeerBatch;
  bytes: number;
}

export class PeerLink {
  /** This link's session: the receiver counts its batches by it. */
  readonly session = randomUUID();
  private seq = 0;
  /** Messages not in a batch yet, and their estimated sizes. */
  private queue: PeerMessage[] = [];
  private queueSizes: number[] = [];
  private queueBytes = 0;
  /** Batches written (or to write again) and not acknowledged, in seq order. */
  private unacked: Sent[] = [];
  private unackedBytes = 0;
  private stream: PeerStream | undefined;
  /** How many of `unacked` (from the front) were written on the current stream. */
  private written = 0;
  private writable = true;
  private backoffMs: number;
  private cancelRetry: (() => void) | undefined;
  private warned = false;
  private closed = false;

  constructor(
    private readonly fromNode: string,
    private readonly target: string,
    /** Opens a stream to the target (undefined: its address is not known yet). */
    private readonly open: () => PeerStream | undefined,
    private readonly config: PeerLinkConfig,
    private readonly clock: Clock,
  ) {
    this.backoffMs = config.peerReconnectMs;
  }

  /** Messages and bytes waiting here (not acknowledged yet), for tests and the debug state. */
  get backlog(): { messages: number; batches: number; bytes: number } {
    return { messages: this.queue.length, batches: this.unacked.length, bytes: this.queueBytes + this.unackedBytes };
  }

  /** Queues a message; flush() sends it. */
  push(msg: PeerMessage): void {
    if (this.closed) return;
    const bytes = messageBytes(msg);
    this.queue.push(msg);
    this.queueSizes.push(bytes);
    this.queueBytes += bytes;
    this.checkBacklog();
  }

  /** Writes what waits, as far as the stream takes it (opening one if there is none). */
  flush(): void {
    if (this.closed || (!this.queue.length && this.written === this.unacked.length)) return;
    if (!this.stream) {
      if (this.cancelRetry) return; // a broken stream's backoff: the timer flushes
      this.stream = this.openStream();
      if (!this.stream) return;
    }
    const stream = this.stream;
    while (this.writable && this.written < this.unacked.length) {
      this.writable = stream.write(this.unacked[this.written++].batch);
    }
    while (this.writable && this.queue.length) {
      const sent = this.cut();
      this.unacked.push(sent);
      this.unackedBytes += sent.bytes;
      this.written++;
      this.writable = stream.write(sent.batch);
    }
  }

  /** Ends the stream; what was not sent or acknowledged is dropped (the target left, or this node stops). */
  close(): void {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const s = this.stream;
    this.stream = undefined;
    try {
      s?.end();
    } catch (err) {
      ignored(`ending the peer stream to ${this.target} (it is closed already)`)(err);
    }
    this.queue = [];
    this.queueSizes = [];
    this.unacked = [];
    this.queueBytes = this.unackedBytes = 0;
  }

  /** The next batch: the front of the queue, up to the bounds (at least one message). */
  private cut(): Sent {
    const { peerBatchMaxMessages: maxN, peerBatchMaxBytes: maxB } = this.config;
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < maxN && (n === 0 || bytes + this.queueSizes[n] <= maxB)) {
      bytes += this.queueSizes[n++];
    }
    const messages = n === this.queue.length ? this.queue : this.queue.slice(0, n);
    this.queue = n === this.queue.length ? [] : this.queue.slice(n);
    this.queueSizes = this.queueSizes.slice(n);
    this.queueBytes -= bytes;
    const seq = ++this.seq;
    return { seq, bytes, batch: { fromNode: this.fromNode, session: this.session, seq, messages } };
  }

  private openStream(): PeerStream | undefined {
    const s = this.open();
    if (!s) return undefined;
    this.written = 0;
    this.writable = true;
    s.on('data', (b) => {
      if (this.stream === s) this.acked(Number(b.ack));
    });
    s.on('drain', () => {
      if (this.stream !== s) return;
      this.writable = true;
      this.flush();
    });
    // A late error of a stream that was replaced keeps the new one.
    s.on('error', (err) => this.broken(s, err.message));
    s.on('end', () => this.broken(s, 'the receiver ended the stream'));
    return s;
  }

  private acked(ack: number): void {
    let n = 0;
    while (n < this.unacked.length && this.unacked[n].seq <= ack) this.unackedBytes -= this.unacked[n++].bytes;
    if (!n) return;
    this.unacked = this.unacked.slice(n);
    this.written = Math.max(0, this.written - n);
    this.backoffMs = this.config.peerReconnectMs;
    this.checkBacklog();
  }

  /** The stream broke: what it did not get acknowledged goes again on a new one, after a backoff. */
  private broken(s: PeerStream, why: string): void {
    if (this.stream !== s) return;
    this.stream = undefined;
    this.written = 0;
    this.writable = true;
    try {
      s.end();
    } catch (err) {
      ignored(`ending the broken peer stream to ${this.target}`)(err);
    }
    if (this.closed) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.config.peerReconnectMaxMs);
    ignored(`peer stream to ${this.target} broke; ${this.unacked.length} batches go again in ${wait} ms`)(
      new Error(why),
    );
    this.cancelRetry = this.clock.after(wait, () => {
      this.cancelRetry = undefined;
      this.flush();
    });
  }

  private checkBacklog(): void {
    const bytes = this.queueBytes + this.unackedBytes;
    const limit = this.config.peerQueueWarnBytes;
    if (!this.warned && bytes > limit) {
      this.warned = true;
      log.warn(
        `node ${this.fromNode} has ${bytes} bytes of messages for node ${this.target} waiting to be sent or ` +
          `acknowledged (more than peerQueueWarnBytes, ${limit}): that node or the network does not keep up. ` +
          'They are kept (nothing is dropped); submit work more slowly, or raise RAY_TS_PEER_QUEUE_WARN_BYTES.',
      );
    } else if (this.warned && bytes < limit / 2) this.warned = false;
  }
}
