/**
 * Writes experiment_state.json as an experiment runs, so that `Tuner.restore()` picks up after a
 * crash: at most every `stateWriteIntervalS` while results come in, and at once when a trial ends.
 * Writes go to disk off the event loop (each is flushed, which can take milliseconds), one at a
 * time: one asked for while another is under way follows it, with the state as it is then.
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
  /** The write under way. */
  private writing: Promise<void> | undefined;
  /** A write asked for while one was under way: it starts when that one ends. */
  private queued: { header: StateHeader; trials: readonly Trial[] } | undefined;
  /** The first write that failed, thrown by the next {@link write} or {@link flush}. */
  private failed: { err: unknown } | undefined;

  /**
   * @param storage the experiment's folder.
   * @param intervalS seconds between writes while results come in (runConfig.stateWriteIntervalS).
   */
  constructor(
    private readonly storage: ExperimentStorage,
    private readonly intervalS: number,
  ) {}

  /**
   * Asks for a write of experiment_state.json: at most every `intervalS` unless `force` (a trial
   * ended, so a restore never reruns it). A write costs the running trials, the searcher and the
   * scheduler (serialized now, or when the write under way ends), then the file write.
   * @throws the error of an earlier write that failed (a full disk...).
   */
  write(force: boolean, header: StateHeader, trials: readonly Trial[]): void {
    this.throwFailure();
    if (!force && Date.now() - this.lastWrite < this.intervalS * 1000) return;
    if (this.writing) this.queued = { header, trials };
    else this.start(header, trials);
  }

  /** Resolves once every write asked for is on disk. @throws the error of a write that failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.throwFailure();
  }

  private start(header: StateHeader, trials: readonly Trial[]): void {
    this.lastWrite = Date.now();
    this.writing = this.storage
      .writeState(
        header(),
        trials.map((t) => this.trialJson(t)),
      )
      .catch((err: unknown) => {
        this.failed ??= { err };
      })
      .then(() => {
        this.writing = undefined;
        const next = this.queued;
        this.queued = undefined;
        if (next) this.start(next.header, next.trials);
      });
  }

  private throwFailure(): void {
    const f = this.failed;
    this.failed = undefined;
    if (f) throw f.err;
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
