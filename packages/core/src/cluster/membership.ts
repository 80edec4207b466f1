/**
 * A node's membership in its cluster: registration with the GCS, heartbeats (which carry the
 * node's resources and load), and the cluster view it follows through the GCS's event stream.
 * If the stream breaks (the head restarted, or is down), it is opened again until the GCS
 * answers; meanwhile the node keeps its last view and work between live nodes goes on.
 */
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, RayError } from '../errors.js';
import { ignored } from '../log.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import type { GcsEvent__Output } from './generated/raytscore/GcsEvent.js';
import type { NodeInfo, NodeInfo__Output } from './generated/raytscore/NodeInfo.js';
import type { PlacementGroupInfo__Output } from './generated/raytscore/PlacementGroupInfo.js';
import type { ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { JobInfo__Output } from './generated/raytscore/JobInfo.js';
import { unary } from './proto.js';
import { authErrorOf } from './auth.js';

/** The cluster as a node last heard of it from the GCS. */
export interface View {
  get(nodeId: string): NodeInfo__Output | undefined;
  nodes(): Iterable<NodeInfo__Output>;
  /** Resources of node types an autoscaler may start. */
  readonly potential: readonly Record<string, number>[];
}

/** A node that stopped being alive in a new view: why, and what it was. */
export interface LostNode {
  nodeId: string;
  why: string;
  info: NodeInfo__Output;
}

/** What the rest of the node hears from the GCS. */
export interface MembershipEvents {
  /** A new view: nodes that stopped being alive, and nodes whose resources or load changed. */
  view(lost: LostNode[], changed: string[]): void;
  /** After a new view was applied and waiters were told. */
  viewApplied(): void;
  group(p: PlacementGroupInfo__Output): void;
  actorDead(a: ActorInfo__Output): void;
  /** Every job event (a job that runs, with its driver's node, or that ended). */
  job(j: JobInfo__Output): void;
  jobFinished(jobId: string): void;
  /** The cluster declared this node dead while it ran (a partition): it must stop, not rejoin. */
  fenced(): void;
}

export interface MembershipOptions {
  nodeId: string;
  gcsAddress: string;
  heartbeatMs: number;
  resubscribeMs: number;
  /** This node as it registers and reports itself. */
  info: () => NodeInfo;
}

export class Membership implements View {
  private nodesById = new Map<string, NodeInfo__Output>();
  potential: Record<string, number>[] = [];
  private viewWaiters: (() => void)[] = [];
  private subscription: grpc.ClientReadableStream<GcsEvent__Output> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly gcs: GcsClient,
    private readonly opts: MembershipOptions,
    private readonly events: MembershipEvents,
  ) {}

  get(nodeId: string): NodeInfo__Output | undefined {
    return this.nodesById.get(nodeId);
  }

  nodes(): IterableIterator<NodeInfo__Output> {
    return this.nodesById.values();
  }

  isAlive(nodeId: string): boolean {
    return this.nodesById.get(nodeId)?.state === 'ALIVE';
  }

  /** Registers with the GCS and starts heartbeats and the view subscription. */
  async start(): Promise<void> {
    const { gcsAddress, nodeId } = this.opts;
    try {
      await unary(this.gcs, 'RegisterNode', this.opts.info(), 10_000);
    } catch (err) {
      const refused = authErrorOf(err, gcsAddress);
      if (refused) throw refused;
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.FAILED_PRECONDITION)
        throw new InvalidArgumentError(`Cannot join the cluster at ${gcsAddress}: ${e.details}`);
      throw new RayError(
        `Cannot reach a ray-ts cluster at ${gcsAddress} (${e.details || e.message}). ` +
          `Check the address (HOST:PORT of the head, as 'ray-ts start --head' printed it) and that the head is running ('ray-ts status --address ${gcsAddress}').`,
      );
    }
    this.subscribe();
    await this.waitForView((v) => v.get(nodeId) !== undefined, 10_000);
    this.heartbeat = setInterval(() => {
      unary<unknown, { known: boolean; dead: boolean }>(this.gcs, 'Heartbeat', { node: this.opts.info() }, 5_000).then(
        (r) => {
          if (r.dead && !this.stopped) {
            this.stopped = true;
            if (this.heartbeat) clearInterval(this.heartbeat);
            this.events.fenced();
            return;
          }
          // Unknown: the GCS restarted without this node's record (no Redis), so it joins again.
          if (!r.known && !this.stopped)
            unary(this.gcs, 'RegisterNode', this.opts.info(), 5_000).catch(ignored('registration after a GCS restart'));
        },
        ignored('heartbeat (the GCS is restarting or down; the next one retries)'),
      );
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  private subscribe(): void {
    const s = this.gcs.Subscribe({ nodeId: this.opts.nodeId });
    this.subscription = s;
    let again = false;
    const resubscribe = () => {
      if (again || this.stopped) return;
      again = true;
      setTimeout(() => {
        if (!this.stopped) this.subscribe();
      }, this.opts.resubscribeMs).unref();
    };
    s.on('data', (ev: GcsEvent__Output) => this.onEvent(ev));
    s.on('error', resubscribe);
    s.on('end', resubscribe);
  }

  private onEvent(ev: GcsEvent__Output): void {
    if (ev.view) {
      const next = new Map<string, NodeInfo__Output>();
      for (const n of ev.view.nodes) next.set(n.nodeId, n);
      const lost: LostNode[] = [];
      // A driver that left (or a node that died): its borrows end, and copies it owned go.
      for (const [id, n] of this.nodesById) {
        const now = next.get(id);
        if (n.state === 'ALIVE' && (!now || now.state !== 'ALIVE'))
          lost.push({ nodeId: id, why: !now ? 'left the cluster' : 'died (it missed its heartbeats)', info: n });
      }
      const changed: string[] = [];
      for (const [id, n] of next) {
        const was = this.nodesById.get(id);
        if (
          !was ||
          JSON.stringify(was.resourcesAvailable) !== JSON.stringify(n.resourcesAvailable) ||
          JSON.stringify(was.load) !== JSON.stringify(n.load)
        )
          changed.push(id);
      }
      this.nodesById = next;
      this.potential = ev.view.potentialNodes.map((d) => d.shape);
      this.events.view(lost, changed);
      const ws = this.viewWaiters;
      this.viewWaiters = [];
      for (const w of ws) w();
      this.events.viewApplied();
    } else if (ev.placementGroup) {
      this.events.group(ev.placementGroup);
    } else if (ev.actor && ev.actor.state === 'DEAD') {
      this.events.actorDead(ev.actor);
    } else if (ev.job) {
      this.events.job(ev.job);
      if (ev.job.state === 'FINISHED') this.events.jobFinished(ev.job.jobId);
    }
  }

  /** Resolves true once the view satisfies `pred`, false after `timeoutMs`. */
  waitForView(pred: (v: View) => boolean, timeoutMs: number): Promise<boolean> {
    if (pred(this)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      const check = () => {
        if (pred(this)) {
          clearTimeout(timer);
          resolve(true);
        } else this.viewWaiters.push(check);
      };
      this.viewWaiters.push(check);
    });
  }

  /** Leaves the cluster: unregisters and stops following it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await unary(this.gcs, 'UnregisterNode', { nodeId: this.opts.nodeId }, 2_000).catch(
      ignored('unregistration at stop (the GCS marks the node dead when its heartbeats stop)'),
    );
    this.subscription?.cancel();
  }
}
