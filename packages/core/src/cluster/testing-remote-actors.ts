/**
 * Fakes for the unit tests of the remote actor table (remote-actors.ts): the GCS's actor table and
 * the node and cluster layer around it, recording what the table asks of them. For core's own unit
 * tests: not exported from index.ts.
 */
import { errorFromWire } from '../errors.js';
import type { CompiledActorOptions, ResourceSet } from '../options.js';
import type { Placement, ResultValue } from '../node/ports.js';
import type { ActorCreationSpec, ActorTaskSpec, ArgSpec } from '../protocol/specs.js';
import { FakeClock } from '../testing-clock.js';
import type { ActorsGcs } from './actors-gcs.js';
import type { ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { PeerMessage } from './generated/raytscore/PeerMessage.js';
import { RemoteActors, type RemoteActorsHost } from './remote-actors.js';
import { argRefs } from './wire.js';

/** Budgets of the remote actor table in these tests (ms). */
export const config = {
  actorParkRetryMs: 50,
  actorQueueAfterMs: 1_000,
  actorLookupTimeoutMs: 10_000,
  actorLookupRetryMs: 50,
  actorUnknownTimeoutMs: 1_000,
  collectiveDeliveryTimeoutMs: 60_000,
};

/** An actor as the GCS lists it (ALIVE, no node yet unless `over` says). */
export function info(actorId: string, over: Partial<ActorInfo__Output> = {}): ActorInfo__Output {
  return {
    actorId,
    name: '',
    namespace: 'test',
    className: 'Counter',
    nodeId: '',
    ownerNodeId: 'node-z',
    jobId: 'job-1',
    state: 'ALIVE',
    detached: false,
    methods: ['incr'],
    numRestarts: 0,
    deathCause: '',
    resources: { CPU: 1 },
    placementGroupId: '',
    maxTaskRetries: 0,
    ...over,
  };
}

/** The GCS's actor table; with `hold`, lookups wait until the test answers them. */
export class FakeGcs implements ActorsGcs {
  readonly actors = new Map<string, ActorInfo__Output>();
  readonly updates: (Partial<ActorInfo__Output> & { actorId: string })[] = [];
  readonly registered: ActorInfo__Output[] = [];
  lookups = 0;
  hold = false;
  private readonly held: (() => void)[] = [];

  put(a: ActorInfo__Output): void {
    this.actors.set(a.actorId, a);
  }

  set(actorId: string, over: Partial<ActorInfo__Output>): void {
    this.put({ ...this.actors.get(actorId)!, ...over });
  }

  getActor(
    query: { actorId: string } | { name: string; namespace: string },
  ): Promise<{ found: boolean; actor: ActorInfo__Output | null }> {
    this.lookups++;
    const answer = () => {
      const a =
        'actorId' in query
          ? this.actors.get(query.actorId)
          : [...this.actors.values()].find((x) => x.name === query.name && x.namespace === query.namespace);
      return { found: a !== undefined, actor: a ? { ...a } : null };
    };
    if (!this.hold) return Promise.resolve(answer());
    return new Promise((resolve) => this.held.push(() => resolve(answer())));
  }

  /** Answers the held lookup `i` (in order of asking). */
  answer(i: number): void {
    this.held[i]();
  }

  async registerActor(a: ActorInfo__Output): Promise<{ ok: boolean; existing: ActorInfo__Output | null }> {
    const existing = a.name ? [...this.actors.values()].find((x) => x.name === a.name) : undefined;
    if (existing && existing.actorId !== a.actorId && existing.state !== 'DEAD') return { ok: false, existing };
    this.registered.push(a);
    this.put(a);
    return { ok: true, existing: null };
  }

  async updateActor(u: Partial<ActorInfo__Output> & { actorId: string }): Promise<unknown> {
    this.updates.push(u);
    const a = this.actors.get(u.actorId);
    if (a) this.put({ ...a, ...u });
    return {};
  }

  reportActor(u: Partial<ActorInfo__Output> & { actorId: string }): void {
    void this.updateActor(u);
  }

  async listActors(): Promise<{ actors: ActorInfo__Output[] }> {
    return { actors: [...this.actors.values()] };
  }
}

/** Node 'node-a' of a cluster, as the remote actor table sees it: it records what it is asked to do. */
export class FakeActorsHost implements RemoteActorsHost {
  readonly nodeId = 'node-a';
  readonly jobId = 'job-1';
  readonly namespace = 'test';
  readonly executes = true;
  readonly config = config;
  readonly gcs = new FakeGcs();
  readonly stopped = false;
  readonly sent: { node: string; msg: PeerMessage }[] = [];
  readonly results = new Map<string, ResultValue>();
  readonly pins = new Map<string, number>();
  readonly local: ActorCreationSpec[] = [];
  readonly localCalls: ActorTaskSpec[] = [];
  readonly charged: string[] = [];
  /** Where place() puts actors. */
  placement: Placement = { kind: 'node', nodeId: 'node-b' };
  /** Nodes with room now (this node's own room is `localRoom`). */
  readonly room = new Set(['node-b', 'node-c', 'node-d']);
  localRoom = false;
  busyNode: string | undefined = undefined;
  /** Resolves the wait for a node the autoscaler starts. */
  nodeStarted: (() => void) | undefined;

  pinArgs(args: ArgSpec[]): void {
    for (const id of argRefs(args)) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
  }
  unpinArgs(args: ArgSpec[]): void {
    for (const id of argRefs(args)) this.pins.set(id, (this.pins.get(id) ?? 0) - 1);
  }
  createPending(): void {}
  storeResult(id: string, v: ResultValue): void {
    this.results.set(id, v);
  }
  createLocalActor(spec: ActorCreationSpec): void {
    this.local.push(spec);
  }
  submitLocalCall(spec: ActorTaskSpec): void {
    this.localCalls.push(spec);
  }
  hostsActor(actorId: string): boolean {
    return this.local.some((s) => s.actorId === actorId);
  }
  async killLocalActor(): Promise<void> {}
  fitsBesideQueuedActors(): boolean {
    return this.localRoom;
  }
  infeasible(): undefined {
    return undefined;
  }
  place(): Placement {
    return this.placement;
  }
  roomOn(nodeId: string): boolean {
    return nodeId === this.nodeId ? this.localRoom : this.room.has(nodeId);
  }
  roomElsewhere(): boolean {
    return this.room.size > 0;
  }
  busyNodeFor(): string | undefined {
    return this.busyNode;
  }
  actorSent(nodeId: string, _resources: ResourceSet): void {
    this.charged.push(nodeId);
  }
  waitForNodeFitting(): Promise<boolean> {
    return new Promise((resolve) => (this.nodeStarted = () => resolve(true)));
  }
  group(): undefined {
    return undefined;
  }
  whenGroupPlaced(): void {}
  send(node: string, msg: PeerMessage): void {
    this.sent.push({ node, msg });
  }
  owners(): { owners: Record<string, string> } {
    return { owners: {} };
  }

  /** Actor calls sent, as [node, task id]. */
  calls(): [string, string][] {
    return this.sent.filter((s) => s.msg.actorCall).map((s) => [s.node, s.msg.actorCall!.spec!.taskId!]);
  }

  /** Actor creations sent, as [node, actor id, maxRestarts]. */
  creations(): [string, string, number][] {
    return this.sent
      .filter((s) => s.msg.createActor)
      .map((s) => [s.node, s.msg.createActor!.spec!.actorId!, s.msg.createActor!.spec!.options!.maxRestarts!]);
  }

  /** The error a return holds (undefined if none, or if it holds a value). */
  error(id: string): Error | undefined {
    const v = this.results.get(id);
    return v && v.t === 'err' ? errorFromWire(v.e) : undefined;
  }
}

/** A remote actor table on a fake host and GCS, with a fake clock. */
export function setup() {
  const host = new FakeActorsHost();
  const clock = new FakeClock();
  const actors = new RemoteActors(host, clock);
  return { host, gcs: host.gcs, clock, actors };
}

/** A call of method `incr` with one return `<taskId>.0`. */
export function call(taskId: string, actorId: string, args: ArgSpec[] = []): ActorTaskSpec {
  return { taskId, actorId, method: 'incr', name: 'Counter.incr', args, returnIds: [`${taskId}.0`] };
}

/** The creation spec of a Counter actor with default options (no restarts), over `options`. */
export function creation(
  actorId: string,
  options: Partial<CompiledActorOptions> = {},
  args: ArgSpec[] = [],
): ActorCreationSpec {
  return {
    actorId,
    className: 'Counter',
    cls: { id: 'cls-counter' },
    args,
    options: {
      name: undefined,
      namespace: undefined,
      detached: false,
      maxRestarts: 0,
      maxTaskRetries: 0,
      maxConcurrency: undefined,
      resources: { CPU: 1 },
      isolation: 'thread',
      getIfExists: false,
      strategy: undefined,
      ...options,
    },
    methods: ['incr'],
    hasAsyncMethods: false,
  };
}
