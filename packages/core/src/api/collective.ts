/**
 * Collective communication between the actors of a group (Ray's `ray.util.collective`): allreduce,
 * broadcast, allgather, reduceScatter, barrier, send and recv of typed arrays. Train and RLlib
 * keep model replicas in sync with them.
 *
 * Messages go from actor to actor through the nodes (shared memory between threads of a node,
 * the nodes' peer streams across nodes), outside the actors' call queues, so a member blocked in
 * a collective inside a method still receives. Large allreduces run as a ring (reduce-scatter
 * then allgather: each member sends 2(n-1)/n of the buffer); small ones exchange whole buffers
 * and reduce in rank order. Either way every member ends with bit-identical values.
 */
import { isMainThread } from 'node:worker_threads';
import { adoptShared, allocShared } from '../runtime/memory.js';
import { CollectiveTimeoutError, InvalidArgumentError, RayError } from '../errors.js';

export { CollectiveTimeoutError };
import { internalKv } from './kv.js';
import { requireClient, actorIdOf } from './remote.js';
import { executionContext } from '../worker/client.js';

/** The typed arrays collectives move and reduce. */
export type CollectiveArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Uint8ClampedArray;

/** How {@link collective.allreduce} and {@link collective.reduceScatter} combine values. */
export type ReduceOp = 'sum' | 'mean' | 'product' | 'max' | 'min';

/** Options of the collective operations. */
export interface CollectiveOptions {
  /** The group (default `'default'`). */
  groupName?: string;
  /** Fail with {@link CollectiveTimeoutError} if a member is not heard from within this (default 10 min). */
  timeoutMs?: number;
}

const CTORS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  Uint8ClampedArray,
} as const;
type DType = keyof typeof CTORS;

/** Buffers up to this many bytes are exchanged whole; larger ones go round the ring. */
const RING_ABOVE_BYTES = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const KV_NAMESPACE = '__ray_ts_collective';

function dtypeOf(a: unknown, what: string): DType {
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
    const name = a.constructor.name as DType;
    if (name in CTORS) return name;
  }
  const got = a === null ? 'null' : ArrayBuffer.isView(a) ? a.constructor.name : typeof a;
  throw new InvalidArgumentError(
    `${what} takes a typed array (Float32Array, Float64Array, Int32Array, ...), got ${got}. Convert it first, e.g. Float32Array.from(values).`,
  );
}

function asType(dtype: string, data: ArrayBufferView): CollectiveArray {
  const C = CTORS[dtype as DType];
  if (!C) throw new RayError(`collective message of unknown type ${dtype}`);
  if (data instanceof C) return data;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const aligned = data.byteOffset % C.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
  return new C(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / C.BYTES_PER_ELEMENT);
}

// ------------------------------------------------------------------ mailbox (one per thread)
const arrived = new Map<string, CollectiveArray>();
const waiting = new Map<string, (a: CollectiveArray) => void>();

/** @internal A message for actor `to` arrived in this thread (from its node). */
export function deliverCollective(to: string, key: string, dtype: string, data: ArrayBufferView): void {
  const id = `${to}|${key}`;
  const a = asType(dtype, data);
  const w = waiting.get(id);
  if (w) {
    waiting.delete(id);
    w(a);
  } else arrived.set(id, a);
}

function receive(me: string, key: string, deadline: number, onTimeout: () => Error): Promise<CollectiveArray> {
  const id = `${me}|${key}`;
  const got = arrived.get(id);
  if (got) {
    arrived.delete(id);
    return Promise.resolve(got);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        waiting.delete(id);
        reject(onTimeout());
      },
      Math.max(0, deadline - Date.now()),
    );
    waiting.set(id, (a) => {
      clearTimeout(timer);
      resolve(a);
    });
  });
}

/**
 * A received array is used up: its shared buffer goes to this thread's pool (runtime/memory.ts),
 * to send from. A ring member sends as much as it receives, so after the first operation it
 * allocates nothing. (Fresh memory is what costs: the first touch of each page, about 4 ms per
 * MiB on these VMs, against 0.07 ms to copy a MiB.)
 */
function recycle(a: CollectiveArray): void {
  const b = a.buffer;
  if (!(b instanceof SharedArrayBuffer) || a.byteOffset !== 0 || a.byteLength !== b.byteLength || b.byteLength === 0)
    return;
  adoptShared(b);
}

/** Copies `a` into memory the node can pass on without another copy (shared memory in a thread). */
function outgoing(a: CollectiveArray): CollectiveArray {
  const C = a.constructor as new (b: ArrayBufferLike) => CollectiveArray;
  if (isMainThread) return a.slice();
  const out = new C(allocShared(a.byteLength));
  out.set(a as never);
  return out;
}

// ------------------------------------------------------------------ groups
interface GroupInfo {
  name: string;
  members: string[];
  rank: number;
  me: string;
  seq: number;
}

/** Groups this thread's actors belong to: `${actorId}|${groupName}`. */
const joined = new Map<string, GroupInfo>();

function currentActor(what: string): string {
  const actorId = executionContext.getStore()?.data.actorId;
  if (!actorId) {
    throw new InvalidArgumentError(
      `${what} runs inside an actor of the group (call it from an actor method), not on the driver or in a task.`,
    );
  }
  return actorId;
}

async function group(what: string, opts: CollectiveOptions | undefined): Promise<GroupInfo> {
  const name = opts?.groupName ?? 'default';
  const me = currentActor(what);
  const known = joined.get(`${me}|${name}`);
  if (known) return known;
  const raw = await internalKv.getString(`group/${name}`, { namespace: KV_NAMESPACE });
  if (!raw) {
    throw new InvalidArgumentError(
      `${what}: no collective group '${name}'. Create it with collective.createCollectiveGroup(actors, { groupName: '${name}' }) on the driver, ` +
        `or call collective.initCollectiveGroup(worldSize, rank, '${name}') in every member first.`,
    );
  }
  const members = (JSON.parse(raw) as { members: string[] }).members;
  const rank = members.indexOf(me);
  if (rank < 0)
    throw new InvalidArgumentError(`${what}: this actor (${me}) is not a member of collective group '${name}'.`);
  const g: GroupInfo = { name, members, rank, me, seq: 0 };
  joined.set(`${me}|${name}`, g);
  return g;
}

/** Runs one operation of the group: numbers it (every member calls the group's operations in the same order). */
function opContext(g: GroupInfo, op: string, opts: CollectiveOptions | undefined) {
  const seq = ++g.seq;
  const deadline = Date.now() + (opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const client = requireClient(`collective.${op}()`);
  if (!client.sendCollective) throw new InvalidArgumentError(`collective.${op}() runs inside an actor.`);
  const sendTo = (rank: number, tag: string, a: CollectiveArray) =>
    client.sendCollective!(g.members[rank], `${g.name}|${seq}|${tag}|${g.rank}`, a.constructor.name, outgoing(a));
  const recvFrom = (rank: number, tag: string) =>
    receive(
      g.me,
      `${g.name}|${seq}|${tag}|${rank}`,
      deadline,
      () =>
        new CollectiveTimeoutError(
          `collective.${op}() in group '${g.name}' (rank ${g.rank} of ${g.members.length}) waited ${opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms for rank ${rank} (actor ${g.members[rank]}): ` +
            `it died, is stuck, or called the group's operations in another order. Every member must call the same operations in the same order.`,
          { actorId: g.me },
        ),
    );
  return { sendTo, recvFrom };
}

function reduceInto(dst: CollectiveArray, src: CollectiveArray, op: ReduceOp, from = 0): void {
  const n = src.length;
  switch (op) {
    case 'sum':
    case 'mean':
      for (let i = 0; i < n; i++) dst[from + i] += src[i];
      break;
    case 'product':
      for (let i = 0; i < n; i++) dst[from + i] *= src[i];
      break;
    case 'max':
      for (let i = 0; i < n; i++) if (src[i] > dst[from + i]) dst[from + i] = src[i];
      break;
    case 'min':
      for (let i = 0; i < n; i++) if (src[i] < dst[from + i]) dst[from + i] = src[i];
      break;
  }
}

const OPS: readonly ReduceOp[] = ['sum', 'mean', 'product', 'max', 'min'];

function checkOp(op: unknown, what: string): ReduceOp {
  if (!OPS.includes(op as ReduceOp))
    throw new InvalidArgumentError(`${what}: op must be one of ${OPS.join(', ')}, got ${JSON.stringify(op)}.`);
  return op as ReduceOp;
}

function bounds(length: number, n: number, i: number): [number, number] {
  return [Math.floor((i * length) / n), Math.floor(((i + 1) * length) / n)];
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Reduce-scatter round the ring: afterwards rank r holds chunk r reduced over every member. */
async function ringReduceScatter(
  a: CollectiveArray,
  g: GroupInfo,
  op: ReduceOp,
  io: ReturnType<typeof opContext>,
): Promise<void> {
  const n = g.members.length;
  const next = mod(g.rank + 1, n);
  const prev = mod(g.rank - 1, n);
  for (let s = 0; s < n - 1; s++) {
    const [sa, sb] = bounds(a.length, n, mod(g.rank - s - 1, n));
    io.sendTo(next, `rs${s}`, a.subarray(sa, sb) as CollectiveArray);
    const [ra] = bounds(a.length, n, mod(g.rank - s - 2, n));
    const got = await io.recvFrom(prev, `rs${s}`);
    reduceInto(a, got, op, ra);
    recycle(got);
  }
}

/** Allgather round the ring of the chunks each rank holds (rank r: chunk r). */
async function ringAllgather(a: CollectiveArray, g: GroupInfo, io: ReturnType<typeof opContext>): Promise<void> {
  const n = g.members.length;
  const next = mod(g.rank + 1, n);
  const prev = mod(g.rank - 1, n);
  for (let s = 0; s < n - 1; s++) {
    const [sa, sb] = bounds(a.length, n, mod(g.rank - s, n));
    io.sendTo(next, `ag${s}`, a.subarray(sa, sb) as CollectiveArray);
    const [ra] = bounds(a.length, n, mod(g.rank - s - 1, n));
    const got = await io.recvFrom(prev, `ag${s}`);
    a.set(got as never, ra);
    recycle(got);
  }
}

function finishMean(a: CollectiveArray, op: ReduceOp, n: number, from = 0, to = a.length): void {
  if (op !== 'mean') return;
  for (let i = from; i < to; i++) a[i] /= n;
}

/** Collective operations between the actors of a group. */
export const collective = {
  /**
   * Declares a group from the driver: `actors[i]` gets rank `ranks?.[i] ?? i`. Its members can
   * then call the operations with `{ groupName }`.
   * @example
   * await collective.createCollectiveGroup(workers, { groupName: 'grads' });
   * await get(workers.map((w) => w.step.remote()));   // each calls collective.allreduce(grads, { groupName: 'grads' })
   */
  async createCollectiveGroup(
    actors: readonly object[],
    opts: { ranks?: readonly number[]; groupName?: string } = {},
  ): Promise<void> {
    const name = checkName(opts.groupName);
    if (!Array.isArray(actors) || actors.length === 0)
      throw new InvalidArgumentError('createCollectiveGroup() needs a non-empty array of actor handles.');
    const ids = actors.map((a, i) => {
      try {
        return actorIdOf(a as never);
      } catch {
        throw new InvalidArgumentError(`createCollectiveGroup(): actors[${i}] is not an actor handle.`);
      }
    });
    const ranks = opts.ranks ?? ids.map((_, i) => i);
    if (ranks.length !== ids.length || [...ranks].sort((x, y) => x - y).some((r, i) => r !== i)) {
      throw new InvalidArgumentError(
        `createCollectiveGroup(): ranks must be 0..${ids.length - 1}, each once, one per actor; got ${JSON.stringify(ranks)}.`,
      );
    }
    const members: string[] = new Array(ids.length);
    ranks.forEach((r, i) => (members[r] = ids[i]));
    await internalKv.put(`group/${name}`, JSON.stringify({ members }), { namespace: KV_NAMESPACE });
  },

  /**
   * Joins a group from inside an actor (Ray's `init_collective_group`): every member calls it
   * with the same `worldSize` and its own `rank`; it resolves once all have.
   */
  async initCollectiveGroup(
    worldSize: number,
    rank: number,
    groupName = 'default',
    opts: { timeoutMs?: number } = {},
  ): Promise<void> {
    const name = checkName(groupName);
    if (!Number.isInteger(worldSize) || worldSize < 1)
      throw new InvalidArgumentError(`initCollectiveGroup(): worldSize must be an integer >= 1, got ${worldSize}.`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
      throw new InvalidArgumentError(
        `initCollectiveGroup(): rank must be an integer in 0..${worldSize - 1}, got ${rank}.`,
      );
    const me = currentActor('initCollectiveGroup()');
    await internalKv.put(`init/${name}/${rank}`, me, { namespace: KV_NAMESPACE });
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    for (let delay = 5; ; delay = Math.min(200, delay * 2)) {
      const keys = await internalKv.keys(`init/${name}/`, { namespace: KV_NAMESPACE });
      if (keys.length >= worldSize) break;
      if (Date.now() > deadline) {
        const have = new Set(keys.map((k) => Number(k.slice(k.lastIndexOf('/') + 1))));
        const missing = Array.from({ length: worldSize }, (_, i) => i).filter((i) => !have.has(i));
        throw new CollectiveTimeoutError(
          `initCollectiveGroup('${name}'): ranks ${missing.join(', ')} of ${worldSize} never joined.`,
          { actorId: me },
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
    const members: string[] = [];
    for (let r = 0; r < worldSize; r++)
      members.push((await internalKv.getString(`init/${name}/${r}`, { namespace: KV_NAMESPACE }))!);
    joined.set(`${me}|${name}`, { name, members, rank, me, seq: 0 });
    if (rank === 0) await internalKv.put(`group/${name}`, JSON.stringify({ members }), { namespace: KV_NAMESPACE });
  },

  /** Forgets a group (on the driver: its declaration; in a member: that member's view of it). */
  async destroyCollectiveGroup(groupName = 'default'): Promise<void> {
    const name = checkName(groupName);
    const me = executionContext.getStore()?.data.actorId;
    if (me) joined.delete(`${me}|${name}`);
    else {
      await internalKv.del(`group/${name}`, { namespace: KV_NAMESPACE });
      for (const k of await internalKv.keys(`init/${name}/`, { namespace: KV_NAMESPACE }))
        await internalKv.del(k, { namespace: KV_NAMESPACE });
    }
  },

  /** This actor's rank in the group. */
  async getRank(groupName = 'default'): Promise<number> {
    return (await group('getRank()', { groupName })).rank;
  },

  /** The number of members of the group. */
  async getCollectiveGroupSize(groupName = 'default'): Promise<number> {
    return (await group('getCollectiveGroupSize()', { groupName })).members.length;
  },

  /**
   * Reduces `array` over every member with `op` (default `'sum'`), in place: afterwards every
   * member's `array` holds the same values. Resolves to `array`.
   */
  async allreduce<T extends CollectiveArray>(array: T, opts: CollectiveOptions & { op?: ReduceOp } = {}): Promise<T> {
    dtypeOf(array, 'collective.allreduce()');
    const op = checkOp(opts.op ?? 'sum', 'collective.allreduce()');
    const g = await group('collective.allreduce()', opts);
    const n = g.members.length;
    if (n === 1) return array;
    const io = opContext(g, 'allreduce', opts);
    if (array.byteLength <= RING_ABOVE_BYTES || array.length < n) {
      for (let r = 0; r < n; r++) if (r !== g.rank) io.sendTo(r, 'all', array);
      const parts: CollectiveArray[] = [];
      for (let r = 0; r < n; r++) parts.push(r === g.rank ? array.slice() : await io.recvFrom(r, 'all'));
      for (const p of parts)
        if (p.length !== array.length) throw lengthMismatch('allreduce', array.length, p.length, g);
      // Reduced in rank order on every member, so every member gets the same bits.
      array.set(parts[0] as never);
      for (let r = 1; r < n; r++) reduceInto(array, parts[r], op);
      for (let r = 0; r < n; r++) if (r !== g.rank) recycle(parts[r]);
      finishMean(array, op, n);
      return array;
    }
    await ringReduceScatter(array, g, op, io);
    const [a, b] = bounds(array.length, n, g.rank);
    finishMean(array, op, n, a, b);
    await ringAllgather(array, g, io);
    return array;
  },

  /** Copies `array` of rank `srcRank` into every member's `array` (same length), in place. */
  async broadcast<T extends CollectiveArray>(array: T, srcRank: number, opts: CollectiveOptions = {}): Promise<T> {
    dtypeOf(array, 'collective.broadcast()');
    const g = await group('collective.broadcast()', opts);
    checkRank(srcRank, g, 'broadcast', 'srcRank');
    const io = opContext(g, 'broadcast', opts);
    if (g.rank === srcRank) {
      for (let r = 0; r < g.members.length; r++) if (r !== g.rank) io.sendTo(r, 'b', array);
    } else {
      const got = await io.recvFrom(srcRank, 'b');
      if (got.length !== array.length) throw lengthMismatch('broadcast', array.length, got.length, g);
      array.set(got as never);
      recycle(got);
    }
    return array;
  },

  /** Every member's `array`, in rank order (each member's may have its own length). */
  async allgather<T extends CollectiveArray>(array: T, opts: CollectiveOptions = {}): Promise<T[]> {
    dtypeOf(array, 'collective.allgather()');
    const g = await group('collective.allgather()', opts);
    const io = opContext(g, 'allgather', opts);
    for (let r = 0; r < g.members.length; r++) if (r !== g.rank) io.sendTo(r, 'g', array);
    const out: T[] = [];
    for (let r = 0; r < g.members.length; r++)
      out.push(r === g.rank ? (array.slice() as T) : ((await io.recvFrom(r, 'g')) as T));
    return out;
  },

  /**
   * Reduces `array` over every member and returns this member's part of the result: rank r gets
   * elements `[floor(r·L/n), floor((r+1)·L/n))`.
   */
  async reduceScatter<T extends CollectiveArray>(
    array: T,
    opts: CollectiveOptions & { op?: ReduceOp } = {},
  ): Promise<T> {
    dtypeOf(array, 'collective.reduceScatter()');
    const op = checkOp(opts.op ?? 'sum', 'collective.reduceScatter()');
    const g = await group('collective.reduceScatter()', opts);
    const n = g.members.length;
    const work = array.slice() as T;
    if (n > 1) await ringReduceScatter(work, g, op, opContext(g, 'reduceScatter', opts));
    const [a, b] = bounds(array.length, n, g.rank);
    finishMean(work, op, n, a, b);
    return work.slice(a, b) as T;
  },

  /** Resolves once every member of the group has called it. */
  async barrier(opts: CollectiveOptions = {}): Promise<void> {
    await collective.allreduce(new Uint8Array(1), opts);
  },

  /** Sends `array` to rank `dstRank`, which takes it with {@link collective.recv}. */
  async send(array: CollectiveArray, dstRank: number, opts: CollectiveOptions = {}): Promise<void> {
    dtypeOf(array, 'collective.send()');
    const g = await group('collective.send()', opts);
    checkRank(dstRank, g, 'send', 'dstRank');
    const client = requireClient('collective.send()');
    client.sendCollective!(
      g.members[dstRank],
      `${g.name}|p2p|${g.rank}|${nextP2p(g, dstRank, 'out')}`,
      array.constructor.name,
      outgoing(array),
    );
  },

  /** Receives what rank `srcRank` sent with {@link collective.send}, into `array` (same length). */
  async recv<T extends CollectiveArray>(array: T, srcRank: number, opts: CollectiveOptions = {}): Promise<T> {
    dtypeOf(array, 'collective.recv()');
    const g = await group('collective.recv()', opts);
    checkRank(srcRank, g, 'recv', 'srcRank');
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const got = await receive(
      g.me,
      `${g.name}|p2p|${srcRank}|${nextP2p(g, srcRank, 'in')}`,
      Date.now() + ms,
      () =>
        new CollectiveTimeoutError(
          `collective.recv() in group '${g.name}' (rank ${g.rank}) waited ${ms} ms for rank ${srcRank} to send.`,
          { actorId: g.me },
        ),
    );
    if (got.length !== array.length) throw lengthMismatch('recv', array.length, got.length, g);
    array.set(got as never);
    recycle(got);
    return array;
  },
};

/** Point-to-point messages are numbered per pair and direction, so sends and recvs match in order. */
const p2pCounts = new Map<string, number>();
function nextP2p(g: GroupInfo, peer: number, dir: 'in' | 'out'): number {
  const k = `${g.me}|${g.name}|${dir}|${peer}`;
  const n = (p2pCounts.get(k) ?? 0) + 1;
  p2pCounts.set(k, n);
  return n;
}

function checkName(name: unknown): string {
  if (name === undefined) return 'default';
  if (typeof name !== 'string' || !/^[\w.-]{1,128}$/.test(name)) {
    throw new InvalidArgumentError(
      `A collective group name is 1-128 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}.`,
    );
  }
  return name;
}

function checkRank(r: unknown, g: GroupInfo, op: string, what: string): void {
  if (!Number.isInteger(r) || (r as number) < 0 || (r as number) >= g.members.length) {
    throw new InvalidArgumentError(
      `collective.${op}(): ${what} must be a rank of group '${g.name}' (0..${g.members.length - 1}), got ${JSON.stringify(r)}.`,
    );
  }
}

function lengthMismatch(op: string, mine: number, theirs: number, g: GroupInfo): InvalidArgumentError {
  return new InvalidArgumentError(
    `collective.${op}() in group '${g.name}': rank ${g.rank} has ${mine} elements but another member sent ${theirs}. Every member must pass arrays of the same length.`,
  );
}
