/**
 * Records of tasks and actor calls as the state API and the timeline list them: those a node
 * knows now, and the last 5,000-10,000 that finished.
 */
import type { ResourceSet } from '../options.js';
import type { ActorTaskSpec } from '../protocol/specs.js';
import type { ResultValue } from './ports.js';
import type { TaskWork } from './work.js';

/** A task as the state API lists it. */
export interface TaskRecord {
  taskId: string;
  name: string;
  state: string;
  nodeId: string;
  owner: string;
  jobId: string;
  startMs: number;
  endMs: number;
  resources: ResourceSet;
  /** When its last attempt began running on a worker of this node (epoch ms); 0 if it has not run here. */
  runStartMs: number;
  /** For an actor method call: the actor. */
  actorId?: string;
  /** The worker that ran its last attempt here ('' if none). */
  workerId: string;
  /** A failed task's error (`Name: message`, cut at 2,000 characters). */
  error?: string;
  /** Tasks: an attempt after the first on this node (Ray's `IsRetry`: retried after a worker died or an exception). */
  isRetry?: boolean;
}

const KEEP_MAX = 10_000;
const KEEP_AFTER_TRIM = 5_000;

export class TaskRecords {
  /** Recently finished tasks and calls, oldest first. */
  readonly finished: TaskRecord[] = [];
  /**
   * Tasks and calls that ended on this node since it started, by name (its `ray_tasks` FINISHED
   * and FAILED rows): those run here, not those its owner sent elsewhere. One map per state, so
   * counting costs a lookup by the name alone (no key built per task).
   */
  readonly finishedByName = new Map<string, number>();
  readonly failedByName = new Map<string, number>();
  /** The same for attempts after the first (`IsRetry="1"`). */
  readonly finishedRetryByName = new Map<string, number>();
  readonly failedRetryByName = new Map<string, number>();

  constructor(private readonly node: { readonly nodeId: string; readonly jobId: string }) {}

  private push(rec: TaskRecord): void {
    if (rec.nodeId === this.node.nodeId) {
      const ok = rec.state === 'FINISHED';
      const counts = rec.isRetry
        ? ok
          ? this.finishedRetryByName
          : this.failedRetryByName
        : ok
          ? this.finishedByName
          : this.failedByName;
      counts.set(rec.name, (counts.get(rec.name) ?? 0) + 1);
    }
    const f = this.finished;
    f.push(rec);
    if (f.length > KEEP_MAX) f.splice(0, f.length - KEEP_AFTER_TRIM);
  }

  /**
   * `ray_tasks` rows of this node, keyed `state + '\0' + name` by Ray's state names: those ended
   * here since start, and `live` ones queued or running here (not those sent to other nodes);
   * first attempts in `tasks`, later ones in `retries`.
   */
  countsByState(live: readonly TaskRecord[]): { tasks: Map<string, number>; retries: Map<string, number> } {
    const tasks = new Map<string, number>();
    const retries = new Map<string, number>();
    for (const [name, n] of this.finishedByName) tasks.set(`FINISHED\0${name}`, n);
    for (const [name, n] of this.failedByName) tasks.set(`FAILED\0${name}`, n);
    for (const [name, n] of this.finishedRetryByName) retries.set(`FINISHED\0${name}`, n);
    for (const [name, n] of this.failedRetryByName) retries.set(`FAILED\0${name}`, n);
    for (const r of live) {
      if (r.nodeId !== this.node.nodeId) continue; // sent to another node: counted there
      const state =
        r.state === 'RUNNING'
          ? 'RUNNING'
          : r.state === 'PENDING_ARGS'
            ? 'PENDING_ARGS_AVAIL'
            : 'PENDING_NODE_ASSIGNMENT';
      const key = `${state}\0${r.name}`;
      const into = r.isRetry ? retries : tasks;
      into.set(key, (into.get(key) ?? 0) + 1);
    }
    return { tasks, retries };
  }

  /** A task finished (or failed, or was cancelled); `first` is its first result. */
  taskFinished(work: TaskWork, first: ResultValue | undefined): void {
    const rec = this.record(
      work,
      work.cancelled ? 'CANCELLED' : first?.t === 'err' ? 'FAILED' : 'FINISHED',
      Date.now(),
    );
    if (first?.t === 'err') rec.error = `${first.e.name}: ${first.e.message}`.slice(0, 2_000);
    this.push(rec);
  }

  /** An actor method call finished on a worker here, after `ms` of running. */
  callFinished(
    spec: ActorTaskSpec,
    jobId: string | undefined,
    workerId: string,
    ms: number | undefined,
    ok: boolean,
  ): void {
    const end = Date.now();
    const start = ms === undefined ? end : end - ms;
    this.push({
      taskId: spec.taskId,
      name: spec.name,
      state: ok ? 'FINISHED' : 'FAILED',
      nodeId: this.node.nodeId,
      owner: this.node.nodeId,
      jobId: jobId ?? this.node.jobId,
      startMs: start,
      endMs: end,
      resources: {},
      runStartMs: start,
      workerId,
      actorId: spec.actorId,
      isRetry: false,
    });
  }

  /** A task the node knows now, in its current state. */
  live(work: TaskWork): TaskRecord {
    const state = work.state === 'running' ? 'RUNNING' : work.state === 'waiting' ? 'PENDING_ARGS' : 'PENDING_NODE';
    return this.record(work, state, 0);
  }

  /** One literal per record (no spread: these are made once per task, on the hot path). */
  private record(work: TaskWork, state: string, endMs: number): TaskRecord {
    const { nodeId, jobId } = this.node;
    return {
      taskId: work.id,
      name: work.task.name,
      state,
      nodeId: work.remote ?? nodeId,
      owner: work.origin ?? nodeId,
      jobId: work.task.jobId ?? jobId,
      startMs: work.startMs,
      endMs,
      resources: work.resources,
      runStartMs: work.remote ? 0 : (work.runStartMs ?? 0),
      workerId: work.remote ? '' : (work.ranOn ?? ''),
      // `attempts` counts sends: one for a task running or ended on its first attempt.
      isRetry: work.attempts > (work.state === 'waiting' || work.state === 'queued' ? 0 : 1),
    };
  }
}
