/**
 * What a node's workers send it: task results, refs they hold or drop, values they put, work
 * they submit, actor lifecycle, collective messages, console output, and requests (get, wait, kill...) that it
 * answers. The node manager owns one and hands it every message.
 */
import { errorToWire } from '../errors.js';
import type { ActorHandleData, ActorTaskSpec, ClusterInfo, KvOp, TaskSpec } from '../protocol/specs.js';
import type { FromWorker, WorkerRequest } from '../protocol/worker-messages.js';
import type { StoredValue } from '../runtime/serialization.js';
import type { UserMetricsTable } from '../metrics/user-table.js';
import type { ActorManager } from './actors.js';
import type { ObjectStore } from './object-store.js';
import type { ClusterPorts } from './ports.js';
import type { Tasks } from './tasks.js';
import type { WorkerHandle } from './worker-handle.js';
import { collectGarbage } from '../runtime/arena.js';

/** The node as its workers' messages reach it. */
export interface InboxNode {
  readonly store: ObjectStore;
  readonly cluster: ClusterPorts | undefined;
  readonly tasks: Pick<Tasks, 'taskDone'>;
  readonly actors: ActorManager;
  /** User metrics of the node's threads (served on its /metrics). */
  readonly userMetrics: UserMetricsTable;
  submitTask(spec: TaskSpec): void;
  submitActorTask(spec: ActorTaskSpec): void;
  deliverCollective(to: string, key: string, dtype: string, data: ArrayBufferView, fromPeer: boolean): void;
  getValues(ids: string[], timeoutMs: number | undefined, blockedTaskId?: string): Promise<StoredValue[]>;
  waitValues(
    ids: string[],
    numReturns: number,
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<string[]>;
  cancel(objectId: string, force: boolean, recursive: boolean): Promise<void>;
  killActor(actorId: string, noRestart: boolean): Promise<void>;
  getActorByName(
    name: string,
    namespace: string | undefined,
  ): ActorHandleData | undefined | Promise<ActorHandleData | undefined>;
  namedActors(): Promise<{ name: string; namespace: string }[]>;
  clusterInfo(): ClusterInfo;
  kv(op: KvOp): Promise<unknown>;
  workerLog(w: WorkerHandle, m: Extract<FromWorker, { k: 'log' }>): void;
}

export class WorkerInbox {
  constructor(private readonly node: InboxNode) {}

  /** A message from one of the node's workers. */
  message(w: WorkerHandle, m: FromWorker): void {
    switch (m.k) {
      case 'done':
        if (!this.node.tasks.taskDone(w, m.taskId, m.outcome, m.ms))
          this.node.actors.onCallDone(w, m.taskId, m.outcome, m.ms);
        break;
      case 'pressure':
        collectGarbage();
        break;
      case 'refs':
        for (const id of m.add) this.hold(w, id);
        for (const id of m.remove) if (w.heldRefs.delete(id)) this.node.store.removeHolder(id);
        break;
      case 'put':
        this.node.store.put(m.id, m.value, w);
        break;
      case 'submitTask':
        this.node.submitTask(m.spec);
        this.holdReturns(w, m.spec.returnIds);
        break;
      case 'createActor':
        if (this.node.cluster) this.node.cluster.actors.createActor(m.spec);
        else this.node.actors.createActorFromWorker(m.spec);
        break;
      case 'submitActorTask':
        this.node.submitActorTask(m.spec);
        this.holdReturns(w, m.spec.returnIds);
        break;
      case 'actorReady':
        this.node.actors.onActorReady(m.actorId);
        break;
      case 'actorFailed':
        this.node.actors.onActorFailed(m.actorId, m.error);
        break;
      case 'coll':
        this.node.deliverCollective(m.to, m.key, m.dtype, m.data, false);
        break;
      case 'log':
        this.node.workerLog(w, m);
        break;
      case 'metrics':
        this.node.userMetrics.apply(m.batch);
        break;
      case 'req':
        this.request(m.op).then(
          (value) => w.send({ k: 'reply', reqId: m.reqId, ok: true, value }),
          (err: unknown) => w.send({ k: 'reply', reqId: m.reqId, ok: false, error: errorToWire(err) }),
        );
        break;
    }
  }

  private hold(w: WorkerHandle, id: string): void {
    if (!w.heldRefs.has(id) && this.node.store.has(id)) {
      w.heldRefs.add(id);
      this.node.store.addHolder(id);
    }
  }

  /**
   * The submitter holds the refs it gets back from the moment it submits: its own "first ref"
   * message comes later and the task may finish (and its result be freed) before that.
   */
  private holdReturns(w: WorkerHandle, returnIds: string[]): void {
    for (const id of returnIds) this.hold(w, id);
  }

  private async request(r: WorkerRequest): Promise<unknown> {
    switch (r.op) {
      case 'get':
        return this.node.getValues(r.ids, r.timeoutMs, r.taskId);
      case 'wait':
        return this.node.waitValues(r.ids, r.numReturns, r.timeoutMs, r.taskId);
      case 'cancel':
        return this.node.cancel(r.objectId, r.force, r.recursive);
      case 'kill':
        return r.exited
          ? this.node.actors.killActor(r.actorId, true, 'it called exitActor()')
          : this.node.killActor(r.actorId, r.noRestart);
      case 'getActor':
        return this.node.getActorByName(r.name, r.namespace);
      case 'namedActors':
        return this.node.namedActors();
      case 'clusterInfo':
        return this.node.clusterInfo();
      case 'kv':
        return this.node.kv(r.kv);
    }
  }
}
