/**
 * What a replica knows about itself and about the request it is serving, for user code:
 * `getReplicaContext()` and `getMultiplexedModelId()`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ServeInvalidArgumentError } from './errors.js';

/** The replica running the current code (Ray's `serve.get_replica_context()`). */
export interface ReplicaContext {
  /** The application's name. */
  readonly appName: string;
  /** The deployment's name. */
  readonly deployment: string;
  /** This replica's id, unique in the cluster. */
  readonly replicaId: string;
  /** The user's object this replica serves with. */
  readonly servableObject: unknown;
}

/** The request being served. */
export interface RequestContext {
  readonly requestId: string;
  readonly multiplexedModelId: string;
  readonly route: string;
}

/** @internal */
export const requestStore = new AsyncLocalStorage<RequestContext>();

let replicaContext: ReplicaContext | undefined;
const replicas = new Map<unknown, ReplicaContext>();

/** @internal Set by the replica actor once the user's object is built. */
export function setReplicaContext(ctx: ReplicaContext): void {
  replicaContext = ctx;
  replicas.set(ctx.servableObject, ctx);
}

/** @internal */
export function clearReplicaContext(ctx: ReplicaContext): void {
  replicas.delete(ctx.servableObject);
  if (replicaContext === ctx) replicaContext = [...replicas.values()].at(-1);
}

/**
 * The context of the replica running this code: its app, deployment and id.
 * @throws ServeInvalidArgumentError outside a replica.
 */
export function getReplicaContext(): ReplicaContext {
  const ctx = replicaContext;
  if (!ctx) throw new ServeInvalidArgumentError('getReplicaContext() works only inside a deployment replica.');
  return ctx;
}

/**
 * The model id the current request asked for (the `serve_multiplexed_model_id` HTTP header, or
 * `handle.options({ multiplexedModelId })`); `''` when none.
 */
export function getMultiplexedModelId(): string {
  return requestStore.getStore()?.multiplexedModelId ?? '';
}
