/** Consuming a stream of blocks as batches: re-batching across blocks, prefetch, local shuffle. */
import { get } from '@ray-ts/core';
import type { Table } from 'apache-arrow';
import { concatTables, decodeBlock, toBatch, toRows, type BatchFormat, type BatchOf, type Row } from './block.js';
import { dfToTable, shuffleDf, toDf } from './compute.js';
import { DataInvalidArgumentError } from './errors.js';
import type { Bundle } from './plan.js';

/** Options of `iterBatches`. */
export interface IterBatchesOptions<F extends BatchFormat = 'columns'> {
  /** Rows per batch (default 256; `null`: one batch per block). */
  batchSize?: number | null;
  /** `columns` (default), `arrow` or `rows`. */
  batchFormat?: F;
  /** Blocks fetched ahead of the one being consumed (default 1). */
  prefetchBatches?: number;
  /** Rows held in a buffer that batches are drawn from at random (a local shuffle). */
  localShuffleBufferSize?: number;
  /** Seed of the local shuffle. */
  localShuffleSeed?: number;
  /** Drop a last batch smaller than `batchSize`. */
  dropLast?: boolean;
}

/** Streams batches from a source of blocks. */
export async function* iterBatchesOf<F extends BatchFormat>(
  source: () => AsyncIterable<Bundle>,
  options: IterBatchesOptions<F>,
): AsyncGenerator<BatchOf[F]> {
  const format = (options.batchFormat ?? 'columns') as F;
  const batchSize = options.batchSize === undefined ? 256 : options.batchSize;
  if (batchSize !== null && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new DataInvalidArgumentError(
      `iterBatches(): batchSize must be a positive integer or null, got ${String(batchSize)}.`,
    );
  }
  const prefetch = Math.max(0, options.prefetchBatches ?? 1);
  const shuffleBuffer = options.localShuffleBufferSize ?? 0;
  let seed = options.localShuffleSeed ?? Math.floor(Math.random() * 2 ** 31);

  // Blocks are fetched `prefetch` ahead of the one being cut into batches.
  const ahead: Promise<Table>[] = [];
  const it = source()[Symbol.asyncIterator]();
  let ended = false;
  const fill = async (): Promise<void> => {
    while (!ended && ahead.length <= prefetch) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      const p = get(r.value.block).then((bytes) => decodeBlock(bytes));
      p.catch(() => undefined);
      ahead.push(p);
    }
  };

  let carry: Table | undefined;
  try {
    for (;;) {
      await fill();
      if (ahead.length === 0) break;
      const t = await ahead.shift()!;
      if (batchSize === null) {
        if (t.numRows) yield toBatch(t, format);
        continue;
      }
      carry = carry ? concatTables([carry, t]) : t;
      if (shuffleBuffer > 0) {
        if (carry.numRows < shuffleBuffer + batchSize) continue;
        carry = dfToTable(shuffleDf(toDf(carry), seed++));
        // Keep about half the buffer for the next blocks to mix into.
        const keep = Math.max(0, Math.floor(shuffleBuffer / 2));
        while (carry.numRows - batchSize >= keep) {
          yield toBatch(carry.slice(0, batchSize), format);
          carry = carry.slice(batchSize);
        }
        continue;
      }
      while (carry.numRows >= batchSize) {
        yield toBatch(carry.slice(0, batchSize), format);
        carry = carry.slice(batchSize);
      }
    }
    if (carry && carry.numRows > 0) {
      if (shuffleBuffer > 0) carry = dfToTable(shuffleDf(toDf(carry), seed++));
      while (carry.numRows >= (batchSize ?? 1)) {
        yield toBatch(carry.slice(0, batchSize!), format);
        carry = carry.slice(batchSize!);
      }
      if (carry.numRows > 0 && !options.dropLast) yield toBatch(carry, format);
    }
  } finally {
    await it.return?.(undefined);
  }
}

/**
 * One share of a `streamingSplit`: iterate it (several times, one epoch each) in a training
 * worker. It can be passed to actors and tasks.
 */
export class DataIterator {
  /** @internal */
  constructor(
    readonly coordinator: { next: { remote(i: number, epoch: number): unknown } },
    readonly index: number,
    private epoch = 0,
  ) {}

  /**
   * An iterator again, from one that crossed to another task or actor (where it arrives as plain
   * data: `{ coordinator, index, epoch }`).
   */
  static from(v: DataIterator | { coordinator: unknown; index: number; epoch?: number }): DataIterator {
    if (v instanceof DataIterator) return v;
    return new DataIterator(v.coordinator as DataIterator['coordinator'], v.index, v.epoch ?? 0);
  }

  private async *bundles(): AsyncGenerator<Bundle> {
    const epoch = this.epoch++;
    for (;;) {
      const b = (await get(this.coordinator.next.remote(this.index, epoch) as never)) as Bundle | null;
      if (!b) return;
      yield b;
    }
  }

  /** Batches of this share (one pass = one epoch). */
  iterBatches<F extends BatchFormat = 'columns'>(options: IterBatchesOptions<F> = {}): AsyncGenerator<BatchOf[F]> {
    return iterBatchesOf(() => this.bundles(), options);
  }

  /** Rows of this share. */
  async *iterRows(): AsyncGenerator<Row> {
    for await (const b of this.bundles()) {
      for (const r of toRows(decodeBlock(await get(b.block)))) yield r;
    }
  }
}
