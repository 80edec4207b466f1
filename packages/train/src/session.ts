/**
 * What a training loop calls inside a worker (Ray Train's `ray.train.*` session functions):
 * `getContext()`, `report()`, `getCheckpoint()`, `getDatasetShard()`. Each worker is an actor on
 * a thread (or process) of its own, so the session is the thread's.
 */
import type { DataIterator } from '@ray-ts/data';
import { Checkpoint } from '@ray-ts/tune';
import { TrainInvalidArgumentError } from './errors.js';

/** Where this worker stands in its group (Ray's `TrainContext`). */
export interface TrainContext {
  /** This worker's rank among all workers (0..worldSize-1); rank 0's metrics are the run's. */
  readonly worldRank: number;
  readonly worldSize: number;
  /** Its rank among the workers on its node. */
  readonly localRank: number;
  readonly localWorldSize: number;
  /** The index of its node among the group's nodes. */
  readonly nodeRank: number;
  /** The run's name (`runConfig.name`). */
  readonly experimentName: string;
  /** The run's folder under `storagePath`. */
  readonly trialDir: string;
  /** The collective group of the workers (pass it as `{ groupName }` to `collective.*`). */
  readonly collectiveGroup: string;
  /** How many times the group was started before this one (0 on the first start). */
  readonly attempt: number;
}

/** @internal One report of a worker, as it goes to the trainer. */
export interface ReportEvent {
  index: number;
  metrics: Record<string, unknown>;
  checkpoint?: { path?: string; data?: unknown };
}

/** @internal The session of the worker running on this thread. */
export interface Session {
  context: TrainContext;
  checkpoint: Checkpoint | undefined;
  shards: Record<string, DataIterator>;
  reports: number;
  push(e: ReportEvent): void;
  stopping: boolean;
}

let session: Session | undefined;

/** @internal */
export function setSession(s: Session | undefined): void {
  session = s;
}

function current(what: string): Session {
  if (!session) {
    throw new TrainInvalidArgumentError(
      `${what} works inside a training loop run by a Trainer (trainLoopPerWorker), not on the driver.`,
    );
  }
  return session;
}

/** @internal Thrown into a training loop that the trainer stops (a failure elsewhere in the group). */
export class TrainStopSignal extends Error {
  override readonly name = 'TrainStopSignal';
}

/** The worker's place in its group. */
export function getContext(): TrainContext {
  return current('getContext()').context;
}

/**
 * Reports metrics (and optionally a checkpoint) for this step. Every worker reports the same
 * number of times; rank 0's metrics become the run's, and the checkpoint of the lowest rank that
 * gives one is saved under the run's folder. It does not wait for the trainer.
 */
export async function report(
  metrics: Record<string, unknown>,
  options: { checkpoint?: Checkpoint } = {},
): Promise<void> {
  const s = current('report()');
  if (s.stopping) throw new TrainStopSignal('the trainer stopped this worker');
  if (!metrics || typeof metrics !== 'object' || Array.isArray(metrics)) {
    throw new TrainInvalidArgumentError(
      `report() takes an object of metrics, e.g. report({ loss: 0.1 }); got ${JSON.stringify(metrics)}.`,
    );
  }
  if (options.checkpoint !== undefined && !(options.checkpoint instanceof Checkpoint)) {
    throw new TrainInvalidArgumentError(
      'report(): checkpoint must be a Checkpoint (Checkpoint.fromDirectory(dir) or Checkpoint.fromDict(value)).',
    );
  }
  s.push({
    index: s.reports++,
    metrics: { ...metrics },
    ...(options.checkpoint ? { checkpoint: options.checkpoint.toWire() } : {}),
  });
}

/** The checkpoint to resume from: the latest saved before a restart, or `resumeFromCheckpoint`; undefined on a fresh start. */
export function getCheckpoint(): Checkpoint | undefined {
  return current('getCheckpoint()').checkpoint;
}

/** This worker's share of the dataset given to the trainer under `name` (from Data's `streamingSplit`). */
export function getDatasetShard(name = 'train'): DataIterator {
  const s = current('getDatasetShard()');
  const shard = s.shards[name];
  if (!shard) {
    const have = Object.keys(s.shards);
    throw new TrainInvalidArgumentError(
      `getDatasetShard('${name}'): the trainer has no dataset '${name}'. ${have.length ? `It has: ${have.join(', ')}.` : 'Pass datasets: { train: ds } to the trainer.'}`,
    );
  }
  return shard;
}
