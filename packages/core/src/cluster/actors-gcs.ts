/** The GCS's actor table, as the remote actor table uses it (a seam: tests give a fake). */
import type { ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import { gcsCallError } from './gcs-writes.js';
import { unary } from './proto.js';

/**
 * The actor table. `registerActor` and `updateActor` resolve once the GCS kept the record (in
 * Redis when it has one), and reject with GcsUnavailableError when it could not.
 */
export interface ActorsGcs {
  getActor(
    query: { actorId: string } | { name: string; namespace: string },
  ): Promise<{ found: boolean; actor: ActorInfo__Output | null }>;
  registerActor(info: ActorInfo__Output): Promise<{ ok: boolean; existing: ActorInfo__Output | null }>;
  updateActor(info: Partial<ActorInfo__Output> & { actorId: string }): Promise<unknown>;
  listActors(): Promise<{ actors: ActorInfo__Output[] }>;
}

export function gcsActors(gcs: GcsClient): ActorsGcs {
  const rethrow = (err: unknown) => {
    throw gcsCallError(err);
  };
  return {
    getActor: (query) => unary(gcs, 'GetActor', query),
    registerActor: (info) =>
      unary<unknown, { ok: boolean; existing: ActorInfo__Output | null }>(gcs, 'RegisterActor', info).catch(rethrow),
    updateActor: (info) => unary(gcs, 'UpdateActor', info).catch(rethrow),
    listActors: () => unary(gcs, 'ListActors', {}, 5_000),
  };
}
