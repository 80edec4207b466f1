/**
 * The default scheduler: every trial runs until it ends by itself or a stop criterion ends it.
 */
import type { Mode, SchedulerDecision, TrialInfo, TrialResult, TrialScheduler } from '../types.js';
import { checkSavedState } from './util.js';

const CONTINUE: SchedulerDecision = { action: 'CONTINUE' };

/**
 * Ray Tune's `FIFOScheduler`: runs trials in the order they were added and never stops, pauses
 * or clones one (every result gets CONTINUE). The Tuner uses it when `tuneConfig.scheduler` is
 * not set. It needs no metric.
 *
 * @example
 * ```ts
 * new Tuner(train, { tuneConfig: { scheduler: new FIFOScheduler() } });
 * ```
 */
export class FIFOScheduler implements TrialScheduler {
  /** Ignored: FIFO needs no metric. */
  setSearchProperties(_metric: string | undefined, _mode: Mode | undefined): void {}

  /** Nothing to track. */
  onTrialAdd(_trial: TrialInfo): void {}

  /** Always `{ action: 'CONTINUE' }`. */
  onTrialResult(_trial: TrialInfo, _result: TrialResult): SchedulerDecision {
    return CONTINUE;
  }

  /** Nothing to track. */
  onTrialComplete(_trial: TrialInfo, _result: TrialResult | undefined): void {}

  /** `{ type: 'FIFOScheduler', version: 1 }`: there is no state. */
  save(): unknown {
    return { type: 'FIFOScheduler', version: 1 };
  }

  /**
   * Checks the state is FIFO's.
   * @throws TuneInvalidArgumentError when `state` was saved by another scheduler.
   */
  restore(state: unknown): void {
    checkSavedState('FIFOScheduler', state);
  }
}
