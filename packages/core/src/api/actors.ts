/**
 * Actors by name and their end: `getActor`, `listNamedActors`, `kill` and `exitActor`.
 */
import { ActorExitSignal, InvalidArgumentError } from '../errors.js';
import { checkKnownKeys } from '../options.js';
import { threadState } from '../runtime/thread-state.js';
import { executionContext } from '../worker/client.js';
import { actorIdOf, makeHandle, requireClient, type ActorHandle } from './remote.js';

/** Options of {@link kill}. */
export interface KillOptions {
  /** Do not restart the actor even if it has `maxRestarts` left (default true). */
  noRestart?: boolean;
}

/** Kills an actor at once; pending and later calls fail with ActorDiedError (unless it restarts). */
export async function kill(actor: ActorHandle<unknown>, options: KillOptions = {}): Promise<void> {
  checkKnownKeys('kill()', options, ['noRestart']);
  let id: string;
  try {
    id = actorIdOf(actor);
  } catch {
    throw new InvalidArgumentError('kill() takes an actor handle.');
  }
  await requireClient('kill()').killActor(id, options.noRestart !== false);
}

/**
 * Ends the actor whose method calls it, for good, as Ray's `ray.actor.exit_actor()`: the call
 * and every call still queued fail with ActorDiedError ("it called exitActor()"), and the actor
 * is not restarted. Only inside an actor method.
 * @example class Job { run() { ...; exitActor(); } }
 */
export function exitActor(): never {
  const actorId = executionContext.getStore()?.data.actorId;
  const client = threadState().client;
  if (!actorId || !threadState().isWorker || !client || !('exitActor' in client)) {
    throw new InvalidArgumentError(
      'exitActor() ends the actor that calls it: call it inside an actor method (to end another actor, use kill(handle)).',
    );
  }
  (client as unknown as { exitActor(id: string): void }).exitActor(actorId);
  throw new ActorExitSignal();
}

/**
 * The names of the named actors alive in this job's namespace, as Ray's
 * `ray.util.list_named_actors()`; with `{ allNamespaces: true }`, every named actor's name and namespace.
 * @example const names = await listNamedActors(); // ['counter', ...]
 */
export async function listNamedActors(): Promise<string[]>;
export async function listNamedActors(options: { allNamespaces: true }): Promise<{ name: string; namespace: string }[]>;
export async function listNamedActors(
  options: { allNamespaces?: boolean } = {},
): Promise<string[] | { name: string; namespace: string }[]> {
  checkKnownKeys('listNamedActors()', options, ['allNamespaces']);
  const client = requireClient('listNamedActors()');
  const all = (await client.namedActors()).sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );
  return options.allNamespaces ? all : all.filter((a) => a.namespace === client.namespace).map((a) => a.name);
}

/** Options of {@link getActor}. */
export interface GetActorOptions {
  namespace?: string;
}

/**
 * Finds a named actor (made with `.options({ name })`) and returns a handle to it.
 * @throws InvalidArgumentError when no live actor has that name.
 */
export async function getActor<T = unknown>(name: string, options: GetActorOptions = {}): Promise<ActorHandle<T>> {
  if (typeof name !== 'string' || !name)
    throw new InvalidArgumentError('getActor() takes the actor name (a non-empty string).');
  checkKnownKeys('getActor()', options, ['namespace']);
  const data = await requireClient('getActor()').getActor(name, options.namespace);
  if (!data) {
    throw new InvalidArgumentError(
      `No actor named '${name}' in namespace '${options.namespace ?? threadState().client?.namespace}'. ` +
        `Create it with MyActor.options({ name: '${name}' }).remote(), or check the namespace.`,
    );
  }
  return makeHandle<T>(data);
}
