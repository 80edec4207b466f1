/**
 * The physical operators of the streaming executor: a stage of tasks or of an actor pool, a
 * limit, a barrier (exchanges, zip, join) and a union. Each takes input blocks, launches work
 * when the executor lets it, and hands its outputs on in order.
 */
import { UnschedulableError, get, kill, type ActorHandle, type ObjectRef } from '@ray-ts/core';
import type { BlockMeta } from './block.js';
import type { DataContext } from './context.js';
import { SchemaError, dataErrorFrom } from './errors.js';
import { fileNameFor } from './datasource/index.js';
import type { ProgressBars } from './progress.js';
import type { ExpectedRows } from './progress-totals.js';
import type { Bundle, Compute, StageResources } from './plan.js';
import type { Step } from './steps.js';
import { MapWorker, stageTask, type MapWorkerInstance, type SourceSpec, type WriteSpec } from './tasks.js';

/** What operators need of the executor that runs them (executor.ts implements it). */
export interface OperatorHost {
  readonly env: ExecEnv;
  readonly progress: ProgressBars | undefined;
  /** CPUs held by actor pools, counted against the executor's budget. */
  actorCpus: number;
  maxTasksPerOp(r: StageResources): number;
  taskOptions(fn: typeof stageTask, r: StageResources): typeof stageTask;
  track(p: Promise<unknown>): void;
  fail(err: Error): void;
  sliceBundle(b: Bundle, n: number): Promise<Bundle>;
  stopUpstream(op: PhysicalOp): void;
}

export interface OperatorStats {
  readonly name: string;
  tasks: number;
  blocksOut: number;
  rowsOut: number;
  bytesOut: number;
  /** Sum of task durations as seen by the driver, in ms. */
  taskMs: number;
  /** Actors started (actor pools). */
  actors: number;
  peakActors: number;
}

/** What the executor needs to know about the cluster. */
export interface ExecEnv {
  readonly ctx: DataContext;
  readonly numCpus: number;
  readonly numGpus: number;
  readonly budgetBytes: number;
}

type Item =
  { readonly kind: 'bundle'; readonly bundle: Bundle } | { readonly kind: 'source'; readonly source: SourceSpec };

/** Converts a task failure into the error users see: Data's own errors keep their class and message. */
export function unwrapError(err: unknown, op: string): Error {
  const e = err as { name?: string; cause?: { name?: string; message?: string; operator?: string } };
  if (e?.name === 'TaskError' && e.cause && typeof e.cause === 'object' && e.cause.name) {
    const out = dataErrorFrom(e.cause.name, e.cause.message ?? '', e.cause.operator ?? op, err);
    if (out) return out;
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Base of physical operators. */
export abstract class PhysicalOp {
  readonly stats: OperatorStats;
  /** Outputs ready for the downstream operator, in order. */
  readonly out: Bundle[] = [];
  downstream: { op: PhysicalOp; index: number } | undefined;
  /** Set once nothing more will come out (after `out` drains). */
  finished = false;
  /** Set once the downstream operator was told that this one's outputs are complete. */
  signalled = false;
  /** Bytes expected from one task (average output so far, or a guess). */
  estimateBytes: number;
  /** Rows it is expected to output, for its progress bar (set when bars are drawn; progress-totals.ts). */
  expectedRows: ExpectedRows = undefined;

  constructor(
    readonly name: string,
    protected readonly exec: OperatorHost,
  ) {
    this.stats = { name, tasks: 0, blocksOut: 0, rowsOut: 0, bytesOut: 0, taskMs: 0, actors: 0, peakActors: 0 };
    this.estimateBytes = exec.env.ctx.targetMaxBlockBytes / 4;
  }
  abstract addInput(b: Bundle, index: number): void;
  abstract inputDone(index: number): void;
  /** Work that could launch now, if the budget allows. */
  abstract wantsLaunch(): boolean;
  /** Launches one unit of work. */
  abstract launch(): void;
  abstract inFlight(): number;
  /** CPUs one launch holds. */
  cpusPerLaunch(): number {
    return 1;
  }
  /** Bytes buffered in this operator's queues (inputs not yet launched). */
  queuedBytes(): number {
    return 0;
  }
  /** Counts a finished output and hands it on. */
  protected emit(b: Bundle): void {
    this.stats.blocksOut++;
    this.stats.rowsOut += b.meta.numRows;
    this.stats.bytesOut += b.meta.sizeBytes;
    if (this.stats.blocksOut > 0) this.estimateBytes = Math.max(1, this.stats.bytesOut / this.stats.blocksOut);
    this.out.push(b);
    this.exec.progress?.update(this, this.stats.rowsOut);
  }
  shutdown(): void {}
}

/** Results delivered in launch order even when tasks finish out of order. */
class Ordered {
  private next = 0;
  private readonly done = new Map<number, Bundle | null>();
  constructor(private readonly emit: (b: Bundle) => void) {}
  settle(seq: number, b: Bundle | null): void {
    this.done.set(seq, b);
    while (this.done.has(this.next)) {
      const x = this.done.get(this.next)!;
      this.done.delete(this.next++);
      if (x) this.emit(x);
    }
  }
}

/** Reads and map stages run as tasks (or on an actor pool): one block in, one block out. */
export class StageOp extends PhysicalOp {
  private readonly queue: Item[] = [];
  private queued = 0;
  private running = 0;
  private seq = 0;
  private inputsOpen: boolean;
  private readonly ordered = new Ordered((b) => this.emit(b));
  private readonly actors: { handle: ActorHandle<MapWorkerInstance>; inFlight: number; ready: boolean }[] = [];
  private actorsStarting = 0;
  private nextFile = 0;

  constructor(
    name: string,
    exec: OperatorHost,
    private readonly steps: readonly Step[],
    private readonly compute: Compute,
    private readonly resources: StageResources,
    private readonly write: (Omit<WriteSpec, 'fileName'> & { datasetId: string }) | undefined,
    sources: readonly SourceSpec[] | undefined,
  ) {
    super(name, exec);
    if (compute.kind === 'actors') {
      const { numCpus, numGpus } = exec.env;
      if (resources.numGpus > numGpus || resources.numCpus > numCpus) {
        const what = resources.numGpus > numGpus ? `${resources.numGpus} GPU(s)` : `${resources.numCpus} CPU(s)`;
        throw new UnschedulableError(
          `${name}: each actor of the pool asks for ${what}, but the cluster has ${numCpus} CPU(s) and ${numGpus} GPU(s). ` +
            'Lower numCpus/numGpus, or add nodes with those resources.',
          { CPU: resources.numCpus, ...(resources.numGpus ? { GPU: resources.numGpus } : {}) },
        );
      }
    }
    this.inputsOpen = !sources;
    if (sources) for (const s of sources) this.queue.push({ kind: 'source', source: s });
  }

  override cpusPerLaunch(): number {
    return this.compute.kind === 'actors' ? 0 : this.resources.numCpus;
  }

  addInput(b: Bundle): void {
    this.queue.push({ kind: 'bundle', bundle: b });
    this.queued += b.meta.sizeBytes;
  }
  inputDone(): void {
    this.inputsOpen = false;
    this.maybeFinish();
  }
  override queuedBytes(): number {
    return this.queued;
  }
  inFlight(): number {
    return this.running;
  }

  wantsLaunch(): boolean {
    if (this.queue.length === 0) return false;
    if (this.compute.kind === 'tasks') return this.running < this.exec.maxTasksPerOp(this.resources);
    // Actors start with the first input (not before an upstream exchange has used the CPUs).
    while (this.actors.length < this.compute.minSize) this.startActor();
    this.scaleActors();
    return this.actors.some(
      (a) => a.ready && a.inFlight < (this.compute as Extract<Compute, { kind: 'actors' }>).maxTasksInFlightPerActor,
    );
  }

  private startActor(): void {
    const o = {
      numCpus: this.resources.numCpus,
      numGpus: this.resources.numGpus || undefined,
      name: undefined,
    };
    const handle = MapWorker.options({ numCpus: o.numCpus, ...(o.numGpus ? { numGpus: o.numGpus } : {}) }).remote(
      this.steps as Step[],
    );
    const entry = { handle, inFlight: 0, ready: false };
    this.exec.actorCpus += this.resources.numCpus;
    this.actors.push(entry);
    this.actorsStarting++;
    this.stats.actors++;
    this.stats.peakActors = Math.max(this.stats.peakActors, this.actors.length);
    this.exec.track(
      get(handle.ready_.remote()).then(
        () => {
          entry.ready = true;
          this.actorsStarting--;
          // Its inputs may have run out while it started (the others did the work): it goes now,
          // not when the whole dataset ends, so its CPUs do not starve the stages after it.
          this.releaseIdleActors();
        },
        (err: unknown) => {
          this.actorsStarting--;
          this.exec.fail(unwrapError(err, this.name));
        },
      ),
    );
  }

  /** Grows the pool while inputs wait and every actor is busy; shrinks it when inputs run out. */
  private scaleActors(): void {
    const c = this.compute as Extract<Compute, { kind: 'actors' }>;
    const busy = this.actors.every((a) => !a.ready || a.inFlight > 0);
    if (busy && this.actorsStarting === 0 && this.actors.length < c.maxSize && this.queue.length > this.actors.length)
      this.startActor();
  }

  private releaseIdleActors(): void {
    if (this.compute.kind !== 'actors') return;
    for (let i = this.actors.length - 1; i >= 0; i--) {
      const a = this.actors[i];
      if (a.ready && a.inFlight === 0 && this.actors.length > 0 && !this.inputsOpen && this.queue.length === 0) {
        void kill(a.handle).catch(() => undefined); // already gone, or the cluster stopped: nothing to free
        this.actors.splice(i, 1);
        this.exec.actorCpus -= this.resources.numCpus;
      }
    }
  }

  launch(): void {
    const item = this.queue.shift()!;
    if (item.kind === 'bundle') this.queued -= item.bundle.meta.sizeBytes;
    const seq = this.seq++;
    const block = item.kind === 'bundle' ? item.bundle.block : null;
    const source = item.kind === 'source' ? item.source : null;
    const write = this.write
      ? {
          format: this.write.format,
          dir: this.write.dir,
          fileName: fileNameFor(this.write.format, this.nextFile++, this.write.datasetId),
        }
      : null;
    let refs: [ObjectRef<Uint8Array>, ObjectRef<BlockMeta>];
    let actor: (typeof this.actors)[number] | undefined;
    if (this.compute.kind === 'actors') {
      actor = this.actors.filter((a) => a.ready).sort((a, b) => a.inFlight - b.inFlight)[0];
      actor.inFlight++;
      refs = actor.handle.process
        .options({ numReturns: 2 })
        .remote(block as unknown as Uint8Array, source, write) as unknown as typeof refs;
    } else {
      const fn = this.exec.taskOptions(stageTask, this.resources);
      refs = fn.remote(block as unknown as Uint8Array, source, this.steps as Step[], write) as unknown as typeof refs;
    }
    this.running++;
    this.stats.tasks++;
    const t0 = performance.now();
    this.exec.track(
      get(refs[1]).then(
        (meta) => {
          this.running--;
          if (actor) actor.inFlight--;
          this.stats.taskMs += performance.now() - t0;
          this.ordered.settle(seq, { block: refs[0], meta });
          this.maybeFinish();
        },
        (err: unknown) => {
          this.running--;
          if (actor) actor.inFlight--;
          this.exec.fail(unwrapError(err, this.name));
        },
      ),
    );
  }

  private maybeFinish(): void {
    this.releaseIdleActors();
    if (!this.inputsOpen && this.queue.length === 0 && this.running === 0) this.finished = true;
  }

  override shutdown(): void {
    for (const a of this.actors) void kill(a.handle).catch(() => undefined);
    this.exec.actorCpus -= this.actors.length * this.resources.numCpus;
    this.actors.length = 0;
  }
}

/** Passes through the first n rows, then stops its inputs. */
export class LimitOp extends PhysicalOp {
  private seen = 0;
  constructor(
    name: string,
    exec: OperatorHost,
    private readonly n: number,
  ) {
    super(name, exec);
    if (n === 0) this.finished = true;
  }
  addInput(b: Bundle): void {
    if (this.seen >= this.n) return;
    const left = this.n - this.seen;
    if (b.meta.numRows <= left) {
      this.seen += b.meta.numRows;
      this.emit(b);
    } else {
      this.seen = this.n;
      this.pendingSlice = true;
      // The rows are cut where they are (a one-step task), not on the driver.
      this.exec.track(
        this.exec.sliceBundle(b, left).then(
          (s) => {
            this.emit(s);
            this.pendingSlice = false;
            this.finished = true;
          },
          (err: unknown) => this.exec.fail(unwrapError(err, this.name)),
        ),
      );
    }
    if (this.seen >= this.n) {
      this.exec.stopUpstream(this);
      if (!this.pendingSlice) this.finished = true;
    }
  }
  private pendingSlice = false;
  inputDone(): void {
    if (!this.pendingSlice) this.finished = true;
  }
  wantsLaunch(): boolean {
    return false;
  }
  launch(): void {}
  inFlight(): number {
    return this.pendingSlice && !this.finished ? 1 : 0;
  }
}

/** A barrier: gathers every input, then runs an all-to-all exchange (or zip/join) as tasks. */
export class BarrierOp extends PhysicalOp {
  private readonly inputs: Bundle[][];
  private readonly open: boolean[];
  private started = false;
  private running = false;
  constructor(
    name: string,
    exec: OperatorHost,
    arity: number,
    private readonly run: (inputs: Bundle[][]) => Promise<Bundle[]>,
  ) {
    super(name, exec);
    this.inputs = Array.from({ length: arity }, () => []);
    this.open = Array.from({ length: arity }, () => true);
  }
  addInput(b: Bundle, index: number): void {
    this.inputs[index].push(b);
  }
  inputDone(index: number): void {
    this.open[index] = false;
  }
  wantsLaunch(): boolean {
    return !this.started && this.open.every((o) => !o);
  }
  override cpusPerLaunch(): number {
    return 0;
  }
  launch(): void {
    this.started = true;
    this.running = true;
    const t0 = performance.now();
    this.exec.track(
      this.run(this.inputs).then(
        (outs) => {
          this.stats.taskMs += performance.now() - t0;
          this.running = false;
          this.inputs.length = 0;
          for (const b of outs) this.emit(b);
          this.finished = true;
        },
        (err: unknown) => this.exec.fail(unwrapError(err, this.name)),
      ),
    );
  }
  inFlight(): number {
    return this.running ? 1 : 0;
  }
}

/** Outputs of several inputs, one input after another. */
export class UnionOp extends PhysicalOp {
  private readonly buffers: Bundle[][];
  private readonly open: boolean[];
  private current = 0;
  constructor(name: string, exec: OperatorHost, arity: number) {
    super(name, exec);
    this.buffers = Array.from({ length: arity }, () => []);
    this.open = Array.from({ length: arity }, () => true);
  }
  private schema: { key: string; index: number } | undefined;
  addInput(b: Bundle, index: number): void {
    if (this.buffers.length > 1 && b.meta.schema !== undefined && b.meta.numRows > 0) {
      if (!this.schema) this.schema = { key: b.meta.schema, index };
      else if (this.schema.key !== b.meta.schema) {
        this.exec.fail(
          new SchemaError(
            `${this.name}: input ${this.schema.index + 1} has columns (${this.schema.key}) but input ${index + 1} has (${b.meta.schema}); ` +
              'union needs the same columns and types. Use selectColumns/renameColumns or a map to line them up first.',
          ),
        );
        return;
      }
    }
    this.buffers[index].push(b);
    this.flush();
  }
  inputDone(index: number): void {
    this.open[index] = false;
    this.flush();
  }
  private flush(): void {
    while (this.current < this.buffers.length) {
      for (const b of this.buffers[this.current].splice(0)) this.emit(b);
      if (this.open[this.current]) return;
      this.current++;
    }
    this.finished = true;
  }
  override queuedBytes(): number {
    let s = 0;
    for (let i = this.current + 1; i < this.buffers.length; i++) for (const b of this.buffers[i]) s += b.meta.sizeBytes;
    return s;
  }
  wantsLaunch(): boolean {
    return false;
  }
  launch(): void {}
  inFlight(): number {
    return 0;
  }
}

/** Statistics of one execution. */
