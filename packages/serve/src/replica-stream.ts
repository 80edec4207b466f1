/**
 * A streaming response inside a replica: the body (or async generator) is read ahead of the
 * caller into a bounded buffer, which the caller empties with `streamNext()`.
 */
import type { Cancellation } from './cancellation.js';
import { serveConfig } from './constants.js';
import type { StreamChunk } from './wire.js';

/** Bytes an item of a stream holds (0 for values other than bytes and text: those count as items only). */
function sizeOf(v: unknown): number {
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v.byteLength;
  return typeof v === 'string' ? v.length : 0;
}

/**
 * A response body or async iterable being read, pulled by the caller with streamNext(). It reads
 * ahead of the caller by at most `serveConfig.streamBufferItems` items and `streamBufferBytes`
 * bytes (and the one item in hand), so a slow client holds back the producer: a generator is not
 * resumed, a ReadableStream's `pull()` is not called, until the caller takes what was read.
 */
export class ReplicaStream {
  readonly items: unknown[] = [];
  done = false;
  error: { message: string; name: string } | undefined;
  private bytes = 0;
  private cancelled = false;
  private ended = false;
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;
  private readonly iterator: AsyncIterator<unknown>;

  constructor(
    source: AsyncIterable<unknown>,
    private readonly onEnd: () => void,
    private readonly cancellation: Cancellation,
    private readonly limits = { items: serveConfig.streamBufferItems, bytes: serveConfig.streamBufferBytes },
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    void this.pump();
  }

  private full(): boolean {
    return this.items.length >= this.limits.items || this.bytes >= this.limits.bytes;
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const r = await this.iterator.next();
        if (r.done || this.cancelled) break;
        while (this.full() && !this.cancelled) await new Promise<void>((resolve) => (this.room = resolve));
        if (this.cancelled) break;
        this.items.push(r.value);
        this.bytes += sizeOf(r.value);
        this.notify();
      }
    } catch (err) {
      const e = err as Error;
      if (!this.cancelled) this.error = { message: e?.message ?? String(err), name: e?.name ?? 'Error' };
    }
    this.done = true;
    this.notify();
    this.end();
  }

  /** The request ends once, whether the source finished or the caller cancelled. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private makeRoom(): void {
    const r = this.room;
    this.room = undefined;
    r?.();
  }

  /** Resolves once there is something to return (items, or the end). */
  async ready(): Promise<void> {
    if (this.items.length > 0 || this.done) return;
    await new Promise<void>((r) => (this.wake = r));
  }

  take(): StreamChunk {
    const items = this.items.splice(0, this.items.length);
    this.bytes = 0;
    this.makeRoom();
    return { items, done: this.done && this.items.length === 0, ...(this.error ? { error: this.error } : {}) };
  }

  /** The caller went away: the request's signal aborts and the source is told to stop. */
  cancel(reason: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancellation.cancel(reason);
    this.items.length = 0;
    this.makeRoom();
    this.notify();
    void Promise.resolve(this.iterator.return?.(undefined)).catch(() => undefined);
    this.end();
  }
}
