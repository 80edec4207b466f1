/**
 * The streaming executor. It turns an optimized logical plan into physical operators and runs them
 * all at once: blocks flow from reads through map stages to the consumer as they are produced.
 *
 * Scheduling, every time a task finishes:
 * - operators nearest the consumer launch first (draining frees memory);
 * - a task launches only if the bytes buffered between operators, plus what the running tasks are
 *   expected to produce, stay under the memory budget (backpressure; one task always may run, so
 *   a pipeline never stalls);
 * - at most about two tasks per CPU are in flight (the rest would only queue in the scheduler).
 * Outputs of each operator are delivered in input order.
 */
import { get, type ObjectRef } from '@ray-ts/core';
import type { BlockMeta } from './block.js';
import { runExchange, runJoin, runZip } from './exchange.js';
import {
  BarrierOp,
  LimitOp,
  StageOp,
  UnionOp,
  type ExecEnv,
  type OperatorHost,
  type OperatorStats,
  type PhysicalOp,
} from './operators.js';
import type { Bundle, LogicalNode, StageResources } from './plan.js';
import { ExecutionMetrics } from './metrics.js';
import { ProgressBars } from './progress.js';
import { bundleRows, rowsThroughExchange, rowsThroughSteps, sourceRows, sumRows } from './progress-totals.js';
import { resolveSource } from './sources.js';
import { stageTask } from './tasks.js';

export type { ExecEnv, OperatorStats } from './operators.js';

export interface ExecutionStats {
  readonly operators: OperatorStats[];
  readonly wallMs: number;
}

/** Runs one plan. Iterate {@link Executor.run} to get its output blocks in order. */
export class Executor implements OperatorHost {
  readonly ops: PhysicalOp[] = [];
  private readonly upstreams = new Map<PhysicalOp, PhysicalOp[]>();
  private sink!: PhysicalOp;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private pending = 0;
  private stopped = new Set<PhysicalOp>();
  progress: ProgressBars | undefined;
  private t0 = 0;
  /** Bars are drawn (Ray's `DataContext.enable_progress_bars`, on a terminal): operators then get their expected rows. */
  private readonly showProgress: boolean;
  /** Ray Data's per-operator Prometheus rows of this execution. */
  readonly metrics = new ExecutionMetrics();

  constructor(readonly env: ExecEnv) {
    this.showProgress = env.ctx.progressBars && process.stderr.isTTY === true;
  }

  /** CPUs in flight allowed: two tasks per CPU keep every worker busy between tasks. */
  maxTasksPerOp(r: StageResources): number {
    if (r.numGpus > 0) return Math.max(1, Math.floor(this.env.numGpus / r.numGpus));
    return Math.max(1, Math.ceil((2 * this.env.numCpus) / Math.max(r.numCpus, 0.25)));
  }

  /** CPUs held by the actors of actor pools right now. */
  actorCpus = 0;

  /**
   * A task's resources, except that a task never waits behind actor pools that hold every CPU
   * (the pools' actors would wait for its output forever): then it runs without reserving a CPU.
   */
  taskOptions(fn: typeof stageTask, r0: StageResources): typeof stageTask {
    const r = this.actorCpus > 0 && this.actorCpus + r0.numCpus > this.env.numCpus + 1e-9 ? { ...r0, numCpus: 0 } : r0;
    if (r.numCpus === 1 && r.numGpus === 0) return fn;
    return fn.options({
      numReturns: 2,
      numCpus: r.numCpus,
      ...(r.numGpus ? { numGpus: r.numGpus } : {}),
    }) as unknown as typeof stageTask;
  }

  /** Keeps a promise counted as in flight, and wakes the loop when it settles. */
  track(p: Promise<unknown>): void {
    this.pending++;
    void p.finally(() => {
      this.pending--;
      this.poke();
    });
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async sliceBundle(b: Bundle, n: number): Promise<Bundle> {
    const [block, metaRef] = this.taskOptions(stageTask, { numCpus: 1, numGpus: 0 }).remote(
      b.block as unknown as Uint8Array,
      null,
      [{ kind: 'limit', name: `limit(${n})`, n }],
      null,
    ) as unknown as [ObjectRef<Uint8Array>, ObjectRef<BlockMeta>];
    return { block, meta: await get(metaRef) };
  }

  /** A limit is satisfied: nothing upstream of it needs to run any more. */
  stopUpstream(op: PhysicalOp): void {
    const stack = [...(this.upstreams.get(op) ?? [])];
    while (stack.length) {
      const u = stack.pop()!;
      this.stopped.add(u);
      stack.push(...(this.upstreams.get(u) ?? []));
    }
    this.poke();
  }

  /** Builds operators for a plan; returns the root. */
  async build(node: LogicalNode): Promise<PhysicalOp> {
    const op = await this.buildNode(node);
    this.sink = op;
    return op;
  }

  private connect(up: PhysicalOp, down: PhysicalOp, index: number): void {
    up.downstream = { op: down, index };
    const list = this.upstreams.get(down) ?? [];
    list.push(up);
    this.upstreams.set(down, list);
  }

  private async buildNode(node: LogicalNode): Promise<PhysicalOp> {
    let op: PhysicalOp;
    switch (node.kind) {
      case 'read': {
        const sources = await resolveSource(node.source, this.env.ctx, this.env.numCpus);
        const name = node.compute
          ? node.name
          : node.steps.length
            ? `${node.name}->${node.steps.map((s) => s.name).join('->')}`
            : node.name;
        op = new StageOp(
          name,
          this,
          node.steps,
          node.compute ?? { kind: 'tasks' },
          node.resources ?? { numCpus: 1, numGpus: 0 },
          node.write,
          sources,
        );
        if (this.showProgress) op.expectedRows = rowsThroughSteps(sourceRows(sources), node.steps);
        break;
      }
      case 'blocks': {
        const u = new UnionOp(node.name, this, 1);
        for (const b of node.bundles) u.addInput(b, 0);
        u.inputDone(0);
        u.expectedRows = bundleRows(node.bundles);
        op = u;
        break;
      }
      case 'map': {
        const up = await this.buildNode(node.input);
        op = new StageOp(node.name, this, node.steps, node.compute, node.resources, node.write, undefined);
        op.expectedRows = rowsThroughSteps(up.expectedRows, node.steps);
        this.connect(up, op, 0);
        break;
      }
      case 'limit': {
        const up = await this.buildNode(node.input);
        op = new LimitOp(node.name, this, node.n);
        op.expectedRows = rowsThroughSteps(up.expectedRows, [{ kind: 'limit', name: node.name, n: node.n }]);
        this.connect(up, op, 0);
        break;
      }
      case 'exchange': {
        const xop = node.op;
        if (node.fusedRead && node.input.kind === 'read') {
          const sources = await resolveSource(node.input.source, this.env.ctx, this.env.numCpus);
          const steps = node.input.steps;
          op = new BarrierOp(`${node.input.name}->${node.name}`, this, 0, () =>
            runExchange(
              xop,
              sources.map((source) => ({ source, steps })),
              this.env,
              node.name,
              op.stats,
            ),
          );
          if (this.showProgress)
            op.expectedRows = rowsThroughExchange(rowsThroughSteps(sourceRows(sources), steps), xop);
          break;
        }
        const up = await this.buildNode(node.input);
        op = new BarrierOp(node.name, this, 1, (ins) => runExchange(xop, ins[0], this.env, node.name, op.stats));
        op.expectedRows = rowsThroughExchange(up.expectedRows, xop);
        this.connect(up, op, 0);
        break;
      }
      case 'union': {
        const ups = [];
        for (const i of node.inputs) ups.push(await this.buildNode(i));
        op = new UnionOp(node.name, this, ups.length);
        op.expectedRows = sumRows(ups.map((u) => u.expectedRows));
        ups.forEach((u, i) => this.connect(u, op, i));
        break;
      }
      case 'zip':
      case 'join': {
        const a = await this.buildNode(node.inputs[0]);
        const b = await this.buildNode(node.inputs[1]);
        op =
          node.kind === 'zip'
            ? new BarrierOp(node.name, this, 2, (ins) => runZip(ins[0], ins[1], node.name, op.stats))
            : new BarrierOp(node.name, this, 2, (ins) => runJoin(ins[0], ins[1], node, this.env, op.stats));
        // A zip pairs rows one to one: as many as its first input.
        op.expectedRows = node.kind === 'zip' ? a.expectedRows : undefined;
        this.connect(a, op, 0);
        this.connect(b, op, 1);
        break;
      }
    }
    this.ops.push(op);
    return op;
  }

  private usedBytes(): number {
    let used = 0;
    for (const op of this.ops) {
      if (op instanceof BarrierOp) continue;
      for (const b of op.out) used += b.meta.sizeBytes;
      used += op.queuedBytes() + op.inFlight() * op.estimateBytes;
    }
    return used;
  }

  private cpusInFlight(): number {
    let c = 0;
    for (const op of this.ops) c += op.inFlight() * op.cpusPerLaunch();
    return c;
  }

  /** Moves outputs downstream, then launches what the budget allows. */
  private step(): void {
    for (const op of this.ops) {
      if (!op.downstream) continue;
      const d = op.downstream;
      while (op.out.length) {
        const b = op.out.shift()!;
        if (!this.stopped.has(d.op) && !d.op.finished) d.op.addInput(b, d.index);
      }
      if ((op.finished || this.stopped.has(op)) && !op.signalled) {
        if (op.finished || op.inFlight() === 0) {
          op.signalled = true;
          d.op.inputDone(d.index);
        }
      }
    }
    // Downstream first: the sink's producers drain the pipeline before sources add to it.
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      if (this.stopped.has(op)) continue;
      while (op.wantsLaunch()) {
        const nothingRunning = this.ops.every((o) => o.inFlight() === 0) && this.sink.out.length === 0;
        const fitsMemory = this.usedBytes() + op.estimateBytes <= this.env.budgetBytes;
        const fitsCpu = this.cpusInFlight() + op.cpusPerLaunch() <= 2 * this.env.numCpus || op.cpusPerLaunch() === 0;
        if (!nothingRunning && !(fitsMemory && fitsCpu)) break;
        op.launch();
      }
    }
  }

  /** Runs the plan, yielding its output blocks in order. Breaking out of the loop stops it. */
  async *run(): AsyncGenerator<Bundle> {
    this.t0 = performance.now();
    if (this.showProgress) this.progress = new ProgressBars(this.ops);
    try {
      for (;;) {
        this.step();
        this.metrics.sample(this.ops);
        if (this.failure) throw this.failure;
        while (this.sink.out.length) {
          const b = this.sink.out.shift()!;
          yield b;
          this.step();
          if (this.failure) throw this.failure;
        }
        if (this.sink.finished && this.sink.out.length === 0) return;
        if (this.pending === 0 && !this.ops.some((o) => o.wantsLaunch())) {
          // Nothing running and nothing to launch: a finished graph whose last signals are pending.
          this.step();
          if (this.sink.finished || this.sink.out.length) continue;
          throw new Error(
            `Data executor stalled (internal error): ${this.ops.map((o) => `${o.name}: finished=${o.finished} inFlight=${o.inFlight()}`).join('; ')}`,
          );
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      for (const op of this.ops) op.shutdown();
      this.metrics.sample(this.ops);
      // Done (a limit may have stopped some early): each bar ends at what its operator output.
      if (!this.failure) for (const op of this.ops) this.progress?.finish(op, op.stats.rowsOut);
      this.progress?.stop();
    }
  }

  stats(): ExecutionStats {
    return { operators: this.ops.map((o) => ({ ...o.stats })), wallMs: performance.now() - this.t0 };
  }
}
