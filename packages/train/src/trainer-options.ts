/**
 * A trainer's options (Ray Train's `ScalingConfig`, `RunConfig`, `CheckpointConfig`), checked and
 * compiled once into the {@link TrainerSpec} that a run, on the driver or in a Tune trial, uses.
 */
import { portable, type PlacementStrategy, type PortableFunction } from '@ray-ts/core';
import type { Dataset } from '@ray-ts/data';
import { Checkpoint, type TuneCallback } from '@ray-ts/tune';
import { TrainInvalidArgumentError } from './errors.js';

/** How many workers, with what (Ray's `ScalingConfig`). */
export interface ScalingConfig {
  /**
   * Workers in the group (default 1), or `{ min, max }` for elastic training: the group starts
   * with as many as the cluster fits (at least min), grows after a checkpointed report when
   * resources for more are free, and restarts smaller instead of failing when a worker or its
   * node is lost.
   */
  numWorkers?: number | { min: number; max: number };
  /** Give each worker a GPU (`resourcesPerWorker.GPU`, default 1); GPU workers run as processes with CUDA_VISIBLE_DEVICES. */
  useGpu?: boolean;
  /** Resources of each worker, by name (default `{ CPU: 1 }`, plus `GPU: 1` with useGpu). */
  resourcesPerWorker?: Record<string, number>;
  /** How the workers' bundles are placed over the nodes (default `'PACK'`). */
  placementStrategy?: PlacementStrategy;
  /** Run each worker on a thread of its own (default) or in a process of its own (default with useGpu). */
  isolation?: 'thread' | 'process';
}

/** Checkpoints kept (Ray's `CheckpointConfig`). */
export interface CheckpointConfig {
  /** Checkpoints kept (default all); the latest always stays. */
  numToKeep?: number;
  /** Rank checkpoints by this reported metric (default: the iteration, so the oldest go first). */
  checkpointScoreAttribute?: string;
  checkpointScoreOrder?: 'min' | 'max';
}

/** Where the run goes and how failures are handled (Ray's `RunConfig`). */
export interface RunConfig {
  /** The run's name: its folder under storagePath (default `train_<date>`). */
  name?: string;
  /** Default `~/ray_ts_results`. */
  storagePath?: string;
  checkpointConfig?: CheckpointConfig;
  /** Restarts of the group after a worker fails (default 0; -1: without limit). */
  failureConfig?: { maxFailures?: number };
  /** 0: silent; 1 (default): a line per report and per failure. */
  verbose?: 0 | 1;
  /**
   * Tune's callbacks, called for the run as for one trial (Ray Train's `RunConfig(callbacks=)`):
   * start, each result and checkpoint, restarts (`onTrialRecover`), end. `JsonLoggerCallback`,
   * `CSVLoggerCallback` and `TBXLoggerCallback` are added unless one of that class is given. When
   * the trainer runs in a Tuner, the Tuner's `runConfig.callbacks` apply instead.
   */
  callbacks?: readonly TuneCallback[];
}

/** Options of `new DataParallelTrainer()`. */
export interface DataParallelTrainerOptions<C extends Record<string, unknown>> {
  /** Given to the training loop of every worker. */
  trainLoopConfig?: C;
  scalingConfig?: ScalingConfig;
  runConfig?: RunConfig;
  /** Datasets split among the workers (Data's `streamingSplit(numWorkers, { equal: true })`): `getDatasetShard(name)`. */
  datasets?: Record<string, Dataset>;
  /** Start from this checkpoint (`getCheckpoint()` returns it on the first start). */
  resumeFromCheckpoint?: Checkpoint;
}

/** @internal What a trainer is, in a form that crosses to a Tune trial. */
export interface TrainerSpec {
  loop: PortableFunction;
  trainLoopConfig: Record<string, unknown>;
  scaling: Required<Pick<ScalingConfig, 'placementStrategy' | 'isolation'>> & {
    minWorkers: number;
    maxWorkers: number;
    resources: Record<string, number>;
  };
  run: RunConfig;
  datasets: Record<string, Dataset>;
  resumeFrom: { path?: string; data?: unknown } | undefined;
}

/**
 * @internal Checks a trainer's options (unknown names, worker counts, resources, failure budget)
 * and compiles them, with their defaults, into the spec a run (or a Tune trial) uses.
 * @throws TrainInvalidArgumentError naming the option that is wrong and what it takes.
 */
export function compileTrainerSpec<C extends Record<string, unknown>>(
  trainLoopPerWorker: ((config: C) => unknown) | object,
  options: DataParallelTrainerOptions<C>,
): TrainerSpec {
  checkKeys(
    options as Record<string, unknown>,
    ['trainLoopConfig', 'scalingConfig', 'runConfig', 'datasets', 'resumeFromCheckpoint'],
    'DataParallelTrainer options',
  );
  const sc = options.scalingConfig ?? {};
  checkKeys(
    sc as Record<string, unknown>,
    ['numWorkers', 'useGpu', 'resourcesPerWorker', 'placementStrategy', 'isolation'],
    'scalingConfig',
  );
  const nw = sc.numWorkers ?? 1;
  const [minWorkers, maxWorkers] = typeof nw === 'object' && nw !== null ? [nw.min, nw.max] : [nw, nw];
  if (!Number.isInteger(minWorkers) || minWorkers < 1 || !Number.isInteger(maxWorkers) || maxWorkers < minWorkers) {
    throw new TrainInvalidArgumentError(
      `scalingConfig.numWorkers must be an integer >= 1, or { min, max } with 1 <= min <= max; got ${JSON.stringify(nw)}.`,
    );
  }
  const resources = { CPU: 1, ...(sc.useGpu ? { GPU: 1 } : {}), ...(sc.resourcesPerWorker ?? {}) };
  for (const [k, v] of Object.entries(resources)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new TrainInvalidArgumentError(
        `scalingConfig.resourcesPerWorker.${k} must be a number >= 0, got ${JSON.stringify(v)}.`,
      );
  }
  const rc = options.runConfig ?? {};
  checkKeys(
    rc as Record<string, unknown>,
    ['name', 'storagePath', 'checkpointConfig', 'failureConfig', 'verbose', 'callbacks'],
    'runConfig',
  );
  const cbs: unknown = rc.callbacks ?? [];
  if (!Array.isArray(cbs) || cbs.some((c) => !c || typeof c !== 'object'))
    throw new TrainInvalidArgumentError(
      'runConfig.callbacks must be an array of Tune callbacks: instances of Callback subclasses (JsonLoggerCallback, TBXLoggerCallback...), or objects with hooks such as onTrialResult.',
    );
  const mf = rc.failureConfig?.maxFailures ?? 0;
  if (!Number.isInteger(mf) || mf < -1)
    throw new TrainInvalidArgumentError(
      `runConfig.failureConfig.maxFailures must be an integer >= -1, got ${JSON.stringify(mf)}.`,
    );
  if (options.resumeFromCheckpoint !== undefined && !(options.resumeFromCheckpoint instanceof Checkpoint)) {
    throw new TrainInvalidArgumentError(
      'resumeFromCheckpoint must be a Checkpoint (e.g. result.checkpoint, or Checkpoint.fromDirectory(dir)).',
    );
  }
  return {
    loop: portable(trainLoopPerWorker as never, 'DataParallelTrainer'),
    trainLoopConfig: { ...(options.trainLoopConfig ?? {}) },
    scaling: {
      minWorkers,
      maxWorkers,
      resources,
      placementStrategy: sc.placementStrategy ?? 'PACK',
      isolation: sc.isolation ?? (sc.useGpu ? 'process' : 'thread'),
    },
    run: rc,
    datasets: { ...(options.datasets ?? {}) },
    resumeFrom: options.resumeFromCheckpoint?.toWire(),
  };
}

function checkKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  if (o === null || typeof o !== 'object') throw new TrainInvalidArgumentError(`${what} must be an object.`);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      const camel = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = allowed.includes(camel) ? ` Did you mean '${camel}'?` : '';
      throw new TrainInvalidArgumentError(`${what}: unknown option '${k}'.${hint} Options: ${allowed.join(', ')}.`);
    }
  }
}
