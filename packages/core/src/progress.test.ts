import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressBar, type ProgressStream } from './progress.js';

/** A terminal that records what is drawn, and a clock the test moves. */
function terminal(opts: { isTTY?: boolean; columns?: number } = {}) {
  const writes: string[] = [];
  const stream: ProgressStream = { isTTY: opts.isTTY ?? true, columns: opts.columns, write: (t) => writes.push(t) };
  const clock = { ms: 0 };
  /** The line on screen now: what follows the last carriage return and line erase. */
  const screen = () => writes.join('').split('\r\x1b[2K').at(-1)!;
  return { stream, writes, clock, screen, now: () => clock.ms };
}

describe('ProgressBar', () => {
  it('shows count out of total, percent, elapsed time, ETA and rate', () => {
    const t = terminal();
    const bar = new ProgressBar({ desc: 'train run_1', total: 10, unit: 'epoch', stream: t.stream, now: t.now });
    expect(t.screen()).toBe('train run_1:   0% |░░░░░░░░░░░░░░░░░░░░| 0/10 epoch [00:00<?, ?epoch/s]');
    t.clock.ms = 8_000;
    bar.update(4, 'loss=0.25');
    expect(t.screen()).toBe(
      'train run_1:  40% |████████░░░░░░░░░░░░| 4/10 epoch [00:08<00:12, 2.00s/epoch, loss=0.25]',
    );
    t.clock.ms = 20_000;
    bar.update(10);
    bar.close();
    expect(t.writes.join('')).toMatch(/10\/10 epoch \[00:20<00:00, 2\.00s\/epoch, loss=0\.25\]\n$/);
  });

  it('counts from where a resumed run starts', () => {
    const t = terminal();
    const bar = new ProgressBar({ desc: 'x', total: 100, initial: 50, stream: t.stream, now: t.now });
    t.clock.ms = 10_000;
    bar.update(70);
    expect(t.screen()).toContain('70/100 it [00:10<00:15, 2.00it/s]');
  });

  it('is a counter with a rate when the total is not known', () => {
    const t = terminal();
    const bar = new ProgressBar({ desc: 'PPO', stream: t.stream, now: t.now });
    t.clock.ms = 2_000;
    bar.update(5);
    expect(t.screen()).toBe('PPO: 5it [00:02, 2.50it/s]');
    bar.setTotal(20);
    expect(t.screen()).toContain('5/20 it');
  });

  it('draws nothing on a stream that is not a terminal, or when turned off', () => {
    for (const [isTTY, enabled] of [
      [false, undefined],
      [true, false],
    ] as const) {
      const t = terminal({ isTTY });
      const bar = new ProgressBar({ desc: 'x', total: 3, stream: t.stream, now: t.now, enabled });
      bar.update(1);
      let printed = false;
      bar.interrupt(() => (printed = true));
      bar.close();
      expect(printed).toBe(true);
      expect(t.writes).toEqual([]);
    }
  });

  it('clears itself for a line printed through interrupt, then draws again', () => {
    const t = terminal();
    const bar = new ProgressBar({ desc: 'x', total: 3, stream: t.stream, now: t.now });
    bar.interrupt(() => t.stream.write('a log line\n'));
    expect(t.writes.join('')).toMatch(/\| 0\/3 it .*\r\x1b\[2Ka log line\n\r\x1b\[2Kx:/);
  });

  it("cuts its line to the terminal's width", () => {
    const t = terminal({ columns: 30 });
    new ProgressBar({ desc: 'a long description of the run', total: 3, stream: t.stream, now: t.now });
    expect(t.screen()).toHaveLength(29);
  });

  it('formats durations as MM:SS, and H:MM:SS past an hour', () => {
    expect(formatDuration(65)).toBe('01:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(NaN)).toBe('?');
  });
});
