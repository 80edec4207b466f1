/**
 * `streamingSplit`: one execution feeds n consumers (training workers). A coordinator actor runs
 * the executor and hands each block to whichever consumer asks next; with `equal`, it holds back
 * enough rows to even out the shares at the end (Ray's OutputSplitter does the same).
 */
import { get, remote } from '@ray-ts/core';
import { DataContext } from './context.js';
import { gatherCounts } from './exchange.js';
import { Executor } from './executor.js';
import { DataIterator } from './iterator.js';
import { optimize, type Bundle, type LogicalNode } from './plan.js';

interface Waiter {
  readonly split: number;
  readonly resolve: (b: Bundle | null) => void;
  readonly reject: (e: unknown) => void;
}

/** The coordinator of one streaming split (an actor; async methods run concurrently). */
class DataSplitCoordinator {
  private epoch = -1;
  private gen: AsyncGenerator<Bundle> | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly delivered: number[];
  private readonly finishedSplits = new Set<number>();
  private buffer: Bundle[] = [];
  private bufferedRows = 0;
  private maxBlockRows = 1;
  private ended = false;
  private tail: Bundle[][] | undefined;
  private pumping = false;
  private failure: unknown;

  constructor(
    private readonly plan: LogicalNode,
    private readonly n: number,
    private readonly equal: boolean,
    settings: Record<string, unknown> = {},
  ) {
    this.delivered = new Array<number>(n).fill(0);
    // The driver's DataContext settings apply here too.
    Object.assign(DataContext.getCurrent(), settings);
  }

  private starting: Promise<void> | undefined;

  private async startEpoch(): Promise<void> {
    this.delivered.fill(0);
    this.finishedSplits.clear();
    this.buffer = [];
    this.bufferedRows = 0;
    this.ended = false;
    this.tail = undefined;
    this.failure = undefined;
    const ctx = DataContext.getCurrent();
    const ex = new Executor({ ctx, ...(await ctx.environment()) });
    await ex.build(optimize(this.plan));
    this.gen = ex.run();
  }

  /** Resolves once the actor exists. */
  ready(): boolean {
    return true;
  }

  /** The next block for consumer `split` in `epoch`, or null when its share is done. */
  async next(split: number, epoch: number): Promise<Bundle | null> {
    if (epoch > this.epoch) {
      // A new epoch starts when every consumer finished the previous one.
      while (this.epoch >= 0 && this.finishedSplits.size < this.n && epoch > this.epoch)
        await new Promise((r) => setTimeout(r, 5));
      if (epoch > this.epoch) {
        this.epoch = epoch;
        this.starting = this.startEpoch();
      }
    }
    await this.starting;
    if (epoch < this.epoch) return null;
    return new Promise<Bundle | null>((resolve, reject) => {
      this.waiters.push({ split, resolve, reject });
      void this.pump();
    });
  }

  /** Whether a block may go out now: with `equal`, enough rows stay buffered to even out the tail. */
  private canRelease(): boolean {
    if (!this.equal) return this.buffer.length > 0;
    return this.buffer.length > 0 && this.bufferedRows - this.buffer[0].meta.numRows >= this.n * this.maxBlockRows;
  }

  private serve(): void {
    while (this.waiters.length) {
      const w = this.waiters[0];
      if (this.tail) {
        this.waiters.shift();
        const b = this.tail[w.split].shift() ?? null;
        this.finish(w, b);
        continue;
      }
      if (this.failure) {
        this.waiters.shift();
        w.reject(this.failure);
        continue;
      }
      if (this.canRelease()) {
        // With equal, a consumer may run at most one block ahead of the slowest one (so the
        // held-back rows can always even the shares out); it waits for the others otherwise.
        if (this.equal && this.delivered[w.split] > Math.min(...this.delivered) + this.maxBlockRows) {
          const other = this.waiters.findIndex(
            (x) => this.delivered[x.split] <= Math.min(...this.delivered) + this.maxBlockRows,
          );
          if (other < 0) return;
          this.waiters.push(...this.waiters.splice(0, other));
          continue;
        }
        this.waiters.shift();
        const b = this.buffer.shift()!;
        this.bufferedRows -= b.meta.numRows;
        this.delivered[w.split] += b.meta.numRows;
        w.resolve(b);
        continue;
      }
      if (this.ended && !this.equal) {
        this.waiters.shift();
        this.finish(w, null);
        continue;
      }
      return;
    }
  }

  private finish(w: Waiter, b: Bundle | null): void {
    if (b === null) this.finishedSplits.add(w.split);
    w.resolve(b);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.serve();
      while (this.waiters.length && !this.ended && !this.tail && !this.failure) {
        let r: IteratorResult<Bundle>;
        try {
          r = await this.gen!.next();
        } catch (err) {
          this.failure = err;
          break;
        }
        if (r.done) {
          this.ended = true;
          if (this.equal) await this.evenOut();
        } else {
          this.buffer.push(r.value);
          this.bufferedRows += r.value.meta.numRows;
          this.maxBlockRows = Math.max(this.maxBlockRows, r.value.meta.numRows);
        }
        this.serve();
      }
      this.serve();
    } finally {
      this.pumping = false;
    }
  }

  /** At the end of an equal split: cut the held-back rows so every share ends with the same count. */
  private async evenOut(): Promise<void> {
    const total = this.delivered.reduce((a, b) => a + b, 0) + this.bufferedRows;
    const target = Math.floor(total / this.n);
    const need = this.delivered.map((d) => Math.max(0, target - d));
    const sumNeed = need.reduce((a, b) => a + b, 0);
    const counts = [...need, Math.max(0, this.bufferedRows - sumNeed)];
    const parts = await gatherCounts(this.buffer, counts);
    this.buffer = [];
    this.bufferedRows = 0;
    this.tail = need.map((k, i) => (k > 0 ? [parts[i]] : []));
  }
}
export const SplitCoordinator = remote(DataSplitCoordinator);

/** Makes the n iterators of a streaming split. */
export async function streamingSplitOf(plan: LogicalNode, n: number, equal: boolean): Promise<DataIterator[]> {
  const coord = SplitCoordinator.options({ numCpus: 0 }).remote(plan, n, equal, { ...DataContext.getCurrent() });
  // Wait until it exists, so that errors in the plan's arguments surface here.
  await get(coord.ready.remote());
  return Array.from({ length: n }, (_, i) => new DataIterator(coord as never, i));
}
