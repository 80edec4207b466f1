/** The GCS's actor table, as the remote actor table uses it (a seam: tests give a fake). */
import { GcsUnavailableError } from '../errors.js';
import { retryWithBackoff, type BackoffBudget } from '../retry.js';
import type { ActorInfo__Output } from './generated/raytscore/ActorInfo.js';
import type { GcsClient } from './generated/raytscore/Gcs.js';
import { gcsCallError } from './gcs-writes.js';
import { unary } from './proto.js';
import { getLogger } from '../log.js';

const log = getLogger('ray-ts.core');

type ActorUpdate = Partial<ActorInfo__Output> & { actorId: string };

/**
 * The actor table. `registerActor` and `updateActor` resolve once the GCS kept the record (in
 * Redis when it has one), and reject with GcsUnavailableError when it could not.
 */
export interface ActorsGcs {
  getActor(
    query: { actorId: string } | { name: string; namespace: string },
  ): Promise<{ found: boolean; actor: ActorInfo__Output | null }>;
  registerActor(info: ActorInfo__Output): Promise<{ ok: boolean; existing: ActorInfo__Output | null }>;
  updateActor(info: ActorUpdate): Promise<unknown>;
  /**
   * A state change nobody waits for (an actor died, restarts, is alive again): reports of one
   * actor land in the order made, each tried again while the GCS is unavailable (a restarting
   * head), so the table does not keep a state the actor left.
   */
  reportActor(info: ActorUpdate): void;
  listActors(): Promise<{ actors: ActorInfo__Output[] }>;
}

/** How long a report is tried again while the GCS is unavailable: longer than a head restart takes. */
const reportBudget: BackoffBudget = { firstDelayMs: 100, maxDelayMs: 2_000, timeoutMs: 60_000 };

export function gcsActors(gcs: GcsClient, stopped: () => boolean = () => false): ActorsGcs {
  const rethrow = (err: unknown) => {
    throw gcsCallError(err);
  };
  const updateActor = (info: ActorUpdate) => unary(gcs, 'UpdateActor', info).catch(rethrow);
  return {
    getActor: (query) => unary(gcs, 'GetActor', query),
    registerActor: (info) =>
      unary<unknown, { ok: boolean; existing: ActorInfo__Output | null }>(gcs, 'RegisterActor', info).catch(rethrow),
    updateActor,
    reportActor: orderedReports(updateActor, reportBudget, stopped),
    listActors: () => unary(gcs, 'ListActors', {}, 5_000),
  };
}

/**
 * Sends reports through `update` in order per actor: a report starts once the previous one of
 * its actor landed or was given up; one that fails with GcsUnavailableError is tried again within
 * `budget` (until `stopped()`); other failures and a spent budget are logged, not thrown.
 */
export function orderedReports(
  update: (info: ActorUpdate) => Promise<unknown>,
  budget: BackoffBudget,
  stopped: () => boolean,
): (info: ActorUpdate) => void {
  const last = new Map<string, Promise<void>>();
  return (info) => {
    const send = async (): Promise<void> => {
      let final = false; // a failure other than an unavailable GCS: trying again would not help
      try {
        await retryWithBackoff(
          budget,
          () =>
            update(info).catch((err: unknown) => {
              final = !(err instanceof GcsUnavailableError);
              throw err;
            }),
          { stopped: () => final || stopped() },
        );
      } catch (err) {
        // Nobody waits for a report: the GCS learns the state from the next one, or from the
        // node's death. Said on stderr, as a lost state is worth knowing about.
        if (!stopped()) {
          log.error(
            `the GCS did not take actor ${info.actorId}'s state ${info.state || 'update'}: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
    };
    const next = (last.get(info.actorId) ?? Promise.resolve()).then(send);
    last.set(info.actorId, next);
    void next.then(() => {
      if (last.get(info.actorId) === next) last.delete(info.actorId);
    });
  };
}
