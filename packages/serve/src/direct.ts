/**
 * HTTP requests from a proxy to a replica in the same process, without the driver thread's relay:
 * an actor call crosses four threads (proxy, driver, replica, driver, proxy); a message on a
 * BroadcastChannel named after the replica, answered on one named after the router's thread,
 * crosses two. A router asks each replica once (`hello`); a replica in another process never
 * answers, and its requests keep going as actor calls. The router still learns of a replica's
 * death from the actor system: it probes the replica (`Router`), and `failReplica()` then fails
 * what waits on it with the ActorDiedError, as the actor call would have.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { getLogger } from '@ray-ts/core';
import { serveConfig } from './constants.js';
import type { ReplicaReply, ReplicaRequest } from './wire.js';

const log = getLogger('ray-ts.serve');

const toReplica = (replicaId: string) => `ray-ts-serve/replica/${replicaId}`;
const toRouter = (routerId: string) => `ray-ts-serve/router/${routerId}`;

type RouterMessage = { k: 'hello'; from: string } | { k: 'call'; from: string; callId: string; req: ReplicaRequest };
type ReplicaMessage =
  | { k: 'here'; replica: string }
  | { k: 'reply'; callId: string; reply?: ReplicaReply; error?: { name: string; message: string } };

/**
 * A replica's side: answers `hello` and serves calls with `handle`. Returns the function that
 * stops it (the replica stopped: calls still sent are left to the router's probe).
 */
export function serveDirect(
  replicaId: string,
  handle: (req: ReplicaRequest, callId: string) => Promise<ReplicaReply>,
): () => void {
  const inbox = new BroadcastChannel(toReplica(replicaId));
  const outs = new Map<string, BroadcastChannel>();
  const out = (routerId: string) => {
    let c = outs.get(routerId);
    if (!c) {
      c = new BroadcastChannel(toRouter(routerId));
      c.unref();
      outs.set(routerId, c);
    }
    return c;
  };
  const post = (routerId: string, m: ReplicaMessage) => out(routerId).postMessage(m);
  inbox.onmessage = (e: unknown) => {
    const m = (e as { data: RouterMessage }).data;
    if (m.k === 'hello') return post(m.from, { k: 'here', replica: replicaId });
    handle(m.req, m.callId).then(
      (reply) => post(m.from, { k: 'reply', callId: m.callId, reply }),
      (err: unknown) => {
        const e = err as Error;
        post(m.from, {
          k: 'reply',
          callId: m.callId,
          error: { name: e?.name ?? 'Error', message: e?.message ?? String(err) },
        });
      },
    );
  };
  inbox.unref();
  return () => {
    inbox.close();
    for (const c of outs.values()) c.close();
    outs.clear();
  };
}

interface Pending {
  replicaId: string;
  resolve: (r: ReplicaReply) => void;
  reject: (err: Error) => void;
}

/** A thread's routers' side: which replicas answer here, and the calls waiting for them. */
export class DirectLink {
  private readonly id = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly inbox = new BroadcastChannel(toRouter(this.id));
  /** Replicas asked, by id: their channel, and whether they answered (are in this process). */
  private readonly replicas = new Map<string, { channel: BroadcastChannel; here: boolean }>();
  private readonly pending = new Map<string, Pending>();

  constructor() {
    this.inbox.onmessage = (e: unknown) => this.onMessage((e as { data: ReplicaMessage }).data);
    this.inbox.unref();
  }

  /** The replica's channel when it is in this process; asks it the first time (undefined until it answers). */
  channel(replicaId: string): BroadcastChannel | undefined {
    const r = this.replicas.get(replicaId);
    if (r) return r.here ? r.channel : undefined;
    const channel = new BroadcastChannel(toReplica(replicaId));
    channel.unref();
    this.replicas.set(replicaId, { channel, here: false });
    channel.postMessage({ k: 'hello', from: this.id } satisfies RouterMessage);
    return undefined;
  }

  /** Sends a request to the replica; resolves with its reply. */
  call(replicaId: string, channel: BroadcastChannel, req: ReplicaRequest, callId: string): Promise<ReplicaReply> {
    return new Promise<ReplicaReply>((resolve, reject) => {
      this.pending.set(callId, { replicaId, resolve, reject });
      try {
        channel.postMessage({ k: 'call', from: this.id, callId, req } satisfies RouterMessage);
      } catch (err) {
        this.pending.delete(callId);
        reject(err as Error);
      }
    });
  }

  /** Requests waiting for the replica. */
  waiting(replicaId: string): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.replicaId === replicaId) n++;
    return n;
  }

  /** The replica left the routing table and nothing waits for it: its channel closes. */
  forget(replicaId: string): void {
    if (this.waiting(replicaId) > 0) return;
    this.replicas.get(replicaId)?.channel.close();
    this.replicas.delete(replicaId);
  }

  /** The replica died: what waits for it fails with `err`, and it is asked again if it comes back. */
  failReplica(replicaId: string, err: Error): void {
    for (const [callId, p] of this.pending) {
      if (p.replicaId !== replicaId) continue;
      this.pending.delete(callId);
      p.reject(err);
    }
    this.replicas.get(replicaId)?.channel.close();
    this.replicas.delete(replicaId);
  }

  private onMessage(m: ReplicaMessage): void {
    if (m.k === 'here') {
      const r = this.replicas.get(m.replica);
      if (r) r.here = true;
      return;
    }
    const p = this.pending.get(m.callId);
    if (!p) return log.debug(`direct: a reply to call ${m.callId}, which no one waits for`);
    this.pending.delete(m.callId);
    if (m.reply) p.resolve(m.reply);
    else
      p.reject(Object.assign(new Error(m.error?.message ?? 'the replica failed'), { name: m.error?.name ?? 'Error' }));
  }
}

let link: DirectLink | undefined;

/** This thread's link (undefined when `serveConfig.direct` is off). */
export function directLink(): DirectLink | undefined {
  if (!serveConfig.direct) return undefined;
  link ??= new DirectLink();
  return link;
}
