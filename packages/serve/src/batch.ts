/**
 * `batch()`: concurrent calls of a method are served as one call with an array, the way
 * Ray Serve's `@serve.batch` works. The batch closes when it holds `maxBatchSize` items or when
 * `batchWaitTimeoutS` passed since its first item, whichever comes first.
 */
import { ServeInvalidArgumentError } from './errors.js';

/** Options of {@link batch}. */
export interface BatchOptions {
  /** Most items in one batch (default 10). */
  maxBatchSize?: number;
  /** Seconds a batch waits for more items after its first (default 0.01). */
  batchWaitTimeoutS?: number;
}

interface Waiter<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

class BatchQueue<T, R> {
  private items: Waiter<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly run: (items: T[]) => Promise<R[]> | R[],
    private readonly maxBatchSize: number,
    private readonly waitMs: number,
  ) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push({ item, resolve, reject });
      if (this.items.length >= this.maxBatchSize) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.waitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.items.length > 0) {
      const batch = this.items.splice(0, this.maxBatchSize);
      void this.execute(batch);
      if (this.items.length < this.maxBatchSize) break;
    }
    if (this.items.length > 0) this.timer = setTimeout(() => this.flush(), this.waitMs);
  }

  private async execute(batch: Waiter<T, R>[]): Promise<void> {
    try {
      const out = await this.run(batch.map((w) => w.item));
      if (!Array.isArray(out) || out.length !== batch.length) {
        throw new ServeInvalidArgumentError(
          `A batch() function got ${batch.length} items and returned ${Array.isArray(out) ? `${out.length} results` : typeof out}: ` +
            'it must return an array with one result per item, in order.',
        );
      }
      batch.forEach((w, i) => w.resolve(out[i]));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

function compile(opts: BatchOptions): { maxBatchSize: number; waitMs: number } {
  const size = opts.maxBatchSize ?? 10;
  const wait = opts.batchWaitTimeoutS ?? 0.01;
  if (!Number.isInteger(size) || size < 1)
    throw new ServeInvalidArgumentError(`Invalid maxBatchSize for batch(): ${size}. Use an integer >= 1.`);
  if (typeof wait !== 'number' || !(wait >= 0))
    throw new ServeInvalidArgumentError(`Invalid batchWaitTimeoutS for batch(): ${wait}. Use seconds >= 0.`);
  return { maxBatchSize: size, waitMs: wait * 1000 };
}

type BatchFn<T, R> = (items: T[]) => Promise<R[]> | R[];

/**
 * Wraps a function of an array so that concurrent single calls are gathered into batches.
 * Use it in a constructor, or as a method decorator; each replica batches on its own.
 * @example
 * class Model {
 *   predict = batch(async (inputs: number[][]) => this.session.run(inputs), { maxBatchSize: 32 });
 *   async fetch(req: Request) { return Response.json(await this.predict(await req.json())); }
 * }
 * // In JavaScript, also as a method decorator: @batch({ maxBatchSize: 32 }) async predict(inputs) { ... }
 * // (TypeScript rejects a decorator that changes a method's type, so there use the function form.)
 */
export function batch<T, R>(fn: BatchFn<T, R>, opts?: BatchOptions): (item: T) => Promise<R>;
export function batch(
  opts?: BatchOptions,
): <This, T, R>(
  method: (this: This, items: T[]) => Promise<R[]> | R[],
  context: ClassMethodDecoratorContext,
) => (this: This, item: T) => Promise<R>;
export function batch<T, R>(a?: BatchFn<T, R> | BatchOptions, b?: BatchOptions): unknown {
  if (typeof a === 'function') {
    const o = compile(b ?? {});
    const q = new BatchQueue<T, R>(a, o.maxBatchSize, o.waitMs);
    return (item: T) => q.push(item);
  }
  const o = compile(a ?? {});
  return <This>(method: (this: This, items: T[]) => Promise<R[]> | R[]) => {
    const queues = new WeakMap<object, BatchQueue<T, R>>();
    return function (this: This, item: T): Promise<R> {
      const self = this as unknown as object;
      let q = queues.get(self);
      if (!q)
        queues.set(self, (q = new BatchQueue<T, R>((items) => method.call(this, items), o.maxBatchSize, o.waitMs)));
      return q.push(item);
    };
  };
}
