/**
 * A node's object store: values by id, with reference counts, a capacity for large (shared-memory)
 * values, spilling of the least recently used large values to local disk when full, and
 * transparent restore when one is read again. Small values live on the heap and are not counted.
 *
 * A spill that fails (a full or failing disk) leaves its object in memory; the store then only
 * drops bytes already on disk, and a value that still finds no room is stored as an
 * ObjectStoreFullError (thrown by a driver's `put`, by `get` elsewhere): `usedBytes` counts
 * exactly the large values in memory, and every waiter gets a value or an error.
 */
import { ObjectStoreFullError, RayError, errorToWire } from '../errors.js';
import { releaseBlock } from '../runtime/arena.js';
import { allocShared, recycleShared } from '../runtime/memory.js';
import { allocStored, nestedRefs, storedError, storedSize, type StoredValue } from '../runtime/serialization.js';
import { SpillFiles, type SpillOptions } from './spill-files.js';

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
  /**
   * The file that holds all its bytes, set once written whole (kept until freed, so spilling
   * again is free).
   */
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
  /** Bytes of the objects whose bytes are on disk only now. */
  spilledBytes: number;
  spilledBytesTotal: number;
  /** Spills written and restores read since the store started. */
  spillsTotal: number;
  restoresTotal: number;
  restoredBytesTotal: number;
  /** Spills that failed (a full or failing spill directory); their objects stayed in memory. */
  failedSpillsTotal: number;
}

/** Why room could not be made: the last spill that failed, or none to try. */
interface NoRoom {
  readonly reason: string;
  readonly cause: unknown;
}

export class ObjectStore {
  private readonly entries = new Map<string, Entry>();
  private usedBytes = 0;
  private useClock = 0;
  private spilledBytesTotal = 0;
  private restoredBytesTotal = 0;
  private failedSpillsTotal = 0;
  private spillsTotal = 0;
  private restoresTotal = 0;
  private readonly files: SpillFiles;
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
    spillDir: string,
    spill: SpillOptions = {},
  ) {
    this.files = new SpillFiles(spillDir, spill);
  }

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

  /**
   * The size recorded for a `remote` object this node owns (its executor reported it), which a
   * pull of its bytes must match; undefined where none is recorded (a borrowed ref).
   */
  recordedSize(id: string): number | undefined {
    const e = this.entries.get(id);
    return e && e.state === 'remote' && e.location !== undefined ? e.size : undefined;
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

  /**
   * The bytes of a `remote` object arrived (pulled): it is local now. Throws ObjectStoreFullError
   * (the object stays `remote`, to be pulled again) when no room can be made for them.
   */
  fillPulled(id: string, value: StoredValue): void {
    const e = this.entries.get(id);
    if (!e || e.state !== 'remote') return this.recycle(value, undefined, false); // freed, or filled by another pull
    const err = this.admit(e, value, undefined);
    if (err) {
      this.recycle(value, undefined, false);
      throw err;
    }
    for (const nested of nestedRefs(value)) this.pin(nested);
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

  /**
   * Stores a value (filling a pending entry or making a new one) and wakes its waiters. When no
   * room can be made for a large value, the object holds an ObjectStoreFullError instead, which
   * is also returned (a driver's `put` throws it).
   */
  put(id: string, value: StoredValue, producer?: unknown): ObjectStoreFullError | undefined {
    let e = this.entries.get(id);
    // A new object waits for its first holder or pin; a pending one nobody holds any more is freed now.
    const wasPending = e !== undefined;
    if (!e) {
      e = this.newEntry(id);
      this.entries.set(id, e);
    } else if (e.state !== 'pending') {
      this.recycle(value, producer, false); // a value arrived twice (a retried task late): the first stands
      return undefined;
    }
    e.lastUse = ++this.useClock;
    const err = this.admit(e, value, producer);
    if (err) {
      // No room: the object holds the error instead, so whoever reads it learns why.
      this.recycle(value, producer, false);
      e.value = storedError(errorToWire(err));
      e.size = 0;
      e.large = false;
      e.producer = undefined;
      e.state = 'ready';
    } else for (const nested of nestedRefs(value)) this.pin(nested);
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters) for (const w of waiters) w();
    if (wasPending) this.maybeFree(e);
    return err;
  }

  /**
   * Makes `value` the entry's, ready: a large one in memory once room is made (counted), or on
   * disk if larger than the whole store. Returns the error, changing nothing, if neither works.
   */
  private admit(e: Entry, value: StoredValue, producer: unknown): ObjectStoreFullError | undefined {
    const size = storedSize(value);
    const large = (value.t === 'v8' || value.t === 'raw') && size > this.inlineMaxBytes;
    if (large) {
      const noRoom =
        size > this.capacityBytes
          ? this.writeSpill(e, value) // larger than the whole store: straight to disk
          : this.makeRoom(size, e);
      if (noRoom) return this.fullError(e.id, size, noRoom);
    }
    e.size = size;
    e.large = large;
    e.producer = large ? producer : undefined;
    e.value = value;
    e.state = 'ready';
    if (large && size > this.capacityBytes) this.dropBytes(e);
    else if (large) this.usedBytes += size;
    return undefined;
  }

  private fullError(id: string, size: number, noRoom: NoRoom): ObjectStoreFullError {
    const where =
      size > this.capacityBytes
        ? `it is larger than the object store (${bytes(this.capacityBytes)}), so it goes to disk, and writing it to ${this.files.dir} failed`
        : `the object store is full (${bytes(this.usedBytes)} of ${bytes(this.capacityBytes)} in use) and spilling to ${this.files.dir} failed`;
    return new ObjectStoreFullError(
      `Object ${id} (${bytes(size)}) could not be stored: ${where}: ${noRoom.reason}. Free space in the ` +
        `spill directory or point spillDirectory at a larger disk, drop refs to objects no longer ` +
        `needed, or raise objectStoreMemory.`,
      { objectId: id, cause: noRoom.cause },
    );
  }

  /**
   * The value, restored from disk if spilled (an ObjectLostError value if its file cannot be read
   * back whole); undefined if unknown (freed or never made) or pending.
   */
  get(id: string): StoredValue | undefined {
    const e = this.entries.get(id);
    if (!e || e.state === 'pending') return undefined;
    e.lastUse = ++this.useClock;
    const value = e.state === 'spilled' ? this.restore(e) : e.value;
    if (e.state === 'ready') e.read = true;
    return value;
  }

  /**
   * The value, for sending to another node: unlike {@link get}, it does not count as read, so the
   * bytes can still be reused once the object is freed. Pin it while its bytes are in use.
   */
  getForTransfer(id: string): StoredValue | undefined {
    const e = this.entries.get(id);
    if (!e || e.state === 'pending' || e.state === 'remote') return undefined;
    e.lastUse = ++this.useClock;
    return e.state === 'spilled' ? this.restore(e) : e.value;
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

  /** Frees an object that nothing holds or pins (a driver's `put` that threw: no ref to it exists). */
  discard(id: string): void {
    const e = this.entries.get(id);
    if (e && e.holders === 0 && e.pins === 0) this.maybeFree(e);
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
    if (e.spillPath) this.files.remove(e.spillPath);
    const value = e.value;
    e.value = undefined;
    if (value && e.state === 'ready' && e.large) this.recycle(value, e.producer, e.read);
    if (value) for (const nested of nestedRefs(value)) this.unpin(nested);
    this.onFree?.(e.id);
  }

  /**
   * Spills least recently used large values until `size` more bytes fit. Once a spill fails (a
   * full or failing disk) it writes no more, and only drops the bytes of values already on disk.
   * Returns why there is still no room, or undefined once there is.
   */
  private makeRoom(size: number, except: Entry): NoRoom | undefined {
    const fits = () => this.usedBytes + size <= this.capacityBytes;
    if (fits()) return undefined;
    const candidates = [...this.entries.values()]
      .filter((c) => c !== except && c.state === 'ready' && c.large)
      .sort((a, b) => a.lastUse - b.lastUse);
    let failed: NoRoom | undefined;
    for (const c of candidates) {
      if (fits()) return undefined;
      if (!c.spillPath) {
        if (failed) continue;
        failed = this.writeSpill(c, c.value!);
        if (failed) continue; // it stays in memory, counted
      }
      this.usedBytes -= c.size;
      this.dropBytes(c);
    }
    return fits() ? undefined : (failed ?? { reason: 'nothing else in memory can be spilled', cause: undefined });
  }

  /** Writes a value's bytes to the entry's spill file; the entry has that file only once it is whole. */
  private writeSpill(e: Entry, value: StoredValue): NoRoom | undefined {
    if (value.t !== 'raw' && value.t !== 'v8') return { reason: `a ${value.t} value does not spill`, cause: undefined };
    const w = this.files.write(e.id, value.b);
    if (!w.ok) {
      this.failedSpillsTotal++;
      return w;
    }
    e.spillPath = w.path;
    this.spilledBytesTotal += value.b.byteLength;
    this.spillsTotal++;
    return undefined;
  }

  /** Drops the bytes of a value its spill file holds (readers that hold them keep their copy alive). */
  private dropBytes(e: Entry): void {
    const value = e.value!;
    if (value.t !== 'raw' && value.t !== 'v8') return;
    this.recycle(value, e.producer, e.read);
    e.value = { ...value, b: new Uint8Array(0) };
    e.state = 'spilled';
  }

  /** Lets go of a value's bytes: an arena block's store reference, or memory no reader saw for reuse. */
  private recycle(value: StoredValue, producer: unknown, read: boolean): void {
    if (value.t !== 'raw' && value.t !== 'v8') return;
    const b = value.b;
    releaseBlock(b);
    if (read || b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength) return;
    if (producer !== undefined) {
      if (b.buffer instanceof SharedArrayBuffer) this.onReturnBuffer?.(producer, b.buffer);
    } else recycleShared(b.buffer);
  }

  /**
   * A spilled value, read back from its file: kept in memory when room can be made, else only
   * handed to the reader (the store never goes over its capacity; the file stays). A file that
   * cannot be read back whole makes the object an ObjectLostError naming it and the file.
   */
  private restore(e: Entry): StoredValue {
    const meta = e.value!;
    if ((meta.t !== 'raw' && meta.t !== 'v8') || !e.spillPath) return meta;
    // Room first: the buffers of what spills for it are reused for its bytes (fresh memory costs page faults).
    const keep = e.size <= this.capacityBytes && this.makeRoom(e.size, e) === undefined;
    // Only a value kept here takes an arena block (one for a reader alone has no store reference to drop).
    const b = keep ? allocStored(e.size) : new Uint8Array(allocShared(e.size));
    try {
      this.files.read(e.id, e.spillPath, e.size, b);
    } catch (err) {
      if (keep) releaseBlock(b);
      else recycleShared(b.buffer);
      return this.lose(e, err);
    }
    this.restoredBytesTotal += e.size;
    this.restoresTotal++;
    const value: StoredValue = { ...meta, b };
    if (keep) {
      e.value = value;
      e.state = 'ready';
      this.usedBytes += e.size;
    }
    return value;
  }

  /** The object's bytes are gone: it holds `err` from now on (its file is removed, its nested refs let go). */
  private lose(e: Entry, err: unknown): StoredValue {
    const before = e.value;
    if (e.spillPath) this.files.remove(e.spillPath);
    e.spillPath = undefined;
    e.value = storedError(errorToWire(err instanceof RayError ? err : new RayError(String(err), { objectId: e.id })));
    e.state = 'ready';
    e.large = false;
    e.size = 0;
    if (before) for (const nested of nestedRefs(before)) this.unpin(nested);
    return e.value;
  }

  stats(): ObjectStoreStats {
    let spilled = 0;
    let spilledBytes = 0;
    for (const e of this.entries.values())
      if (e.state === 'spilled') {
        spilled++;
        spilledBytes += e.size;
      }
    return {
      numObjects: this.entries.size,
      usedBytes: this.usedBytes,
      capacityBytes: this.capacityBytes,
      spilledObjects: spilled,
      spilledBytes,
      spilledBytesTotal: this.spilledBytesTotal,
      spillsTotal: this.spillsTotal,
      restoresTotal: this.restoresTotal,
      restoredBytesTotal: this.restoredBytesTotal,
      failedSpillsTotal: this.failedSpillsTotal,
    };
  }

  /** Drops everything and removes spill files (at shutdown); whoever waits is woken to find nothing. */
  clear(): void {
    const waiting = [...this.entries.values()].flatMap((e) => e.waiters ?? []);
    this.entries.clear();
    for (const w of waiting) w();
    this.usedBytes = 0;
    this.files.removeAll();
  }
}

/** A size for a message: `40 bytes`, `1.5 KiB`, `64.0 MiB`. */
function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n / 1024;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(1)} ${units[i]}`;
}
