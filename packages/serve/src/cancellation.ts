/**
 * The cancellation of one request (its client left, it timed out), followed by the proxy, the
 * router and the replica on every request's path. An AbortSignal would do, but on Node 20 a
 * listener on a new signal costs as much as building the request's `Request` (tens of µs), so
 * hooks are plain callbacks here and an AbortSignal is made only when someone asks for one.
 */
import type { EventEmitter } from 'node:events';

export class Cancellation {
  /** Why the request was cancelled; undefined while it was not. */
  reason: Error | undefined = undefined;
  private hooks: (() => void)[] | undefined;
  private controller: AbortController | undefined;

  get cancelled(): boolean {
    return this.reason !== undefined;
  }

  /** An AbortSignal that aborts with the cancellation (made on first use). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Cancels, once: hooks run, the signal aborts. */
  cancel(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const hooks = this.hooks;
    this.hooks = undefined;
    if (hooks) for (const h of hooks) h();
  }

  throwIfCancelled(): void {
    if (this.reason) throw this.reason;
  }

  /** Runs `hook` on cancellation (at once if it already was); returns a function that forgets it. */
  onCancel(hook: () => void): () => void {
    if (this.reason) {
      hook();
      return () => undefined;
    }
    (this.hooks ??= []).push(hook);
    return () => {
      const i = this.hooks?.indexOf(hook) ?? -1;
      if (i >= 0) this.hooks!.splice(i, 1);
    };
  }
}

/** What a cancellation was for, in words. */
export function cancelWhy(c: Cancellation): string {
  return c.reason?.message ?? 'not cancelled';
}

/** Resolves with `p`, or rejects with the cancellation's reason as soon as it comes. */
export function raceCancel<T>(p: Promise<T>, c: Cancellation): Promise<T> {
  if (c.reason) return Promise.reject(c.reason);
  return new Promise<T>((resolve, reject) => {
    const forget = c.onCancel(() => reject(c.reason!));
    p.then(
      (v) => {
        forget();
        resolve(v);
      },
      (e: unknown) => {
        forget();
        reject(e as Error);
      },
    );
  });
}

/** Resolves on the stream's next 'drain'; rejects on cancellation or an 'error'. */
export function drained(stream: EventEmitter, c: Cancellation): Promise<void> {
  if (c.reason) return Promise.reject(c.reason);
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      forget();
    };
    const onDrain = () => {
      done();
      resolve();
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const forget = c.onCancel(() => {
      done();
      reject(c.reason!);
    });
    stream.on('drain', onDrain);
    stream.on('error', onError);
  });
}
