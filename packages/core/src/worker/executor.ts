/**
 * Runs tasks and hosts actors inside a worker: loads code, turns arguments into values, calls the
 * user's function or method, and reports the outcome. Many actors can share one worker; each
 * runs its calls in arrival order, up to its `maxConcurrency` at once.
 */
import { RemoteCodeError, RayError, TaskError, errorToWire, InvalidArgumentError } from '../errors.js';
import { loadFunction } from '../functions.js';
import type { TaskOutcome, ToWorker } from '../protocol.js';
import { reviver } from '../remote.js';
import { deserialize, serialize, type StoredValue } from '../serialization.js';
import { executionContext, type ExecutionContext, type WorkerClient } from './client.js';

type Msg<K extends ToWorker['k']> = Extract<ToWorker, { k: K }>;

interface HostedActor {
  instance: Record<string, unknown> | undefined;
  className: string;
  maxConcurrency: number;
  running: number;
  queue: Msg<'actorCall'>[];
  dropped: boolean;
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class Executor {
  private readonly actors = new Map<string, HostedActor>();
  private readonly running = new Map<string, ExecutionContext>();

  constructor(private readonly client: WorkerClient) {}

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
    const wrapped = new TaskError(name, err, stack, { taskId, ...(actorId ? { actorId } : {}), nodeId: this.client.nodeId });
    return { ok: false, error: errorToWire(wrapped), errorName };
  }

  private args(values: StoredValue[]): unknown[] {
    return values.map((v) => deserialize(v, reviver));
  }

  async runTask(m: Msg<'task'>): Promise<void> {
    const ctx: ExecutionContext = { data: m.ctx, abort: new AbortController() };
    this.running.set(m.spec.taskId, ctx);
    let outcome: TaskOutcome;
    try {
      outcome = await executionContext.run(ctx, async () => {
        let fn: (...a: unknown[]) => unknown;
        try {
          fn = (await loadFunction(m.spec.fn)) as (...a: unknown[]) => unknown;
        } catch (err) {
          return { ok: false, error: errorToWire(err), errorName: (err as Error).name } as TaskOutcome;
        }
        try {
          let result = fn(...this.args(m.args));
          if (isPromiseLike(result)) result = await result;
          return { ok: true, results: this.results(result, m.spec.returnIds, m.spec.name) } as TaskOutcome;
        } catch (err) {
          return this.failure(err, m.spec.name, m.spec.taskId);
        }
      });
    } finally {
      this.running.delete(m.spec.taskId);
    }
    this.client.send({ k: 'done', taskId: m.spec.taskId, outcome });
  }

  async createActor(m: Msg<'createActor'>): Promise<void> {
    const actorId = m.spec.actorId;
    const hosted: HostedActor = {
      instance: undefined, className: m.spec.className, maxConcurrency: m.maxConcurrency, running: 0, queue: [],
      dropped: false,
    };
    this.actors.set(actorId, hosted);
    const ctx: ExecutionContext = { data: m.ctx, abort: new AbortController() };
    try {
      const Cls = (await loadFunction(m.spec.cls)) as unknown as new (...a: unknown[]) => Record<string, unknown>;
      hosted.instance = executionContext.run(ctx, () => new Cls(...this.args(m.args)));
    } catch (err) {
      this.actors.delete(actorId);
      const wire = err instanceof RayError ? errorToWire(err) : errorToWire(err);
      this.client.send({ k: 'actorFailed', actorId, error: wire });
      return;
    }
    this.client.send({ k: 'actorReady', actorId });
    this.pump(actorId, hosted);
  }

  actorCall(m: Msg<'actorCall'>): void {
    const hosted = this.actors.get(m.spec.actorId);
    if (!hosted) {
      const err = new RayError(`Actor ${m.spec.actorId} is not hosted by this worker; it may have been killed.`);
      this.client.send({ k: 'done', taskId: m.spec.taskId, outcome: { ok: false, error: errorToWire(err), errorName: err.name } });
      return;
    }
    hosted.queue.push(m);
    this.pump(m.spec.actorId, hosted);
  }

  private pump(actorId: string, hosted: HostedActor): void {
    if (!hosted.instance) return;
    while (hosted.queue.length && hosted.running < hosted.maxConcurrency && !hosted.dropped) {
      const m = hosted.queue.shift()!;
      hosted.running++;
      void this.runCall(m, hosted).finally(() => {
        hosted.running--;
        this.pump(actorId, hosted);
      });
    }
  }

  private async runCall(m: Msg<'actorCall'>, hosted: HostedActor): Promise<void> {
    const ctx: ExecutionContext = { data: m.ctx, abort: new AbortController() };
    this.running.set(m.spec.taskId, ctx);
    let outcome: TaskOutcome;
    try {
      outcome = await executionContext.run(ctx, async () => {
        try {
          const method = hosted.instance![m.spec.method];
          if (typeof method !== 'function') {
            throw new InvalidArgumentError(`Actor class '${hosted.className}' has no method '${m.spec.method}'.`);
          }
          let result = (method as (...a: unknown[]) => unknown).apply(hosted.instance, this.args(m.args));
          if (isPromiseLike(result)) result = await result;
          return { ok: true, results: this.results(result, m.spec.returnIds, m.spec.name) } as TaskOutcome;
        } catch (err) {
          return this.failure(err, m.spec.name, m.spec.taskId, m.spec.actorId);
        }
      });
    } finally {
      this.running.delete(m.spec.taskId);
    }
    if (!hosted.dropped) this.client.send({ k: 'done', taskId: m.spec.taskId, outcome });
  }

  dropActor(actorId: string): void {
    const hosted = this.actors.get(actorId);
    if (!hosted) return;
    hosted.dropped = true;
    hosted.queue = [];
    this.actors.delete(actorId);
  }

  cancel(taskId: string): void {
    this.running.get(taskId)?.abort.abort(new Error(`Task ${taskId} was cancelled`));
  }
}
