/**
 * Tune's and Train's reported metrics on Prometheus (issue 21): every numeric field of every
 * trial's latest result as `ray_tune_trial_result{experiment,trial_id,metric}`, and the trials by
 * status as `ray_tune_trials{experiment,status}`. Recorded through core's user metrics API in the
 * process that runs the experiment (the driver), so they reach that process's `/metrics`
 * (a driver connected to a cluster serves one; see docs/observability.md).
 */
import { Gauge } from '@ray-ts/core';
import { Callback, type CallbackSetupInfo, type CallbackTrial } from '../callbacks.js';
import type { TrialResult, TrialStatus } from '../types.js';

const STATUSES: readonly TrialStatus[] = ['PENDING', 'RUNNING', 'PAUSED', 'TERMINATED', 'ERROR'];

/**
 * Exports trials' results and statuses as Prometheus gauges; added to every experiment and
 * Train run, as the loggers are (pass your own instance to replace it).
 */
export class MetricsLoggerCallback extends Callback {
  private experiment = '';
  private results: Gauge | undefined;
  private statuses: Gauge | undefined;

  override setup(info: CallbackSetupInfo): void {
    this.experiment = info.experimentName;
  }

  override onTrialStart(_i: number, trials: readonly CallbackTrial[]): void {
    this.countTrials(trials);
  }

  override onTrialResult(
    _i: number,
    trials: readonly CallbackTrial[],
    trial: CallbackTrial,
    result: TrialResult,
  ): void {
    this.results ??= new Gauge('tune_trial_result', {
      description: "The last value of each numeric field a trial reported (Tune's and Train's results).",
      tagKeys: ['experiment', 'trial_id', 'metric'],
    });
    for (const [metric, value] of Object.entries(result)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      this.results.set(value, { experiment: this.experiment, trial_id: trial.trialId, metric });
    }
    this.countTrials(trials);
  }

  override onTrialComplete(_i: number, trials: readonly CallbackTrial[]): void {
    this.countTrials(trials);
  }

  override onTrialError(_i: number, trials: readonly CallbackTrial[]): void {
    this.countTrials(trials);
  }

  override onExperimentEnd(trials: readonly CallbackTrial[]): void {
    this.countTrials(trials);
  }

  private countTrials(trials: readonly CallbackTrial[]): void {
    this.statuses ??= new Gauge('tune_trials', {
      description: "An experiment's trials by status.",
      tagKeys: ['experiment', 'status'],
    });
    for (const status of STATUSES) {
      const n = trials.filter((t) => t.status === status).length;
      this.statuses.set(n, { experiment: this.experiment, status });
    }
  }
}
