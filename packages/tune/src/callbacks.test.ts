import { expect, it } from 'vitest';
import { Callback, CallbackList, type CallbackTrial } from './callbacks.js';
import { TuneCallbackError } from './errors.js';

const trial = { trialName: 'trial_00000' } as CallbackTrial;

it('calls each callback in order; a slow async hook delays only its own callback', async () => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = {
    async onTrialStart() {
      await gate;
      log.push('slow:start');
    },
    onTrialComplete() {
      log.push('slow:complete');
    },
  };
  const quick = {
    onTrialStart() {
      log.push('quick:start');
    },
    onTrialComplete() {
      log.push('quick:complete');
    },
  };
  const list = new CallbackList([slow, quick]);
  list.call('onTrialStart', 0, [trial], trial);
  list.call('onTrialComplete', 1, [trial], trial);
  // The quick one ran both hooks; the slow one waits, and its next hook waits behind it.
  expect(log).toEqual(['quick:start', 'quick:complete']);
  release();
  await list.drain();
  expect(log).toEqual(['quick:start', 'quick:complete', 'slow:start', 'slow:complete']);
  expect(list.error).toBeUndefined();
  expect(list.iteration).toBe(2);
});

it('keeps the first failure, names the callback, hook and trial, and calls the failed callback no more', async () => {
  let failures = 0;
  class Broken extends Callback {
    calls = 0;
    override onTrialResult(): void {
      this.calls++;
      throw new RangeError('no tracking server');
    }
  }
  const broken = new Broken();
  const rejecting = { onTrialResult: () => Promise.reject(new Error('HTTP 500')) };
  const list = new CallbackList([broken, rejecting], () => failures++);
  const result = { trainingIteration: 1 } as never;
  list.call('onTrialResult', 0, [trial], trial, result);
  list.call('onTrialResult', 1, [trial], trial, result);
  await list.drain();
  expect(broken.calls).toBe(1);
  expect(failures).toBe(1);
  expect(list.error).toBeInstanceOf(TuneCallbackError);
  expect(list.error!.message).toMatch(
    /^Callback Broken\.onTrialResult for trial_00000 threw RangeError: no tracking server\. The experiment stopped/,
  );
  expect((list.error!.cause as Error).message).toBe('no tracking server');
});
