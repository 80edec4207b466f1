/**
 * The state machine of where an actor lives, as a node that does not host it knows it (see
 * remote-actors.ts, which keeps one {@link RemoteActor} per actor it calls).
 */
import type { ActorTaskSpec } from '../protocol/specs.js';

/**
 * Where an actor lives, as this node knows it:
 * - unknown: nowhere known, nobody looking (a handle just arrived);
 * - creating: this node registers and places it (first time, or a restart after its node died);
 * - lookingUp: this node asks the GCS where it is (it may be being placed or restarted);
 * - located: on that node;
 * - dead: for good (calls fail with the cause); `node` is where it last lived, if known.
 */
export type ActorWhere =
  | { kind: 'unknown' }
  | { kind: 'creating' }
  | { kind: 'lookingUp' }
  | { kind: 'located'; node: string }
  | { kind: 'dead'; cause: string; node: string | undefined };

const moves: Record<ActorWhere['kind'], readonly ActorWhere['kind'][]> = {
  unknown: ['creating', 'lookingUp', 'located', 'dead'],
  creating: ['located', 'dead'],
  lookingUp: ['lookingUp', 'located', 'dead'],
  located: ['creating', 'lookingUp', 'dead'],
  // dead -> dead: kill() names its own cause over an earlier one.
  dead: ['dead'],
};

export interface RemoteActor {
  /** The id the hosting node knows it by (differs for a getIfExists alias). */
  realId: string;
  where: ActorWhere;
  /** Calls waiting until its place is known. */
  queue: ActorTaskSpec[];
  /** Retries of a call its death interrupted (from the GCS, for actors this node did not create). */
  maxTaskRetries: number;
}

/** Moves an actor to a new place in the state machine; throws on a move it does not have (a bug). */
export function moveActor(ra: RemoteActor, to: ActorWhere): void {
  if (!moves[ra.where.kind].includes(to.kind))
    throw new Error(`ray-ts internal error: actor ${ra.realId} cannot go from ${ra.where.kind} to ${to.kind}`);
  ra.where = to;
}

/** The node an actor is (or was last) on. */
export function nodeOf(ra: RemoteActor): string | undefined {
  return ra.where.kind === 'located' || ra.where.kind === 'dead' ? ra.where.node : undefined;
}

export function remoteActor(realId: string, where: ActorWhere = { kind: 'unknown' }): RemoteActor {
  return { realId, where, queue: [], maxTaskRetries: 0 };
}
