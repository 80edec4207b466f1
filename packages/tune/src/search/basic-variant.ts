/**
 * Ray Tune's default searcher: grid search crossed with random sampling.
 */
import { randomSeed, SeededRng, type SeededRngState } from '@ray-ts/core';
import { TuneInvalidArgumentError } from '../errors.js';
import { FINISHED, type Config, type Mode, type Searcher, type TrialResult } from '../types.js';
import type { NumSamplesAware } from './concurrency-limiter.js';
import { restoreRng } from './rng.js';
import {
  cloneStructure,
  findGridDimensions,
  presetValues,
  resolveSpace,
  setAtPath,
  type GridDimension,
} from './resolve.js';
import { checkInteger, checkPoints, checkSpace, checkState } from './validate.js';

/** Options of {@link BasicVariantGenerator}; all optional. */
export interface BasicVariantGeneratorOptions {
  /**
   * Configs to run first, possibly partial: keys they leave out are sampled from the space (and
   * grid dimensions they leave out are expanded). Each point uses up one of `numSamples`; all
   * points run even when there are more points than `numSamples` (as Ray).
   */
  readonly pointsToEvaluate?: readonly Config[];
  /** The most trials live at once; suggest() returns undefined beyond it. 0 (default): no limit. */
  readonly maxConcurrent?: number;
  /**
   * How many times to repeat the grid (Ray's `num_samples`); default 1. The Tuner sets it with
   * {@link BasicVariantGenerator.setNumSamples}, which overrides this value.
   */
  readonly numSamples?: number;
  /**
   * When true, the random domains are sampled once per repeat and held across its grid
   * combinations (Ray's `constant_grid_search`); sampleFrom values that read a grid value are
   * still computed per combination. Default false: every trial gets fresh samples.
   */
  readonly constantGridSearch?: boolean;
  /** Seed of the random generator, for reproducible configs. Omitted: a random seed. */
  readonly seed?: number;
}

/** {@link BasicVariantGeneratorOptions} validated, with defaults filled in. */
export interface CompiledBasicVariantGeneratorOptions {
  readonly pointsToEvaluate: readonly Config[];
  readonly maxConcurrent: number;
  readonly numSamples: number;
  readonly constantGridSearch: boolean;
  readonly seed: number;
}

const OWNER = 'BasicVariantGenerator';
const STATE_VERSION = 1;

/**
 * Validates {@link BasicVariantGeneratorOptions} and fills in defaults.
 * @throws TuneInvalidArgumentError naming the bad option.
 */
export function compileBasicVariantGeneratorOptions(
  options: BasicVariantGeneratorOptions = {},
): CompiledBasicVariantGeneratorOptions {
  return {
    pointsToEvaluate: checkPoints(OWNER, options.pointsToEvaluate),
    maxConcurrent: checkInteger(OWNER, 'maxConcurrent', options.maxConcurrent ?? 0, 0),
    numSamples: checkInteger(OWNER, 'numSamples', options.numSamples ?? 1, 1),
    constantGridSearch: Boolean(options.constantGridSearch),
    seed: options.seed ?? randomSeed(),
  };
}

/** One repeat of the grid: from a point to evaluate, or from the space alone. */
interface Block {
  /** Index into pointsToEvaluate, or -1 for a repeat of the plain space. */
  readonly point: number;
  /** Next grid combination to hand out. */
  next: number;
  /** Seed of the values held across the grid when constantGridSearch is on. */
  readonly constantSeed: number;
}

/** A block's space with its point applied, its grid, and the values held across it. */
interface BlockBase {
  readonly config: Config;
  readonly dims: GridDimension[];
  readonly size: number;
  readonly constants: Config | undefined;
}

/** The state save() writes: counters and generator states only, JSON-safe. */
interface SavedState {
  readonly searcher: typeof OWNER;
  readonly version: typeof STATE_VERSION;
  readonly rngState: SeededRngState;
  readonly numSamples: number;
  readonly blocksStarted: number;
  readonly pointsStarted: number;
  readonly block: Block | null;
  readonly liveTrials: string[];
  readonly suggested: number;
}

/**
 * Ray Tune's default searcher (`BasicVariantGenerator`): every combination of the
 * {@link gridSearch} dimensions, each with fresh random samples of the other domains, repeated
 * `numSamples` times, so a space with grids of 3 and 2 values and `numSamples: 4` runs 24 trials.
 * `pointsToEvaluate` run first. suggest() returns {@link FINISHED} when all are handed out.
 *
 * The Tuner calls `setSearchProperties(metric, mode, paramSpace)` and then
 * `setNumSamples(tuneConfig.numSamples)` before the first suggest(); when used on its own, pass
 * `numSamples` to the constructor.
 *
 * save() returns the position in the sequence and the generator's state (not the space nor the
 * points, which come from the searcher's options and setSearchProperties again), so a restored
 * generator built the same way goes on with the configs not handed out yet.
 *
 * @example
 * ```ts
 * const searcher = new BasicVariantGenerator({ seed: 1, numSamples: 2 });
 * searcher.setSearchProperties(undefined, undefined, { lr: loguniform(1e-4, 1e-1), batch: gridSearch([32, 64]) });
 * searcher.suggest('t1'); // { lr: 0.0031..., batch: 32 }, then batch 64, then two more: 4 in all
 * ```
 */
export class BasicVariantGenerator implements Searcher, NumSamplesAware {
  private readonly options: CompiledBasicVariantGeneratorOptions;
  private readonly rng: SeededRng;
  private space: Config | undefined;
  private numSamples: number;
  private numSamplesSet = false;
  private blocksStarted = 0;
  private pointsStarted = 0;
  private block: Block | undefined;
  private readonly liveTrials = new Set<string>();
  private suggested = 0;
  // Derived from the space and the block, rebuilt on demand (not saved).
  private blockBase: BlockBase | undefined;

  /** @throws TuneInvalidArgumentError for invalid options. */
  constructor(options: BasicVariantGeneratorOptions = {}) {
    this.options = compileBasicVariantGeneratorOptions(options);
    this.rng = new SeededRng(this.options.seed);
    this.numSamples = this.options.numSamples;
  }

  /** Takes the param space; metric and mode are not used by this searcher. */
  setSearchProperties(_metric: string | undefined, _mode: Mode | undefined, paramSpace: Config): void {
    this.space = checkSpace(OWNER, paramSpace);
    this.blockBase = undefined;
  }

  /**
   * Sets how many times the grid is repeated (Ray's `num_samples`). The Tuner calls it with
   * `tuneConfig.numSamples`, before or after restore() (a value set here wins over the saved one);
   * trials already handed out stay, and suggest() stops once the new number is reached.
   * @throws TuneInvalidArgumentError unless n is an integer >= 1.
   */
  setNumSamples(n: number): void {
    this.numSamples = checkInteger(OWNER, 'numSamples', n, 1);
    this.numSamplesSet = true;
  }

  /**
   * How many trials this generator produces in all for the current space (Ray's
   * `total_samples`): the grid size for each point to evaluate (counting only the grid
   * dimensions the point leaves open), plus the full grid size for each remaining sample.
   * @throws TuneInvalidArgumentError before setSearchProperties().
   */
  totalTrials(): number {
    const space = this.requireSpace();
    let total = 0;
    for (const point of this.options.pointsToEvaluate)
      total += gridSize(findGridDimensions(this.pointBase(space, point)));
    const repeats = Math.max(0, this.numSamples - this.options.pointsToEvaluate.length);
    return total + repeats * gridSize(findGridDimensions(space));
  }

  /**
   * The next config, undefined while `maxConcurrent` trials are live, or FINISHED.
   * @throws TuneInvalidArgumentError before setSearchProperties(), for a point with keys not in the
   *   space, and for sampleFrom errors (see resolveSpace).
   */
  suggest(trialId: string): Config | undefined | typeof FINISHED {
    const space = this.requireSpace();
    if (this.options.maxConcurrent > 0 && this.liveTrials.size >= this.options.maxConcurrent) return undefined;
    let base = this.currentBase(space);
    if (this.block === undefined || base === undefined || this.block.next >= base.size) {
      if (!this.startBlock()) return FINISHED;
      base = this.currentBase(space)!;
    }
    const block = this.block!;
    let index = block.next++;
    const config = cloneStructure(base.constants ?? base.config);
    for (const dim of base.dims) {
      setAtPath(config, dim.path, cloneStructure(dim.values[index % dim.values.length]));
      index = Math.floor(index / dim.values.length);
    }
    const resolved = resolveSpace(config, this.rng, 'error');
    this.liveTrials.add(trialId);
    this.suggested++;
    return resolved;
  }

  /** Not used: the generator does not learn from results. */
  onTrialResult(_trialId: string, _result: TrialResult): void {}

  /** Frees the trial's slot under `maxConcurrent`. */
  onTrialComplete(trialId: string, _result: TrialResult | undefined, _error: boolean): void {
    this.liveTrials.delete(trialId);
  }

  /** The position in the sequence and the generator state, JSON-safe. */
  save(): SavedState {
    return {
      searcher: OWNER,
      version: STATE_VERSION,
      rngState: this.rng.getState(),
      numSamples: this.numSamples,
      blocksStarted: this.blocksStarted,
      pointsStarted: this.pointsStarted,
      block: this.block === undefined ? null : { ...this.block },
      liveTrials: [...this.liveTrials],
      suggested: this.suggested,
    };
  }

  /**
   * Continues from a save(): the configs handed out before are not handed out again. numSamples
   * comes from the state unless setNumSamples() was called.
   * @throws TuneInvalidArgumentError when the state is not a BasicVariantGenerator's.
   */
  restore(state: unknown): void {
    const s = checkState(OWNER, state, STATE_VERSION) as unknown as SavedState;
    restoreRng(this.rng, s.rngState);
    if (!this.numSamplesSet) this.numSamples = checkInteger(OWNER, 'numSamples', s.numSamples, 1);
    this.blocksStarted = s.blocksStarted;
    this.pointsStarted = s.pointsStarted;
    this.block = s.block === null ? undefined : { ...s.block };
    this.liveTrials.clear();
    for (const id of s.liveTrials) this.liveTrials.add(id);
    this.suggested = s.suggested;
    this.blockBase = undefined;
  }

  /** How many configs were handed out so far. */
  get suggestedCount(): number {
    return this.suggested;
  }

  private requireSpace(): Config {
    if (this.space === undefined) {
      throw new TuneInvalidArgumentError(
        `${OWNER}: call setSearchProperties(metric, mode, paramSpace) before suggest().`,
      );
    }
    return this.space;
  }

  private startBlock(): boolean {
    let point: number;
    if (this.pointsStarted < this.options.pointsToEvaluate.length) {
      point = this.pointsStarted++;
    } else if (this.blocksStarted < this.numSamples) {
      point = -1;
    } else {
      return false;
    }
    this.blocksStarted++;
    this.block = { point, next: 0, constantSeed: this.options.constantGridSearch ? this.rng.nextUint32() : 0 };
    this.blockBase = undefined;
    return true;
  }

  private currentBase(space: Config): BlockBase | undefined {
    if (this.block === undefined) return undefined;
    if (this.blockBase === undefined) {
      const point = this.options.pointsToEvaluate[this.block.point];
      const config = point === undefined ? space : this.pointBase(space, point);
      const dims = findGridDimensions(config);
      const constants = this.options.constantGridSearch
        ? resolveSpace(config, new SeededRng(this.block.constantSeed), 'keep')
        : undefined;
      this.blockBase = { config, dims, size: gridSize(dims), constants };
    }
    return this.blockBase;
  }

  private pointBase(space: Config, point: Config): Config {
    const config = cloneStructure(space);
    for (const { path, value } of presetValues(space, point, `${OWNER} pointsToEvaluate`)) {
      setAtPath(config, path, cloneStructure(value));
    }
    return config;
  }
}

function gridSize(dims: readonly GridDimension[]): number {
  return dims.reduce((n, d) => n * d.values.length, 1);
}
