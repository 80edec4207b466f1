/**
 * The task or actor call running in this async context (an AsyncLocalStorage): what
 * `getRuntimeContext()`, cancellation and the logger's ids read. Its own module so that the logger
 * (log.ts), which every layer imports, reaches it without importing the worker's client.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskContextData } from '../protocol/specs.js';

/** What a running task or actor call sees as its context. */
export class ExecutionContext {
  private controller: AbortController | undefined;
  constructor(readonly data: TaskContextData) {}
  /** Aborted when the task is cancelled (made on first use: most tasks never ask). */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  cancel(reason: Error): void {
    (this.controller ??= new AbortController()).abort(reason);
  }
}

export const executionContext = new AsyncLocalStorage<ExecutionContext>();
