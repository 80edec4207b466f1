/**
 * Queue: a first-in, first-out queue shared by tasks and actors (Ray's `ray.util.queue.Queue`).
 * Its items live in an actor (with async methods, so many callers can wait on it at once); the
 * Queue object is a handle to it that may be passed to tasks and actors, or stored in objects.
 */
import { kill } from './actors.js';
import { get } from './objects.js';
import { describeByValue } from '../runtime/functions.js';
import { InvalidArgumentError, QueueEmptyError, QueueFullError } from '../errors.js';
import type { ActorOptions } from '../options.js';
import { ActorClass, handleData, makeHandle, markerTypes, methodsOf, type ActorHandle } from './remote.js';
import { toMarker, type Markable } from '../runtime/serialization.js';

type Got = { ok: true; item: unknown } | { ok: false };

/**
 * @internal The actor that holds a queue's items. It travels to workers by value (core's own
 * modules are not imported by position), so it uses nothing from outside itself.
 */
export class QueueActor {
  private items: unknown[] = [];
  private head = 0;
  /** Wake-ups of callers waiting for an item, and of callers waiting for room. */
  private readonly getters: (() => void)[] = [];
  private readonly putters: (() => void)[] = [];
  private readonly maxsize: number;

  constructor(maxsize: number) {
    this.maxsize = maxsize;
  }

  async qsize(): Promise<number> {
    return this.items.length - this.head;
  }

  async put(item: unknown, timeoutMs: number | null): Promise<boolean> {
    const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs;
    while (this.isFull()) {
      if (!(await this.waitOn(this.putters, deadline))) return false;
    }
    this.items.push(item);
    this.getters.shift()?.();
    return true;
  }

  async get(timeoutMs: number | null): Promise<Got> {
    const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs;
    while (this.items.length - this.head === 0) {
      if (!(await this.waitOn(this.getters, deadline))) return { ok: false };
    }
    return { ok: true, item: this.take() };
  }

  /** All of `items`, or none when they do not all fit. */
  async putBatch(items: unknown[]): Promise<boolean> {
    if (this.maxsize > 0 && this.items.length - this.head + items.length > this.maxsize) return false;
    for (const item of items) {
      this.items.push(item);
      this.getters.shift()?.();
    }
    return true;
  }

  /** `n` items, or none when fewer are there. */
  async getBatch(n: number): Promise<{ ok: true; items: unknown[] } | { ok: false }> {
    if (this.items.length - this.head < n) return { ok: false };
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) items.push(this.take());
    return { ok: true, items };
  }

  private isFull(): boolean {
    return this.maxsize > 0 && this.items.length - this.head >= this.maxsize;
  }

  private take(): unknown {
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.putters.shift()?.();
    return item;
  }

  /** Waits to be woken through `list` (true) or until `deadline` (false). */
  private waitOn(list: (() => void)[], deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      list.push(wake);
      if (deadline !== Infinity) {
        timer = setTimeout(() => {
          const i = list.indexOf(wake);
          if (i >= 0) list.splice(i, 1);
          resolve(false);
        }, left);
      }
    });
  }
}

let actorClass: ActorClass<typeof QueueActor> | undefined;
function queueActorClass(): ActorClass<typeof QueueActor> {
  if (!actorClass) {
    const { methods, hasAsync } = methodsOf(QueueActor);
    actorClass = new ActorClass(
      describeByValue(QueueActor as never, true, 'Queue'),
      'QueueActor',
      methods,
      hasAsync,
      {},
    );
  }
  return actorClass;
}

/** Options of {@link Queue}. */
export interface QueueOptions {
  /** Options of the queue's actor (e.g. `{ name }` to find it with `getActor`, or `numCpus`); by default it holds no CPU. */
  actorOptions?: ActorOptions;
}

/** Options of {@link Queue.put} and {@link Queue.get}. */
export interface QueueWaitOptions {
  /** Wait for room (put) or an item (get); false throws at once instead (default true). */
  block?: boolean;
  /** With `block`, give up after this many milliseconds (default: wait as long as it takes). */
  timeoutMs?: number;
}

/**
 * A first-in, first-out queue that tasks and actors share, as Ray's `ray.util.queue.Queue`.
 * Pass the queue itself to tasks and actors; every copy reaches the same items.
 * @example
 * const q = new Queue<number>(10);
 * await q.put(1);
 * const consumer = remote(async (queue: Queue<number>) => queue.get());
 * await get(consumer.remote(q)); // 1
 */
export class Queue<T = unknown> implements Markable {
  /** Most items the queue holds; 0 means no limit. */
  readonly maxsize: number;
  /** The actor that holds the items. */
  readonly actor: ActorHandle<QueueActor>;

  /** @param maxsize most items the queue holds; 0 (the default) means no limit. */
  constructor(maxsize = 0, options: QueueOptions = {}, /** @internal */ existing?: ActorHandle<QueueActor>) {
    if (!Number.isInteger(maxsize) || maxsize < 0)
      throw new InvalidArgumentError(`Queue(maxsize) takes a whole number >= 0 (0: no limit), got ${maxsize}.`);
    this.maxsize = maxsize;
    this.actor =
      existing ??
      queueActorClass()
        .options({ numCpus: 0, ...(options.actorOptions ?? {}) })
        .remote(maxsize);
  }

  /** How many items are in the queue now. */
  async size(): Promise<number> {
    return get(this.actor.qsize.remote());
  }

  /** The same as {@link size} (Ray's `qsize()`). */
  qsize(): Promise<number> {
    return this.size();
  }

  /** Whether the queue holds no item now. */
  async empty(): Promise<boolean> {
    return (await this.size()) === 0;
  }

  /** Whether the queue holds `maxsize` items now (never, without a limit). */
  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.size()) >= this.maxsize;
  }

  /** Adds an item; waits for room when the queue is full (see {@link QueueWaitOptions}). */
  async put(item: T, options: QueueWaitOptions = {}): Promise<void> {
    const timeoutMs = waitTime('put', options);
    if (!(await get(this.actor.put.remote(item, timeoutMs)))) {
      throw new QueueFullError(
        timeoutMs === 0
          ? `The queue is full (${this.maxsize} items): wait with put(item), or take items out first.`
          : `The queue stayed full (${this.maxsize} items) for ${timeoutMs} ms.`,
      );
    }
  }

  /** Takes the oldest item; waits for one when the queue is empty (see {@link QueueWaitOptions}). */
  async get(options: QueueWaitOptions = {}): Promise<T> {
    const timeoutMs = waitTime('get', options);
    const got = await get(this.actor.get.remote(timeoutMs));
    if (!got.ok)
      throw new QueueEmptyError(
        timeoutMs === 0
          ? 'The queue is empty: wait with get(), or put items in first.'
          : `The queue stayed empty for ${timeoutMs} ms.`,
      );
    return got.item as T;
  }

  /** Adds an item, or throws QueueFullError at once when there is no room. */
  putNowait(item: T): Promise<void> {
    return this.put(item, { block: false });
  }

  /** Takes the oldest item, or throws QueueEmptyError at once when there is none. */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /** Adds all of `items`, or none of them with a QueueFullError when they do not all fit. */
  async putNowaitBatch(items: readonly T[]): Promise<void> {
    if (!Array.isArray(items)) throw new InvalidArgumentError('putNowaitBatch() takes an array of items.');
    if (!(await get(this.actor.putBatch.remote([...items])))) {
      throw new QueueFullError(`${items.length} items do not fit in the queue (at most ${this.maxsize}).`);
    }
  }

  /** Takes the `n` oldest items, or none of them with a QueueEmptyError when fewer are there. */
  async getNowaitBatch(n: number): Promise<T[]> {
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`getNowaitBatch(n) takes a whole number >= 0, got ${n}.`);
    const got = await get(this.actor.getBatch.remote(n));
    if (!got.ok) throw new QueueEmptyError(`The queue holds fewer than ${n} items.`);
    return got.items as T[];
  }

  /** Ends the queue's actor: its items are gone, and later calls fail with ActorDiedError. */
  async shutdown(): Promise<void> {
    await kill(this.actor);
  }

  /** @internal */
  [toMarker](): Record<string, unknown> {
    return { type: 'queue', maxsize: this.maxsize, actor: { ...this.actor[handleData] } };
  }
}

function waitTime(what: 'put' | 'get', options: QueueWaitOptions): number | null {
  const { block = true, timeoutMs } = options;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
    throw new InvalidArgumentError(`Queue.${what}(): timeoutMs must be a number >= 0, got ${String(timeoutMs)}.`);
  }
  if (!block) return 0;
  return timeoutMs ?? null;
}

markerTypes.set('queue', (m) => new Queue(m.maxsize as number, {}, makeHandle<QueueActor>(m.actor as never)));
