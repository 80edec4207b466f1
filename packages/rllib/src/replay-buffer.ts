/**
 * Replay buffers for off-policy algorithms (RLlib's `EpisodeReplayBuffer` and
 * `PrioritizedEpisodeReplayBuffer`, here over single n-step transitions): a fixed-capacity ring of
 * columnar Float32Arrays, sampled with a seeded generator. {@link ReplayBuffer} samples uniformly;
 * {@link PrioritizedReplayBuffer} samples proportionally to `priority^alpha` (a sum tree) and
 * returns importance weights `(N * P(i))^-beta`, normalized by their maximum (a min tree), as in
 * Schaul et al., "Prioritized Experience Replay" (2016).
 */
import { SeededRng, type SeededRngState } from '@ray-ts/core';
import { RLlibInvalidArgumentError } from './env/errors.js';

/** Transitions as columns (row-major, `obsDim` floats per observation). */
export interface TransitionBatch {
  count: number;
  obsDim: number;
  /** Floats per action (default 1: a discrete index). */
  actDim?: number;
  obs: Float32Array;
  /** Discrete action indices, or `actDim` floats per row for continuous actions. */
  actions: Float32Array;
  /** n-step discounted rewards. */
  rewards: Float32Array;
  /** The observation `k` steps later (the bootstrap observation). */
  nextObs: Float32Array;
  /** 1 where the episode terminated within the `k` steps (no bootstrap), else 0. */
  dones: Float32Array;
  /** `gamma^k`: the discount of the bootstrap value. */
  discounts: Float32Array;
}

/** What a buffer holds, as {@link ReplayBuffer.getContents} returns it (columns of the `filled` slots, by slot). */
export interface ReplayBufferContents {
  next: number;
  filled: number;
  added: number;
  obsDim: number;
  actDim: number;
  obs: Float32Array;
  nextObs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  dones: Float32Array;
  discounts: Float32Array;
  /** Prioritized buffers: each slot's priority (before alpha), and the highest seen. */
  priorities?: Float64Array;
  maxPriority?: number;
}

/** A sampled batch: the transitions, where they are in the buffer, and their importance weights. */
export interface ReplaySample extends TransitionBatch {
  /** Buffer slots of the rows (pass them back to `updatePriorities`). */
  indices: Int32Array;
  /** Importance-sampling weights (all 1 for uniform sampling). */
  weights: Float32Array;
}

/** Options of {@link ReplayBuffer}. */
export interface ReplayBufferOptions {
  /** Transitions held; the oldest are overwritten beyond it. */
  capacity: number;
  /** Floats per observation. */
  obsDim: number;
  /** Floats per action (default 1: a discrete index; continuous actions take their dimension). */
  actDim?: number;
  /** Seed of the sampling generator (default 0). */
  seed?: number;
}

/**
 * A uniform replay buffer of fixed capacity (a ring: the oldest transitions are overwritten).
 *
 * @example
 * const buf = new ReplayBuffer({ capacity: 50_000, obsDim: 4, seed: 1 });
 * buf.add(batch);
 * const s = buf.sample(32); // s.obs, s.actions, ..., s.weights (all 1)
 */
export class ReplayBuffer {
  readonly capacity: number;
  readonly obsDim: number;
  readonly actDim: number;
  protected readonly obs: Float32Array;
  protected readonly nextObs: Float32Array;
  protected readonly actions: Float32Array;
  protected readonly rewards: Float32Array;
  protected readonly dones: Float32Array;
  protected readonly discounts: Float32Array;
  protected next = 0;
  protected filled = 0;
  protected added = 0;
  protected readonly rng: SeededRng;

  /** @throws RLlibInvalidArgumentError when capacity or obsDim is not a positive integer. */
  constructor(opts: ReplayBufferOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1)
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer capacity must be an integer >= 1, got ${JSON.stringify(opts.capacity)}.`,
      );
    if (!Number.isInteger(opts.obsDim) || opts.obsDim < 1)
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer obsDim must be an integer >= 1, got ${JSON.stringify(opts.obsDim)}.`,
      );
    this.capacity = opts.capacity;
    const actDim = opts.actDim ?? 1;
    if (!Number.isInteger(actDim) || actDim < 1)
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer actDim must be an integer >= 1, got ${JSON.stringify(opts.actDim)}.`,
      );
    this.obsDim = opts.obsDim;
    this.actDim = actDim;
    this.obs = new Float32Array(opts.capacity * opts.obsDim);
    this.nextObs = new Float32Array(opts.capacity * opts.obsDim);
    this.actions = new Float32Array(opts.capacity * actDim);
    this.rewards = new Float32Array(opts.capacity);
    this.dones = new Float32Array(opts.capacity);
    this.discounts = new Float32Array(opts.capacity);
    this.rng = new SeededRng(opts.seed ?? 0);
  }

  /** Transitions held now (at most `capacity`). */
  get size(): number {
    return this.filled;
  }

  /** Transitions added since creation (overwritten ones included). */
  get numAdded(): number {
    return this.added;
  }

  /**
   * Appends a batch's transitions, overwriting the oldest when full.
   * @throws RLlibInvalidArgumentError when the batch's obsDim or actDim differs from the buffer's.
   */
  add(batch: TransitionBatch): void {
    if (batch.count > 0 && batch.obsDim !== this.obsDim)
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer.add(): the batch has ${batch.obsDim} floats per observation, the buffer ${this.obsDim}.`,
      );
    if (batch.count > 0 && (batch.actDim ?? 1) !== this.actDim)
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer.add(): the batch has ${batch.actDim ?? 1} floats per action, the buffer ${this.actDim}.`,
      );
    const d = this.obsDim;
    const ad = this.actDim;
    for (let r = 0; r < batch.count; r++) {
      const i = this.next;
      this.obs.set(batch.obs.subarray(r * d, (r + 1) * d), i * d);
      this.nextObs.set(batch.nextObs.subarray(r * d, (r + 1) * d), i * d);
      if (ad === 1) this.actions[i] = batch.actions[r];
      else this.actions.set(batch.actions.subarray(r * ad, (r + 1) * ad), i * ad);
      this.rewards[i] = batch.rewards[r];
      this.dones[i] = batch.dones[r];
      this.discounts[i] = batch.discounts[r];
      this.onAdd(i);
      this.next = (i + 1) % this.capacity;
      if (this.filled < this.capacity) this.filled++;
      this.added++;
    }
  }

  /** Hook for subclasses: slot `i` was just written. */
  protected onAdd(_i: number): void {}

  /**
   * `n` transitions drawn uniformly with replacement.
   * @throws RLlibInvalidArgumentError when the buffer is empty.
   */
  sample(n: number): ReplaySample {
    this.checkSample(n);
    const idx = new Int32Array(n);
    for (let k = 0; k < n; k++) idx[k] = this.rng.int(this.filled);
    return this.gather(idx, new Float32Array(n).fill(1));
  }

  protected checkSample(n: number): void {
    if (!Number.isInteger(n) || n < 1)
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer.sample(n): n must be an integer >= 1, got ${JSON.stringify(n)}.`,
      );
    if (this.filled === 0)
      throw new RLlibInvalidArgumentError('ReplayBuffer.sample(): the buffer is empty; add() transitions first.');
  }

  /** The rows at `idx`, as a batch. */
  protected gather(idx: Int32Array, weights: Float32Array): ReplaySample {
    const n = idx.length;
    const d = this.obsDim;
    const ad = this.actDim;
    const out: ReplaySample = {
      count: n,
      obsDim: d,
      actDim: ad,
      indices: idx,
      weights,
      obs: new Float32Array(n * d),
      nextObs: new Float32Array(n * d),
      actions: new Float32Array(n * ad),
      rewards: new Float32Array(n),
      dones: new Float32Array(n),
      discounts: new Float32Array(n),
    };
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      out.obs.set(this.obs.subarray(i * d, (i + 1) * d), k * d);
      out.nextObs.set(this.nextObs.subarray(i * d, (i + 1) * d), k * d);
      if (ad === 1) out.actions[k] = this.actions[i];
      else out.actions.set(this.actions.subarray(i * ad, (i + 1) * ad), k * ad);
      out.rewards[k] = this.rewards[i];
      out.dones[k] = this.dones[i];
      out.discounts[k] = this.discounts[i];
    }
    return out;
  }

  /** The transitions held and where the ring stands, for checkpoints that keep the buffer (`storeBufferInCheckpoints`). */
  getContents(): ReplayBufferContents {
    const n = this.filled;
    return {
      next: this.next,
      filled: n,
      added: this.added,
      obsDim: this.obsDim,
      actDim: this.actDim,
      obs: this.obs.slice(0, n * this.obsDim),
      nextObs: this.nextObs.slice(0, n * this.obsDim),
      actions: this.actions.slice(0, n * this.actDim),
      rewards: this.rewards.slice(0, n),
      dones: this.dones.slice(0, n),
      discounts: this.discounts.slice(0, n),
    };
  }

  /**
   * Refills the buffer with what {@link getContents} returned.
   * @throws RLlibInvalidArgumentError when the contents hold more transitions than this buffer's
   *   capacity, or observations or actions of other sizes.
   */
  setContents(c: ReplayBufferContents): void {
    if (c.obsDim !== this.obsDim || c.actDim !== this.actDim) {
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer.setContents(): the contents have ${c.obsDim} floats per observation and ${c.actDim} per action, the buffer ${this.obsDim} and ${this.actDim}.`,
      );
    }
    if (c.filled > this.capacity || c.next > this.capacity) {
      throw new RLlibInvalidArgumentError(
        `ReplayBuffer.setContents(): the contents hold ${c.filled} transitions, more than this buffer's capacity of ${this.capacity}. Raise replayBuffer.capacity to at least ${c.filled}.`,
      );
    }
    this.obs.set(c.obs);
    this.nextObs.set(c.nextObs);
    this.actions.set(c.actions);
    this.rewards.set(c.rewards);
    this.dones.set(c.dones);
    this.discounts.set(c.discounts);
    this.filled = c.filled;
    this.added = c.added;
    // Not full (a larger buffer than the one saved, too): fill the free slots first.
    this.next = c.filled < this.capacity ? c.filled : c.next % this.capacity;
  }

  /** The sampling generator's state (the transitions themselves are checkpointed only with `storeBufferInCheckpoints`, as in RLlib). */
  getRngState(): SeededRngState {
    return this.rng.getState();
  }

  setRngState(s: SeededRngState): void {
    this.rng.setState(s);
  }
}

/** Options of {@link PrioritizedReplayBuffer}. */
export interface PrioritizedReplayBufferOptions extends ReplayBufferOptions {
  /** How much priorities count: 0 is uniform, 1 fully proportional (default 0.6). */
  alpha?: number;
  /** Added to |TD error| so no transition gets priority 0 (default 1e-6). */
  epsilon?: number;
}

/**
 * A proportional prioritized replay buffer: transition `i` is drawn with probability
 * `p_i^alpha / sum_j p_j^alpha` (stratified over `n` equal segments of the total), new
 * transitions get the highest priority seen so far, and `updatePriorities(indices, tdErrors)`
 * sets `p_i = |tdError_i| + epsilon` after a learner update.
 *
 * @example
 * const buf = new PrioritizedReplayBuffer({ capacity: 50_000, obsDim: 4, alpha: 0.6, seed: 1 });
 * buf.add(batch);
 * const s = buf.sample(32, { beta: 0.4 }); // s.weights: importance weights, max 1
 * buf.updatePriorities(s.indices, tdErrors);
 */
export class PrioritizedReplayBuffer extends ReplayBuffer {
  readonly alpha: number;
  private readonly eps: number;
  /** Leaves of both trees start at `leaves` (a power of 2 >= capacity); node k's children are 2k and 2k+1. */
  private readonly leaves: number;
  private readonly sumTree: Float64Array;
  private readonly minTree: Float64Array;
  /** Priorities before alpha, per slot. */
  private readonly raw: Float64Array;
  private maxPriority = 1;

  /** @throws RLlibInvalidArgumentError on a bad capacity, obsDim, alpha or epsilon. */
  constructor(opts: PrioritizedReplayBufferOptions) {
    super(opts);
    const alpha = opts.alpha ?? 0.6;
    if (typeof alpha !== 'number' || !(alpha >= 0))
      throw new RLlibInvalidArgumentError(
        `PrioritizedReplayBuffer alpha must be a number >= 0, got ${JSON.stringify(opts.alpha)}.`,
      );
    const eps = opts.epsilon ?? 1e-6;
    if (typeof eps !== 'number' || !(eps > 0))
      throw new RLlibInvalidArgumentError(
        `PrioritizedReplayBuffer epsilon must be a number > 0, got ${JSON.stringify(opts.epsilon)}.`,
      );
    this.alpha = alpha;
    this.eps = eps;
    let leaves = 1;
    while (leaves < this.capacity) leaves *= 2;
    this.leaves = leaves;
    this.sumTree = new Float64Array(2 * leaves);
    this.minTree = new Float64Array(2 * leaves).fill(Infinity);
    this.raw = new Float64Array(this.capacity);
  }

  protected override onAdd(i: number): void {
    this.raw[i] = this.maxPriority;
    this.setLeaf(i, this.maxPriority ** this.alpha);
  }

  private setLeaf(i: number, v: number): void {
    let k = i + this.leaves;
    this.sumTree[k] = v;
    this.minTree[k] = v;
    for (k >>= 1; k >= 1; k >>= 1) {
      this.sumTree[k] = this.sumTree[2 * k] + this.sumTree[2 * k + 1];
      this.minTree[k] = Math.min(this.minTree[2 * k], this.minTree[2 * k + 1]);
    }
  }

  /** Sum of `p^alpha` over the buffer. */
  get totalPriority(): number {
    return this.sumTree[1];
  }

  /** The slot whose prefix-sum interval holds `mass`. */
  private find(mass: number): number {
    let k = 1;
    while (k < this.leaves) {
      const left = this.sumTree[2 * k];
      if (mass < left) k = 2 * k;
      else {
        mass -= left;
        k = 2 * k + 1;
      }
    }
    // Rounding can push past the last filled slot: clamp into it.
    return Math.min(k - this.leaves, this.filled - 1);
  }

  /**
   * `n` transitions drawn in proportion to their priorities, with importance weights
   * `(N * P(i))^-beta / max_j (N * P(j))^-beta` (so the largest possible weight is 1).
   * @throws RLlibInvalidArgumentError when the buffer is empty or beta is negative.
   */
  override sample(n: number, opts: { beta?: number } = {}): ReplaySample {
    this.checkSample(n);
    const beta = opts.beta ?? 0.4;
    if (typeof beta !== 'number' || !(beta >= 0))
      throw new RLlibInvalidArgumentError(
        `PrioritizedReplayBuffer.sample(): beta must be a number >= 0, got ${JSON.stringify(opts.beta)}.`,
      );
    const total = this.sumTree[1];
    const idx = new Int32Array(n);
    const weights = new Float32Array(n);
    const segment = total / n;
    const N = this.filled;
    const maxWeight = (N * (this.minTree[1] / total)) ** -beta;
    for (let k = 0; k < n; k++) {
      const i = this.find((k + this.rng.next()) * segment);
      idx[k] = i;
      const p = this.sumTree[i + this.leaves] / total;
      weights[k] = (N * p) ** -beta / maxWeight;
    }
    return this.gather(idx, weights);
  }

  /**
   * Sets the priorities of the transitions at `indices` from their new TD errors
   * (`|tdError| + epsilon`, raised to alpha in the tree).
   * @throws RLlibInvalidArgumentError when the lengths differ or an index is not a filled slot.
   */
  updatePriorities(indices: ArrayLike<number>, tdErrors: ArrayLike<number>): void {
    if (indices.length !== tdErrors.length)
      throw new RLlibInvalidArgumentError(
        `updatePriorities(): ${indices.length} indices but ${tdErrors.length} TD errors.`,
      );
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= this.filled)
        throw new RLlibInvalidArgumentError(
          `updatePriorities(): index ${i} is not a filled slot (the buffer holds ${this.filled}).`,
        );
      const p = Math.abs(tdErrors[k]) + this.eps;
      if (!Number.isFinite(p)) continue; // a diverged update must not poison the tree
      if (p > this.maxPriority) this.maxPriority = p;
      this.raw[i] = p;
      this.setLeaf(i, p ** this.alpha);
    }
  }

  override getContents(): ReplayBufferContents {
    return { ...super.getContents(), priorities: this.raw.slice(0, this.filled), maxPriority: this.maxPriority };
  }

  /** Refills the buffer and its priority trees (contents from a uniform buffer get the highest priority seen, 1). */
  override setContents(c: ReplayBufferContents): void {
    super.setContents(c);
    this.maxPriority = c.maxPriority ?? 1;
    for (let i = 0; i < c.filled; i++) {
      const p = c.priorities?.[i] ?? this.maxPriority;
      this.raw[i] = p;
      this.setLeaf(i, p ** this.alpha);
    }
  }

  /** The priority `p` (before alpha) of slot `i`. */
  priority(i: number): number {
    return this.raw[i];
  }
}

/**
 * After an update on `sample`: gives a prioritized buffer the rows' new |TD errors| as
 * priorities, and returns their mean (for the learner's stats).
 */
export function reprioritize(buffer: ReplayBuffer, sample: ReplaySample, absTd: Float32Array): number {
  if (buffer instanceof PrioritizedReplayBuffer) buffer.updatePriorities(sample.indices, absTd);
  let m = 0;
  for (let k = 0; k < absTd.length; k++) m += absTd[k];
  return m / absTd.length;
}
