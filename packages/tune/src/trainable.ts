/**
 * Trainables and the actor that runs them. A trainable is a function `(config, ctx) => ...` that
 * reports with `ctx.report(metrics, { checkpoint })`, or a class with `setup/step/saveCheckpoint/
 * loadCheckpoint/cleanup` (Ray Tune's two kinds). Trials run in {@link TrialWorker} actors, which
 * the runner reuses from one trial to the next (an actor start is the largest cost of a small trial).
 */
import { get, ObjectRef, remote, type Bundle, type PlacementStrategy, type PortableFunction } from '@ray-ts/core';
import { Checkpoint } from './checkpoint.js';
import { TuneInvalidArgumentError } from './errors.js';
import { PlacementGroupFactory } from './placement-group-factory.js';
import type { Config } from './types.js';

/** What a function trainable gets besides its config. */
export interface TuneContext {
  /** Reports metrics (and optionally a checkpoint); resolves when Tune wants the next iteration. */
  report(metrics: Record<string, unknown>, options?: { checkpoint?: Checkpoint }): Promise<void>;
  /** The checkpoint to resume from (after a restore, a retry or a PBT exploit), if any. */
  getCheckpoint(): Checkpoint | undefined;
  readonly trialId: string;
  readonly trialName: string;
  /** The trial's folder under the experiment's storage path. */
  readonly trialDir: string;
  /**
   * The trial's placement group when its resources are a {@link PlacementGroupFactory}: its
   * tasks and actors go into it anyway; name a bundle with
   * `schedulingStrategy: { placementGroup: ctx.placementGroup, placementGroupBundleIndex: i }`.
   */
  readonly placementGroup: TrialPlacementGroup | undefined;
}

/** A trial's placement group, as a trainable sees it. */
export interface TrialPlacementGroup {
  readonly id: string;
  readonly bundleSpecs: readonly Bundle[];
  readonly strategy: PlacementStrategy;
}

/** Resources of one trial: plain amounts, or a placement group of bundles. */
export type TrialResources =
  { numCpus: number; numGpus: number; resources?: Record<string, number> } | PlacementGroupFactory;

/** A function trainable. `params` are the objects given to {@link withParameters}. */
export type TrainableFunction<C extends Config = Config, P = never> = (
  config: C,
  ctx: TuneContext,
  params: P,
) => unknown;

/**
 * A class trainable (Ray's `tune.Trainable`): Tune calls `setup(config)` once, `step()` for
 * each iteration (its result is the reported metrics; `done: true` ends the trial), and the
 * checkpoint methods when it saves or restores.
 */
export abstract class Trainable<C extends Config = Config> {
  /** Called once with the trial's config. */
  setup(_config: C): void | Promise<void> {}
  /** One iteration: returns the metrics to report. */
  abstract step(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The state to save (a value; or write files into `dir` and return undefined). */
  saveCheckpoint(_dir: string): unknown {
    return undefined;
  }
  /** Restores the state saved by saveCheckpoint. */
  loadCheckpoint(_checkpoint: Checkpoint): void | Promise<void> {}
  /** Called when the trial ends. */
  cleanup(): void | Promise<void> {}
}

/** The Tune trainable marker set by withResources/withParameters. */
export interface TrainableSpec {
  readonly trainable: unknown;
  readonly resources: TrialResources | undefined;
  readonly params: Record<string, unknown> | undefined;
}

const SPEC = Symbol.for('ray-ts.tune.trainable-spec');

function specOf(t: unknown): TrainableSpec {
  const s = (t as { [SPEC]?: TrainableSpec })[SPEC];
  return s ?? { trainable: t, resources: undefined, params: undefined };
}

/** @internal The trainable behind any wrappers, with its resources and parameters. */
export function unwrapTrainable(t: unknown): TrainableSpec {
  return specOf(t);
}

function wrap<T>(base: TrainableSpec): T {
  return { [SPEC]: base } as unknown as T;
}

/**
 * Gives each trial of the trainable these resources (default `{ numCpus: 1 }`), or a
 * {@link PlacementGroupFactory} of bundles: the trainable runs in the first, and the tasks and
 * actors it starts go into the others.
 * @example new Tuner(withResources(train, { numCpus: 2 }), { ... })
 * @example new Tuner(withResources(train, new PlacementGroupFactory([{ CPU: 1 }, { CPU: 2 }, { CPU: 2 }])), { ... })
 */
export function withResources<T>(
  trainable: T,
  resources: { numCpus?: number; numGpus?: number; resources?: Record<string, number> } | PlacementGroupFactory,
): T {
  const s = specOf(trainable);
  if (resources instanceof PlacementGroupFactory) return wrap({ ...s, resources });
  if (!resources || typeof resources !== 'object') {
    throw new TuneInvalidArgumentError(
      `withResources needs { numCpus?, numGpus?, resources? } or a PlacementGroupFactory, got ${JSON.stringify(resources)}.`,
    );
  }
  for (const k of Object.keys(resources)) {
    if (k !== 'numCpus' && k !== 'numGpus' && k !== 'resources') {
      const hint = k.toLowerCase() === 'cpu' ? 'numCpus' : k.toLowerCase() === 'gpu' ? 'numGpus' : undefined;
      throw new TuneInvalidArgumentError(
        `withResources: unknown option '${k}'.${hint ? ` Did you mean '${hint}'?` : ''} Use numCpus, numGpus and resources.`,
      );
    }
  }
  for (const k of ['numCpus', 'numGpus'] as const) {
    const v = resources[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new TuneInvalidArgumentError(`withResources: ${k} must be a number >= 0, got ${JSON.stringify(v)}.`);
    }
  }
  return wrap({
    ...s,
    resources: {
      numCpus: resources.numCpus ?? 1,
      numGpus: resources.numGpus ?? 0,
      ...(resources.resources ? { resources: resources.resources } : {}),
    },
  });
}

/**
 * Shares large objects with every trial through the object store (put once, read by each
 * trial's worker) instead of copying them into every config. A function trainable gets them as
 * its third argument.
 * @example new Tuner(withParameters((config, ctx, { data }) => ..., { data: bigArray }), { ... })
 */
export function withParameters<T>(trainable: T, params: Record<string, unknown>): T {
  const s = specOf(trainable);
  return wrap({ ...s, params: { ...(s.params ?? {}), ...params } });
}

/** What a worker sends back for each `next()`. */
export type TrialEvent =
  | { kind: 'result'; metrics: Record<string, unknown>; checkpoint?: { path?: string; data?: unknown } }
  | { kind: 'done' }
  | { kind: 'error'; message: string; stack: string; name: string };

/** What a trial starts from. */
export interface TrialStart {
  trialId: string;
  trialName: string;
  trialDir: string;
  trainable: PortableFunction;
  isClass: boolean;
  config: Config;
  checkpoint: { path?: string; data?: unknown } | undefined;
  /** Object refs of withParameters' objects. */
  params: Record<string, ObjectRef<unknown>> | undefined;
  /** Checkpoint a class trainable every this many iterations (0: never). */
  checkpointFrequency: number;
  /** The trial's placement group, if its resources are one. */
  placementGroup?: TrialPlacementGroup;
}

class StopSignal extends Error {
  override readonly name = 'TuneStopSignal';
}

/** Runs one trial at a time; reused by the runner across trials with the same resources. */
class TrialWorkerActor {
  private events: TrialEvent[] = [];
  private eventWaiter: (() => void) | undefined;
  private ack: (() => void) | undefined;
  private stopping = false;
  private running: Promise<void> | undefined;
  private classInstance: Trainable | undefined;

  private push(e: TrialEvent): void {
    this.events.push(e);
    const w = this.eventWaiter;
    this.eventWaiter = undefined;
    w?.();
  }

  /** Starts a trial in the background; its events come out of next(). */
  async start(s: TrialStart): Promise<void> {
    if (this.running) await this.stop();
    this.events = [];
    this.stopping = false;
    const fn = (await s.trainable.resolve()) as unknown;
    const params: Record<string, unknown> = {};
    if (s.params) {
      const keys = Object.keys(s.params);
      const values = await get(keys.map((k) => s.params![k]));
      keys.forEach((k, i) => (params[k] = values[i]));
    }
    const checkpoint = Checkpoint.fromWire(s.checkpoint);
    this.running = (
      s.isClass
        ? this.runClass(fn as new () => Trainable, s, checkpoint)
        : this.runFunction(fn as TrainableFunction<Config, unknown>, s, checkpoint, params)
    ).then(
      () => this.push({ kind: 'done' }),
      (err: unknown) => {
        if (err instanceof StopSignal || this.stopping) return this.push({ kind: 'done' });
        const e = err as Error;
        this.push({
          kind: 'error',
          message: e?.message ?? String(err),
          stack: e?.stack ?? String(err),
          name: e?.name ?? 'Error',
        });
      },
    );
  }

  private async runFunction(
    fn: TrainableFunction<Config, unknown>,
    s: TrialStart,
    checkpoint: Checkpoint | undefined,
    params: Record<string, unknown>,
  ): Promise<void> {
    const ctx: TuneContext = {
      trialId: s.trialId,
      trialName: s.trialName,
      trialDir: s.trialDir,
      placementGroup: s.placementGroup,
      getCheckpoint: () => checkpoint,
      report: async (metrics, opts) => {
        if (this.stopping) throw new StopSignal('stopped');
        await new Promise<void>((resolve) => {
          this.ack = resolve;
          this.push({
            kind: 'result',
            metrics: { ...metrics },
            ...(opts?.checkpoint ? { checkpoint: opts.checkpoint.toWire() } : {}),
          });
        });
        if (this.stopping) throw new StopSignal('stopped');
      },
    };
    await fn(s.config, ctx, params);
  }

  private async runClass(Cls: new () => Trainable, s: TrialStart, checkpoint: Checkpoint | undefined): Promise<void> {
    const t = new Cls();
    this.classInstance = t;
    try {
      await t.setup(s.config);
      if (checkpoint) await t.loadCheckpoint(checkpoint);
      for (let i = 1; ; i++) {
        const metrics = await t.step();
        let cp: { path?: string; data?: unknown } | undefined;
        const done = (metrics as { done?: unknown }).done === true;
        if (s.checkpointFrequency > 0 && (i % s.checkpointFrequency === 0 || done)) cp = this.saveClass(t, s);
        await new Promise<void>((resolve) => {
          this.ack = resolve;
          this.push({ kind: 'result', metrics: { ...metrics }, ...(cp ? { checkpoint: cp } : {}) });
        });
        if (this.stopping || done) return;
      }
    } finally {
      this.classInstance = undefined;
      await t.cleanup();
    }
  }

  private saveClass(t: Trainable, s: TrialStart): { path?: string; data?: unknown } {
    const data = t.saveCheckpoint(`${s.trialDir}/tmp_checkpoint`);
    return data === undefined ? { path: `${s.trialDir}/tmp_checkpoint` } : { data };
  }

  /** The next event of the running trial: a result (the trainable then waits), its end, or its error. */
  async next(): Promise<TrialEvent> {
    // Releases the trainable blocked in report(): it may compute the next iteration meanwhile.
    const a = this.ack;
    this.ack = undefined;
    a?.();
    if (this.events.length === 0) await new Promise<void>((r) => (this.eventWaiter = r));
    return this.events.shift()!;
  }

  /** Saves a class trainable now (to pause it). */
  saveNow(trialDir: string): { path?: string; data?: unknown } | undefined {
    const t = this.classInstance;
    if (!t) return undefined;
    const data = t.saveCheckpoint(`${trialDir}/tmp_checkpoint`);
    return data === undefined ? { path: `${trialDir}/tmp_checkpoint` } : { data };
  }

  /** Stops the running trial: its next report() throws a stop signal; resolves once it ended (or after 2 s). */
  async stop(): Promise<boolean> {
    if (!this.running) return true;
    this.stopping = true;
    const a = this.ack;
    this.ack = undefined;
    a?.();
    const ended = await Promise.race([
      this.running.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
    ]);
    this.running = undefined;
    return ended;
  }
}

/** @internal The worker actor class. */
export const TrialWorker = remote(TrialWorkerActor);
/** @internal */
export type TrialWorkerMethods = TrialWorkerActor;
