// The remote functions, actors, Serve deployment and Tune trainable of the chaos soak
// (tools/chaos.mjs), in a module of their own so that every node imports them by reference.
// Every result is a pure function of its inputs, so that the driver can check each answer.
import { get, getRuntimeContext, remote } from '@ray-ts/core';
import * as serve from '@ray-ts/serve';

/** FNV-1a of a string, as 8 hex digits: the checkable answer of tasks, actors and Serve. */
export function hashOf(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** FNV-1a over bytes (the checksum of objects). */
export function checksum(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** `n` bytes that depend only on `seed` (an xorshift stream). */
export function bytesOf(seed, n) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const retried = { maxRetries: 5, numCpus: 0.25, schedulingStrategy: 'SPREAD' };

/** A task whose answer is known: the hash of its argument. */
export const hashTask = remote((key) => hashOf(key), retried);

/** The checksum of an object passed by reference (pulled from wherever it was put). */
export const checksumTask = remote((bytes) => checksum(bytes), retried);

/** Makes an object on some node; the driver pulls it and checks it. */
export const makeBytes = remote((seed, n) => bytesOf(seed, n), retried);

/** Sums the hashes of `keys` computed by nested tasks (tasks that submit tasks). */
export const fanOut = remote(
  async (keys) => {
    return (await get(keys.map((k) => hashTask.remote(k)))).join(',');
  },
  { ...retried, numCpus: 0 },
);

/** An actor restarted when its node dies; its calls are idempotent and their answers checkable. */
export class Hasher {
  constructor(label) {
    this.label = label;
  }
  hash(key) {
    return hashOf(key);
  }
  where() {
    return getRuntimeContext().nodeId;
  }
}
export const HasherActor = remote(Hasher);

/** The Serve deployment: GET /chaos?k=KEY answers { k, h: hashOf(KEY) }. */
export const HashApp = serve.deployment({
  name: 'ChaosHash',
  numReplicas: 2,
  maxOngoingRequests: 50,
  rayActorOptions: { numCpus: 0 },
})(
  class ChaosHashImpl {
    fetch(request) {
      const k = new URL(request.url).searchParams.get('k') ?? '';
      return Response.json({ k, h: hashOf(k) });
    }
  },
);

/** The Tune trainable: a score of -(x - 2)^2 reported each iteration, best at x = 2 (score 0). */
export const parabola = remote(async (config, ctx) => {
  for (let i = 1; i <= config.iters; i++) await ctx.report({ score: -((config.x - 2) ** 2), i });
});
