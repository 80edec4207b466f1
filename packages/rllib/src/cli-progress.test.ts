import { describe, expect, it } from 'vitest';
import type { TrainResult } from './algorithm-results.js';
import { barPostfix, iterationBar } from './cli-progress.js';

function terminal() {
  const writes: string[] = [];
  return { writes, stream: { isTTY: true, columns: 200, write: (t: string) => writes.push(t) } };
}
const screen = (writes: string[]) => writes.join('').split('\r\x1b[2K').at(-1)!;

const result = (i: number) =>
  ({ trainingIteration: i, episodeReturnMean: 21.46, numEnvStepsSampledLifetime: i * 4000 }) as TrainResult;

describe('ray-ts rllib train: the iteration bar', () => {
  it("counts iterations out of --stop's trainingIteration, with the latest return and env steps", () => {
    const t = terminal();
    const bar = iterationBar('PPO', { trainingIteration: 20, episodeReturnMean: 450 }, t.stream);
    bar.update(5, barPostfix(result(5)));
    expect(screen(t.writes)).toMatch(
      /^PPO: {2}25% \|█████░{15}\| 5\/20 iter \[\d\d:\d\d<[\d:?]+, [^,]+, return 21\.5, steps 20000\]$/,
    );
    bar.close();
    expect(t.writes.at(-1)).toBe('\n');
  });

  it('is a counter when no trainingIteration stops it', () => {
    const t = terminal();
    const bar = iterationBar('DQN', { episodeReturnMean: 450 }, t.stream);
    bar.update(3, barPostfix(result(3)));
    expect(screen(t.writes)).toMatch(/^DQN: 3 iter \[\d\d:\d\d, .*return 21\.5, steps 12000\]$/);
  });

  it('draws nothing on a pipe (the command prints a line per iteration there)', () => {
    const writes: string[] = [];
    const bar = iterationBar('PPO', { trainingIteration: 2 }, { isTTY: false, write: (t) => writes.push(t) });
    bar.update(1);
    bar.close();
    expect(bar.enabled).toBe(false);
    expect(writes).toEqual([]);
  });
});
