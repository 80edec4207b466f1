// Remote functions and actor classes of tools/microbenchmark.js, modelled on Ray's
// python/ray/_private/ray_perf.py. They live in a module of their own so that workers load them
// by reference (by importing this file), which lets them refer to each other: tasks that submit
// tasks, actors that call other actors.
import { get, put, remote } from '@ray-ts/core';

/** `@ray.remote def small_value(): return b"ok"` */
export const smallValue = remote(function smallValue() {
  return 'ok';
});

/** `@ray.remote def small_value_batch(n)`: submits n small tasks and waits for them. */
export const smallValueBatch = remote(async function smallValueBatch(n) {
  const submitted = [];
  for (let i = 0; i < n; i++) submitted.push(smallValue.remote());
  await get(submitted);
  return 0;
});

/** `@ray.remote def create_object_containing_ref()`: a list of 10k refs to put(1). */
export const createObjectContainingRef = remote(function createObjectContainingRef() {
  const refs = [];
  for (let i = 0; i < 10000; i++) refs.push(put(1));
  return refs;
});

/** `do_put_small`: 100 small puts from a task. */
export const doPutSmall = remote(function doPutSmall() {
  for (let i = 0; i < 100; i++) put(0);
});

/** `do_put`: 10 puts of an 80 MiB int64 array (`np.zeros(10 * 1024 * 1024, dtype=np.int64)`). */
export const doPut = remote(function doPut() {
  for (let i = 0; i < 10; i++) put(new BigInt64Array(10 * 1024 * 1024));
});

/**
 * `@ray.remote(num_cpus=0) class Actor`: a sync actor (one call at a time). smallValueBatch
 * returns a promise from a plain (non-async) method, so that the actor stays a sync actor (an
 * async method would give it maxConcurrency 1000, like Ray's AsyncActor), yet waits for its
 * tasks without blocking the worker thread that other actors share.
 */
export class Actor {
  smallValue() {
    return 'ok';
  }

  smallValueArg(_x) {
    return 'ok';
  }

  smallValueBatch(n) {
    const submitted = [];
    for (let i = 0; i < n; i++) submitted.push(smallValue.remote());
    return get(submitted).then(() => undefined);
  }
}
export const ActorRemote = remote(Actor);

/** `@ray.remote class AsyncActor`: async methods (many calls at once). */
export class AsyncActor {
  async smallValue() {
    return 'ok';
  }

  async smallValueWithArg(_x) {
    return 'ok';
  }

  async smallValueBatch(n) {
    const submitted = [];
    for (let i = 0; i < n; i++) submitted.push(smallValue.remote());
    await get(submitted);
  }
}
export const AsyncActorRemote = remote(AsyncActor);

/** `@ray.remote(num_cpus=0) class Client`: calls its servers (actor handles) n times each. */
export class Client {
  constructor(servers) {
    this.servers = Array.isArray(servers) ? servers : [servers];
  }

  /** Not in Ray's Client: lets the benchmark wait until the actor is up (see spawnActors). */
  ready() {
    return true;
  }

  smallValueBatch(n) {
    const results = [];
    for (const s of this.servers) for (let i = 0; i < n; i++) results.push(s.smallValue.remote());
    return get(results).then(() => undefined);
  }

  smallValueBatchArg(n) {
    const x = put(0);
    const results = [];
    for (const s of this.servers) for (let i = 0; i < n; i++) results.push(s.smallValueArg.remote(x));
    return get(results).then(() => undefined);
  }
}
export const ClientRemote = remote(Client);

/** `work(actors)` of "n:n actor calls async": n calls spread over the actors. */
export const work = remote(async function work(actors, n) {
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(actors[i % actors.length].smallValue.remote());
  await get(refs);
});

/** `async_actor_work(actors)` of "n:n async-actor calls async" (same calls, async actors). */
export const asyncActorWork = remote(async function asyncActorWork(actors, n) {
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(actors[i % actors.length].smallValue.remote());
  await get(refs);
});
