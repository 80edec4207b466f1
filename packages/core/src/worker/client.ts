/**
 * The worker's side of the node protocol: a {@link CoreClient} that sends batched messages to the
 * node and matches replies to requests.
 */
import { ignored } from '../log.js';
import { ExecutionContext, executionContext } from '../runtime/execution-context.js';
import type { CoreClient } from '../runtime/client.js';
import { errorFromWire } from '../errors.js';
import type { RefTracker } from '../runtime/object-ref.js';
import type {
  KvOp,
  ActorCreationSpec,
  ActorHandleData,
  ActorTaskSpec,
  ClusterInfo,
  TaskContextData,
  TaskSpec,
} from '../protocol/specs.js';
import type { FromWorker, ToWorker, WorkerRequest } from '../protocol/worker-messages.js';
import type { StoredValue } from '../runtime/serialization.js';
import type { WorkerBoot } from '../node/worker-handle.js';

export { ExecutionContext, executionContext };

export class WorkerClient implements CoreClient {
  readonly jobId: string;
  readonly nodeId: string;
  readonly workerId: string;
  readonly namespace: string;
  readonly inlineObjectMaxBytes: number;
  tracker: RefTracker | undefined;
  private outbox: FromWorker[] = [];
  private flushScheduled = false;
  /** When the oldest message of the outbox was queued (performance.now()). */
  private queuedAt = 0;
  private nextReq = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  constructor(
    boot: WorkerBoot,
    private readonly post: (batch: FromWorker[]) => void,
  ) {
    this.jobId = boot.jobId;
    this.nodeId = boot.nodeId;
    this.workerId = boot.workerId;
    this.namespace = boot.namespace;
    this.inlineObjectMaxBytes = boot.inlineObjectMaxBytes;
  }

  send(msg: FromWorker): void {
    // Ref additions go first, so the node counts a ref before it may free what pinned it.
    if (msg.k !== 'refs') this.tracker?.flush();
    if (this.outbox.length === 0) this.queuedAt = performance.now();
    this.outbox.push(msg);
    if (this.outbox.length >= 256) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.post(batch);
  }

  /**
   * Sends what a console call wrote to the node. Code that runs long without yielding (a loop that
   * prints its progress) would hold its lines until it ends: they go at once when the outbox has
   * waited 50 ms.
   */
  log(msg: Extract<FromWorker, { k: 'log' }>): void {
    this.send(msg);
    if (this.outbox.length > 0 && performance.now() - this.queuedAt >= 50) this.flush();
  }

  onReply(m: Extract<ToWorker, { k: 'reply' }>): void {
    const p = this.pending.get(m.reqId);
    if (!p) return;
    this.pending.delete(m.reqId);
    if (m.ok) p.resolve(m.value);
    else p.reject(errorFromWire(m.error));
  }

  private request<T>(op: WorkerRequest): Promise<T> {
    const reqId = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(reqId, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ k: 'req', reqId, op });
    });
  }

  currentTask(): TaskContextData | undefined {
    return executionContext.getStore()?.data;
  }

  submitTask(spec: TaskSpec): void {
    this.send({ k: 'submitTask', spec });
  }

  createActor(spec: ActorCreationSpec): string | undefined {
    this.send({ k: 'createActor', spec });
    return undefined;
  }

  submitActorTask(spec: ActorTaskSpec): void {
    this.send({ k: 'submitActorTask', spec });
  }

  put(id: string, value: StoredValue): void {
    this.send({ k: 'put', id, value });
  }

  /** Told when a task (not an actor call) starts or stops waiting in get/wait. */
  onBlockChange: ((delta: number) => void) | undefined;

  private blocking<T>(op: WorkerRequest): Promise<T> {
    const task = this.currentTask();
    if (!task || task.actorId) return this.request(op);
    this.onBlockChange?.(1);
    const p = this.request<T>({ ...op, taskId: task.taskId } as WorkerRequest);
    void p.then(
      () => this.onBlockChange?.(-1),
      () => this.onBlockChange?.(-1),
    );
    return p;
  }

  get(ids: string[], timeoutMs: number | undefined): Promise<StoredValue[]> {
    return this.blocking({ op: 'get', ids, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  wait(ids: string[], numReturns: number, timeoutMs: number | undefined): Promise<string[]> {
    return this.blocking({ op: 'wait', ids, numReturns, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  cancel(objectId: string, force: boolean, recursive: boolean): Promise<void> {
    return this.request({ op: 'cancel', objectId, force, recursive });
  }

  killActor(actorId: string, noRestart: boolean): Promise<void> {
    return this.request({ op: 'kill', actorId, noRestart });
  }

  /** Ends the actor this worker hosts, for good (exitActor()). */
  exitActor(actorId: string): void {
    this.request({ op: 'kill', actorId, noRestart: true, exited: true }).catch(
      ignored(`exitActor() of ${actorId} (the node is stopping, and the actor with it)`),
    );
  }

  namedActors(): Promise<{ name: string; namespace: string }[]> {
    return this.request({ op: 'namedActors' });
  }

  getActor(name: string, namespace: string | undefined): Promise<ActorHandleData | undefined> {
    return this.request({ op: 'getActor', name, ...(namespace ? { namespace } : {}) });
  }

  clusterInfo(): Promise<ClusterInfo> {
    return this.request({ op: 'clusterInfo' });
  }

  kv(op: KvOp): Promise<unknown> {
    return this.request({ op: 'kv', kv: op });
  }

  sendCollective(to: string, key: string, dtype: string, data: ArrayBufferView): void {
    this.send({ k: 'coll', to, key, dtype, data });
  }
}
