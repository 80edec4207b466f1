/**
 * A unit of scheduled work on a node: a normal task, or the creation of an actor that holds
 * resources. Its state moves only through {@link transition}, which refuses moves the scheduler
 * never makes (an internal error, never a user's).
 */
import { envKeyOf, type EnvVars, type ResourceSet, type SchedulingStrategySpec } from '../options.js';
import type { ArgSpec, TaskSpec } from '../protocol/specs.js';
import type { ActorRecord } from './actors.js';
import type { Allocation } from './resources.js';
import type { WorkerHandle } from './worker-handle.js';

/**
 * waiting: for its ObjectRef arguments (or its placement group, or a pull of its arguments);
 * queued: in its shape's queue for resources; running: on a worker here, or forwarded to another
 * node; done: finished, failed, cancelled, or handed back (spillback). Done is final.
 */
export type WorkState = 'waiting' | 'queued' | 'running' | 'done';

const allowed: Record<WorkState, readonly WorkState[]> = {
  // waiting -> waiting: started again (a placement group became ready, a retry while a pull ran).
  waiting: ['waiting', 'queued', 'done'],
  // queued -> waiting: its arguments are pulled from other nodes first.
  queued: ['waiting', 'running', 'done'],
  // running -> waiting: retried (worker died, exception retried, node lost, spilled back).
  running: ['waiting', 'done'],
  done: [],
};

/** Moves `work` to state `to`; throws on a move the state machine does not have (a bug in the node). */
export function transition(work: { readonly id: string; state: WorkState }, to: WorkState): void {
  if (!allowed[work.state].includes(to)) {
    throw new Error(`ray-ts internal error: work ${work.id} cannot go from ${work.state} to ${to}`);
  }
  work.state = to;
}

interface WorkBase {
  readonly id: string;
  readonly args: ArgSpec[];
  readonly resources: ResourceSet;
  readonly isolation: 'thread' | 'process';
  /** Work of one shape shares queues, workers and pipelines (resources, isolation, environment). */
  readonly shapeKey: string;
  state: WorkState;
  attempts: number;
  depsLeft: number;
  worker: WorkerHandle | undefined;
  /** Resources of a task sent to a worker whose own tasks all wait in get (held until it ends). */
  alloc: Allocation | undefined;
  /** Pending get/wait calls of this task while it holds `alloc` (its CPU is lent out meanwhile). */
  blocked: number;
  /** Sequence number on its worker (to tell which task was running if the worker dies). */
  seq: number;
  /** When it was sent to its worker (performance.now()). */
  sentAt: number;
  /** When it was last queued for resources (performance.now(); 0: not timed), for `ray_scheduler_placement_time_ms`. */
  queuedAt: number;
  cancelled: boolean;
  children: Set<string> | undefined;
  /** Multi-node: the owner node this work runs for (its results go back there). */
  origin: string | undefined;
  /** Multi-node: the node this owned work was forwarded to. */
  remote: string | undefined;
  /** Multi-node, owned work: times executors sent it back (spillback), and where to send it next. */
  spills: number;
  spillTo: string | undefined;
  /** Multi-node, forwarded work: run it here even when another node has room first. */
  noSpill: boolean;
  strategy: SchedulingStrategySpec | undefined;
  readonly startMs: number;
  /** When its last attempt was sent to a worker here (epoch ms), and that worker's id, for the timeline. */
  runStartMs?: number;
  ranOn?: string;
}

/** A normal task. */
export interface TaskWork extends WorkBase {
  readonly kind: 'task';
  readonly task: TaskSpec;
}

/** The creation of an actor that holds resources: it waits for them here like a task. */
export interface CreateWork extends WorkBase {
  readonly kind: 'create';
  readonly actor: ActorRecord;
}

export type Work = TaskWork | CreateWork;

export function shapeKeyOf(r: ResourceSet, isolation: string, envKey: string): string {
  let k = isolation;
  for (const name of Object.keys(r).sort()) k += `|${name}=${r[name]}`;
  // Work of another runtime environment never shares a worker (nor a pipeline) with this one.
  return envKey ? `${k}|env=${envKey}` : k;
}

/** The runtime environment's variables of a task or actor creation. */
export function envVarsOf(work: Work): EnvVars | undefined {
  return work.kind === 'task' ? work.task.envVars : work.actor.spec.options.envVars;
}

/** A new work in state `waiting`. */
export function newWork(
  id: string,
  what: { kind: 'task'; task: TaskSpec } | { kind: 'create'; actor: ActorRecord },
  args: ArgSpec[],
  resources: ResourceSet,
  isolation: 'thread' | 'process',
): Work {
  const task = what.kind === 'task' ? what.task : undefined;
  const actor = what.kind === 'create' ? what.actor : undefined;
  const envVars = task ? task.envVars : actor!.spec.options.envVars;
  // One literal with every field (both kinds have `task` and `actor`, one undefined): one hidden
  // class for all work. Spreading `what` in made V8 build each work field by field, at ~4x the
  // cost of a task's whole submission (microbenchmark: tasks async 17k/s against 77k/s).
  const work = {
    kind: what.kind,
    task,
    actor,
    id,
    args,
    resources,
    isolation,
    shapeKey: shapeKeyOf(resources, isolation, envKeyOf(envVars)),
    state: 'waiting' as WorkState,
    attempts: 0,
    depsLeft: 0,
    worker: undefined,
    alloc: undefined,
    blocked: 0,
    seq: 0,
    sentAt: 0,
    queuedAt: 0,
    cancelled: false,
    children: undefined,
    origin: undefined,
    remote: undefined,
    strategy: undefined,
    startMs: Date.now(),
    spills: 0,
    spillTo: undefined,
    noSpill: false,
  };
  return work as Work;
}
