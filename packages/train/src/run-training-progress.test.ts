import { describe, expect, it } from 'vitest';
import { expectedIterations, iterationBar } from './run-training.js';
import type { TrainerSpec } from './trainer-options.js';

const spec = (trainLoopConfig: Record<string, unknown>) => ({ trainLoopConfig }) as unknown as TrainerSpec;

describe("fit()'s iteration bar", () => {
  it('takes its total from the loop config (numEpochs, epochs, num_epochs, numIterations)', () => {
    expect(expectedIterations({ numEpochs: 5 })).toBe(5);
    expect(expectedIterations({ epochs: 3, lr: 0.1 })).toBe(3);
    expect(expectedIterations({ num_epochs: 2 })).toBe(2);
    expect(expectedIterations({ numIterations: 7 })).toBe(7);
    expect(expectedIterations({ numEpochs: 'many', lr: 0.1 })).toBeUndefined();
  });

  it('shows reports out of the expected iterations, with the latest metrics, on a terminal', () => {
    const writes: string[] = [];
    const bar = iterationBar(spec({ numEpochs: 4 }), 'run_1', { isTTY: true, write: (t) => writes.push(t) });
    expect(writes.join('')).toContain('train run_1:   0% |░░░░░░░░░░░░░░░░░░░░| 0/4 iter [00:00<?');
    bar.update(1, 'loss=0.5');
    bar.close();
    expect(writes.join('').split('\r\x1b[2K').at(-1)).toMatch(
      /^train run_1: {2}25% \|█████░{15}\| 1\/4 iter \[\d\d:\d\d<[\d:?]+, [^,]+, loss=0\.5\]\n$/,
    );
  });

  it('is a counter when the loop config does not say how many', () => {
    const writes: string[] = [];
    const bar = iterationBar(spec({ lr: 0.1 }), 'run_2', { isTTY: true, write: (t) => writes.push(t) });
    bar.update(2);
    expect(writes.join('').split('\r\x1b[2K').at(-1)).toMatch(/^train run_2: 2 iter \[/);
  });
});
