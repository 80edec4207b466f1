/**
 * Caps how many trials a searcher has running at once (Ray Tune's `ConcurrencyLimiter`).
 */
import { TuneInvalidArgumentError } from '../errors.js';
import { FINISHED, type Config, type Mode, type Searcher, type TrialResult } from '../types.js';
import { isPlainObject } from './space.js';
import { checkInteger, checkState } from './validate.js';

/** Options of {@link ConcurrencyLimiter}. */
export interface ConcurrencyLimiterOptions {
  /** The most trials live at once (an integer >= 1). */
  readonly maxConcurrent: number;
  /**
   * Hand results to the wrapped searcher only once all live trials have completed, then suggest
   * a whole new batch (Ray's `batch=True`). Default false.
   */
  readonly batch?: boolean;
}

/**
 * A searcher whose number of samples the Tuner sets (Ray's `num_samples`), as
 * {@link BasicVariantGenerator}. The Tuner calls `setNumSamples` on searchers that have it.
 */
export interface NumSamplesAware {
  setNumSamples(n: number): void;
}

/** Whether `searcher` takes the number of samples (see {@link NumSamplesAware}). */
export function hasSetNumSamples(searcher: unknown): searcher is NumSamplesAware {
  return typeof (searcher as Partial<NumSamplesAware> | null)?.setNumSamples === 'function';
}

const OWNER = 'ConcurrencyLimiter';
const STATE_VERSION = 1;

interface SavedState {
  readonly searcher: typeof OWNER;
  readonly version: typeof STATE_VERSION;
  readonly liveTrials: string[];
  readonly cached: [string, TrialResult | null, boolean][];
  readonly inner: unknown;
}

/**
 * Wraps a searcher so that at most `maxConcurrent` of its trials run at once: suggest() returns
 * undefined (ask again later) while that many are live, and forwards everything else. Useful for
 * sequential optimizers such as {@link TPESearch}, whose suggestions improve as results come in.
 *
 * save() holds the live trials and the wrapped searcher's own save(), as JSON.
 *
 * @example
 * ```ts
 * const searcher = new ConcurrencyLimiter(new TPESearch({ metric: 'loss', mode: 'min' }), { maxConcurrent: 4 });
 * ```
 */
export class ConcurrencyLimiter implements Searcher, NumSamplesAware {
  /** The wrapped searcher. */
  readonly searcher: Searcher;
  private readonly maxConcurrent: number;
  private readonly batch: boolean;
  private readonly liveTrials = new Set<string>();
  private cached = new Map<string, { result: TrialResult | undefined; error: boolean }>();

  /** @throws TuneInvalidArgumentError unless maxConcurrent is an integer >= 1 and searcher is a Searcher. */
  constructor(searcher: Searcher, options: ConcurrencyLimiterOptions) {
    if (searcher === null || typeof searcher !== 'object' || typeof searcher.suggest !== 'function') {
      throw new TuneInvalidArgumentError(`${OWNER}: the first argument must be a Searcher (such as a TPESearch).`);
    }
    if (!isPlainObject(options)) {
      throw new TuneInvalidArgumentError(`${OWNER}: pass options such as { maxConcurrent: 4 }.`);
    }
    this.searcher = searcher;
    this.maxConcurrent = checkInteger(OWNER, 'maxConcurrent', options.maxConcurrent, 1);
    this.batch = Boolean(options.batch);
  }

  /** Forwarded to the wrapped searcher. */
  setSearchProperties(metric: string | undefined, mode: Mode | undefined, paramSpace: Config): void {
    this.searcher.setSearchProperties(metric, mode, paramSpace);
  }

  /** Forwarded to the wrapped searcher when it has `setNumSamples`. */
  setNumSamples(n: number): void {
    if (hasSetNumSamples(this.searcher)) this.searcher.setNumSamples(n);
  }

  /** The wrapped searcher's suggestion, or undefined while `maxConcurrent` trials are live. */
  suggest(trialId: string): Config | undefined | typeof FINISHED {
    if (this.liveTrials.size >= this.maxConcurrent) return undefined;
    const suggestion = this.searcher.suggest(trialId);
    if (suggestion !== undefined && suggestion !== FINISHED) this.liveTrials.add(trialId);
    return suggestion;
  }

  /** Forwarded to the wrapped searcher. */
  onTrialResult(trialId: string, result: TrialResult): void {
    this.searcher.onTrialResult?.(trialId, result);
  }

  /**
   * Frees the trial's slot and forwards (in batch mode, once the whole batch completed). Trials
   * this limiter did not start are ignored, as Ray.
   */
  onTrialComplete(trialId: string, result: TrialResult | undefined, error: boolean): void {
    if (!this.liveTrials.has(trialId)) return;
    if (!this.batch) {
      this.liveTrials.delete(trialId);
      this.searcher.onTrialComplete(trialId, result, error);
      return;
    }
    this.cached.set(trialId, { result, error });
    if (this.cached.size < this.liveTrials.size) return;
    const batch = this.cached;
    this.cached = new Map();
    for (const [id, done] of batch) {
      this.liveTrials.delete(id);
      this.searcher.onTrialComplete(id, done.result, done.error);
    }
  }

  /** The trials live now. */
  get liveTrialIds(): readonly string[] {
    return [...this.liveTrials];
  }

  /** Live trials, cached batch results and the wrapped searcher's state, JSON-safe. */
  save(): SavedState {
    return {
      searcher: OWNER,
      version: STATE_VERSION,
      liveTrials: [...this.liveTrials],
      cached: [...this.cached].map(([id, c]) => [id, c.result ?? null, c.error]),
      inner: this.searcher.save(),
    };
  }

  /**
   * Restores the live trials and the wrapped searcher.
   * @throws TuneInvalidArgumentError when the state is not a ConcurrencyLimiter's.
   */
  restore(state: unknown): void {
    const s = checkState(OWNER, state, STATE_VERSION) as unknown as SavedState;
    this.liveTrials.clear();
    for (const id of s.liveTrials) this.liveTrials.add(id);
    this.cached = new Map(s.cached.map(([id, result, error]) => [id, { result: result ?? undefined, error }]));
    this.searcher.restore(s.inner);
  }
}
