/**
 * Runs tasks and hosts actors inside a worker: loads code, turns arguments into values, calls the
 * user's function or method, and reports the outcome. Many actors can share one worker; each
 * runs its calls in arrival order, up to its `maxConcurrency` at once.
 *
 * Synchronous functions and methods run and report within the turn that received them, so a
 * batch of calls is answered by one batch of replies; only promises take the async path.
 */
import {
  RemoteCodeError,
  RayError,
  TaskCancelledError,
  TaskError,
  errorToWire,
  InvalidArgumentError,
} from '../errors.js';
import { loadFunction, loadedFunction } from '../runtime/functions.js';
import { Deque } from '../runtime/deque.js';
import type { TaskContextData } from '../protocol/specs.js';
import type { TaskOutcome, ToWorker } from '../protocol/worker-messages.js';
import { reviver } from '../api/remote.js';
import { deserialize, serialize, type StoredValue } from '../runtime/serialization.js';
import { executionContext, ExecutionContext, type WorkerClient } from './client.js';

type Msg<K extends ToWorker['k']> = Extract<ToWorker, { k: K }>;
type AnyFn = (...a: unknown[]) => unknown;

interface HostedActor {
  instance: Record<string, unknown> | undefined;
  /** Context of the constructor call; method calls take it with their own task id and name. */
  baseContext: TaskContextData;
  className: string;
  maxConcurrency: number;
  running: number;
  queue: Deque<Msg<'actorCall'>>;
  dropped: boolean;
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class Executor {
  private readonly actors = new Map<string, HostedActor>();
  private readonly running = new Map<string, ExecutionContext>();
  /** Tasks sent ahead (pipelined) wait here; one runs at a time unless those running are blocked. */
  private readonly taskQueue = new Deque<Msg<'task'>>();
  private activeTasks = 0;
  /** Pending get/wait calls made by tasks: while every active task waits, the next one may start. */
  private blockedCalls = 0;

  constructor(
    private readonly client: WorkerClient,
    private readonly status: Int32Array | undefined,
  ) {}

  /** No task or actor call is running or queued. */
  idle(): boolean {
    if (this.running.size > 0 || this.taskQueue.length > 0) return false;
    for (const a of this.actors.values()) if (a.running > 0 || a.queue.length > 0) return false;
    return true;
  }

  private results(value: unknown, returnIds: string[], name: string): StoredValue[] {
    const limit = this.client.inlineObjectMaxBytes;
    if (returnIds.length === 1) return [serialize(value, `the return value of '${name}'`, limit)];
    const arr = value as unknown[];
    if (!Array.isArray(arr) || arr.length !== returnIds.length) {
      throw new InvalidArgumentError(
        `'${name}' was declared with numReturns: ${returnIds.length} but returned ` +
          `${Array.isArray(arr) ? `an array of ${arr.length}` : typeof value}. Return an array of exactly ${returnIds.length} values.`,
      );
    }
    return arr.map((v, i) => serialize(v, `return value ${i + 1} of '${name}'`, limit));
  }

  private failure(err: unknown, name: string, taskId: string, actorId?: string): TaskOutcome {
    const errorName = err instanceof Error ? err.name : 'Error';
    if (err instanceof RemoteCodeError) return { ok: false, error: errorToWire(err), errorName };
    const stack = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
    const wrapped = new TaskError(name, err, stack, {
      taskId,
      ...(actorId ? { actorId } : {}),
      nodeId: this.client.nodeId,
    });
    return { ok: false, error: errorToWire(wrapped), errorName };
  }

  private args(values: StoredValue[]): unknown[] {
    return values.map((v) => deserialize(v, reviver));
  }

  /**
   * Calls `call` in the task's context and reports the outcome: at once for a plain value, after
   * settling for a promise. Returns the promise when there is one (so callers can track it).
   */
  private execute(
    taskId: string,
    name: string,
    returnIds: string[],
    ctx: ExecutionContext,
    actorId: string | undefined,
    call: () => unknown,
    report: (o: TaskOutcome, ms: number) => void,
  ): Promise<void> | undefined {
    this.running.set(taskId, ctx);
    const start = performance.now();
    const finish = (outcome: () => TaskOutcome) => {
      this.running.delete(taskId);
      let o: TaskOutcome;
      try {
        o = outcome();
      } catch (err) {
        o = this.failure(err, name, taskId, actorId); // e.g. a return value that cannot be serialized
      }
      report(o, performance.now() - start);
    };
    const succeeded = (value: unknown) => finish(() => ({ ok: true, results: this.results(value, returnIds, name) }));
    const failed = (err: unknown) => finish(() => this.failure(err, name, taskId, actorId));
    let result: unknown;
    try {
      result = executionContext.run(ctx, call);
    } catch (err) {
      failed(err);
      return undefined;
    }
    if (!isPromiseLike(result)) {
      succeeded(result);
      return undefined;
    }
    return Promise.resolve(result).then(succeeded, failed);
  }

  runTask(m: Msg<'task'>): void {
    this.taskQueue.push(m);
    this.pumpTasks();
  }

  /** Starts queued tasks while no task runs, or while every running task waits in get/wait. */
  private pumpTasks(): void {
    while (this.taskQueue.length && this.activeTasks <= this.blockedCalls) {
      const m = this.taskQueue.shift()!;
      this.activeTasks++;
      const fn = loadedFunction(m.spec.fn) as AnyFn | undefined;
      const pending = fn
        ? this.startTask(m, fn)
        : loadFunction(m.spec.fn).then(
            (loaded) => this.startTask(m, loaded as AnyFn),
            (err: unknown) => {
              this.client.send({
                k: 'done',
                taskId: m.spec.taskId,
                outcome: { ok: false, error: errorToWire(err), errorName: (err as Error).name ?? 'Error' },
              });
            },
          );
      if (pending) {
        void pending.finally(() => {
          this.activeTasks--;
          this.pumpTasks();
        });
      } else this.activeTasks--;
    }
  }

  private startTask(m: Msg<'task'>, fn: AnyFn): Promise<void> | undefined {
    const taskId = m.spec.taskId;
    if (this.status) Atomics.store(this.status, 0, m.seq);
    return this.execute(
      taskId,
      m.spec.name,
      m.spec.returnIds,
      new ExecutionContext(m.ctx),
      undefined,
      () => fn(...this.args(m.args)),
      (outcome, ms) => this.client.send({ k: 'done', taskId, outcome, ms }),
    );
  }

  /** A task started (+1) or finished (-1) waiting in get/wait. */
  blockChange(delta: number): void {
    this.blockedCalls += delta;
    if (delta > 0) this.pumpTasks();
  }

  async createActor(m: Msg<'createActor'>): Promise<void> {
    const actorId = m.spec.actorId;
    const hosted: HostedActor = {
      instance: undefined,
      baseContext: m.ctx,
      className: m.spec.className,
      maxConcurrency: m.maxConcurrency,
      running: 0,
      queue: new Deque(),
      dropped: false,
    };
    this.actors.set(actorId, hosted);
    const ctx = new ExecutionContext(m.ctx);
    try {
      const Cls = (await loadFunction(m.spec.cls)) as unknown as new (...a: unknown[]) => Record<string, unknown>;
      hosted.instance = executionContext.run(ctx, () => new Cls(...this.args(m.args)));
    } catch (err) {
      this.actors.delete(actorId);
      this.client.send({ k: 'actorFailed', actorId, error: errorToWire(err) });
      return;
    }
    this.client.send({ k: 'actorReady', actorId });
    this.pump(hosted);
  }

  actorCall(m: Msg<'actorCall'>): void {
    const hosted = this.actors.get(m.spec.actorId);
    if (!hosted) {
      const err = new RayError(`Actor ${m.spec.actorId} is not hosted by this worker; it may have been killed.`);
      this.client.send({
        k: 'done',
        taskId: m.spec.taskId,
        outcome: { ok: false, error: errorToWire(err), errorName: err.name },
      });
      return;
    }
    hosted.queue.push(m);
    this.pump(hosted);
  }

  private pump(hosted: HostedActor): void {
    if (!hosted.instance) return;
    while (hosted.queue.length && hosted.running < hosted.maxConcurrency && !hosted.dropped) {
      const m = hosted.queue.shift()!;
      const pending = this.runCall(m, hosted);
      if (pending) {
        hosted.running++;
        void pending.finally(() => {
          hosted.running--;
          this.pump(hosted);
        });
      }
    }
  }

  private runCall(m: Msg<'actorCall'>, hosted: HostedActor): Promise<void> | undefined {
    const spec = m.spec;
    const instance = hosted.instance!;
    const ctx = new ExecutionContext({ ...hosted.baseContext, taskId: spec.taskId, name: spec.name });
    return this.execute(
      spec.taskId,
      spec.name,
      spec.returnIds,
      ctx,
      spec.actorId,
      () => {
        const method = instance[spec.method];
        if (typeof method !== 'function') {
          throw new InvalidArgumentError(`Actor class '${hosted.className}' has no method '${spec.method}'.`);
        }
        return (method as AnyFn).apply(instance, this.args(m.args));
      },
      (outcome, ms) => {
        if (!hosted.dropped) this.client.send({ k: 'done', taskId: spec.taskId, outcome, ms });
      },
    );
  }

  dropActor(actorId: string): void {
    const hosted = this.actors.get(actorId);
    if (!hosted) return;
    hosted.dropped = true;
    hosted.queue.clear();
    this.actors.delete(actorId);
  }

  cancel(taskId: string): void {
    const queued = this.taskQueue.toArray().find((m) => m.spec.taskId === taskId);
    if (queued && this.taskQueue.remove(queued)) {
      const err = new TaskCancelledError(`Task ${taskId} was cancelled before it started.`, { taskId });
      this.client.send({ k: 'done', taskId, outcome: { ok: false, error: errorToWire(err), errorName: err.name } });
      return;
    }
    this.running.get(taskId)?.cancel(new Error(`Task ${taskId} was cancelled`));
  }
}
