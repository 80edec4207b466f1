/**
 * The GCS's writes to its store (Redis): queued in order, sent in batches one after another,
 * tried again with a growing wait until they land, and bounded while the store is unreachable.
 * A reply that promises a write goes out only once the write landed (`replyAfter`); a write the
 * queue has no room for fails at once with GcsUnavailableError, before anything changed.
 */
import * as grpc from '@grpc/grpc-js';
import { systemClock, type Clock } from '../clock.js';
import { GcsUnavailableError, InvalidArgumentError } from '../errors.js';
import { getLogger, ignored, type Logger } from '../log.js';
import { retryWithBackoff } from '../retry.js';

const log = getLogger('ray-ts.core');

/** A row of one of the GCS's tables, written (`value`) or deleted (`value` undefined). */
export interface GcsWrite {
  readonly table: string;
  readonly key: string;
  readonly value: Buffer | string | undefined;
}

/**
 * What taking a write gives back: `undefined` when it is kept already (tables in memory only), else
 * a promise that resolves once the write landed in the store.
 */
export type Landing = Promise<void> | undefined;

/** Where batches of writes go (Redis, or a fake in unit tests): resolves once all of them are kept, in order. */
export interface WriteSink {
  apply(batch: readonly GcsWrite[]): Promise<void>;
}

/** The queue's budgets (config.ts's `gcsWrite*` settings) and seams. */
export interface WriteQueueOptions {
  /** The store, for messages: `Redis at redis://HOST:PORT`. */
  readonly store: string;
  /** Writes and bytes that may wait at once; beyond them a bounded write fails at once. */
  readonly maxWrites: number;
  readonly maxBytes: number;
  /** The wait after a failed batch, doubling up to `retryMaxMs`. */
  readonly retryMs: number;
  readonly retryMaxMs: number;
  /** A write's waiter hears GcsUnavailableError once the write has waited this long (it stays queued). */
  readonly waitMs: number;
  /** Most writes and bytes in one batch (at least one write). */
  readonly batchMax?: number;
  readonly batchMaxBytes?: number;
  readonly clock?: Clock;
  /** Where failures and recoveries are reported (default: the `ray-ts.core` logger). */
  readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

interface Entry {
  write: GcsWrite;
  bytes: number;
  /** When its waiters started waiting. */
  since: number;
  /** Its waiters (undefined: none, or told already that it is late). */
  waiters: Deferred | undefined;
}

const REPORT_EVERY_MS = 10_000;

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const sizeOf = (w: GcsWrite) => w.table.length + w.key.length + (w.value?.length ?? 0) + 64;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Writes in order: a row written twice while its first write still waits to be sent is written
 * once, with the newer value, in the place of the first (both writers hear when it landed); every
 * other write lands after those taken before it. One batch is in flight at a time.
 */
export class GcsWriteQueue {
  private readonly queued = new Map<string, Entry>();
  private inFlight: Entry[] = [];
  private bytes = 0;
  private sending = false;
  private closed = false;
  private abandoned = false;
  private failingSince: number | undefined;
  private lastReportAt = 0;
  private lastError = '';
  private drainedWaiters: (() => void)[] = [];
  private readonly clock: Clock;
  private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;

  constructor(
    private readonly sink: WriteSink,
    private readonly opts: WriteQueueOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? log;
  }

  /** Writes waiting to land (queued or in flight). */
  get pending(): number {
    return this.queued.size + this.inFlight.length;
  }

  /**
   * Queues a write; the promise resolves once it landed. A `bounded` write (the default) that finds
   * the queue full throws GcsUnavailableError at once; so does any write once the queue is closed.
   * Unbounded writes are the GCS's own bookkeeping, as many as its rows (a row waits at most once).
   */
  write(w: GcsWrite, opts: { bounded?: boolean } = {}): Promise<void> {
    if (this.closed) {
      const err = new GcsUnavailableError(`The head is stopping: the GCS takes no more writes to ${this.opts.store}.`);
      if (opts.bounded !== false) throw err;
      // The GCS's own bookkeeping after the last flush (a job's driver exiting): nobody is told.
      const late = Promise.reject(err);
      late.catch(ignored(`a GCS write made while the head stopped`));
      return late;
    }
    const id = `${w.table}\u0000${w.key}`;
    const bytes = sizeOf(w);
    const prev = this.queued.get(id);
    const count = this.pending;
    if (opts.bounded !== false && count > 0) {
      const tooMany = count + (prev ? 0 : 1) > this.opts.maxWrites;
      if (tooMany || this.bytes + bytes - (prev?.bytes ?? 0) > this.opts.maxBytes) throw this.full(count);
    }
    const now = this.clock.now();
    let entry = prev;
    if (entry) {
      this.bytes += bytes - entry.bytes;
      entry.write = w;
      entry.bytes = bytes;
    } else {
      entry = { write: w, bytes, since: now, waiters: undefined };
      this.queued.set(id, entry);
      this.bytes += bytes;
    }
    if (!entry.waiters) {
      entry.waiters = deferred();
      entry.since = now;
      // Writers that do not wait learn nothing: the queue reports failures itself.
      entry.waiters.promise.catch(ignored(`a GCS write to ${this.opts.store} that no one waited for`));
    }
    const waiting = entry.waiters.promise;
    this.pump();
    return waiting;
  }

  /**
   * Stops taking writes and waits up to `flushMs` for the queued ones to land. Those still waiting
   * then fail with GcsUnavailableError (and are reported). Resolves with how many did not land.
   */
  async close(flushMs: number): Promise<number> {
    this.closed = true;
    if (this.pending > 0) {
      let cancel: () => void = () => {};
      await new Promise<void>((resolve) => {
        this.drainedWaiters.push(resolve);
        cancel = this.clock.after(flushMs, resolve);
      });
      cancel();
    }
    const left = this.pending;
    if (left > 0) {
      this.abandoned = true;
      this.log.error(
        `the head stopped before ${this.opts.store} took ${left} GCS writes (${this.lastError || 'still in flight'}): they are lost.`,
      );
      this.dropAll(
        new GcsUnavailableError(
          `The head stopped before ${this.opts.store} took this write (${this.lastError || 'it was still in flight'}).`,
        ),
      );
    }
    return left;
  }

  private full(count: number): GcsUnavailableError {
    const why = this.failingSince === undefined ? 'it is slow' : `it fails: ${this.lastError}`;
    return new GcsUnavailableError(
      `The GCS cannot keep this write: ${this.opts.store} has not taken the ${count} writes before it (${why}), ` +
        `and no more may wait (gcsWriteQueueMax ${this.opts.maxWrites}, gcsWriteQueueMaxBytes ${this.opts.maxBytes}). ` +
        `Nothing was changed. Make Redis reachable again, then retry.`,
    );
  }

  private pump(): void {
    if (this.sending || this.queued.size === 0) return;
    this.sending = true;
    void this.drain();
  }

  private takeBatch(): Entry[] {
    const max = this.opts.batchMax ?? 1000;
    const maxBytes = this.opts.batchMaxBytes ?? 8 * 1024 * 1024;
    const batch: Entry[] = [];
    let bytes = 0;
    for (const [id, e] of this.queued) {
      if (batch.length > 0 && (batch.length >= max || bytes + e.bytes > maxBytes)) break;
      batch.push(e);
      bytes += e.bytes;
      this.queued.delete(id);
    }
    return batch;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size > 0 && !this.abandoned) {
        const batch = this.takeBatch();
        this.inFlight = batch;
        await retryWithBackoff(
          { firstDelayMs: this.opts.retryMs, maxDelayMs: this.opts.retryMaxMs, timeoutMs: Infinity },
          () => this.sink.apply(batch.map((e) => e.write)),
          {
            clock: this.clock,
            stopped: () => this.abandoned,
            onFailure: (err, _n, delayMs) => this.failed(err, delayMs),
          },
        );
        if (this.abandoned) return; // close() gave up on them (and told their waiters)
        this.inFlight = [];
        for (const e of batch) {
          this.bytes -= e.bytes;
          e.waiters?.resolve();
        }
        this.recovered();
      }
    } catch (err) {
      // Only an abandoned queue stops retrying: close() has told the waiters.
      ignored(`GCS writes to ${this.opts.store} abandoned at stop`)(err);
    } finally {
      this.sending = false;
      if (this.pending === 0) this.notifyDrained();
      else this.pump();
    }
  }

  private failed(err: unknown, delayMs: number): void {
    const now = this.clock.now();
    this.lastError = messageOf(err);
    if (this.failingSince === undefined) {
      this.failingSince = now;
      this.lastReportAt = now;
      this.log.warn(
        `GCS writes to ${this.opts.store} failed (${this.lastError}); ${this.pending} wait, tried again in ` +
          `${delayMs} ms, then up to every ${this.opts.retryMaxMs} ms. Replies to them wait for them.`,
      );
    } else if (now - this.lastReportAt >= REPORT_EVERY_MS) {
      this.lastReportAt = now;
      this.log.warn(
        `GCS writes to ${this.opts.store} still fail after ${((now - this.failingSince) / 1000).toFixed(0)} s ` +
          `(${this.lastError}); ${this.pending} wait.`,
      );
    }
    this.expire(now);
  }

  /** Tells the waiters of writes that waited `waitMs` that theirs is late (the writes stay queued). */
  private expire(now: number): void {
    for (const e of [...this.inFlight, ...this.queued.values()]) {
      if (!e.waiters || now - e.since < this.opts.waitMs) continue;
      e.waiters.reject(
        new GcsUnavailableError(
          `${this.opts.store} has not taken this write in ${Math.round((now - e.since) / 1000)} s (${this.lastError}). ` +
            `It stays queued and lands once Redis is back, unless the head stops first. Make Redis reachable again.`,
        ),
      );
      e.waiters = undefined;
    }
  }

  private recovered(): void {
    if (this.failingSince === undefined) return;
    const s = ((this.clock.now() - this.failingSince) / 1000).toFixed(1);
    this.failingSince = undefined;
    this.log.info(`${this.opts.store} takes GCS writes again, after ${s} s of failures.`);
  }

  private dropAll(err: GcsUnavailableError): void {
    for (const e of [...this.inFlight, ...this.queued.values()]) e.waiters?.reject(err);
    this.inFlight = [];
    this.queued.clear();
    this.bytes = 0;
    this.notifyDrained();
  }

  private notifyDrained(): void {
    const ws = this.drainedWaiters;
    this.drainedWaiters = [];
    for (const w of ws) w();
  }
}

/** One landing for several writes (`undefined` when none has to wait). */
export function allLanded(...landings: Landing[]): Landing {
  const waiting = landings.filter((l): l is Promise<void> => l !== undefined);
  if (waiting.length <= 1) return waiting[0];
  return Promise.all(waiting).then(() => undefined);
}

/** The gRPC status a GCS handler answers a failed write with. */
export function writeFailure(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof GcsUnavailableError) return { code: grpc.status.UNAVAILABLE, details: err.message };
  return { code: grpc.status.INTERNAL, details: messageOf(err) };
}

/**
 * Runs a GCS handler's `body` (which changes the tables and says what it wrote) and answers `cb`
 * once its writes landed: at once when nothing has to wait (tables in memory). A write the store
 * refused (`body` threw) or that failed answers with its error instead, never with the reply.
 */
export function replyAfter<T>(cb: grpc.sendUnaryData<T>, body: () => { landed: Landing; reply: T }): void {
  let r: { landed: Landing; reply: T };
  try {
    r = body();
  } catch (err) {
    cb(writeFailure(err));
    return;
  }
  if (!r.landed) cb(null, r.reply);
  else
    r.landed.then(
      () => cb(null, r.reply),
      (err: unknown) => cb(writeFailure(err)),
    );
}

/**
 * A GCS call's error as the caller should see it: UNAVAILABLE (its store did not take the write) as
 * GcsUnavailableError, RESOURCE_EXHAUSTED (a request over its bound, see message-limits.ts) as
 * InvalidArgumentError.
 */
export function gcsCallError(err: unknown): unknown {
  const e = err as Partial<grpc.ServiceError>;
  if (e?.code === grpc.status.UNAVAILABLE) return new GcsUnavailableError(e.details || messageOf(err), { cause: err });
  if (e?.code === grpc.status.RESOURCE_EXHAUSTED)
    return new InvalidArgumentError(`The GCS refused the request: ${e.details || messageOf(err)}`, { cause: err });
  return err;
}
