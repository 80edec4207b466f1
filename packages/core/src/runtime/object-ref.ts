/**
 * ObjectRef: a typed reference to a value in the object store, and the per-thread tracker that
 * counts live refs so the store can free an object once no ref to it is left anywhere.
 */
import { threadState } from './thread-state.js';

/**
 * A reference to a value that a task returns or `put` stores, possibly not computed yet.
 * Read it with `get(ref)`; pass it to tasks (top-level refs arrive as their values; refs nested
 * in objects or arrays arrive as refs). Deliberately not a thenable, so a task may return a ref.
 */
export class ObjectRef<T = unknown> {
  /** Phantom field that carries the value's type; never set at run time. */
  declare readonly __valueType?: T;
  /** The object's id, unique in the cluster. */
  readonly id: string;

  constructor(id: string) {
    this.id = id;
    const tracker = threadState().refTracker;
    if (tracker) {
      if (makingWatched) tracker.watch(this);
      else tracker.track(this);
    }
  }

  /** Returns a readable form: `ObjectRef(obj_...)`. */
  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  /** Serialized as its id, e.g. in logs. */
  toJSON(): { objectRef: string } {
    return { objectRef: this.id };
  }
}

let makingWatched = false;

/** Makes a ref to a large value, watched so that memory pressure can free it early (see RefTracker.watch). */
export function watchedRef<T>(id: string): ObjectRef<T> {
  makingWatched = true;
  try {
    return new ObjectRef<T>(id);
  } finally {
    makingWatched = false;
  }
}

/**
 * The ref to `id` for a value being deserialized: the one this thread already made for that id
 * when it is still alive (no new instance, no new finalizer: reading a list of 10k refs again costs
 * 10k map lookups), else a new one, remembered. Refs are immutable, so sharing one is safe.
 */
export function refFor<T>(id: string): ObjectRef<T> {
  const tracker = threadState().refTracker;
  const live = tracker?.interned(id);
  if (live) return live as ObjectRef<T>;
  const ref = new ObjectRef<T>(id);
  tracker?.intern(ref);
  return ref;
}

/** Where a tracker reports ids whose first local ref appeared or last local ref disappeared. */
export interface RefSink {
  addRefs(ids: string[]): void;
  removeRefs(ids: string[]): void;
  /** One id at a time, for unbatched (in-process) sinks: no array per ref. */
  addRef?(id: string): void;
  removeRef?(id: string): void;
}

/** Counts live ObjectRef instances per id in this thread, using a FinalizationRegistry. */
export class RefTracker {
  private readonly counts = new Map<string, number>();
  private readonly finalizer = new FinalizationRegistry<string>((id) => this.release(id));
  private pendingAdd: string[] = [];
  private pendingRemove: string[] = [];
  private flushScheduled = false;

  constructor(
    private readonly sink: RefSink,
    private readonly batched: boolean,
  ) {}

  /** Deserialized refs, handed out again for their ids while they live (see refFor). */
  private readonly internedRefs = new Map<string, WeakRef<ObjectRef<unknown>>>();

  interned(id: string): ObjectRef<unknown> | undefined {
    return this.internedRefs.get(id)?.deref();
  }

  intern(ref: ObjectRef<unknown>): void {
    this.internedRefs.set(ref.id, new WeakRef(ref));
  }

  /** Refs to large values, watched with WeakRefs so that {@link sweep} can free them early. */
  private readonly watched = new Map<string, WeakRef<ObjectRef<unknown>>[]>();

  track(ref: ObjectRef<unknown>): void {
    this.countOne(ref.id);
    this.finalizer.register(ref, ref.id);
  }

  /** Counts one more live ref to `id`, telling the node when it is the first. */
  private countOne(id: string): void {
    const c = this.counts.get(id) ?? 0;
    this.counts.set(id, c + 1);
    if (c === 0) {
      if (this.batched) {
        this.pendingAdd.push(id);
        this.scheduleFlush();
      } else if (this.sink.addRef) this.sink.addRef(id);
      else this.sink.addRefs([id]);
    }
  }

  /**
   * Watches a ref to a large value: when memory is short, {@link sweep} finds it collected at once,
   * rather than when the FinalizationRegistry gets round to it (which may be many puts later).
   */
  watch(ref: ObjectRef<unknown>): void {
    this.countOne(ref.id);
    const weak = new WeakRef(ref);
    // The WeakRef (held here) is the unregister token, so a sweep can cancel the finalizer call.
    this.finalizer.register(ref, ref.id, weak);
    let list = this.watched.get(ref.id);
    if (!list) this.watched.set(ref.id, (list = []));
    list.push(weak);
  }

  /** How many objects this thread holds refs to. */
  liveCount(): number {
    return this.counts.size;
  }

  /** Releases watched refs that the last GC collected; returns how many. */
  sweep(): number {
    let released = 0;
    for (const [id, list] of this.watched) {
      for (let i = list.length - 1; i >= 0; i--) {
        const weak = list[i];
        if (weak.deref() !== undefined) continue;
        list.splice(i, 1);
        if (this.finalizer.unregister(weak)) {
          this.release(id);
          released++;
        }
      }
      if (list.length === 0) this.watched.delete(id);
    }
    return released;
  }

  /** Number of live refs to `id` in this thread (for tests and diagnostics). */
  count(id: string): number {
    return this.counts.get(id) ?? 0;
  }

  private release(id: string): void {
    const c = this.counts.get(id);
    if (c === undefined) return;
    const list = this.watched.get(id);
    if (list) {
      // A finalizer for a watched ref may run before a sweep sees it: forget its WeakRef.
      const dead = list.findIndex((w) => w.deref() === undefined);
      if (dead >= 0) list.splice(dead, 1);
      if (list.length === 0) this.watched.delete(id);
    }
    if (c > 1) {
      this.counts.set(id, c - 1);
      return;
    }
    this.counts.delete(id);
    this.internedRefs.delete(id);
    // Finalizers run from a clean stack, so a synchronous sink is safe; batching still helps workers.
    if (this.batched) {
      this.pendingRemove.push(id);
      this.scheduleFlush();
    } else if (this.sink.removeRef) this.sink.removeRef(id);
    else this.sink.removeRefs([id]);
  }

  /** Sends pending adds and removes now (a worker calls this before it reports a task done). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pendingAdd.length) {
      const a = this.pendingAdd;
      this.pendingAdd = [];
      this.sink.addRefs(a);
    }
    if (this.pendingRemove.length) {
      const r = this.pendingRemove;
      this.pendingRemove = [];
      this.sink.removeRefs(r);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Stops tracking (at shutdown): later finalizers do nothing. */
  clear(): void {
    this.counts.clear();
    this.internedRefs.clear();
    this.watched.clear();
    this.pendingAdd = [];
    this.pendingRemove = [];
  }
}
