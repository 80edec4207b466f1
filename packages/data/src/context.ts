/**
 * Settings of Data executions, like Ray's `DataContext`: change them on
 * `DataContext.getCurrent()` before running a dataset.
 */
import { nodes } from '@ray-ts/core';

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function envBool(name: string, fallback: boolean): boolean {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  return v === '1' || v.toLowerCase() === 'true';
}

/** Execution settings of @ray-ts/data. Environment overrides: `RAY_TS_DATA_<NAME>`. */
export class DataContext {
  /** Reads aim for at least this many blocks (Ray's `read_op_min_num_blocks`). */
  readParallelism = envNumber('RAY_TS_DATA_READ_PARALLELISM', 200);
  /** Blocks smaller than this are not split further when choosing a read's block count. */
  targetMinBlockBytes = envNumber('RAY_TS_DATA_TARGET_MIN_BLOCK_BYTES', 1 << 20);
  /** The block size the executor plans for (estimates before real sizes are known). */
  targetMaxBlockBytes = envNumber('RAY_TS_DATA_TARGET_MAX_BLOCK_BYTES', 128 << 20);
  /** Share of the cluster's object store that blocks in flight may use (backpressure). */
  memoryBudgetFraction = envNumber('RAY_TS_DATA_MEMORY_BUDGET_FRACTION', 0.5);
  /** A fixed memory budget in bytes instead of the fraction (0: use the fraction). */
  memoryBudgetBytes = envNumber('RAY_TS_DATA_MEMORY_BUDGET_BYTES', 0);
  /** Rows per batch of `mapBatches` when no `batchSize` is given. */
  defaultBatchSize = envNumber('RAY_TS_DATA_DEFAULT_BATCH_SIZE', 1024);
  /**
   * Progress bars per operator, rows out of the rows expected when known (Ray's
   * `enable_progress_bars`; only when stderr is a terminal). Default: `RAY_TS_PROGRESS_BARS`, on.
   */
  progressBars = envBool('RAY_TS_DATA_PROGRESS_BARS', envBool('RAY_TS_PROGRESS_BARS', true));

  private static current: DataContext | undefined;

  /** The settings used by executions started from this process. */
  static getCurrent(): DataContext {
    return (DataContext.current ??= new DataContext());
  }

  /** @internal Cluster facts an execution needs. */
  async environment(): Promise<{ numCpus: number; numGpus: number; budgetBytes: number }> {
    const ns = (await nodes()).filter((n) => n.alive);
    let cpus = 0,
      gpus = 0,
      store = 0;
    for (const n of ns) {
      cpus += n.resources.CPU ?? 0;
      gpus += n.resources.GPU ?? 0;
      store += n.objectStoreBytes ?? 0;
    }
    const budget =
      this.memoryBudgetBytes > 0 ? this.memoryBudgetBytes : Math.max(16 << 20, store * this.memoryBudgetFraction);
    return { numCpus: Math.max(1, cpus), numGpus: gpus, budgetBytes: budget };
  }
}
