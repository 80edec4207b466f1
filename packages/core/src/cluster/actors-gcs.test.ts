import { describe, expect, it } from 'vitest';
import { GcsUnavailableError } from '../errors.js';
import { orderedReports } from './actors-gcs.js';

const budget = { firstDelayMs: 1, maxDelayMs: 5, timeoutMs: 2_000 };

describe('orderedReports', () => {
  it('lands the reports of one actor in order, trying each again while the GCS is unavailable', async () => {
    const landed: string[] = [];
    let failures = 3;
    const update = async (info: { actorId: string; state?: string }) => {
      if (info.state === 'RESTARTING' && failures-- > 0) throw new GcsUnavailableError('head restarting');
      landed.push(`${info.actorId}:${info.state}`);
    };
    const report = orderedReports(update, budget, () => false);
    report({ actorId: 'a', state: 'RESTARTING' });
    report({ actorId: 'a', state: 'ALIVE' });
    report({ actorId: 'b', state: 'DEAD' });
    await new Promise((r) => setTimeout(r, 200));
    expect(landed.filter((x) => x.startsWith('a:'))).toEqual(['a:RESTARTING', 'a:ALIVE']);
    expect(landed).toContain('b:DEAD');
    expect(failures).toBe(-1);
  });

  it('does not try again a report the GCS refused for another reason, and goes on with the next', async () => {
    const calls: string[] = [];
    const update = async (info: { actorId: string; state?: string }) => {
      calls.push(info.state!);
      if (info.state === 'DEAD') throw new Error('INVALID_ARGUMENT');
    };
    const report = orderedReports(update, budget, () => false);
    const err = console.error;
    const said: string[] = [];
    console.error = (m: string) => said.push(m);
    try {
      report({ actorId: 'a', state: 'DEAD' });
      report({ actorId: 'a', state: 'ALIVE' });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      console.error = err;
    }
    expect(calls).toEqual(['DEAD', 'ALIVE']);
    expect(said.join('\n')).toMatch(/did not take actor a's state DEAD: INVALID_ARGUMENT/);
  });

  it('gives up quietly once stopped', async () => {
    let calls = 0;
    let stopped = false;
    const update = async () => {
      calls++;
      stopped = true;
      throw new GcsUnavailableError('gone');
    };
    orderedReports(update, budget, () => stopped)({ actorId: 'a', state: 'DEAD' });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });
});
