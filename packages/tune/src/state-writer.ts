/**
 * Writes experiment_state.json as an experiment runs, so that `Tuner.restore()` picks up after a
 * crash: at most every `stateWriteIntervalS` while results come in, and at once when a trial ends.
 */
import type { ExperimentState, ExperimentStorage, TrialRecord } from './storage.js';
import type { Trial } from './trial.js';

/** The experiment's state but its trials, computed only when a write is due. */
export type StateHeader = () => Omit<ExperimentState, 'trials'>;

/** Writes one experiment's state file, throttled, with ended trials' entries serialized once. */
export class ExperimentStateWriter {
  private lastWrite = 0;
  /** experiment_state.json entries of ended trials, which no longer change (most of a big experiment). */
  private readonly endedJson = new WeakMap<Trial, string>();

  /**
   * @param storage the experiment's folder.
   * @param intervalS seconds between writes while results come in (runConfig.stateWriteIntervalS).
   */
  constructor(
    private readonly storage: ExperimentStorage,
    private readonly intervalS: number,
  ) {}

  /**
   * Writes experiment_state.json: at most every `intervalS` unless `force` (a trial ended, so a
   * restore never reruns it). A write costs the running trials, the searcher and the scheduler.
   */
  write(force: boolean, header: StateHeader, trials: readonly Trial[]): void {
    const now = Date.now();
    if (!force && now - this.lastWrite < this.intervalS * 1000) return;
    this.lastWrite = now;
    this.storage.writeState(
      header(),
      trials.map((t) => this.trialJson(t)),
    );
  }

  private trialJson(t: Trial): string {
    const cached = this.endedJson.get(t);
    if (cached !== undefined) return cached;
    const record: TrialRecord = {
      trialId: t.trialId,
      trialName: t.trialName,
      config: t.config,
      status: t.status,
      numFailures: t.numFailures,
      checkpoint: t.checkpoint,
      checkpointIteration: t.checkpointIteration,
      lastResult: t.lastResult,
      error: t.error,
      timeOffsetS: t.timeOffsetS,
      ...(t.checkpoints?.length ? { checkpoints: t.checkpoints } : {}),
    };
    const json = JSON.stringify(record);
    if ((t.status === 'TERMINATED' || t.status === 'ERROR') && !t.driving) this.endedJson.set(t, json);
    return json;
  }
}
