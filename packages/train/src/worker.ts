/**
 * The actor that runs the training loop on each worker of a group. The trainer pulls its reports
 * with `next()`; the loop never waits for the trainer (reports queue here), so training runs at
 * full speed while the trainer saves results and checkpoints.
 */
import { getRuntimeContext, remote, type PortableFunction } from '@ray-ts/core';
import type { DataIterator } from '@ray-ts/data';
import { Checkpoint } from '@ray-ts/tune';
import { setSession, TrainStopSignal, type ReportEvent, type Session, type TrainContext } from './session.js';

/** What a worker starts from. */
export interface WorkerStart {
  loop: PortableFunction;
  config: Record<string, unknown>;
  context: TrainContext;
  checkpoint: { path?: string; data?: unknown } | undefined;
  /** Data's streamingSplit iterators, by dataset name (plain data once they crossed here). */
  shards: Record<string, unknown>;
}

/** What `next()` returns: the reports since the last call, and the loop's end if it ended. */
export interface WorkerBatch {
  reports: ReportEvent[];
  done?: { ok: true } | { ok: false; name: string; message: string; stack: string };
}

class TrainWorkerActor {
  private reports: ReportEvent[] = [];
  private ended: WorkerBatch['done'];
  private waiter: (() => void) | undefined;
  private session: Session | undefined;

  /** Where it runs: node id and pid (a test kills a process worker by pid). */
  where(): { nodeId: string; pid: number } {
    return { nodeId: getRuntimeContext().nodeId, pid: process.pid };
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Starts the training loop in the background. */
  async start(s: WorkerStart): Promise<void> {
    const fn = (await s.loop.resolve()) as (config: Record<string, unknown>) => unknown;
    const shards: Record<string, DataIterator> = {};
    if (Object.keys(s.shards).length) {
      // Loaded only for loops given datasets (Data takes ~0.3 s to load).
      const { DataIterator } = await import('@ray-ts/data');
      for (const [k, v] of Object.entries(s.shards)) shards[k] = DataIterator.from(v as DataIterator);
    }
    const session: Session = {
      context: Object.freeze({ ...s.context }),
      checkpoint: Checkpoint.fromWire(s.checkpoint),
      shards,
      reports: 0,
      stopping: false,
      push: (e) => {
        this.reports.push(e);
        this.wake();
      },
    };
    this.session = session;
    // One worker per thread: the session is the thread's while the loop runs.
    setSession(session);
    void (async () => fn(s.config))()
      .then(
        () => {
          this.ended = { ok: true };
        },
        (err: unknown) => {
          if (err instanceof TrainStopSignal || session.stopping) this.ended = { ok: true };
          else {
            const e = err as Error;
            this.ended = {
              ok: false,
              name: e?.name ?? 'Error',
              message: e?.message ?? String(err),
              stack: e?.stack ?? String(err),
            };
          }
        },
      )
      .finally(() => {
        setSession(undefined);
        this.wake();
      });
  }

  /** The reports since the last call (waits for one, or for the loop's end). */
  async next(): Promise<WorkerBatch> {
    if (this.reports.length === 0 && !this.ended) await new Promise<void>((r) => (this.waiter = r));
    const reports = this.reports;
    this.reports = [];
    return this.ended && reports.length === 0 ? { reports, done: this.ended } : { reports };
  }

  /** Makes the loop's next report() throw a stop signal (the trainer stops the group). */
  stop(): void {
    if (this.session) this.session.stopping = true;
  }
}

/** @internal The worker actor class. */
export const TrainWorker = remote(TrainWorkerActor);
/** @internal */
export type TrainWorkerMethods = TrainWorkerActor;
