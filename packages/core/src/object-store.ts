/**
 * A node's object store: values by id, with reference counts, a capacity for large (shared-memory)
 * values, spilling of the least recently used large values to local disk when full, and
 * transparent restore when one is read again. Small values live on the heap and are not counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allocShared, recycleShared } from './memory.js';
import { nestedRefs, storedSize, type StoredValue } from './serialization.js';

type Waiter = () => void;

interface Entry {
  readonly id: string;
  /** `pending` until the value arrives; `spilled` when its bytes are on disk only. */
  state: 'pending' | 'ready' | 'spilled';
  value: StoredValue | undefined;
  size: number;
  large: boolean;
  /** Where the bytes are on disk, once spilled (kept until freed, so spilling again is free). */
  spillPath: string | undefined;
  /** Threads holding at least one ObjectRef to it. */
  holders: number;
  /** Its bytes were handed to a reader (so they must never be reused). */
  read: boolean;
  /** The worker that made its bytes, which gets them back for reuse if nobody read them. */
  producer: unknown;
  /** Tasks that take it as an argument, and stored values that contain a ref to it. */
  pins: number;
  waiters: Waiter[] | undefined;
  lastUse: number;
}

export interface ObjectStoreStats {
  /** Objects in the store (pending ones included). */
  numObjects: number;
  /** Bytes of large values in memory. */
  usedBytes: number;
  capacityBytes: number;
  spilledObjects: number;
  spilledBytesTotal: number;
  restoredBytesTotal: number;
}

export class ObjectStore {
  private readonly entries = new Map<string, Entry>();
  private usedBytes = 0;
  private useClock = 0;
  private spilledBytesTotal = 0;
  private restoredBytesTotal = 0;
  private spillDirMade = false;
  /** Called with the id of each object freed (the node drops per-object bookkeeping). */
  onFree: ((id: string) => void) | undefined;
  /** Gives an unread buffer back to the worker that made it (see Entry.producer). */
  onReturnBuffer: ((producer: unknown, buf: SharedArrayBuffer) => void) | undefined;

  constructor(
    readonly capacityBytes: number,
    private readonly inlineMaxBytes: number,
    private readonly spillDir: string,
  ) {}

  has(id: string): boolean {
    return this.entries.has(id);
  }

  isReady(id: string): boolean {
    const e = this.entries.get(id);
    return e !== undefined && e.state !== 'pending';
  }

  /** Declares an object whose value will come later (a task's return; its id is new). */
  createPending(id: string): void {
    this.entries.set(id, this.newEntry(id));
  }

  private newEntry(id: string): Entry {
    return {
      id, state: 'pending', value: undefined, size: 0, large: false, spillPath: undefined,
      holders: 0, read: false, producer: undefined, pins: 0, waiters: undefined, lastUse: 0,
    };
  }

  /** Stores a value (filling a pending entry or making a new one) and wakes its waiters. */
  put(id: string, value: StoredValue, producer?: unknown): void {
    let e = this.entries.get(id);
    // A new object waits for its first holder or pin; a pending one nobody holds any more is freed now.
    const wasPending = e !== undefined;
    if (!e) {
      e = this.newEntry(id);
      this.entries.set(id, e);
    } else if (e.state !== 'pending') {
      return; // a value arrived twice (a retried task finishing late): the first one stands
    }
    const size = storedSize(value);
    e.size = size;
    e.large = (value.t === 'v8' || value.t === 'raw') && size > this.inlineMaxBytes;
    e.producer = e.large ? producer : undefined;
    e.lastUse = ++this.useClock;
    for (const nested of nestedRefs(value)) this.pin(nested);
    if (e.large) {
      if (size > this.capacityBytes) {
        e.value = value;
        e.state = 'ready';
        this.spill(e); // larger than the whole store: straight to disk
      } else {
        this.makeRoom(size, e);
        e.value = value;
        e.state = 'ready';
        this.usedBytes += size;
      }
    } else {
      e.value = value;
      e.state = 'ready';
    }
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters) for (const w of waiters) w();
    if (wasPending) this.maybeFree(e);
  }

  /** The value, restored from disk if spilled; undefined if unknown (freed or never made) or pending. */
  get(id: string): StoredValue | undefined {
    const e = this.entries.get(id);
    if (!e || e.state === 'pending') return undefined;
    e.lastUse = ++this.useClock;
    if (e.state === 'spilled') this.restore(e);
    e.read = true;
    return e.value;
  }

  /** Calls `cb` once the object is ready (at once if it is); returns a function that cancels. */
  onReady(id: string, cb: Waiter): () => void {
    const e = this.entries.get(id);
    if (!e || e.state !== 'pending') {
      cb();
      return () => {};
    }
    (e.waiters ??= []).push(cb);
    return () => {
      const ws = e.waiters;
      if (!ws) return;
      const i = ws.indexOf(cb);
      if (i >= 0) ws.splice(i, 1);
    };
  }

  addHolder(id: string): void {
    const e = this.entries.get(id);
    if (e) e.holders++;
  }

  removeHolder(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.holders--;
    this.maybeFree(e);
  }

  pin(id: string): void {
    const e = this.entries.get(id);
    if (e) e.pins++;
  }

  unpin(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.pins--;
    this.maybeFree(e);
  }

  private maybeFree(e: Entry): void {
    if (e.holders > 0 || e.pins > 0 || e.state === 'pending') return;
    this.entries.delete(e.id);
    if (e.state === 'ready' && e.large) this.usedBytes -= e.size;
    if (e.spillPath) fs.rm(e.spillPath, { force: true }, () => {});
    const value = e.value;
    e.value = undefined;
    if (value && e.state === 'ready' && e.large && !e.read) this.recycle(value, e.producer);
    if (value) for (const nested of nestedRefs(value)) this.unpin(nested);
    this.onFree?.(e.id);
  }

  /** Spills least recently used large values until `size` more bytes fit. */
  private makeRoom(size: number, except: Entry): void {
    if (this.usedBytes + size <= this.capacityBytes) return;
    const candidates = [...this.entries.values()]
      .filter((c) => c !== except && c.state === 'ready' && c.large)
      .sort((a, b) => a.lastUse - b.lastUse);
    for (const c of candidates) {
      if (this.usedBytes + size <= this.capacityBytes) break;
      this.usedBytes -= c.size;
      this.spill(c);
    }
  }

  private spill(e: Entry): void {
    const value = e.value;
    if (!value || value.t === 'err' || value.t === 'js') return;
    if (!e.spillPath) {
      if (!this.spillDirMade) {
        fs.mkdirSync(this.spillDir, { recursive: true });
        this.spillDirMade = true;
      }
      e.spillPath = path.join(this.spillDir, e.id);
      const fd = fs.openSync(e.spillPath, 'w');
      try {
        let off = 0;
        while (off < value.b.byteLength) off += fs.writeSync(fd, value.b, off, value.b.byteLength - off);
      } finally {
        fs.closeSync(fd);
      }
      this.spilledBytesTotal += e.size;
    }
    // Keep the metadata; drop the bytes (readers that hold them keep their copy alive).
    if (!e.read) this.recycle(value, e.producer);
    e.value = { ...value, b: new Uint8Array(0) };
    e.state = 'spilled';
  }

  private recycle(value: StoredValue, producer: unknown): void {
    if (value.t !== 'raw' && value.t !== 'v8') return;
    const b = value.b;
    if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength) return;
    if (producer !== undefined) {
      if (b.buffer instanceof SharedArrayBuffer) this.onReturnBuffer?.(producer, b.buffer);
    } else recycleShared(b.buffer);
  }

  private restore(e: Entry): void {
    const meta = e.value!;
    if (meta.t === 'err' || meta.t === 'js' || !e.spillPath) return;
    if (e.size <= this.capacityBytes) this.makeRoom(e.size, e);
    const b = new Uint8Array(allocShared(e.size));
    const fd = fs.openSync(e.spillPath, 'r');
    try {
      let off = 0;
      while (off < e.size) {
        const n = fs.readSync(fd, b, off, e.size - off, off);
        if (n === 0) break;
        off += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    this.restoredBytesTotal += e.size;
    e.value = { ...meta, b };
    e.state = 'ready';
    this.usedBytes += e.size;
  }

  stats(): ObjectStoreStats {
    let spilled = 0;
    for (const e of this.entries.values()) if (e.state === 'spilled') spilled++;
    return {
      numObjects: this.entries.size,
      usedBytes: this.usedBytes,
      capacityBytes: this.capacityBytes,
      spilledObjects: spilled,
      spilledBytesTotal: this.spilledBytesTotal,
      restoredBytesTotal: this.restoredBytesTotal,
    };
  }

  /** Drops everything and removes spill files (at shutdown); whoever waits is woken to find nothing. */
  clear(): void {
    const waiting = [...this.entries.values()].flatMap((e) => e.waiters ?? []);
    this.entries.clear();
    for (const w of waiting) w();
    this.usedBytes = 0;
    if (this.spillDirMade) fs.rmSync(this.spillDir, { recursive: true, force: true });
  }
}
