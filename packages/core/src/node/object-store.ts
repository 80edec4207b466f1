/**
 * A node's object store: values by id, with reference counts, a capacity for large (shared-memory)
 * values, spilling of the least recently used large values to local disk when full, and
 * transparent restore when one is read again. Small values live on the heap and are not counted.
 */
import { ignored } from '../log.js';
import fs from 'node:fs';
import path from 'node:path';
import { allocShared, recycleShared } from '../runtime/memory.js';
import { nestedRefs, storedSize, type StoredValue } from '../runtime/serialization.js';

type Waiter = () => void;

interface Entry {
  readonly id: string;
  /**
   * `pending` until the value arrives; `spilled` when its bytes are on disk only; `remote` when
   * they are on another node (`location`, or the owner for a borrowed ref): pull to read them.
   */
  state: 'pending' | 'ready' | 'spilled' | 'remote';
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
  // ---- multi-node (undefined on an embedded cluster)
  /** The owner node of a borrowed ref (undefined: this node owns it). */
  owner: string | undefined;
  /** The node holding the bytes of a `remote` object this node owns. */
  location: string | undefined;
  /** Owned objects: borrow counts of other nodes (each nonzero count holds the object). */
  borrowers: Map<string, number> | undefined;
  /** Borrowed refs: how many borrows the owner counted for this node (returned on release). */
  received: number;
  /** An executor's copy of a result owned by another node: kept until the owner frees it. */
  copy: boolean;
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
  /** A borrowed ref is no longer used on this node: give its borrows back to its owner. */
  onReleaseBorrow: ((id: string, owner: string, count: number) => void) | undefined;
  /** An owned object held on another node (`location`) was freed: that node drops its copy. */
  onFreeRemote: ((id: string, location: string) => void) | undefined;

  constructor(
    readonly capacityBytes: number,
    readonly inlineMaxBytes: number,
    private readonly spillDir: string,
  ) {}

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Ready here or on another node (a borrowed ref counts as ready: its owner serves it). */
  isReady(id: string): boolean {
    const e = this.entries.get(id);
    return e !== undefined && e.state !== 'pending';
  }

  /** Its bytes are on this node (in memory or spilled). */
  isLocal(id: string): boolean {
    const e = this.entries.get(id);
    return e !== undefined && (e.state === 'ready' || e.state === 'spilled');
  }

  /** Where to pull a `remote` object from: its location, else its owner. */
  remoteSource(id: string): string | undefined {
    const e = this.entries.get(id);
    if (!e || e.state !== 'remote') return undefined;
    return e.location ?? e.owner;
  }

  /** The owner of an object this node knows (undefined: this node, or unknown). */
  ownerOf(id: string): string | undefined {
    return this.entries.get(id)?.owner;
  }

  /**
   * Records a ref owned by another node, arriving in a message that the owner counted as one
   * borrow by this node. Returns true if the entry is new.
   */
  addBorrowed(id: string, owner: string): boolean {
    let e = this.entries.get(id);
    const fresh = !e;
    if (!e) {
      e = this.newEntry(id);
      e.state = 'remote';
      e.owner = owner;
      this.entries.set(id, e);
    }
    if (e.owner !== undefined) e.received++;
    return fresh;
  }

  /** An owned object finished on another node, which keeps its bytes. */
  putRemote(id: string, location: string, size: number): void {
    const e = this.entries.get(id);
    if (!e || e.state !== 'pending') return;
    e.state = 'remote';
    e.location = location;
    e.size = size;
    e.lastUse = ++this.useClock;
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters) for (const w of waiters) w();
    this.maybeFree(e);
  }

  /** The bytes of a `remote` object arrived (pulled): it is local now. */
  fillPulled(id: string, value: StoredValue): void {
    const e = this.entries.get(id);
    if (!e || e.state !== 'remote') return;
    const size = storedSize(value);
    e.size = size;
    e.large = (value.t === 'v8' || value.t === 'raw') && size > this.inlineMaxBytes;
    for (const nested of nestedRefs(value)) this.pin(nested);
    if (e.large && size > this.capacityBytes) {
      e.value = value;
      e.state = 'ready';
      this.spill(e);
      return;
    }
    if (e.large) {
      this.makeRoom(size, e);
      this.usedBytes += size;
    }
    e.value = value;
    e.state = 'ready';
  }

  /** Where an owned `remote` object's bytes are (undefined if here, pending, or borrowed). */
  locationOf(id: string): string | undefined {
    const e = this.entries.get(id);
    return e && e.state === 'remote' ? e.location : undefined;
  }

  /**
   * An owned object whose bytes were lost with their node is being made again: back to pending
   * (its holders and pins stay; readers wait for the new value).
   */
  resetPending(id: string): void {
    const e = this.entries.get(id);
    if (!e || e.state !== 'remote' || e.owner !== undefined) return;
    e.state = 'pending';
    e.location = undefined;
    e.value = undefined;
  }

  /** Marks a value stored here as a copy for its owner (kept until {@link dropCopy}). */
  markCopy(id: string, owner: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.copy = true;
    e.owner ??= owner;
  }

  /** The owner freed the object: drop this node's copy (unless it is still used here). */
  dropCopy(id: string): void {
    const e = this.entries.get(id);
    if (!e || !e.copy) return;
    e.copy = false;
    this.maybeFree(e);
  }

  /** A node borrows an owned object `delta` more (or fewer) times. */
  addBorrow(id: string, node: string, delta: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    const m = (e.borrowers ??= new Map());
    const before = m.get(node) ?? 0;
    const after = before + delta;
    if (after === 0) m.delete(node);
    else m.set(node, after);
    if (before === 0 && after !== 0) e.holders++;
    else if (before !== 0 && after === 0) this.removeHolder(id);
  }

  /** A node left the cluster: drop its borrows of owned objects and the copies it owned. */
  forgetNode(node: string): void {
    for (const e of [...this.entries.values()]) {
      const n = e.borrowers?.get(node);
      if (n !== undefined) this.addBorrow(e.id, node, -n);
      if (e.copy && e.owner === node) this.dropCopy(e.id);
    }
  }

  /** Bookkeeping of one object for the state API. */
  describe(
    id: string,
  ):
    | { state: string; size: number; holders: number; pins: number; borrowers: number; owner: string | undefined }
    | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    return {
      state: e.copy ? 'COPY' : e.state.toUpperCase(),
      size: e.size,
      holders: e.holders,
      pins: e.pins,
      borrowers: e.borrowers?.size ?? 0,
      owner: e.owner,
    };
  }

  /** Ids of every object this node knows. */
  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Declares an object whose value will come later (a task's return; its id is new). */
  createPending(id: string): void {
    this.entries.set(id, this.newEntry(id));
  }

  private newEntry(id: string): Entry {
    return {
      id,
      state: 'pending',
      value: undefined,
      size: 0,
      large: false,
      spillPath: undefined,
      holders: 0,
      read: false,
      producer: undefined,
      pins: 0,
      waiters: undefined,
      lastUse: 0,
      owner: undefined,
      location: undefined,
      borrowers: undefined,
      received: 0,
      copy: false,
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

  /**
   * The value, for sending to another node: unlike {@link get}, it does not count as read, so the
   * bytes can still be reused once the object is freed. Pin it while its bytes are in use.
   */
  getForTransfer(id: string): StoredValue | undefined {
    const e = this.entries.get(id);
    if (!e || e.state === 'pending' || e.state === 'remote') return undefined;
    e.lastUse = ++this.useClock;
    if (e.state === 'spilled') this.restore(e);
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
    if (e.owner !== undefined && e.received > 0) {
      const n = e.received;
      e.received = 0;
      this.onReleaseBorrow?.(e.id, e.owner, n);
    }
    if (e.copy) return;
    this.entries.delete(e.id);
    if (e.state === 'remote' && e.location) this.onFreeRemote?.(e.id, e.location);
    if (e.state === 'ready' && e.large) this.usedBytes -= e.size;
    if (e.spillPath)
      fs.rm(e.spillPath, { force: true }, (err) => {
        if (err) ignored(`removal of spill file ${e.spillPath}`)(err);
      });
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
